//! `qhub login --provider` end to end against a real OpenID Connect server on
//! loopback (`oidc-provider`, through the `oauth-oidc` plugin): the device flow and
//! the PKCE web flow, embedded, through `qhub serve` and through the Worker,
//! linking by verified email, a refused unverified email, connections listed and
//! unlinked, a host the operator did not grant.

use std::io::{BufRead, BufReader, Read as _};
use std::process::{Child, ChildStderr, Stdio};

use qhub_test_support::oauth::{OIDC_CLIENT_ID, OidcAccount, OidcServer};
use serde_json::Value;

use crate::harness::{Qhub, Run};
use crate::server::Server;

fn accounts() -> Vec<OidcAccount> {
    vec![
        OidcAccount::new("ada-1815", "ada@example.com", true, "Ada Lovelace"),
        OidcAccount::new("grace-1906", "grace@example.com", true, "Grace Hopper"),
        OidcAccount::new("eve-0000", "eve@example.com", false, "Eve"),
    ]
}

/// `scheme://host:port` of a URL.
fn origin(url: &str) -> String {
    let url = url::Url::parse(url).unwrap();
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap(),
        url.port_or_known_default().unwrap()
    )
}

/// Writes `providers.toml` into `qhub`'s home: provider `oidc` on the `oauth-oidc`
/// plugin, granted `grant` (the issuer's origin unless told otherwise).
fn configure(qhub: &Qhub, oidc: &OidcServer, grant: Option<&str>) {
    configure_plugin(qhub, oidc, grant, "oauth-oidc");
}

/// Like [`configure`], with the provider on the plugin called `plugin`.
fn configure_plugin(qhub: &Qhub, oidc: &OidcServer, grant: Option<&str>, plugin: &str) {
    let grant = grant.map_or_else(|| origin(oidc.issuer()), str::to_owned);
    let text = format!(
        "[providers.oidc]\nplugin = {plugin:?}\ngrant = [{grant:?}]\n\
         [providers.oidc.config]\nissuer = {:?}\nclient-id = {OIDC_CLIENT_ID:?}\n",
        oidc.issuer()
    );
    std::fs::write(qhub.path("providers.toml"), text).unwrap();
}

/// `QHUB_PROVIDERS` for the Worker: the same provider as [`configure`] writes, as JSON.
fn worker_providers(oidc: &OidcServer, grant: Option<&str>) -> String {
    let grant = grant.map_or_else(|| origin(oidc.issuer()), str::to_owned);
    serde_json::json!({
        "oidc": {
            "plugin": "oauth-oidc",
            "grant": [grant],
            "config": { "issuer": oidc.issuer(), "client-id": OIDC_CLIENT_ID },
        }
    })
    .to_string()
}

/// A `qhub login --provider ...` running in the background, read line by line
/// from its stderr, as a person at the terminal would.
struct Login {
    child: Child,
    stderr: BufReader<ChildStderr>,
    seen: String,
}

impl Login {
    fn start(qhub: &Qhub, args: &[&str], env: &[(&str, &str)]) -> Login {
        let mut child = qhub
            .command(args, env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("qhub runs");
        let stderr = BufReader::new(child.stderr.take().unwrap());
        Login {
            child,
            stderr,
            seen: String::new(),
        }
    }

    /// The first URL on the next stderr line that mentions `needle`.
    fn url_after(&mut self, needle: &str) -> String {
        loop {
            let mut line = String::new();
            let read = self.stderr.read_line(&mut line).unwrap();
            assert!(
                read > 0,
                "qhub ended before printing {needle:?}:\n{}",
                self.seen
            );
            self.seen.push_str(&line);
            if self.seen.contains(needle)
                && let Some(url) = line.split_whitespace().find(|w| w.starts_with("http"))
            {
                return url.trim_end_matches([',', ')']).to_owned();
            }
        }
    }

    fn finish(mut self) -> Run {
        let mut rest = String::new();
        self.stderr.read_to_string(&mut rest).unwrap();
        let out = self.child.wait_with_output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: self.seen + &rest,
        }
    }
}

/// Runs the device flow for `qhub`, approving as `sub` at the provider.
fn device_login(qhub: &Qhub, oidc: &OidcServer, sub: &str, env: &[(&str, &str)]) -> Run {
    let args = ["login", "--provider", "oidc", "--no-browser", "--json"];
    let mut login = Login::start(qhub, &args, env);
    let link = login.url_after("which carries the code");
    oidc.approve_device(&link, sub);
    login.finish()
}

/// The body of `GET url`, as a browser following a redirect would fetch it.
fn get(url: &str) -> String {
    let url = url.to_owned();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async move {
            let _ = rustls::crypto::ring::default_provider().install_default();
            reqwest::get(url).await.unwrap().text().await.unwrap()
        })
}

fn connections(qhub: &Qhub) -> Vec<Value> {
    let listed = qhub.run(&["account", "connections", "--json"]).json();
    listed.as_array().unwrap().clone()
}

#[test]
fn the_device_flow_links_by_verified_email_and_refuses_an_unverified_one() {
    let oidc = OidcServer::start(&accounts());
    let qhub = Qhub::new();
    configure(&qhub, &oidc, None);
    let registered = qhub.register("ada@example.com").ok().to_owned();
    let id = qhub.run(&["whoami", "--json"]).json()["id"].clone();
    assert!(registered.contains("ada@example.com"));
    qhub.run(&["logout"]).ok();

    // Ada's verified email at the provider links her identity to her account.
    let login = device_login(&qhub, &oidc, "ada-1815", &[]);
    assert_eq!(login.json()["user"]["id"], id, "{login:#?}");
    assert_eq!(qhub.run(&["whoami", "--json"]).json()["id"], id);
    let linked = connections(&qhub);
    assert_eq!(linked.len(), 1, "{linked:?}");
    assert_eq!(linked[0]["provider"], "oidc");
    assert_eq!(linked[0]["subject"], "ada-1815");
    assert_eq!(linked[0]["email"], "ada@example.com");

    // An email the provider did not verify neither links nor creates an account.
    let other = Qhub::new();
    configure(&other, &oidc, None);
    device_login(&other, &oidc, "eve-0000", &[]).fails(
        3,
        "the provider did not verify the email address eve@example.com",
    );
    other.run(&["whoami"]).fails(4, "not logged in");

    // Ada has a password, so she may unlink her only identity.
    let connection = linked[0]["id"].as_str().unwrap();
    qhub.run(&["account", "connections", "unlink", connection])
        .ok();
    assert!(connections(&qhub).is_empty());
}

/// Installs the checked-in component `tests/fixtures/NAME/` and signs in with the
/// device flow through it, as `grace-1906`.
fn device_flow_through_fixture(name: &str, world: &str) {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../tests/fixtures/{name}/{name}.plugin.toml"));
    let oidc = OidcServer::start(&accounts());
    let qhub = Qhub::new();
    let installed = qhub.run(&["plugins", "install", fixture.to_str().unwrap()]);
    assert!(
        installed
            .ok()
            .starts_with(&format!("installed {name} 0.1.0")),
        "{installed:#?}"
    );
    let listed = qhub.run(&["plugins", "list", "--json"]).json();
    let entry = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap()
        .clone();
    assert_eq!(entry["world"], world);
    configure_plugin(&qhub, &oidc, None, name);

    let login = device_login(&qhub, &oidc, "grace-1906", &[]);
    assert_eq!(
        login.json()["user"]["email"],
        "grace@example.com",
        "{login:#?}"
    );
    let linked = connections(&qhub);
    assert_eq!(linked.len(), 1, "{linked:?}");
    assert_eq!(linked[0]["subject"], "grace-1906");
}

/// The compatibility promise to plugin authors (docs/plugins.md, "Versions"): a
/// provider component built against the released `qhub:provider@0.1.0` and never
/// rebuilt (tests/fixtures/frozen-oidc/) installs and signs people in.
#[test]
fn the_released_provider_contract_still_runs_a_plugin_built_against_it() {
    device_flow_through_fixture("frozen-oidc", "qhub:provider/oauth-provider-plugin@0.1.0");
}

/// The same for a component built before `qhub:provider` existed, against the
/// provider world of `qhub:plugin@0.1.0` (tests/fixtures/legacy-oidc/): loaded
/// through the host's adapter.
#[test]
fn a_plugin_built_against_the_first_published_contract_still_signs_people_in() {
    device_flow_through_fixture("legacy-oidc", "qhub:plugin/oauth-provider-plugin@0.1.0");
}

#[test]
fn the_pkce_web_flow_creates_an_account_that_keeps_its_last_identity() {
    let oidc = OidcServer::start(&accounts());
    let qhub = Qhub::new();
    configure(&qhub, &oidc, None);
    let args = [
        "login",
        "--provider",
        "oidc",
        "--web",
        "--no-browser",
        "--json",
    ];
    let mut login = Login::start(&qhub, &args, &[]);
    let url = login.url_after("open this URL in a browser");
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    // The browser: the provider signs Grace in and sends her back to qhub's
    // loopback listener with the code.
    let redirect = oidc.authorize(&url, "grace-1906");
    assert!(redirect.starts_with("http://127.0.0.1:"), "{redirect}");
    let page = get(&redirect);
    assert!(page.contains("you are logged in"), "{page}");
    let run = login.finish();
    assert_eq!(run.json()["user"]["email"], "grace@example.com", "{run:#?}");
    assert_eq!(
        qhub.run(&["whoami", "--json"]).json()["display_name"],
        "Grace Hopper"
    );

    // Grace has no password: her only identity cannot be unlinked.
    let linked = connections(&qhub);
    assert_eq!(linked.len(), 1, "{linked:?}");
    qhub.run(&[
        "account",
        "connections",
        "unlink",
        linked[0]["id"].as_str().unwrap(),
    ])
    .fails(3, "only way to sign in");
    assert_eq!(connections(&qhub).len(), 1);
}

#[test]
fn the_device_flow_works_through_the_server() {
    let oidc = OidcServer::start(&accounts());
    let host = Qhub::new();
    configure(&host, &oidc, None);
    let server = Server::start(host);
    let (status, providers) = server.http("GET", "/v1/oauth/providers", None, None);
    assert_eq!(status, 200, "{providers}");
    assert_eq!(providers[0]["name"], "oidc");
    assert_eq!(providers[0]["device_flow"], true);

    // The client has no providers.toml: the server runs the provider plugin.
    let client = Qhub::new();
    let remote = [("QHUB_SERVER", server.url.as_str())];
    let login = device_login(&client, &oidc, "ada-1815", &remote);
    assert_eq!(
        login.json()["user"]["email"],
        "ada@example.com",
        "{login:#?}"
    );
    assert_eq!(login.json()["server"], server.url.as_str());
    assert_eq!(
        client.run(&["whoami", "--json"]).json()["email"],
        "ada@example.com"
    );
    assert_eq!(connections(&client).len(), 1);

    let run = client.run_with(
        &["login", "--provider", "nope", "--no-browser"],
        None,
        &remote,
    );
    run.fails(3, "unknown provider \"nope\": use one of oidc");
}

#[test]
fn a_host_the_operator_did_not_grant_is_denied_and_named() {
    let oidc = OidcServer::start(&accounts());
    let qhub = Qhub::new();
    configure(&qhub, &oidc, Some("http://127.0.0.1:1"));
    let run = qhub.run(&["login", "--provider", "oidc", "--no-browser"]);
    // As from a server: the provider could not be reached (exit 5), named.
    run.fails(5, "oauth-oidc")
        .fails(5, &origin(oidc.issuer()))
        .fails(
            5,
            "hint: check the provider's plugin, grant and configuration",
        );
    qhub.run(&["login", "--provider", "nope"])
        .fails(2, "nope")
        .fails(2, "hint:");
}

#[test]
fn the_device_flow_works_through_the_worker() {
    let oidc = OidcServer::start(&accounts());
    // The variable QHUB_PROVIDER_<NAME>_<KEY> wins over the JSON, as over providers.toml.
    let providers = worker_providers(&oidc, None).replace(OIDC_CLIENT_ID, "set-by-the-variable");
    let worker = Server::worker_with(&[
        ("QHUB_PROVIDERS", &providers),
        ("QHUB_PROVIDER_OIDC_CLIENT_ID", OIDC_CLIENT_ID),
    ]);
    let (status, listed) = worker.http("GET", "/v1/oauth/providers", None, None);
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed[0]["name"], "oidc");
    assert_eq!(listed[0]["device_flow"], true);
    assert_eq!(listed[0]["web_flow"], true);

    let client = Qhub::new();
    let remote = [("QHUB_SERVER", worker.url.as_str())];
    let login = device_login(&client, &oidc, "ada-1815", &remote);
    assert_eq!(
        login.json()["user"]["email"],
        "ada@example.com",
        "{login:#?}"
    );
    assert_eq!(login.json()["server"], worker.url.as_str());
    assert_eq!(
        client.run(&["whoami", "--json"]).json()["email"],
        "ada@example.com"
    );
    let linked = connections(&client);
    assert_eq!(linked.len(), 1, "{linked:?}");
    assert_eq!(linked[0]["provider"], "oidc");
    assert_eq!(linked[0]["subject"], "ada-1815");

    client
        .run_with(
            &["login", "--provider", "nope", "--no-browser"],
            None,
            &remote,
        )
        .fails(3, "unknown provider \"nope\": use one of oidc");
    let (status, body) = worker.http("POST", "/v1/oauth/oidc/device/token", Some("{}"), None);
    assert_eq!(status, 422, "{body}");

    // Before approval a poll is a 202, as on the native server.
    let (status, device) = worker.http("POST", "/v1/oauth/oidc/device", Some("{}"), None);
    assert_eq!(status, 200, "{device}");
    let poll = serde_json::json!({ "device_code": device["device_code"] }).to_string();
    let (status, pending) = worker.http("POST", "/v1/oauth/oidc/device/token", Some(&poll), None);
    assert_eq!(status, 202, "{pending}");
    assert_eq!(pending, serde_json::json!({ "status": "pending" }));
}

#[test]
fn the_pkce_web_flow_works_through_the_worker() {
    let oidc = OidcServer::start(&accounts());
    let providers = worker_providers(&oidc, None);
    let worker = Server::worker_with(&[("QHUB_PROVIDERS", &providers)]);
    let client = Qhub::new();
    let remote = [("QHUB_SERVER", worker.url.as_str())];
    let args = [
        "login",
        "--provider",
        "oidc",
        "--web",
        "--no-browser",
        "--json",
    ];
    let mut login = Login::start(&client, &args, &remote);
    let url = login.url_after("open this URL in a browser");
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    let redirect = oidc.authorize(&url, "grace-1906");
    let page = get(&redirect);
    assert!(page.contains("you are logged in"), "{page}");
    let run = login.finish();
    assert_eq!(run.json()["user"]["email"], "grace@example.com", "{run:#?}");
    assert_eq!(connections(&client).len(), 1);
}

#[test]
fn a_malformed_provider_configuration_is_a_misconfigured_worker() {
    let worker =
        Server::worker_with(&[("QHUB_PROVIDERS", "{\"oidc\": {\"plugin\": \"oauth-nope\"}}")]);
    let (status, body) = worker.http("GET", "/v1/oauth/providers", None, None);
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["error"]["code"], "internal");
    assert_eq!(body["error"]["message"], "the server is misconfigured");
    // The rest of the API keeps working.
    let (status, body) = worker.http("GET", "/healthz", None, None);
    assert_eq!(status, 200, "{body}");
}

#[test]
fn a_host_the_operator_did_not_grant_is_denied_and_named_by_the_worker() {
    let oidc = OidcServer::start(&accounts());
    let providers = worker_providers(&oidc, Some("http://127.0.0.1:1"));
    let worker = Server::worker_with(&[("QHUB_PROVIDERS", &providers)]);
    let (status, body) = worker.http("POST", "/v1/oauth/oidc/device", Some("{}"), None);
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "unavailable");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("plugin \"oauth-oidc\""), "{message}");
    assert!(message.contains(&origin(oidc.issuer())), "{message}");
    assert!(message.contains("not granted"), "{message}");

    let client = Qhub::new();
    let remote = [("QHUB_SERVER", worker.url.as_str())];
    client
        .run_with(
            &["login", "--provider", "oidc", "--no-browser"],
            None,
            &remote,
        )
        .fails(5, "oauth-oidc")
        .fails(5, &origin(oidc.issuer()));
}

/// A server that answers every request with a redirect to `location`, as an
/// issuer could to steer a provider plugin somewhere it was not granted.
fn redirecting_server(location: &'static str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = String::new();
            let mut reader = BufReader::new(&stream);
            while reader.read_line(&mut head).is_ok_and(|n| n > 2) {}
            let answer = format!(
                "HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
            let _ = std::io::Write::write_all(&mut stream, answer.as_bytes());
        }
    });
    url
}

/// The outbound rules are one crate on every host (natively linked, in the
/// Worker the provider gateway component): a redirect to an origin the operator
/// did not grant is refused on both, with the same words, naming the hop.
#[test]
fn a_redirect_to_an_origin_not_granted_is_refused_alike_by_the_server_and_the_worker() {
    let issuer = redirecting_server("http://127.0.0.1:1/elsewhere");
    let providers = serde_json::json!({
        "oidc": {
            "plugin": "oauth-oidc",
            "grant": [issuer.clone()],
            "config": { "issuer": issuer.clone(), "client-id": OIDC_CLIENT_ID },
        }
    });
    let host = Qhub::new();
    let toml = format!(
        "[providers.oidc]\nplugin = \"oauth-oidc\"\ngrant = [{issuer:?}]\n\
         [providers.oidc.config]\nissuer = {issuer:?}\nclient-id = {OIDC_CLIENT_ID:?}\n"
    );
    std::fs::write(host.path("providers.toml"), toml).unwrap();
    let native = Server::start(host);
    let worker = Server::worker_with(&[("QHUB_PROVIDERS", &providers.to_string())]);
    let expected =
        format!("may not reach http://127.0.0.1:1: not granted (redirected from {issuer})");
    for server in [&native, &worker] {
        let (status, body) = server.http("POST", "/v1/oauth/oidc/device", Some("{}"), None);
        assert_eq!(status, 503, "{}: {body}", server.url);
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with("plugin \"oauth-oidc\" 0.1.0: http: "),
            "{message}"
        );
        assert!(message.contains(&expected), "{}: {message}", server.url);
    }
}

/// Each OAuth call holds a core instance and a provider instance at once: a flood
/// of them is served or shed (503 with `Retry-After`), never failed, and every
/// request gets one of those answers.
#[test]
fn a_flood_of_oauth_calls_is_served_or_shed_never_failed() {
    const FLOOD: usize = 120;
    let oidc = OidcServer::start(&accounts());
    let host = Qhub::new();
    configure(&host, &oidc, None);
    let server = Server::start(host);
    let json = [("content-type", "application/json")];
    let answers: Vec<_> = std::thread::scope(|scope| {
        let calls: Vec<_> = (0..FLOOD)
            .map(|_| {
                scope.spawn(|| server.http_with("POST", "/v1/oauth/oidc/device", &json, Some("{}")))
            })
            .collect();
        calls.into_iter().map(|c| c.join().unwrap()).collect()
    });
    let served = answers.iter().filter(|(status, ..)| *status == 200).count();
    let shed: Vec<_> = answers
        .iter()
        .filter(|(status, ..)| *status == 503)
        .collect();
    assert_eq!(served + shed.len(), FLOOD, "{answers:?}");
    assert!(served > 0, "{answers:?}");
    for (_, headers, body) in shed {
        assert!(
            headers.iter().any(|(name, _)| name == "retry-after"),
            "{headers:?} {body}"
        );
    }
    // The server still answers after the flood.
    let (status, body) = server.http("GET", "/v1/oauth/providers", None, None);
    assert_eq!(status, 200, "{body}");
}
