//! Helpers shared by the runtime's integration tests.

use std::path::Path;
use std::sync::Arc;

use qhub_runtime::{Allocation, ClientInfo, Limits, LoadedPlugin, Runtime, RuntimeConfig};

/// A runtime with `limits` and `allocation`, and no compiled-code cache.
#[allow(
    dead_code,
    reason = "not every test binary that includes this module uses it"
)]
pub fn runtime(limits: Limits, allocation: Allocation) -> Arc<Runtime> {
    Arc::new(
        Runtime::new(RuntimeConfig {
            cache_dir: None,
            limits,
            allocation,
        })
        .expect("the runtime"),
    )
}

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
