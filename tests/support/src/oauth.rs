//! OAuth stand-ins for tests: [`OidcServer`], a real OpenID Connect provider
//! (`oidc-provider` from npm, run by `tests/oauth/oidc-server.mjs`) on loopback, and
//! [`GitHubStandIn`], a small server following GitHub's documented OAuth endpoints.
//!
//! Both let a test act as the user's browser with plain HTTP: approve or deny a
//! device code, sign in and consent in a web flow, and read back the redirect.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

#[path = "oauth_github.rs"]
mod github;

pub use github::{GitHubStandIn, GitHubUser};

/// The client `oidc-server.mjs` registers: public, PKCE required, loopback
/// redirect `http://127.0.0.1/callback` on any port.
pub const OIDC_CLIENT_ID: &str = "qhub-cli";

/// An account of the test OpenID Connect provider; its claims as userinfo reports them.
#[derive(Debug, Clone)]
pub struct OidcAccount {
    pub sub: String,
    pub email: String,
    pub email_verified: bool,
    pub name: String,
}

impl OidcAccount {
    pub fn new(sub: &str, email: &str, email_verified: bool, name: &str) -> OidcAccount {
        OidcAccount {
            sub: sub.into(),
            email: email.into(),
            email_verified,
            name: name.into(),
        }
    }
}

/// A running `oidc-provider` on `127.0.0.1:<random port>`; stopped on drop.
#[derive(Debug)]
pub struct OidcServer {
    child: Child,
    issuer: String,
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

impl OidcServer {
    /// Starts the server with `accounts` and waits until it prints its issuer.
    /// Panics with a hint when Node.js or the npm packages are missing: tests that
    /// need it fail, they never skip.
    pub fn start(accounts: &[OidcAccount]) -> OidcServer {
        let root = repo_root();
        if Command::new("node").arg("--version").output().is_err() {
            panic!(
                "cannot run `node` for the OpenID Connect test server\nhint: install Node.js 20 or later"
            );
        }
        // Installs the pinned npm packages when node_modules is missing or stale.
        if let Err(err) = qhub_worker_build::ensure_packages(&root) {
            panic!("the npm packages of the OpenID Connect test server: {err}");
        }
        if !root
            .join("node_modules/oidc-provider/package.json")
            .is_file()
        {
            panic!(
                "node_modules/oidc-provider is missing in {}\nhint: run `npm ci` at the repository root",
                root.display()
            );
        }
        let accounts_json = serde_json::Value::Array(
            accounts
                .iter()
                .map(|a| {
                    serde_json::json!({
                        "sub": a.sub, "email": a.email,
                        "email_verified": a.email_verified, "name": a.name,
                    })
                })
                .collect(),
        );
        let mut child = Command::new("node")
            .current_dir(&root)
            .arg("tests/oauth/oidc-server.mjs")
            .arg(accounts_json.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawning node tests/oauth/oidc-server.mjs");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        let read = stdout.read_line(&mut line);
        let issuer = read
            .ok()
            .and_then(|_| serde_json::from_str::<serde_json::Value>(&line).ok())
            .and_then(|v| v["issuer"].as_str().map(str::to_owned));
        let Some(issuer) = issuer else {
            let _ = child.kill();
            let mut errors = String::new();
            let _ = stderr.read_to_string(&mut errors);
            let _ = child.wait();
            panic!(
                "the OpenID Connect test server did not start (stdout {line:?}):\n{errors}\nhint: run `npm ci` at the repository root"
            );
        };
        // Keep both pipes open and drained: oidc-provider logs notices on stdout and
        // warnings on stderr, and dies of EPIPE if a pipe is closed under it.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        OidcServer { child, issuer }
    }

    /// `http://127.0.0.1:PORT`, exactly as the discovery document names it.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Acts as the browser at the verification URI: opens `verification`
    /// (`verification_uri_complete`, or just the user code), confirms it, signs in as
    /// `account_sub` and consents. The device's next poll is granted.
    pub fn approve_device(&self, verification: &str, account_sub: &str) {
        let issuer = self.issuer.clone();
        let url = self.verification_url(verification);
        let sub = account_sub.to_owned();
        run(async move {
            let browser = Browser::new(&issuer);
            let (user_code, xsrf) = browser.device_form(&url).await;
            let form = [
                ("xsrf", xsrf.as_str()),
                ("user_code", user_code.as_str()),
                ("confirm", "yes"),
            ];
            let login = browser.post(&format!("{issuer}/device"), &form).await;
            let page = browser.sign_in(login, &sub).await;
            let status = page.status();
            let body = page.text().await.unwrap_or_default();
            assert!(
                status.is_success() && body.contains("Sign-in Success"),
                "approving the device code did not succeed ({status}): {body}"
            );
        });
    }

    /// Acts as the browser and refuses the device code: its next poll is `access_denied`.
    pub fn deny_device(&self, verification: &str) {
        let issuer = self.issuer.clone();
        let url = self.verification_url(verification);
        run(async move {
            let browser = Browser::new(&issuer);
            let (user_code, xsrf) = browser.device_form(&url).await;
            let form = [
                ("xsrf", xsrf.as_str()),
                ("user_code", user_code.as_str()),
                ("abort", "yes"),
            ];
            let page = browser.post(&format!("{issuer}/device"), &form).await;
            let body = page.text().await.unwrap_or_default();
            assert!(
                body.contains("interrupted"),
                "denying the device code failed: {body}"
            );
        });
    }

    /// Acts as the browser in the authorization-code flow: opens
    /// `authorization_url`, signs in as `account_sub`, consents, and returns the URL
    /// the provider redirects to (`redirect_uri?code=...&state=...&iss=...`)
    /// without following it.
    pub fn authorize(&self, authorization_url: &str, account_sub: &str) -> String {
        let issuer = self.issuer.clone();
        let url = authorization_url.to_owned();
        let sub = account_sub.to_owned();
        run(async move {
            let browser = Browser::new(&issuer);
            let login = browser.get(&url).await;
            let done = browser.sign_in(login, &sub).await;
            let status = done.status();
            let location = done
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .map(str::to_owned);
            match location {
                Some(location) if status.is_redirection() => location,
                _ => panic!(
                    "authorization did not redirect ({status}): {}",
                    done.text().await.unwrap_or_default()
                ),
            }
        })
    }

    fn verification_url(&self, verification: &str) -> String {
        if verification.starts_with("http") {
            verification.to_owned()
        } else {
            format!("{}/device?user_code={verification}", self.issuer)
        }
    }
}

impl Drop for OidcServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `future` to completion on a private runtime on its own thread, so these
/// helpers work from sync and async tests alike. A panic inside is re-raised.
pub(crate) fn run<T: Send + 'static>(
    future: impl std::future::Future<Output = T> + Send + 'static,
) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime for the OAuth browser")
            .block_on(future)
    })
    .join()
    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// reqwest with rustls needs a process-wide crypto provider, even for plain http.
pub(crate) fn http_client(builder: reqwest::ClientBuilder) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    builder.build().expect("an http client")
}

/// A cookie-keeping HTTP client that follows redirects within the issuer only, so
/// the final redirect to the client's `redirect_uri` is returned, not followed.
struct Browser {
    client: reqwest::Client,
}

impl Browser {
    fn new(issuer: &str) -> Browser {
        let origin = format!("{issuer}/");
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > 20 {
                attempt.error("too many redirects")
            } else if attempt.url().as_str().starts_with(&origin) {
                attempt.follow()
            } else {
                attempt.stop()
            }
        });
        Browser {
            client: http_client(
                reqwest::Client::builder()
                    .cookie_store(true)
                    .redirect(policy),
            ),
        }
    }

    async fn get(&self, url: &str) -> reqwest::Response {
        self.client
            .get(url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {}", chain(&e)))
    }

    async fn post(&self, url: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(url)
            .form(form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {url}: {}", chain(&e)))
    }

    /// Opens the verification page and reads the user code and the form's xsrf token.
    async fn device_form(&self, url: &str) -> (String, String) {
        let page = self.get(url).await.text().await.unwrap_or_default();
        let field = |name: &str| {
            hidden_input(&page, name)
                .unwrap_or_else(|| panic!("no {name} field on the verification page: {page}"))
        };
        (field("user_code"), field("xsrf"))
    }

    /// Posts the test login form (`account`) on the interaction page `login`
    /// landed on; the server then grants consent itself.
    async fn sign_in(&self, login: reqwest::Response, account: &str) -> reqwest::Response {
        let url = login.url().clone();
        let status = login.status();
        let body = login.text().await.unwrap_or_default();
        assert!(
            url.path().starts_with("/interaction/") && body.contains("name=\"account\""),
            "expected the login page, got {url} ({status}): {body}"
        );
        let action = format!("{}/login", url.as_str().trim_end_matches('/'));
        self.post(&action, &[("account", account)]).await
    }
}

/// An error with its causes: reqwest's own message rarely says what went wrong.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// The value of `<input type="hidden" name="NAME" value="..."/>` in `html`.
fn hidden_input(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\" value=\"");
    let rest = &html[html.find(&needle)? + needle.len()..];
    let value = &rest[..rest.find('"')?];
    Some(
        value
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&#39;", "'")
            .replace("&amp;", "&"),
    )
}
