//! The wiring over a temporary directory: the catalogue, providers.toml, and an
//! account service over a SQLite file.

use std::path::Path;
use std::sync::Arc;

use qhub_runtime::Allocation;

use crate::{DatabaseAt, Host, Kind, Places, Source};

fn host(dir: &Path) -> Host {
    Host::new(
        Places {
            plugins_dir: dir.join("plugins"),
            cache_dir: dir.join("cache"),
            providers_file: dir.join("providers.toml"),
            providers_required: false,
        },
        Arc::new(()),
    )
}

#[test]
fn the_catalogue_lists_the_embedded_plugins_first() {
    let dir = tempfile::tempdir().unwrap();
    let entries = host(dir.path()).catalog().unwrap();
    assert!(entries.iter().all(|e| e.source == Source::Embedded));
    assert!(entries.iter().any(|e| e.manifest.name == "auth"));
    assert!(entries.iter().all(|e| e.path().is_none()));
}

#[test]
fn an_unknown_plugin_is_a_usage_error_with_the_nearest_name() {
    let dir = tempfile::tempdir().unwrap();
    let err = host(dir.path()).find("autth").unwrap_err();
    assert_eq!(err.kind, Kind::Usage);
    assert_eq!(err.message, "no plugin named \"autth\"");
    assert_eq!(
        err.hint.as_deref(),
        Some("did you mean \"auth\"? `qhub plugins list` shows them all")
    );
}

#[test]
fn an_installed_manifest_must_name_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    qhub_runtime::fsutil::create_private_dir(&plugins).unwrap();
    let auth = qhub_bundled::EMBEDDED
        .iter()
        .find(|p| p.manifest.contains("name = \"auth\""))
        .unwrap();
    std::fs::write(plugins.join("other.plugin.toml"), auth.manifest).unwrap();
    let err = host(dir.path()).catalog().unwrap_err();
    assert_eq!(err.kind, Kind::Internal);
    assert!(
        err.message
            .ends_with("other.plugin.toml: the manifest names the plugin \"auth\""),
        "{err}"
    );
}

#[test]
fn no_providers_file_is_no_providers_unless_required() {
    let dir = tempfile::tempdir().unwrap();
    let mut host = host(dir.path());
    assert!(host.providers().unwrap().providers.is_empty());
    let err = host
        .provider_service(host.runtime(Allocation::OnDemand).unwrap(), "github")
        .unwrap_err();
    assert_eq!(err.kind, Kind::Usage);
    host.places.providers_required = true;
    assert_eq!(host.providers().unwrap_err().kind, Kind::Internal);
}

#[tokio::test]
async fn the_account_service_runs_the_core_over_its_backend() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("home").join("qhub.db");
    let service = host(dir.path())
        .account_service(
            DatabaseAt::File(&file),
            "0".repeat(64),
            "qhub-test",
            Allocation::OnDemand,
        )
        .await
        .unwrap();
    let names: Vec<&str> = service.plugins().iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["auth", "store-d1"]);
    assert!(file.exists());
}
