//! Helpers shared by the runtime's integration tests.

use std::path::Path;

use qhub_runtime::{ClientInfo, LoadedPlugin, Runtime};

/// Loads a plugin as the build left it (test fixtures included).
pub fn load(runtime: &Runtime, name: &str) -> LoadedPlugin {
    let dir = Path::new(qhub_bundled::BUILD_DIR);
    let manifest = std::fs::read_to_string(dir.join(format!("{name}.plugin.toml")))
        .expect("the plugin's manifest");
    let bytes = std::fs::read(dir.join(format!("{name}.wasm"))).expect("the plugin's component");
    runtime.load(&manifest, &bytes).expect("the plugin loads")
}

pub fn client(agent: &str) -> ClientInfo {
    ClientInfo {
        user_agent: Some(agent.into()),
        ip: None,
    }
}
