//! `qhub plugins list`.

use crate::harness::Qhub;

#[test]
fn plugins_list_shows_the_built_components_and_their_hashes() {
    let qhub = Qhub::new();
    let list = qhub.run(&["plugins", "list", "--json"]).json();
    let list = list.as_array().expect("a JSON array");
    let names: Vec<&str> = list.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "auth",
            "oauth-github",
            "oauth-oidc",
            "store-d1",
            "store-postgres"
        ],
        "test fixtures are not embedded"
    );
    for plugin in list {
        let name = plugin["name"].as_str().unwrap();
        let file = std::path::Path::new(qhub_bundled::BUILD_DIR).join(format!("{name}.wasm"));
        let bytes = std::fs::read(&file).unwrap();
        assert_eq!(
            plugin["sha256"],
            qhub_plugin_build::sha256_hex(&bytes),
            "{name}"
        );
        assert_eq!(plugin["version"], env!("CARGO_PKG_VERSION"));
    }
    let world = |name: &str| {
        list.iter().find(|p| p["name"] == name).unwrap()["world"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(world("auth"), "qhub:plugin/account-core@0.1.0");
    assert_eq!(
        world("oauth-github"),
        "qhub:provider/oauth-provider-plugin@0.1.0"
    );
    assert_eq!(
        world("oauth-oidc"),
        "qhub:provider/oauth-provider-plugin@0.1.0"
    );
    assert_eq!(world("store-d1"), "qhub:plugin/store-backend@0.1.0");
    assert_eq!(world("store-postgres"), "qhub:plugin/store-backend@0.1.0");

    let text = qhub.run(&["plugins", "list"]);
    assert!(text.ok().starts_with("NAME"), "{text:#?}");
}
