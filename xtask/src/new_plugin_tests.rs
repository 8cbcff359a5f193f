//! Tests of `new-plugin`: names, the members edit, refusals, and a scaffold that
//! really builds to a component and passes its own test.

use std::process::Command;

use super::*;

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn names_are_lowercase_kebab() {
    for good in ["gitlab", "oauth-gitlab", "a1", "my-idp-2"] {
        assert!(validate_name(good).is_ok(), "{good}");
    }
    for (bad, hint) in [
        ("GitLab", "\"gitlab\""),
        ("oauth_gitlab", "\"oauth-gitlab\""),
        ("-x", "\"x\""),
        ("x-", "\"x\""),
        ("a--b", "\"a-b\""),
        ("1st", "starting with a letter"),
        ("", "starting with a letter"),
        ("../evil", "\"evil\""),
    ] {
        let err = validate_name(bad).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("invalid plugin name {bad:?}")),
            "{err}"
        );
        assert!(err.contains(hint), "{bad}: {err}");
    }
}

#[test]
fn members_are_inserted_among_the_plugins_in_order() {
    let manifest = "[workspace]\nmembers = [\n    \"host/cli\",\n    \"plugins/auth\",\n    \"plugins/store-d1\",\n    \"xtask\",\n]\n";
    let got = with_member(manifest, "plugins/oauth-x").unwrap();
    assert!(
        got.contains(
            "    \"plugins/auth\",\n    \"plugins/oauth-x\",\n    \"plugins/store-d1\",\n"
        ),
        "{got}"
    );
    let got = with_member(manifest, "plugins/zz").unwrap();
    assert!(
        got.contains("    \"plugins/store-d1\",\n    \"plugins/zz\",\n    \"xtask\""),
        "{got}"
    );
    let err = with_member(manifest, "plugins/auth").unwrap_err();
    assert_eq!(
        err.to_string(),
        "plugins/auth is already a workspace member"
    );
}

#[test]
fn refuses_bad_arguments_and_existing_directories() {
    let root = crate::workspace_root();
    let err = parse(&root, &args(&["store", "x"]))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown plugin kind \"store\"") && err.contains("hint:"),
        "{err}"
    );
    let err = parse(&root, &args(&["oauth"])).unwrap_err().to_string();
    assert!(err.contains("needs a kind and a name"), "{err}");
    let inside = root.join("host/x");
    let err = parse(
        &root,
        &args(&["oauth", "x", "--path", inside.to_str().unwrap()]),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("not at plugins/x") && err.contains("hint:"),
        "{err}"
    );

    let default = parse(&root, &args(&["oauth", "oauth-x"])).unwrap();
    assert_eq!(
        (default.dir, default.layout),
        (root.join("plugins/oauth-x"), Layout::Member)
    );

    let existing = parse(&root, &args(&["oauth", "oauth-oidc"])).unwrap();
    let err = existing.write(&root).unwrap_err().to_string();
    assert!(
        err.contains("oauth-oidc already exists") && err.contains("never overwrites"),
        "{err}"
    );
}

#[test]
fn the_vendored_sdk_has_the_real_ones_dependencies() {
    let real = fs::read_to_string(crate::workspace_root().join("sdk/provider/Cargo.toml")).unwrap();
    let deps = real.split("[dependencies]").nth(1).unwrap();
    let deps = deps.split("\n[").next().unwrap();
    for line in deps
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let name = line.split(['.', ' ', '=']).next().unwrap();
        assert!(
            SDK_CARGO.contains(&format!("\n{name} =")),
            "{name} missing from the template"
        );
    }
}

/// The scaffold outside the repository: written, tested natively, built for
/// wasm32-wasip2 into a component. Uses its own target directory under the
/// workspace's so compiled dependencies are reused between runs.
#[test]
fn a_standalone_scaffold_builds_a_component_and_passes_its_test() {
    let root = crate::workspace_root();
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("oauth-example");
    let scaffold = parse(
        &root,
        &args(&["oauth", "oauth-example", "--path", dir.to_str().unwrap()]),
    )
    .unwrap();
    assert_eq!(scaffold.layout, Layout::Standalone);
    scaffold.write(&root).unwrap();
    for file in [
        "Cargo.toml",
        "src/lib.rs",
        "README.md",
        "qhub-provider-sdk/wit/oauth-provider.wit",
        "qhub-provider-sdk/wit/world.wit",
        "qhub-provider-sdk/src/lib.rs",
        "manifest.toml",
        "build.sh",
    ] {
        assert!(dir.join(file).is_file(), "{file}");
    }
    let lib = fs::read_to_string(dir.join("src/lib.rs")).unwrap();
    assert!(!lib.contains("{{"), "every placeholder is filled");
    // Authors start from formatted code.
    let formatted = Command::new("rustfmt")
        .args(["--edition", "2024", "--check"])
        .arg(dir.join("src/lib.rs"))
        .status()
        .unwrap();
    assert!(formatted.success(), "the generated lib.rs is rustfmt-clean");

    let target = root.join("target/scaffold-test");
    let run = |program: &str, extra: &[&str]| {
        let mut cmd = Command::new(program);
        cmd.current_dir(&dir)
            .args(extra)
            .env("CARGO_TARGET_DIR", &target);
        // Variables cargo sets for this test would leak into the nested build.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            let keep = key == "CARGO_HOME"
                || key.starts_with("CARGO_NET_")
                || key.starts_with("CARGO_REGISTRIES_");
            if (key.starts_with("CARGO_") && !keep && key != "CARGO_TARGET_DIR")
                || key.starts_with("RUSTC")
                || key == "RUSTFLAGS"
            {
                cmd.env_remove(&*key);
            }
        }
        let status = cmd.status().unwrap();
        assert!(
            status.success(),
            "{program} {extra:?} in {} failed",
            dir.display()
        );
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(&cargo, &["test", "--quiet"]);
    // What the README and the next steps say: the component and its manifest, in dist/.
    run("./build.sh", &[]);

    let manifest = fs::read_to_string(dir.join("dist/oauth-example.plugin.toml")).unwrap();
    let manifest = qhub_plugin_build::Manifest::parse(&manifest).unwrap();
    let built = fs::read(dir.join("dist/oauth-example.wasm")).unwrap();
    assert_eq!(manifest.name, "oauth-example");
    assert_eq!(manifest.world, "qhub:provider/oauth-provider-plugin@0.1.0");
    assert_eq!(manifest.sha256, qhub_plugin_build::sha256_hex(&built));
    assert_eq!(manifest.hosts, ["https://auth.example.com:443"]);

    let wasm =
        fs::read(target.join("wasm32-wasip2/release/qhub_plugin_oauth_example.wasm")).unwrap();
    // A component, not a core module: the preamble's layer field is 1.
    assert_eq!(&wasm[..8], b"\0asm\x0d\x00\x01\x00");
    let exports_world = wasm
        .windows(b"qhub:provider/oauth-provider@0.1.0".len())
        .any(|w| w == b"qhub:provider/oauth-provider@0.1.0");
    assert!(
        exports_world,
        "the component carries the oauth-provider interface"
    );
}
