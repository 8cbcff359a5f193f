//! `qhub serve` as a real process on a random loopback port: its HTTP API, and the
//! CLI in remote mode against it, on SQLite and on PostgreSQL.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

use crate::harness::{PASSWORD, Qhub};

/// A running QHub server: `qhub serve` (stopped with SIGTERM, gracefully, when
/// dropped) or the Worker under `wrangler dev`. The conformance scenarios below run
/// unchanged against both.
pub(crate) struct Server {
    process: Process,
    pub(crate) url: String,
    /// The domain of the scenario's email addresses ([`Server::email`]):
    /// `example.com`, or one of its own on the shared Worker, whose one D1
    /// database the scenarios of this process all use.
    domain: String,
    /// The database's owner, when this server owns it.
    _qhub: Option<Qhub>,
}

enum Process {
    Native {
        child: Child,
        /// Kept open so the server can still write to its stdout.
        _stdout: BufReader<std::process::ChildStdout>,
    },
    /// Stopped when dropped.
    Worker { _dev: crate::worker::DevServer },
    /// The Worker this test process shares ([`crate::worker::shared`]), stopped
    /// when the process ends.
    SharedWorker,
}

/// The settings every test server runs with, native or Worker.
const JWT_SECRET: &str = "test-secret-that-is-at-least-32-bytes-long";
const QUOTA_MONTHLY_JOBS: &str = "5";
/// Those settings as the Worker's variables.
const WORKER_VARS: &[(&str, &str)] = &[
    ("JWT_SECRET", JWT_SECRET),
    ("QHUB_QUOTA_MONTHLY_JOBS", QUOTA_MONTHLY_JOBS),
];

/// Defines each scenario three times, as `NAME::sqlite` and `NAME::postgres` (the
/// native server on each database) and `NAME::worker` (the Worker on a local D1):
/// the same test code against every host.
///
/// On the Worker the scenarios share one `wrangler dev` per test process
/// ([`Server::shared_worker`]), each with email addresses of its own
/// ([`Server::email`]). Scenarios that cannot share one start with
/// `own_worker:` and get a fresh Worker each ([`Server::worker`]): those whose
/// failed sign-ins would lock the shared Worker's client address (127.0.0.1) for
/// every other scenario.
macro_rules! on_every_host {
    (own_worker: $($scenarios:tt)*) => {
        $crate::server::on_every_host!(@worker worker; $($scenarios)*);
    };
    (@worker $worker:ident; $($(#[$meta:meta])* fn $name:ident($server:ident) $body:block)*) => {$(
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports, reason = "not every scenario uses its module's helpers")]
            use super::*;
            fn scenario($server: $crate::server::Server) $body
            #[test]
            fn sqlite() {
                scenario($crate::server::Server::start($crate::harness::Qhub::new()))
            }
            #[test]
            fn postgres() {
                scenario($crate::server::Server::start($crate::harness::Qhub::postgres()))
            }
            #[test]
            fn worker() {
                scenario($crate::server::Server::$worker())
            }
        }
    )*};
    ($($scenarios:tt)*) => {
        $crate::server::on_every_host!(@worker shared_worker; $($scenarios)*);
    };
}
pub(crate) use on_every_host;

impl Server {
    /// Starts a server over `qhub`'s database (its `QHUB_HOME` SQLite, or its
    /// PostgreSQL database) and waits until it listens.
    pub(crate) fn start(qhub: Qhub) -> Server {
        let mut server = Server::start_shared(&qhub);
        server._qhub = Some(qhub);
        server
    }

    /// The Worker under `wrangler dev`, on a fresh local D1 database of its own.
    pub(crate) fn worker() -> Server {
        Server::worker_with(&[])
    }

    /// [`Server::worker`] with `extra` variables in the Worker's environment
    /// (`QHUB_PROVIDERS`, say), which replace the defaults of the same name.
    pub(crate) fn worker_with(extra: &[(&str, &str)]) -> Server {
        let mut vars: Vec<_> = WORKER_VARS
            .iter()
            .filter(|(name, _)| !extra.iter().any(|(other, _)| other == name))
            .copied()
            .collect();
        vars.extend_from_slice(extra);
        let process = crate::worker::start(&vars);
        Server {
            url: process.url().to_owned(),
            process: Process::Worker { _dev: process },
            domain: "example.com".to_owned(),
            _qhub: None,
        }
    }

    /// What a Worker of its own printed so far (`console.error` included); empty
    /// for other servers.
    pub(crate) fn worker_log(&self) -> String {
        match &self.process {
            Process::Worker { _dev } => _dev.log(),
            _ => String::new(),
        }
    }

    /// The Worker this test process shares, started on first use (one `wrangler
    /// dev` instead of one per scenario), with the variables of [`Server::worker`].
    /// Its D1 database holds the accounts of every scenario, so each gets email
    /// addresses in a domain of its own.
    pub(crate) fn shared_worker() -> Server {
        static SCENARIOS: AtomicUsize = AtomicUsize::new(0);
        let scenario = SCENARIOS.fetch_add(1, Ordering::Relaxed) + 1;
        Server {
            url: crate::worker::shared(WORKER_VARS).url().to_owned(),
            process: Process::SharedWorker,
            domain: format!("scenario{scenario}.example.com"),
            _qhub: None,
        }
    }

    /// The email address `name@` this scenario's domain: `ada@example.com`, or on
    /// the shared Worker `ada@scenarioN.example.com`.
    pub(crate) fn email(&self, name: &str) -> String {
        format!("{name}@{}", self.domain)
    }

    /// The domain of [`Server::email`].
    pub(crate) fn domain(&self) -> &str {
        &self.domain
    }

    /// Like [`Server::start`], for a database that outlives this server, so that
    /// several server processes can run over it one after another.
    pub(crate) fn start_shared(qhub: &Qhub) -> Server {
        let mut command = qhub.command(
            &["serve", "--listen", "127.0.0.1:0"],
            &[
                ("JWT_SECRET", JWT_SECRET),
                ("QHUB_QUOTA_MONTHLY_JOBS", QUOTA_MONTHLY_JOBS),
                // Serve's start-up lines are info; the tests' output stays quiet.
                ("QHUB_LOG", "warn"),
            ],
        );
        command.stdout(Stdio::piped()).stderr(Stdio::inherit());
        // The client's database: its PostgreSQL one, or its embedded qhub.db
        // (serve's own default is server.db).
        match qhub.database_url() {
            Some(url) => command.env("DATABASE_URL", url),
            None => command.env(
                "DATABASE_URL",
                format!("sqlite:{}", qhub.path("qhub.db").display()),
            ),
        };
        let mut child = command.spawn().expect("qhub serve starts");
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        stdout
            .read_line(&mut line)
            .expect("qhub serve prints where it listens");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .to_owned();
        Server {
            process: Process::Native {
                child,
                _stdout: stdout,
            },
            url,
            domain: "example.com".to_owned(),
            _qhub: None,
        }
    }

    /// One HTTP request; returns the status and the JSON body (`null` if none).
    pub(crate) fn http(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        token: Option<&str>,
    ) -> (u16, Value) {
        let bearer = token.map(|t| format!("Bearer {t}"));
        let mut headers = Vec::new();
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        if let Some(bearer) = &bearer {
            headers.push(("authorization", bearer.as_str()));
        }
        let (status, _, value) = self.http_with(method, path, &headers, body);
        (status, value)
    }

    /// One HTTP request with exactly these headers (a name may repeat); returns the
    /// status, the response's headers (names lowercase) and the JSON body.
    pub(crate) fn http_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> (u16, Vec<(String, String)>, Value) {
        let url = format!("{}{path}", self.url);
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let body = body.map(str::to_owned);
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async move {
                let _ = rustls::crypto::ring::default_provider().install_default();
                let send = || {
                    let mut request = reqwest::Client::new().request(method.clone(), &url);
                    for (name, value) in &headers {
                        request = request.header(name, value);
                    }
                    if let Some(body) = &body {
                        request = request.body(body.clone());
                    }
                    request.send()
                };
                let mut response = send().await.expect("the server answers");
                // `wrangler dev` may restart its workerd once just after start-up; it
                // then answers a request in flight with this text (not the Worker's)
                // and asks for it to be sent again. Only that answer is retried, once.
                let mut status = response.status().as_u16();
                let mut headers = header_list(&response);
                let mut bytes = response.bytes().await.unwrap();
                if bytes.starts_with(b"Your worker restarted mid-request") {
                    response = send().await.expect("the server answers");
                    status = response.status().as_u16();
                    headers = header_list(&response);
                    bytes = response.bytes().await.unwrap();
                }
                let value = if bytes.is_empty() {
                    Value::Null
                } else {
                    serde_json::from_slice(&bytes)
                        .unwrap_or_else(|e| panic!("not JSON ({e}): {bytes:?}"))
                };
                (status, headers, value)
            })
    }
}

fn header_list(response: &reqwest::Response) -> Vec<(String, String)> {
    response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect()
}

impl Drop for Server {
    fn drop(&mut self) {
        // The Worker's process stops itself when dropped (or, when shared, when
        // this process ends).
        let Process::Native { child, .. } = &mut self.process else {
            return;
        };
        // SIGTERM: the server shuts down gracefully and exits 0.
        let _ = Command::new("kill").arg(child.id().to_string()).status();
        let status = child.wait().expect("qhub serve exits");
        if !std::thread::panicking() {
            assert!(
                status.success(),
                "qhub serve did not shut down cleanly: {status}"
            );
        }
    }
}

on_every_host! {
    fn the_cli_works_through_the_server_and_revocation_is_immediate(server) {
        let ada = server.email("ada");
        let client = Qhub::new();
        let remote = [("QHUB_SERVER", server.url.as_str())];
        let out = client.run_with(
            &["register", "--email", ada.as_str(), "--password-stdin"],
            Some(&format!("{PASSWORD}\n")),
            &remote,
        );
        assert!(out.ok().contains(&server.url), "{out:#?}");
        // The saved config remembers the server: no flag needed any more.
        assert_eq!(client.run(&["whoami", "--json"]).json()["email"], ada.as_str());

        client.run(&["logout"]).ok();
        client.login(ada.as_str(), PASSWORD).fails(3, "invalid email or password");
        let login = client.run_with(
            &["login", "--json", "--email", ada.as_str(), "--password-stdin"],
            Some(&format!("{PASSWORD}\n")),
            &remote,
        );
        assert_eq!(login.json()["server"], server.url.as_str());
        let token = client.token();

        // Revoke the session on the server; the very next request is refused.
        let (status, _) = server.http("DELETE", "/v1/sessions/current", None, Some(&token));
        assert_eq!(status, 204);
        client.run(&["whoami"]).fails(4, "session revoked").fails(4, "hint: log in");
        client
            .run_with(&["whoami"], None, &[("QHUB_TOKEN", "not-a-token")])
            .fails(4, "invalid token");

        // Sessions and passwords behave the same through the server.
        // Another device (its own QHUB_HOME) logs in too; logging in again here
        // replaces this device's session instead of adding one.
        let laptop = Qhub::new();
        laptop
            .run_with(
                &["login", "--email", ada.as_str(), "--password-stdin"],
                Some(&format!("{PASSWORD}\n")),
                &remote,
            )
            .ok();
        let other = laptop.token();
        client.login(ada.as_str(), PASSWORD).ok();
        client.login(ada.as_str(), PASSWORD).ok();
        let listed = client.run(&["sessions", "list", "--json"]).json();
        assert_eq!(listed.as_array().unwrap().len(), 2, "{listed}");
        let ip = listed[0]["ip"].as_str().unwrap();
        assert_eq!(ip, "127.0.0.1", "the server records the peer address");
        let new = "a brand new passphrase";
        client
            .run_with(&["passwd", "--password-stdin"], Some(&format!("{PASSWORD}\n{new}\n")), &[])
            .ok();
        client.run_with(&["whoami"], None, &[("QHUB_TOKEN", &other)]).fails(4, "session revoked");
        assert!(client.run(&["logout", "--all"]).ok().contains("1 sessions ended"));
    }

    fn the_http_api_answers_with_json_and_the_right_statuses(server) {

        let ada = server.email("ada");
        assert_eq!(server.http("GET", "/healthz", None, None), (200, json!({"status": "ok"})));
        let (status, doc) = server.http("GET", "/v1/openapi.json", None, None);
        assert_eq!(status, 200);
        assert_eq!(doc, serde_json::from_str::<Value>(qhub_api::OPENAPI_JSON).unwrap());

        let spelled = format!("Ada@{}", server.domain().replace("example", "Example"));
        let register = json!({"email": spelled, "password": PASSWORD}).to_string();
        let (status, signed_in) = server.http("POST", "/v1/accounts", Some(&register), None);
        assert_eq!(status, 201, "{signed_in}");
        assert_eq!(signed_in["user"]["email"], ada.as_str());
        let token = signed_in["token"].as_str().unwrap().to_owned();

        let (status, err) = server.http("POST", "/v1/accounts", Some(&register), None);
        assert_eq!((status, &err["error"]["code"]), (409, &json!("email-taken")));
        let weak = json!({"email": server.email("bob"), "password": "short"}).to_string();
        let (status, err) = server.http("POST", "/v1/accounts", Some(&weak), None);
        assert_eq!((status, &err["error"]["code"]), (422, &json!("weak-password")));

        let wrong = json!({"email": ada.as_str(), "password": "wrong password!"}).to_string();
        let (status, err) = server.http("POST", "/v1/sessions", Some(&wrong), None);
        assert_eq!((status, &err["error"]["code"]), (401, &json!("invalid-credentials")));

        let (status, me) = server.http("GET", "/v1/me", None, Some(&token));
        assert_eq!((status, &me["email"]), (200, &json!(ada.as_str())));
        let (status, err) = server.http("GET", "/v1/me", None, None);
        assert_eq!((status, &err["error"]["message"]), (401, &json!("missing bearer token")));
        let (status, err) = server.http("GET", "/v1/me", None, Some("a.b.c"));
        assert_eq!((status, &err["error"]["code"]), (401, &json!("unauthenticated")));

        let (status, err) = server.http("POST", "/v1/sessions", Some("{not json"), None);
        assert_eq!(err["error"]["code"], "invalid-input", "{status} {err}");
        assert!(status == 400 || status == 422, "{status}");
        let huge = format!("{{\"email\": \"{}\", \"password\": \"x\"}}", "a".repeat(qhub_api::MAX_BODY_BYTES));
        let (status, err) = server.http("POST", "/v1/sessions", Some(&huge), None);
        assert_eq!((status, &err["error"]["code"]), (413, &json!("invalid-input")));

        // The HTTP edges, answered by the core the same way on every host: a wrong
        // method is a JSON 405 with `Allow`; a body not declared as JSON is a 415;
        // two credentials are refused, and the scheme name is case-insensitive.
        let (status, headers, err) = server.http_with("PATCH", "/v1/jobs", &[], None);
        assert_eq!((status, &err["error"]["code"]), (405, &json!("invalid-input")), "{err}");
        let allow = headers.iter().find(|(n, _)| n == "allow").map(|(_, v)| v.as_str());
        assert_eq!(allow, Some("POST, GET, HEAD"), "{headers:?}");
        let (status, _, _) = server.http_with("HEAD", "/healthz", &[], None);
        assert_eq!(status, 200);
        let login = json!({"email": ada.as_str(), "password": PASSWORD}).to_string();
        let (status, _, err) =
            server.http_with("POST", "/v1/sessions", &[("content-type", "text/plain")], Some(&login));
        assert_eq!((status, &err["error"]["code"]), (415, &json!("invalid-input")), "{err}");
        let (status, _, err) = server.http_with(
            "POST",
            "/v1/sessions",
            &[("content-type", "application/json")],
            Some(r#"{"email": "ada@example.com"}"#),
        );
        assert_eq!((status, &err["error"]["code"]), (422, &json!("invalid-input")), "{err}");
        // Two Content-Type headers (the Workers runtime joins them with a comma) are
        // refused alike, rather than one of them read.
        let two_types = [("content-type", "application/json"), ("content-type", "text/plain")];
        let (status, _, err) = server.http_with("POST", "/v1/sessions", &two_types, Some(&login));
        assert_eq!((status, &err["error"]["message"]), (400, &json!("send one Content-Type header, not several")), "{err}");
        let lowercase = format!("bearer {token}");
        let (status, _, me) = server.http_with("GET", "/v1/me", &[("authorization", &lowercase)], None);
        assert_eq!((status, &me["email"]), (200, &json!(ada.as_str())), "{me}");
        let bearer = format!("Bearer {token}");
        let twice = [("authorization", bearer.as_str()), ("authorization", bearer.as_str())];
        let (status, _, err) = server.http_with("GET", "/v1/me", &twice, None);
        assert_eq!((status, &err["error"]["code"]), (400, &json!("invalid-input")), "{err}");
        let (status, _, err) = server.http_with("GET", "/v1/jobs?status=queued&status=failed", &[("authorization", &bearer)], None);
        assert_eq!((status, &err["error"]["code"]), (400, &json!("invalid-input")), "{err}");

        // A route added once, in the core, is served by every host.
        let named = json!({"display_name": " Ada King "}).to_string();
        let (status, me) = server.http("PUT", "/v1/me/display-name", Some(&named), Some(&token));
        assert_eq!((status, &me["display_name"]), (200, &json!("Ada King")), "{me}");

        // Nothing was lost to the bad requests: the account still works.
        let (status, _) = server.http("GET", "/v1/me", None, Some(&token));
        assert_eq!(status, 200);
    }
}

on_every_host! {
    fn parallel_submissions_never_exceed_the_quota(server) {
        let ada = server.email("ada");
        let register = json!({"email": ada.as_str(), "password": PASSWORD}).to_string();
        let (_, signed_in) = server.http("POST", "/v1/accounts", Some(&register), None);
        let token = signed_in["token"].as_str().unwrap().to_owned();
        let job = json!({"source": "OPENQASM 2.0;\nqreg q[1];", "shots": 10}).to_string();
        let statuses: Vec<u16> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..20)
                .map(|_| scope.spawn(|| server.http("POST", "/v1/jobs", Some(&job), Some(&token)).0))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 5, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 15, "{statuses:?}");
        let (_, usage) = server.http("GET", "/v1/usage", None, Some(&token));
        assert_eq!(usage["jobs_used"], 5);
        let (_, jobs) = server.http("GET", "/v1/jobs", None, Some(&token));
        assert_eq!(jobs.as_array().unwrap().len(), 5);
    }
}

on_every_host! {
/// Issue 3's acceptance, step by step, and issue 5's on the Worker: the CLI with
/// --server registers, logs in, creates an API key that then works as QHUB_TOKEN,
/// submits jobs until the quota refuses one, lists and revokes sessions, and a
/// revoked session's next request gets exit code 4.
fn the_server_acceptance_path(server) {
    let ada = server.email("ada");
    let laptop = Qhub::new();
    let desktop = Qhub::new();
    let remote = [("QHUB_SERVER", server.url.as_str())];
    laptop
        .run_with(
            &["register", "--email", ada.as_str(), "--password-stdin"],
            Some(&format!("{PASSWORD}\n")),
            &remote,
        )
        .ok();
    desktop
        .run_with(
            &["login", "--email", ada.as_str(), "--password-stdin"],
            Some(&format!("{PASSWORD}\n")),
            &remote,
        )
        .ok();

    let key = laptop
        .run(&["keys", "create", "--name", "ci", "--json"])
        .json();
    let key = key["secret"].as_str().unwrap().to_owned();
    let ci = Qhub::new();
    let as_ci = |args: &[&str]| {
        ci.run_with(
            args,
            None,
            &[("QHUB_SERVER", server.url.as_str()), ("QHUB_TOKEN", &key)],
        )
    };
    assert_eq!(
        as_ci(&["whoami", "--json"]).json()["email"],
        ada.as_str()
    );
    let bell = ci.path("bell.qasm");
    std::fs::write(&bell, "OPENQASM 2.0;\nqreg q[1];\n").unwrap();
    let bell = bell.display().to_string();
    for _ in 0..5 {
        as_ci(&["jobs", "submit", &bell, "--shots", "10"]).ok();
    }
    as_ci(&["jobs", "submit", &bell, "--shots", "10"]).fails(3, "monthly quota reached");

    let sessions = laptop.run(&["sessions", "list", "--json"]).json();
    assert_eq!(sessions.as_array().unwrap().len(), 2, "{sessions}");
    let desktop_session = sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    laptop.run(&["sessions", "revoke", &desktop_session]).ok();
    desktop.run(&["whoami"]).fails(4, "session revoked");
    laptop.run(&["whoami"]).ok();
}
}

on_every_host! {
/// The server serves every route of the table the OpenAPI document is checked
/// against, so the document cannot describe a route that does not exist.
fn every_documented_route_is_served(server) {
    for route in qhub_api::ROUTES {
        let method = &route.method;
        let path = route.path
            .replace("{id}", "some-id")
            .replace("{key}", "some.key")
            .replace("{provider}", "some-provider");
        let body = matches!(*method, "POST" | "PUT").then_some("{}");
        let (status, answer) = server.http(method, &path, body, None);
        // A handler may answer 404 (an unknown provider, say); the fallback for a
        // path no route has says "no such route", and a wrong method gets 405.
        let unrouted = answer["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("no such route"));
        assert!(
            status != 405 && !unrouted,
            "{method} {path} is not served ({status} {answer})"
        );
    }
    let (status, body) = server.http("GET", "/v1/nowhere", None, None);
    assert_eq!(
        (status, &body["error"]["code"]),
        (404, &json!("not-found")),
        "{body}"
    );
}
}

/// The native server and the Worker run the very same component files as the
/// `qhub` binary: the hashes each reports are those `qhub plugins list` shows.
#[test]
fn the_worker_runs_the_components_the_native_host_runs() {
    let native = Server::start(Qhub::new());
    let worker = Server::shared_worker();
    let (status, from_native) = native.http("GET", "/v1/plugins", None, None);
    assert_eq!(status, 200, "{from_native}");
    let (status, from_worker) = worker.http("GET", "/v1/plugins", None, None);
    assert_eq!(status, 200, "{from_worker}");
    let sorted = |v: &Value| {
        let mut list = v.as_array().expect("a list of plugins").clone();
        list.sort_by_key(|p| p["name"].as_str().unwrap_or_default().to_owned());
        list
    };
    assert_eq!(sorted(&from_native), sorted(&from_worker));
    // The core and its backend first, then every provider plugin the host carries.
    let names: Vec<&str> = from_worker
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names[..2], ["auth", "store-d1"], "{from_worker}");
    let mut providers = names[2..].to_vec();
    providers.sort_unstable();
    assert_eq!(providers, ["oauth-github", "oauth-oidc"], "{from_worker}");

    // `plugins list` with a server lists the server's plugins, and says so.
    let remote = Qhub::new();
    let listed = remote
        .run(&["--server", &worker.url, "plugins", "list", "--json"])
        .json();
    let rows = listed.as_array().unwrap();
    assert_eq!(rows.len(), 4, "{listed}");
    for row in rows {
        assert_eq!(row["source"], "server", "{row}");
        assert_eq!(row["server"], worker.url.trim_end_matches('/'), "{row}");
    }
    let text = remote.run_with(&["plugins", "list"], None, &[("QHUB_SERVER", &worker.url)]);
    let first = text.ok().lines().next().unwrap();
    assert!(
        first.starts_with("plugins of the server at http://"),
        "{text:#?}"
    );
    assert!(!text.ok().contains("store-postgres"), "{text:#?}");

    let embedded = Qhub::new().run(&["plugins", "list", "--json"]).json();
    for plugin in sorted(&from_worker) {
        let name = plugin["name"].as_str().unwrap();
        let listed = embedded
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("qhub plugins list has no {name}: {embedded}"));
        assert_eq!(listed["sha256"], plugin["sha256"], "{name}");
        assert_eq!(plugin["sha256"].as_str().unwrap().len(), 64);
    }
    let names: Vec<_> = sorted(&from_worker)
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    assert_eq!(
        names,
        [
            json!("auth"),
            json!("oauth-github"),
            json!("oauth-oidc"),
            json!("store-d1")
        ]
    );
}

#[test]
fn serve_refuses_a_configuration_the_core_refuses_before_serving() {
    let qhub = Qhub::new();
    qhub.run_with(
        &["serve", "--listen", "127.0.0.1:0"],
        None,
        &[("JWT_SECRET", "")],
    )
    .fails(2, "JWT_SECRET is set but empty")
    .fails(2, "hint: set it to at least 32 random bytes");
    qhub.run_with(
        &["serve", "--listen", "127.0.0.1:0"],
        None,
        &[("JWT_SECRET", "too-short")],
    )
    .fails(
        2,
        "the account core refuses its configuration: jwt-secret must be at least 32 bytes",
    )
    .fails(2, "hint: JWT_SECRET sets jwt-secret");
    // The quota settings are the core's rules too, checked before serving.
    qhub.run_with(
        &["serve", "--listen", "127.0.0.1:0"],
        None,
        &[
            ("JWT_SECRET", JWT_SECRET),
            ("QHUB_QUOTA_MONTHLY_JOBS", "lots"),
        ],
    )
    .fails(2, "quota-monthly-jobs must be a non-negative integer");
}

#[test]
fn the_worker_answers_misconfigured_when_the_core_refuses_its_configuration_and_logs_why() {
    let worker = Server::worker_with(&[("JWT_SECRET", "too-short")]);
    let body = r#"{"email": "ada@example.com", "password": "correct horse battery staple"}"#;
    let (status, answer) = worker.http("POST", "/v1/accounts", Some(body), None);
    assert_eq!(status, 500, "{answer}");
    assert_eq!(answer["error"]["message"], "the server is misconfigured");
    // wrangler writes the Worker's console to its log on its own schedule.
    let logged = "refuses its configuration: jwt-secret must be at least 32 bytes";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut log = worker.worker_log();
    while !log.contains(logged) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
        log = worker.worker_log();
    }
    assert!(log.contains(logged), "{log}");
    assert!(log.contains("hint: JWT_SECRET sets jwt-secret"), "{log}");
    // (wrangler's own banner lists the variables; the Worker's line must not.)
    let line = log
        .lines()
        .find(|line| line.contains("refuses its configuration"))
        .unwrap();
    assert!(
        !line.contains("too-short"),
        "the secret is not logged: {line}"
    );
}

#[test]
fn an_unreachable_server_gets_a_clear_error_and_a_hint() {
    let qhub = Qhub::new();
    let run = qhub.run_with(
        &["whoami"],
        None,
        &[("QHUB_SERVER", "http://127.0.0.1:1"), ("QHUB_TOKEN", "t")],
    );
    run.fails(5, "cannot reach the server at http://127.0.0.1:1/")
        .fails(5, "hint: is the server running?");
    qhub.run_with(
        &["whoami"],
        None,
        &[("QHUB_SERVER", "ftp://x"), ("QHUB_TOKEN", "t")],
    )
    .fails(2, "invalid server URL");
}
