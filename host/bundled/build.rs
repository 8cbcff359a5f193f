//! Builds every plugin crate for wasm32-wasip2 (through `qhub-plugin-build`, the same
//! code `cargo xtask build-plugins` runs) and generates `plugins.rs`, which embeds the
//! first-party components and their manifests. This is what lets a fresh clone run
//! `cargo run -p qhub` without a separate build step.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir
        .join("../..")
        .canonicalize()
        .expect("workspace root");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
    let cargo = PathBuf::from(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));

    // OUT_DIR is TARGET/PROFILE/build/PKG-HASH/out. The plugins get their own target
    // directory beside the profiles: a nested cargo cannot share the outer build's
    // lock, and every host profile (dev, test, release) then shares one plugin build.
    let target_dir = out_dir
        .ancestors()
        .nth(4)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| root.join("target"));
    let plugin_target = target_dir.join("plugins");
    let dist = plugin_target.join("dist");

    // .cargo/config.toml holds the plugin target's rustflags (simd128).
    for watched in [
        "plugins",
        "wit",
        // The provider SDK, which the OAuth provider plugins link.
        "sdk",
        // Compiled into the account core (its HTTP API's routes and shapes).
        "host/api",
        "Cargo.lock",
        // The plugins' build profile (`[profile.plugin]`) and the workspace's
        // dependency versions they use.
        "Cargo.toml",
        "host/plugin-build/src",
        ".cargo/config.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }

    // Failures are reported as cargo errors (one line each, no panic and no
    // backtrace): what to do about them is in the message.
    // Cargo shows a build script's warnings once it has ended, and repeats them
    // on every later build until the script runs again: said in the past tense,
    // so that it stays true.
    let ensured =
        qhub_plugin_build::ensure_target("rustc".as_ref(), "rustup".as_ref(), &mut |_| {});
    match ensured {
        Ok(qhub_plugin_build::TargetStatus::Installed) => println!(
            "cargo::warning=installed the Rust target wasm32-wasip2 for the plugins (rustup target add wasm32-wasip2)"
        ),
        Ok(qhub_plugin_build::TargetStatus::Present) => {}
        Err(err) => return fail(&err.to_string()),
    }
    let built = qhub_plugin_build::discover(&root).and_then(|plugins| {
        qhub_plugin_build::build(&root, &cargo, &plugin_target, &dist, &plugins)
    });
    let built = match built {
        Ok(built) => built,
        Err(err) => return fail(&format!("building the plugins failed: {err}")),
    };

    let mut code = String::from(
        "/// The first-party plugins, in build order.\npub static EMBEDDED: &[Embedded] = &[\n",
    );
    for plugin in built.iter().filter(|b| b.embed) {
        writeln!(
            code,
            "    Embedded {{ manifest: include_str!({:?}), component: include_bytes!({:?}) }},",
            plugin.manifest_path.display().to_string(),
            plugin.wasm.display().to_string(),
        )
        .expect("writing to a String");
    }
    code.push_str("];\n");
    writeln!(
        code,
        "/// Where the build left every plugin, test fixtures included.\npub const BUILD_DIR: &str = {:?};",
        dist.display().to_string()
    )
    .expect("writing to a String");
    std::fs::write(out_dir.join("plugins.rs"), code).expect("writing plugins.rs");
}

/// Fails the build with `message`, one `cargo::error` per line, so cargo prints
/// it as plain errors.
fn fail(message: &str) {
    for line in message.lines() {
        println!("cargo::error={line}");
    }
}
