//! The first-party plugin components, embedded in the binary at build time.
//!
//! See `build.rs`: the components are built from `plugins/` by the same code as
//! `cargo xtask build-plugins`, so the embedded bytes are exactly the files in
//! [`BUILD_DIR`] and their manifests' sha256 holds for both.

/// A component and its manifest (TOML), as built.
#[derive(Debug, Clone, Copy)]
pub struct Embedded {
    pub manifest: &'static str,
    pub component: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/plugins.rs"));
