//! The account core's records as the HTTP API's JSON shapes, for what hosts still
//! answer themselves: the plugins they run (`GET /v1/plugins`) and the OAuth
//! routes, whose sequence (provider plugin, then the core's `identities`) the host
//! drives. Every other route is answered inside the core (`api.handle`).

use crate::bindings::accounts::{Profile, SignedIn};
use crate::bindings::oauth_provider::DeviceAuthorization;
use qhub_api::timestamp;

/// A plugin as `GET /v1/plugins` lists it.
pub fn plugin_info(m: &crate::Manifest) -> qhub_api::PluginInfo {
    qhub_api::PluginInfo {
        name: m.name.clone(),
        version: m.version.clone(),
        world: m.world.clone(),
        sha256: m.sha256.clone(),
    }
}

impl From<Profile> for qhub_api::Profile {
    fn from(p: Profile) -> Self {
        qhub_api::Profile {
            id: p.id,
            email: p.email,
            display_name: p.display_name,
            created_at: timestamp(p.created_at),
        }
    }
}

impl From<SignedIn> for qhub_api::SignedIn {
    fn from(s: SignedIn) -> Self {
        qhub_api::SignedIn {
            token: s.token,
            session_id: s.session_id,
            expires_at: timestamp(s.expires_at),
            user: s.user.into(),
        }
    }
}

impl From<DeviceAuthorization> for qhub_api::DeviceCode {
    fn from(d: DeviceAuthorization) -> Self {
        qhub_api::DeviceCode {
            device_code: d.device_code,
            user_code: d.user_code,
            verification_uri: d.verification_uri,
            verification_uri_complete: d.verification_uri_complete,
            expires_in: d.expires_in,
            interval: d.interval,
        }
    }
}
