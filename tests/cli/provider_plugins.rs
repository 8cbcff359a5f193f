//! `qhub plugins install` and `qhub plugins inspect`: installing a built plugin,
//! refusing a tampered one, and showing what a plugin requests and is granted.

use std::path::{Path, PathBuf};

use crate::harness::Qhub;

/// The built `test-http` fixture (world oauth-provider-plugin, not embedded).
fn built(name: &str) -> PathBuf {
    Path::new(qhub_bundled::BUILD_DIR).join(format!("{name}.wasm"))
}

fn install_test_http(qhub: &Qhub) {
    let out = qhub.run(&["plugins", "install", built("test-http").to_str().unwrap()]);
    assert!(
        out.ok().starts_with("installed test-http 0.1.0"),
        "{out:#?}"
    );
}

#[test]
fn install_registers_a_built_plugin_and_list_shows_where_each_comes_from() {
    let qhub = Qhub::new().with_own_cache();
    install_test_http(&qhub);
    for file in ["test-http.wasm", "test-http.plugin.toml"] {
        assert!(qhub.path("plugins").join(file).is_file(), "{file}");
    }
    let cached = std::fs::read_dir(qhub.path("cache")).unwrap().count();
    assert!(cached > 0, "install precompiles into the cache");

    let list = qhub.run(&["plugins", "list", "--json"]).json();
    let rows = list.as_array().unwrap();
    let test_http = rows.iter().find(|p| p["name"] == "test-http").unwrap();
    assert_eq!(test_http["source"], "installed");
    assert_eq!(
        test_http["world"],
        "qhub:provider/oauth-provider-plugin@0.1.0"
    );
    assert_eq!(
        test_http["sha256"],
        qhub_plugin_build::sha256_hex(&std::fs::read(built("test-http")).unwrap())
    );
    let auth = rows.iter().find(|p| p["name"] == "auth").unwrap();
    assert_eq!(auth["source"], "embedded");
    let text = qhub.run(&["plugins", "list"]);
    let line = text
        .ok()
        .lines()
        .find(|l| l.starts_with("test-http"))
        .unwrap();
    assert!(line.contains(" installed "), "{line}");

    // Installing again replaces only when asked to; the manifest works as PATH too.
    let manifest = Path::new(qhub_bundled::BUILD_DIR).join("test-http.plugin.toml");
    let manifest = manifest.to_str().unwrap();
    qhub.run(&["plugins", "install", manifest])
        .fails(3, "is installed already")
        .fails(3, "hint: pass --force to replace it");
    qhub.run(&["plugins", "install", manifest, "--force"]).ok();
}

#[test]
fn a_tampered_component_is_refused() {
    let qhub = Qhub::new();
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(built("test-http")).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    let wasm = dir.path().join("test-http.wasm");
    std::fs::write(&wasm, &bytes).unwrap();
    std::fs::copy(
        Path::new(qhub_bundled::BUILD_DIR).join("test-http.plugin.toml"),
        dir.path().join("test-http.plugin.toml"),
    )
    .unwrap();

    let out = qhub.run(&["plugins", "install", wasm.to_str().unwrap()]);
    out.fails(3, "cannot install plugin \"test-http\" 0.1.0: ")
        .fails(3, "but the manifest says")
        .fails(3, "hint: the component was altered");
    assert!(!qhub.path("plugins").join("test-http.wasm").exists());

    // Without its manifest a component cannot be vouched for at all.
    std::fs::remove_file(dir.path().join("test-http.plugin.toml")).unwrap();
    qhub.run(&["plugins", "install", wasm.to_str().unwrap()])
        .fails(2, "test-http.plugin.toml")
        .fails(2, "hint: pass NAME.wasm with NAME.plugin.toml beside it");
}

/// A manifest naming a version of the provider contract this qhub was not built
/// with (a plugin from the future) is refused at install, naming the versions it
/// loads.
#[test]
fn a_provider_built_against_an_unknown_contract_version_is_refused() {
    let qhub = Qhub::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(built("test-http"), dir.path().join("test-http.wasm")).unwrap();
    let manifest =
        std::fs::read_to_string(Path::new(qhub_bundled::BUILD_DIR).join("test-http.plugin.toml"))
            .unwrap()
            .replace(
                "qhub:provider/oauth-provider-plugin@0.1.0",
                "qhub:provider/oauth-provider-plugin@0.9.0",
            );
    assert!(manifest.contains("@0.9.0"), "{manifest}");
    let path = dir.path().join("test-http.plugin.toml");
    std::fs::write(&path, manifest).unwrap();
    qhub.run(&["plugins", "install", path.to_str().unwrap()])
        .fails(
            3,
            "was built against qhub:provider/oauth-provider-plugin@0.9.0, which this qhub does not load",
        )
        .fails(
            3,
            "(it loads qhub:plugin/oauth-provider-plugin@0.1.0, qhub:provider/oauth-provider-plugin@0.1.0)",
        )
        .fails(3, "rebuild the plugin with a qhub-provider-sdk for one of those");
}

#[test]
fn embedded_names_are_reserved() {
    let qhub = Qhub::new();
    qhub.run(&["plugins", "install", built("store-d1").to_str().unwrap()])
        .fails(3, "an embedded plugin has that name")
        .fails(3, "hint: embedded plugin names are reserved");
    qhub.run(&[
        "plugins",
        "install",
        built("store-d1").to_str().unwrap(),
        "--force",
    ])
    .fails(3, "an embedded plugin has that name");
}

/// A component of imports alone: `wasi:random/random@0.2.6` as WASI defines it
/// (`get-random-u64: func() -> u64`), and the instance `other` exporting the
/// resource type `resource`, as WASI's `wasi:filesystem/types` exports
/// `descriptor` and `wasi:sockets/network` exports `network`. A linker holding
/// all of WASI links both; one without `other`'s interface names it.
fn component_importing(other: &str, resource: &str) -> Vec<u8> {
    use wasm_encoder::{
        Component, ComponentImportSection, ComponentTypeRef, ComponentTypeSection, InstanceType,
        PrimitiveValType, TypeBounds,
    };
    let mut types = ComponentTypeSection::new();
    let mut random = InstanceType::new();
    random
        .ty()
        .function()
        .params([] as [(&str, PrimitiveValType); 0])
        .result(Some(PrimitiveValType::U64.into()));
    random.export("get-random-u64", ComponentTypeRef::Func(0));
    types.instance(&random);
    let mut instance = InstanceType::new();
    instance.export(resource, ComponentTypeRef::Type(TypeBounds::SubResource));
    types.instance(&instance);
    let mut imports = ComponentImportSection::new();
    imports.import("wasi:random/random@0.2.6", ComponentTypeRef::Instance(0));
    imports.import(other, ComponentTypeRef::Instance(1));
    let mut component = Component::new();
    component.section(&types).section(&imports);
    component.finish()
}

/// docs/plugins.md promises store-backend authors the WASI interfaces Rust's
/// standard library imports and no more: a backend importing the filesystem or
/// sockets is refused at install, naming the import, and nothing is written.
#[test]
fn a_store_backend_importing_the_filesystem_or_sockets_is_refused_naming_the_import() {
    let qhub = Qhub::new();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (package, version) = qhub_plugin_build::WIT_PACKAGE
        .split_once('@')
        .expect("the package has a version");
    let world = format!("{package}/store-backend@{version}");
    for (import, resource) in [
        ("wasi:filesystem/types@0.2.6", "descriptor"),
        ("wasi:sockets/network@0.2.6", "network"),
    ] {
        // wasi:random, which a backend gets, passes the linker's lookup: the
        // refusal names the other import.
        let bytes = component_importing(import, resource);
        let wasm = dir.path().join("fs-backend.wasm");
        std::fs::write(&wasm, &bytes).expect("the component is written");
        std::fs::write(
            dir.path().join("fs-backend.plugin.toml"),
            format!(
                "name = \"fs-backend\"\nversion = \"0.1.0\"\nworld = \"{world}\"\nsha256 = \"{}\"\nhosts = []\n",
                qhub_plugin_build::sha256_hex(&bytes)
            ),
        )
        .expect("the manifest is written");
        qhub.run(&["plugins", "install", wasm.to_str().expect("a UTF-8 path")])
            .fails(3, "plugin \"fs-backend\" 0.1.0: does not fit its world")
            .fails(3, &format!("component imports instance `{import}`, but"))
            .fails(3, "resource implementation is missing")
            .fails(
                3,
                "hint: a store backend exports its world's interfaces and imports only",
            );
        assert!(!qhub.path("plugins").join("fs-backend.wasm").exists());
        assert!(!qhub.path("plugins").join("fs-backend.plugin.toml").exists());
    }
}

const PROVIDERS: &str = r#"
[providers.local]
plugin = "test-http"
grant = ["http://127.0.0.1:8080", "https://example.com"]
[providers.local.config]
client-id = "qhub-test"
"#;

#[test]
fn inspect_shows_requested_and_granted_hosts() {
    let qhub = Qhub::new();
    install_test_http(&qhub);
    std::fs::write(qhub.path("providers.toml"), PROVIDERS).unwrap();

    let report = qhub
        .run(&["plugins", "inspect", "test-http", "--json"])
        .json();
    assert_eq!(report["name"], "test-http");
    assert_eq!(report["version"], "0.1.0");
    assert_eq!(report["world"], "qhub:provider/oauth-provider-plugin@0.1.0");
    assert_eq!(report["source"], "installed");
    assert!(
        report["path"]
            .as_str()
            .unwrap()
            .ends_with("plugins/test-http.wasm")
    );
    assert_eq!(report["hosts"], serde_json::json!(["http://127.0.0.1:*"]));
    assert_eq!(
        report["granted"],
        serde_json::json!(["http://127.0.0.1:8080"])
    );
    assert_eq!(
        report["providers"],
        serde_json::json!([{
            "name": "local",
            "granted": ["http://127.0.0.1:8080"],
            "not_requested": ["https://example.com:443"],
        }])
    );

    let text = qhub.run(&["plugins", "inspect", "test-http"]);
    let text = text.ok();
    assert!(text.contains("requests   http://127.0.0.1:*\n"), "{text}");
    assert!(
        text.contains("granted    http://127.0.0.1:8080  (provider local)\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "ignored    https://example.com:443  (provider local: not requested by the manifest)"
        ),
        "{text}"
    );

    // An embedded plugin no provider uses: nothing granted.
    let report = qhub
        .run(&["plugins", "inspect", "store-d1", "--json"])
        .json();
    assert_eq!(report["source"], "embedded");
    assert_eq!(report["path"], serde_json::Value::Null);
    assert_eq!(report["granted"], serde_json::json!([]));
    let text = qhub.run(&["plugins", "inspect", "store-d1"]);
    assert!(
        text.ok().contains("granted    (none: no provider in"),
        "{text:#?}"
    );
}

#[test]
fn inspect_explains_mistakes_in_names_and_in_providers_toml() {
    let qhub = Qhub::new();
    install_test_http(&qhub);
    qhub.run(&["plugins", "inspect", "test-htp"])
        .fails(2, "no plugin named \"test-htp\"")
        .fails(2, "hint: did you mean \"test-http\"?");

    let write = |text: &str| std::fs::write(qhub.path("providers.toml"), text).unwrap();
    write("[providers.local]\nplugin = \"test-http\"\ngrant = [\"http://127.0.0.1:*\"]\n");
    qhub.run(&["plugins", "inspect", "test-http"])
        .fails(1, "provider \"local\": grant entry \"http://127.0.0.1:*\"")
        .fails(1, "hint: grant each origin the provider needs");

    write("[providers.local]\nplugin = \"test-htp\"\n");
    qhub.run(&["plugins", "inspect", "test-http"])
        .fails(1, "provider \"local\": no plugin named \"test-htp\"")
        .fails(1, "hint: did you mean \"test-http\"?");

    write("[providers.local]\nplugin = \"test-http\"\ngrants = []\n");
    qhub.run(&["plugins", "inspect", "test-http"])
        .fails(1, "providers.toml: line 3: unknown field `grants`")
        .fails(1, "hint: each provider is a [providers.NAME] table");

    // A variable no provider claims is a warning, not an error: it may belong to
    // a provider configured elsewhere, but it may also be a typo.
    write("[providers.local]\nplugin = \"test-http\"\n");
    let run = qhub.run_with(
        &["plugins", "inspect", "test-http"],
        None,
        &[("QHUB_PROVIDER_LOCLA_CLIENT_ID", "x")],
    );
    run.ok();
    assert!(
        run.stderr.contains(
            "QHUB_PROVIDER_LOCLA_CLIENT_ID matches no provider in providers.toml; it is ignored"
        ),
        "{run:#?}"
    );

    // QHUB_PROVIDERS names the file; then it must exist.
    let missing = qhub.path("elsewhere.toml");
    qhub.run_with(
        &["plugins", "inspect", "test-http"],
        None,
        &[("QHUB_PROVIDERS", missing.to_str().unwrap())],
    )
    .fails(1, "elsewhere.toml: cannot read the provider configuration");
}

#[test]
fn remove_takes_out_an_installed_plugin_and_refuses_embedded_ones() {
    let qhub = Qhub::new();
    install_test_http(&qhub);

    // A provider still using it keeps it.
    let providers = qhub.path("providers.toml");
    std::fs::write(&providers, "[providers.local]\nplugin = \"test-http\"\n").unwrap();
    qhub.run(&["plugins", "remove", "test-http"])
        .fails(3, "used by the provider(s) local")
        .fails(3, "hint: remove those providers from providers.toml first");
    std::fs::remove_file(&providers).unwrap();

    let out = qhub.run(&["plugins", "remove", "test-http", "--json"]);
    assert_eq!(out.json()["removed"], "test-http");
    for file in ["test-http.wasm", "test-http.plugin.toml"] {
        assert!(!qhub.path("plugins").join(file).exists(), "{file}");
    }
    let list = qhub.run(&["plugins", "list", "--json"]).json();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|p| p["name"] != "test-http"),
        "{list}"
    );

    qhub.run(&["plugins", "remove", "test-http"])
        .fails(2, "no plugin named \"test-http\"");
    qhub.run(&["plugins", "remove", "store-d1"])
        .fails(3, "\"store-d1\" is embedded in qhub and cannot be removed")
        .fails(
            3,
            "hint: only plugins installed with `qhub plugins install`",
        );
}

/// Paths are quoted in messages as the user gave them, with control characters
/// escaped: an escape sequence in a file name never reaches the terminal, and
/// the name shown is still the one given (not one with characters dropped).
#[test]
fn control_characters_in_file_names_are_shown_escaped() {
    let qhub = Qhub::new();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let missing = dir.path().join("missing\u{1b}]0;title\u{7}.plugin.toml");
    let out = qhub.run(&["plugins", "install", missing.to_str().expect("UTF-8")]);
    out.fails(2, "missing\\u{1b}]0;title\\u{7}.plugin.toml");
    assert!(
        !out.stderr.contains('\u{1b}') && !out.stderr.contains('\u{7}'),
        "{out:#?}"
    );

    // Installed under its manifest's name, the note quotes the file escaped.
    let wasm = copy_test_http(dir.path(), "odd\u{1b}[31m", |manifest| manifest);
    let out = qhub.run(&["plugins", "install", wasm.to_str().expect("UTF-8")]);
    out.ok();
    assert!(
        out.stderr
            .contains("odd\\u{1b}[31m.wasm is installed as \"test-http\""),
        "{out:#?}"
    );
    assert!(!out.stderr.contains('\u{1b}'), "{out:#?}");
}

/// A component without its manifest in the plugins directory (what an install or
/// a removal cut short leaves) is not an installed plugin: installing that name
/// replaces it without `--force`.
#[test]
fn a_component_left_without_its_manifest_is_replaced_by_an_install() {
    let qhub = Qhub::new();
    install_test_http(&qhub);
    let dir = qhub.path("plugins");
    std::fs::remove_file(dir.join("test-http.plugin.toml")).expect("the manifest is removed");
    std::fs::write(dir.join("test-http.wasm"), b"left over").expect("debris is written");

    install_test_http(&qhub);
    assert_eq!(
        std::fs::read(dir.join("test-http.wasm")).expect("the installed component"),
        std::fs::read(built("test-http")).expect("the built component")
    );
    assert!(dir.join("test-http.plugin.toml").exists());
}

/// An install that finds the plugins directory locked by another qhub says it
/// waits (else it looks hung), then installs once the lock is released.
#[test]
fn an_install_held_up_by_another_says_it_waits_then_installs() {
    use std::io::BufRead;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

    let qhub = Qhub::new();
    let dir = qhub.path("plugins");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .expect("the plugins directory");
    let held = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(dir.join(".lock"))
        .expect("the lock file");
    held.lock().expect("the lock is taken");

    let wasm = built("test-http");
    let mut child = crate::harness::spawn_piped(
        &mut qhub.command(&["plugins", "install", wasm.to_str().expect("UTF-8")], &[]),
        None,
    );
    let stderr = child.stderr.take().expect("stderr is piped");
    let (said, heard) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut other = Vec::new();
        for line in std::io::BufReader::new(stderr).lines() {
            let line = line.expect("stderr is text");
            if line.contains("waiting for another qhub to finish with the plugins directory") {
                let _ = said.send(line);
            } else {
                other.push(line);
            }
        }
        other
    });
    // Not a timing threshold: only a bound on a hang, should the notice never come.
    let line = heard
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("the install says it waits before the lock is released");
    assert!(line.contains(".lock"), "{line}");
    assert!(
        !dir.join("test-http.wasm").exists(),
        "nothing is installed while another holds the lock"
    );
    drop(held);

    let status = child.wait().expect("the install finishes");
    let rest = reader.join().expect("the reader");
    assert!(status.success(), "{status:?}: {rest:?}");
    assert!(dir.join("test-http.wasm").exists());
    assert!(dir.join("test-http.plugin.toml").exists());
}

/// `dir/NAME.wasm` and `dir/NAME.plugin.toml`: the built `test-http`, its manifest
/// changed by `edit`.
fn copy_test_http(dir: &Path, name: &str, edit: impl FnOnce(String) -> String) -> PathBuf {
    let manifest =
        std::fs::read_to_string(Path::new(qhub_bundled::BUILD_DIR).join("test-http.plugin.toml"))
            .expect("the built manifest");
    std::fs::write(dir.join(format!("{name}.plugin.toml")), edit(manifest))
        .expect("the manifest is written");
    let wasm = dir.join(format!("{name}.wasm"));
    std::fs::copy(built("test-http"), &wasm).expect("the component is copied");
    wasm
}

/// Runs `n` qhub processes at once, the `i`th with `args(i)`, and waits for all.
fn race<'a>(
    qhub: &Qhub,
    n: usize,
    args: impl Fn(usize) -> Vec<&'a str>,
) -> Vec<crate::harness::Run> {
    let children: Vec<_> = (0..n)
        .map(|i| crate::harness::spawn_piped(&mut qhub.command(&args(i), &[]), None))
        .collect();
    children
        .into_iter()
        .map(crate::harness::Run::finish)
        .collect()
}

/// Installs of one name started at once: exactly one wins, the others are told
/// it is installed already, and the pair left is one build's; removals started
/// at once: exactly one removes it (the checks and the writes hold the plugins
/// directory's lock).
#[test]
fn installs_and_removals_racing_for_one_name_leave_one_winner_and_a_whole_pair() {
    const N: usize = 8;
    let qhub = Qhub::new().with_own_cache();
    // Compiled into the cache first, so the race is about the files only.
    install_test_http(&qhub);
    qhub.run(&["plugins", "remove", "test-http"]).ok();

    let wasm = built("test-http");
    for round in 0..6 {
        let runs = race(&qhub, N, |_| {
            vec!["plugins", "install", wasm.to_str().unwrap()]
        });
        let won = runs.iter().filter(|r| r.code == 0).count();
        let refused = runs
            .iter()
            .filter(|r| r.code == 3 && r.stderr.contains("is installed already"))
            .count();
        assert_eq!((won, refused), (1, N - 1), "round {round}: {runs:#?}");
        qhub.run(&["plugins", "inspect", "test-http"]).ok();
        // Removals racing for it: one removes it, the others find nothing.
        let runs = race(&qhub, N, |_| vec!["plugins", "remove", "test-http"]);
        let removed = runs.iter().filter(|r| r.code == 0).count();
        let absent = runs
            .iter()
            .filter(|r| r.code == 2 && r.stderr.contains("no plugin named \"test-http\""))
            .count();
        assert_eq!((removed, absent), (1, N - 1), "round {round}: {runs:#?}");
    }

    // Replacements racing with two different components under one name: each
    // succeeds, and the pair left is always one of them whole (inspect checks the
    // component against its manifest's sha256).
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("test-http.wasm");
    std::fs::copy(built("test-hang"), &other).unwrap();
    let manifest =
        std::fs::read_to_string(Path::new(qhub_bundled::BUILD_DIR).join("test-hang.plugin.toml"))
            .unwrap()
            .replace("name = \"test-hang\"", "name = \"test-http\"");
    std::fs::write(dir.path().join("test-http.plugin.toml"), manifest).unwrap();
    install_test_http(&qhub);
    for round in 0..6 {
        let runs = race(&qhub, N, |i| {
            let source = if i % 2 == 0 { &wasm } else { &other };
            vec!["plugins", "install", source.to_str().unwrap(), "--force"]
        });
        for run in runs {
            assert_eq!(run.code, 0, "round {round}: {run:#?}");
        }
        qhub.run(&["plugins", "inspect", "test-http"]).ok();
    }
}

#[test]
fn special_files_long_names_and_multi_line_versions_are_refused_before_anything_is_written() {
    let qhub = Qhub::new();
    let dir = tempfile::tempdir().unwrap();

    // A device as the manifest: refused without reading it (it never ends).
    let wasm = copy_test_http(dir.path(), "zero", |m| m);
    std::fs::remove_file(dir.path().join("zero.plugin.toml")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.plugin.toml")).unwrap();
    qhub.run(&["plugins", "install", wasm.to_str().unwrap()])
        .fails(2, "zero.plugin.toml: not a regular file");

    let wasm = copy_test_http(dir.path(), "test-http", |m| {
        m.replace(
            "version = \"0.1.0\"",
            "version = \"0.1.0\\nzz-hidden 9 installed\"",
        )
    });
    let out = qhub.run(&["plugins", "install", wasm.to_str().unwrap()]);
    out.fails(3, "is not a plugin version")
        .fails(3, "hint: a version is 1 to 64 ASCII letters");
    assert!(!out.stderr.contains("\nzz-hidden"), "{out:#?}");

    // Files named otherwise install under the manifest's name, with a note.
    let wasm = copy_test_http(dir.path(), "renamed", |m| m);
    let out = qhub.run(&["plugins", "install", wasm.to_str().unwrap()]);
    assert!(
        out.ok().starts_with("installed test-http 0.1.0"),
        "{out:#?}"
    );
    assert!(
        out.stderr
            .contains("is installed as \"test-http\", the name its manifest gives"),
        "{out:#?}"
    );
    qhub.run(&["plugins", "remove", "test-http"]).ok();

    let long = "a".repeat(65);
    let wasm = copy_test_http(dir.path(), &long, |m| {
        m.replace("name = \"test-http\"", &format!("name = \"{long}\""))
    });
    qhub.run(&["plugins", "install", wasm.to_str().unwrap()])
        .fails(3, "is not a plugin name")
        .fails(3, "hint: a plugin name is 1 to 64 lowercase ASCII letters");
    for file in [format!("{long}.wasm"), format!("{long}.plugin.toml")] {
        assert!(!qhub.path("plugins").join(file).exists());
    }
}

/// A plugin whose manifest broke is still removed by name, as the error's hint
/// says, and `--force` does not swap a provider's plugin for another world's.
#[test]
fn a_broken_plugin_is_removed_by_name_and_a_providers_plugin_keeps_its_world() {
    let qhub = Qhub::new();
    install_test_http(&qhub);
    let providers = qhub.path("providers.toml");
    std::fs::write(&providers, "[providers.local]\nplugin = \"test-http\"\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let wasm = copy_test_http(dir.path(), "test-http", |m| {
        m.replace(
            "qhub:provider/oauth-provider-plugin@0.1.0",
            "qhub:plugin/store-backend@0.1.0",
        )
    });
    qhub.run(&["plugins", "install", wasm.to_str().unwrap(), "--force"])
        .fails(
            3,
            "the provider(s) local of providers.toml use the installed one",
        )
        .fails(3, "hint: remove those providers from providers.toml first");
    std::fs::remove_file(&providers).unwrap();

    let manifest = qhub.path("plugins").join("test-http.plugin.toml");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text.push_str("garbage =\n");
    std::fs::write(&manifest, text).unwrap();
    qhub.run(&["plugins", "list"])
        .fails(1, "installed plugin")
        .fails(1, "hint: reinstall it with `qhub plugins install PATH --force`, or remove it with `qhub plugins remove test-http`");
    qhub.run(&["plugins", "remove", "test-http"]).ok();
    qhub.run(&["plugins", "list"]).ok();

    // A component changed after it was installed: inspect says so, and how to fix it.
    install_test_http(&qhub);
    let installed = qhub.path("plugins").join("test-http.wasm");
    let mut bytes = std::fs::read(&installed).unwrap();
    bytes.push(0);
    std::fs::write(&installed, bytes).unwrap();
    qhub.run(&["plugins", "inspect", "test-http"])
        .fails(1, "does not match the manifest's")
        .fails(
            1,
            "hint: reinstall it with `qhub plugins install PATH --force`",
        );
}
