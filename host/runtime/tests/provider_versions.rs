//! Every version of the provider contract this host promises to load
//! (`PROVIDER_WORLDS`) has a component built against it, checked in under
//! `tests/fixtures/` and never rebuilt, and links into its world; a version it
//! does not know is refused, naming those it loads.

use std::path::{Path, PathBuf};

use qhub_runtime::{Allocation, Limits, PROVIDER_WORLDS, Runtime, RuntimeConfig};

/// The checked-in components, one per supported version.
const FIXTURES: &[&str] = &["legacy-oidc", "frozen-oidc"];

fn fixture(name: &str) -> (String, Vec<u8>) {
    let dir: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name);
    let manifest = std::fs::read_to_string(dir.join(format!("{name}.plugin.toml")))
        .expect("the fixture's manifest");
    let bytes = std::fs::read(dir.join(format!("{name}.wasm"))).expect("the fixture's component");
    (manifest, bytes)
}

fn runtime() -> Runtime {
    Runtime::new(RuntimeConfig {
        cache_dir: None,
        limits: Limits::default(),
        allocation: Allocation::OnDemand,
    })
    .expect("a runtime")
}

#[test]
fn a_component_built_against_each_supported_version_links() {
    let runtime = runtime();
    let mut worlds = Vec::new();
    for name in FIXTURES {
        let (manifest, bytes) = fixture(name);
        let plugin = runtime.load(&manifest, &bytes).unwrap();
        runtime
            .check_world(&plugin)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        worlds.push(plugin.manifest.world.clone());
    }
    assert_eq!(
        worlds, PROVIDER_WORLDS,
        "every supported version needs a checked-in component built against it"
    );
}

#[test]
fn a_version_this_host_does_not_know_is_refused_naming_those_it_loads() {
    let runtime = runtime();
    let (manifest, bytes) = fixture("frozen-oidc");
    let manifest = manifest.replace(
        "qhub:provider/oauth-provider-plugin@0.1.0",
        "qhub:provider/oauth-provider-plugin@0.2.0",
    );
    let plugin = runtime.load(&manifest, &bytes).unwrap();
    let message = runtime.check_world(&plugin).unwrap_err().to_string();
    assert!(
        message.contains("was built against qhub:provider/oauth-provider-plugin@0.2.0"),
        "{message}"
    );
    for world in PROVIDER_WORLDS {
        assert!(message.contains(world), "{message}");
    }
}

#[test]
fn a_component_does_not_pass_for_another_version_than_its_own() {
    // The legacy component exports `qhub:plugin/oauth-provider@0.1.0`: a manifest
    // claiming the newer package does not make it fit that world.
    let runtime = runtime();
    let (manifest, bytes) = fixture("legacy-oidc");
    let manifest = manifest.replace(
        "qhub:plugin/oauth-provider-plugin@0.1.0",
        "qhub:provider/oauth-provider-plugin@0.1.0",
    );
    let plugin = runtime.load(&manifest, &bytes).unwrap();
    assert!(runtime.check_world(&plugin).is_err());
}
