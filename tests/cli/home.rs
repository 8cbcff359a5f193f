//! QHUB_HOME: file modes, and the compiled-plugin cache.

use std::os::unix::fs::PermissionsExt;

use crate::harness::Qhub;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn secrets_and_config_are_private() {
    let qhub = Qhub::new();
    qhub.register("ada@example.com").ok();
    assert_eq!(
        mode(&qhub.path("config.toml")),
        0o600,
        "config.toml holds the token"
    );
    assert_eq!(mode(&qhub.path("jwt-secret")), 0o600);
    assert_eq!(mode(qhub.home()), 0o700);
    assert!(qhub.config().contains("token = "));
}

#[test]
fn a_second_command_compiles_nothing() {
    let qhub = Qhub::new();
    let debug = [("QHUB_LOG", "qhub_runtime=debug")];
    let first = qhub.run_with(
        &["register", "--email", "ada@example.com", "--password-stdin"],
        Some("correct horse battery staple\n"),
        &debug,
    );
    first.ok();
    assert_eq!(
        first.stderr.matches("compiled component").count(),
        2,
        "{first:#?}"
    );

    let second = qhub.run_with(&["whoami", "--json"], None, &debug);
    second.ok();
    assert!(!second.stderr.contains("compiled component"), "{second:#?}");
    assert_eq!(
        second.stderr.matches("origin=Cache").count(),
        2,
        "{second:#?}"
    );
}

#[test]
fn a_cache_entry_not_written_by_qhub_is_ignored() {
    let qhub = Qhub::new();
    qhub.register("ada@example.com").ok();
    let entries: Vec<_> = std::fs::read_dir(qhub.path("cache"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "cwasm"))
        .collect();
    assert_eq!(entries.len(), 2, "{entries:?}");
    for entry in &entries {
        // Same length, different bytes: what a tampering process might leave.
        let mut bytes = std::fs::read(entry).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(entry, bytes).unwrap();
    }
    let run = qhub.run_with(
        &["whoami", "--json"],
        None,
        &[("QHUB_LOG", "qhub_runtime=debug")],
    );
    assert_eq!(run.json()["email"], "ada@example.com");
    assert!(run.stderr.contains("did not write"), "{run:#?}");
    assert_eq!(
        run.stderr.matches("compiled component").count(),
        2,
        "{run:#?}"
    );
}
