//! What a host still answers itself, in the HTTP API's JSON shapes: the plugins it
//! runs (`GET /v1/plugins`). Every other route is answered inside the core
//! (`api.handle`).

/// A plugin as `GET /v1/plugins` lists it.
pub fn plugin_info(m: &crate::Manifest) -> qhub_api::PluginInfo {
    qhub_api::PluginInfo {
        name: m.name.clone(),
        version: m.version.clone(),
        world: m.world.clone(),
        sha256: m.sha256.clone(),
    }
}
