//! The manifest that travels beside every plugin component.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The internal WIT package (`wit/`): the worlds of the account core and the
/// storage backends, built together with QHub and free to change with it.
pub const WIT_PACKAGE: &str = "qhub:plugin@0.1.0";

/// The short name of the world OAuth provider plugins are built against, in every
/// version of the contract.
pub const PROVIDER_WORLD_NAME: &str = "oauth-provider-plugin";

/// What a host needs to know about a plugin before loading it.
///
/// Written as TOML beside the component (`NAME.plugin.toml`). The host checks
/// `sha256` against the bytes it loads, so a manifest can't vouch for another file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Short name, unique among loaded plugins ("auth", "store-d1").
    pub name: String,
    pub version: String,
    /// The WIT world the component targets, with its package and version:
    /// `qhub:plugin/store-backend@0.1.0`, `qhub:provider/oauth-provider-plugin@0.1.0`.
    pub world: String,
    /// Lowercase hex SHA-256 of the component file.
    pub sha256: String,
    /// Outbound destinations (`https://api.github.com:443`) the plugin asks for.
    /// The operator's grant decides what it actually gets; empty means none.
    #[serde(default)]
    pub hosts: Vec<String>,
}

/// A manifest that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("malformed plugin manifest: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("plugin manifest for {name:?} has a malformed sha256 {sha256:?}")]
    Digest { name: String, sha256: String },
}

impl Manifest {
    pub fn parse(text: &str) -> Result<Self, ManifestError> {
        let manifest: Manifest = toml::from_str(text)?;
        let digest_ok = manifest.sha256.len() == 64
            && manifest
                .sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !digest_ok {
            return Err(ManifestError::Digest {
                name: manifest.name,
                sha256: manifest.sha256,
            });
        }
        Ok(manifest)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a manifest always serialises")
    }

    /// The world's package and version: `qhub:plugin@0.1.0` for
    /// `qhub:plugin/store-backend@0.1.0`.
    pub fn package(&self) -> String {
        match (self.world.split_once('/'), self.world.rsplit_once('@')) {
            (Some((package, _)), Some((_, version))) => format!("{package}@{version}"),
            (Some((package, _)), None) => package.to_owned(),
            _ => String::new(),
        }
    }

    /// `"name" version`, as every host's messages name the plugin
    /// (`"oauth-oidc" 0.1.0`).
    pub fn label(&self) -> String {
        format!("{:?} {}", self.name, self.version)
    }

    /// Whether the plugin is an OAuth provider: its world is
    /// [`PROVIDER_WORLD_NAME`], of any package and version (the public
    /// `qhub:provider`, or the contract as QHub 0.1.0 first published it).
    pub fn is_provider(&self) -> bool {
        self.world_name() == PROVIDER_WORLD_NAME
    }

    /// The world's short name: `store-backend` for `qhub:plugin/store-backend@0.1.0`.
    pub fn world_name(&self) -> &str {
        let after_slash = self.world.rsplit('/').next().unwrap_or(&self.world);
        after_slash.split('@').next().unwrap_or(after_slash)
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Manifest {
        Manifest {
            name: "store-d1".into(),
            version: "0.1.0".into(),
            world: "qhub:plugin/store-backend@0.1.0".into(),
            sha256: sha256_hex(b"component"),
            hosts: vec!["https://api.github.com:443".into()],
        }
    }

    #[test]
    fn round_trips_through_toml() {
        let manifest = sample();
        assert_eq!(Manifest::parse(&manifest.to_toml()).unwrap(), manifest);
    }

    #[test]
    fn rejects_unknown_fields_and_bad_digests() {
        let extra = format!("{}\nsurprise = true\n", sample().to_toml());
        assert!(Manifest::parse(&extra).is_err());
        let mut bad = sample();
        bad.sha256 = "XYZ".into();
        let err = Manifest::parse(&bad.to_toml()).unwrap_err();
        assert!(err.to_string().contains("malformed sha256"), "{err}");
    }

    #[test]
    fn world_name_strips_package_and_version() {
        assert_eq!(sample().world_name(), "store-backend");
        assert_eq!(sample().package(), "qhub:plugin@0.1.0");
        let mut provider = sample();
        provider.world = "qhub:provider/oauth-provider-plugin@0.1.0".into();
        assert_eq!(provider.world_name(), "oauth-provider-plugin");
        assert_eq!(provider.package(), "qhub:provider@0.1.0");
    }
}
