//! The public WIT package `qhub:provider@0.1.0` is released: third parties build
//! provider plugins against it and QHub promises to keep loading them. Its files
//! never change. A new capability is a new package version beside it
//! (`wit/deps/qhub-provider@0.2.0/`), with a host adapter (docs/plugins.md,
//! "Versions").

use std::path::Path;

use crate::sha256_hex;

/// Each file of the released package and the SHA-256 of its bytes.
const RELEASED_0_1_0: &[(&str, &str)] = &[
    (
        "config.wit",
        "c95f90dbdcac7baf8609b03a614915118732b1731e2b727bd729e7b8ee14d2d7",
    ),
    (
        "http.wit",
        "1508818814b3b57e6f403ac558e4e5aedb0a10070bacf9b21301497a4938a073",
    ),
    (
        "oauth-provider.wit",
        "5a3993150315bebea0f75bf8c9aa393e27385180e98595f4768482804f4f68bd",
    ),
    (
        "world.wit",
        "2953c5a73ee2134a2a6733f187a47dfded208acb822dde8986888819822d9722",
    ),
];

#[test]
fn the_released_provider_package_is_frozen() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit/deps/qhub-provider@0.1.0");
    let mut present: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    present.sort();
    let released: Vec<&str> = RELEASED_0_1_0.iter().map(|(file, _)| *file).collect();
    assert_eq!(
        present, released,
        "qhub:provider@0.1.0 is released and frozen: no file may be added or removed; \
         put changes in a new version (wit/deps/qhub-provider@0.2.0/)"
    );
    for (file, digest) in RELEASED_0_1_0 {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        assert_eq!(
            &sha256_hex(&bytes),
            digest,
            "wit/deps/qhub-provider@0.1.0/{file} changed, but qhub:provider@0.1.0 is released \
             and frozen: plugins built against it must keep loading. Restore the file and put \
             the change in a new version (wit/deps/qhub-provider@0.2.0/, see docs/plugins.md)"
        );
    }
}
