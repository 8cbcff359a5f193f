//! The released provider contracts are frozen: third parties build provider
//! plugins against them and QHub promises to keep loading those plugins. Their
//! files never change. A new capability is a new package version beside them
//! (`wit/deps/qhub-provider@0.2.0/`), with a host adapter (docs/plugins.md,
//! "Versions").

use std::path::{Path, PathBuf};

use crate::sha256_hex;

/// `qhub:provider@0.1.0`: each file and the SHA-256 of its bytes.
const PROVIDER_0_1_0: &[(&str, &str)] = &[
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

/// The same contract as first published inside `qhub:plugin@0.1.0` (the
/// interfaces byte for byte as released; `world.wit` holds its world).
const LEGACY_0_1_0: &[(&str, &str)] = &[
    (
        "config.wit",
        "513fc476892336f9242f7030261297385cbeb37227b92a384c90c83fabe826ea",
    ),
    (
        "http.wit",
        "4cd75f548229e267d5686c2c25e4822c89ca2836626fc31b2504acf43483ee93",
    ),
    (
        "oauth-provider.wit",
        "eaf04a30826a476f459b1767c68b43a426a32420107d1568c75a66feb071e6e4",
    ),
    (
        "world.wit",
        "e2dfdf113a2ee024ee55d49974e7f7c3e47c0adde9a04b3a0e8cf833c0598131",
    ),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Asserts that `dir` holds exactly `released`, byte for byte.
fn assert_frozen(dir: &Path, released: &[(&str, &str)]) {
    let mut present: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    present.sort();
    let names: Vec<&str> = released.iter().map(|(file, _)| *file).collect();
    assert_eq!(
        present,
        names,
        "{} is a released contract: no file may be added or removed; put changes in a new \
         version (wit/deps/qhub-provider@0.2.0/)",
        dir.display()
    );
    for (file, digest) in released {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        assert_eq!(
            &sha256_hex(&bytes),
            digest,
            "{}/{file} changed, but it is a released contract and frozen: plugins built \
             against it must keep loading. Restore the file and put the change in a new \
             version (wit/deps/qhub-provider@0.2.0/, see docs/plugins.md)",
            dir.display()
        );
    }
}

#[test]
fn the_released_provider_package_is_frozen() {
    assert_frozen(&root().join("wit/deps/qhub-provider@0.1.0"), PROVIDER_0_1_0);
}

#[test]
fn the_legacy_provider_contract_is_frozen() {
    assert_frozen(&root().join("wit/legacy/qhub-plugin@0.1.0"), LEGACY_0_1_0);
}

/// The SDK's `wit/` is the released package itself (a link), so the SDK's 0.1
/// line cannot drift from `qhub:provider@0.1.0`.
#[test]
fn the_sdk_carries_the_released_package() {
    let sdk = root().join("sdk/provider/wit");
    assert!(
        std::fs::symlink_metadata(&sdk)
            .unwrap()
            .file_type()
            .is_symlink(),
        "sdk/provider/wit must stay a link to wit/deps/qhub-provider@0.1.0"
    );
    assert_eq!(
        std::fs::read_link(&sdk).unwrap(),
        Path::new("../../wit/deps/qhub-provider@0.1.0")
    );
    assert_frozen(&sdk, PROVIDER_0_1_0);
}
