//! `qhub login --provider NAME`: the OAuth flows from the command line, ending in a
//! QHub session exactly like a password login. The device flow (RFC 8628) prints a
//! code and a URL and polls; `--web` runs the authorization code flow with PKCE
//! (RFC 7636, S256) through a one-shot listener on a loopback port (RFC 8252).
//!
//! Both modes send the same `/v1/oauth` requests through the one client: to the
//! server, or in-process to the account core with the provider's plugin loaded
//! here. Either way the core runs the sequence, and the CLI only drives the
//! protocol's timing and the browser.

use std::time::{Duration, Instant};

use base64::Engine as _;
use qhub_api::{AuthorizeRequest, CodeExchange, DeviceStart, DeviceTokenRequest, SignedIn};
use qhub_runtime::ErrorCode;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::backend::{Backend, client_info};
use crate::context::Context;
use crate::exit::{CliError, CliResult, Exit};

/// How long `--web` waits for the browser to come back.
const WEB_TIMEOUT: Duration = Duration::from_secs(300);

/// RFC 8628 section 3.2: the interval when the provider names none.
const DEFAULT_INTERVAL: u64 = 5;

/// The client `provider`'s flows go through: the server's in remote mode; here,
/// the in-process client with the provider's plugin loaded from providers.toml,
/// whose sign-in routes the account core then answers as a server's would.
pub async fn flows(ctx: &Context, provider: &str) -> CliResult<Backend> {
    let backend = ctx.backend().await?;
    let Some(service) = backend.service() else {
        return Ok(backend);
    };
    let plugin = ctx
        .host()
        .provider_service(service.runtime().clone(), provider)?;
    let providers = std::collections::BTreeMap::from([(provider.to_owned(), plugin)]);
    Ok(Backend::in_process(
        service.clone().with_providers(providers),
        client_info(),
    ))
}

/// A provider's failure, with what to check: its plugin, its grant and its
/// configuration (the server's, in remote mode).
fn provider_hint(err: qhub_client::ClientError) -> CliError {
    let err = CliError::from(err);
    match err.code {
        Some(ErrorCode::Unavailable | ErrorCode::Internal) if err.hint.is_none() => err.with_hint(
            "check the provider's plugin, grant and configuration in providers.toml \
             (`qhub plugins inspect`; in remote mode, the server's)",
        ),
        _ => err,
    }
}

/// The device flow: show the code, open the browser (best effort), poll at the
/// provider's pace until the user approves, refuses, or the code expires.
pub async fn device_flow(
    flows: &Backend,
    provider: &str,
    scopes: &[String],
    browser: bool,
) -> CliResult<SignedIn> {
    let start = DeviceStart {
        scopes: scopes.to_vec(),
    };
    let device = flows
        .start_device(provider, &start)
        .await
        .map_err(provider_hint)?;
    let link = device
        .verification_uri_complete
        .as_deref()
        .unwrap_or(&device.verification_uri);
    // Instructions go to stderr: stdout carries the result (and `--json`).
    eprintln!(
        "To log in with {provider}, open {} and enter the code {}",
        device.verification_uri, device.user_code
    );
    if device.verification_uri_complete.is_some() {
        eprintln!("(or open {link}, which carries the code)");
    }
    if browser {
        open_browser(link);
    }
    eprintln!("waiting for you to approve (Ctrl-C to give up)...");
    let expires = Instant::now() + Duration::from_secs(u64::from(device.expires_in.max(1)));
    let mut interval = match u64::from(device.interval) {
        0 => DEFAULT_INTERVAL,
        n => n,
    };
    loop {
        tokio::time::sleep(Duration::from_secs(interval)).await;
        let poll = DeviceTokenRequest {
            device_code: device.device_code.clone(),
        };
        // A poll the core refuses as invalid is an expired code (the flow itself was
        // offered: starting it succeeded); its message says so, this adds what to do.
        let outcome = flows.poll_device(provider, &poll).await.map_err(|err| {
            let err = provider_hint(err);
            match err.code {
                Some(ErrorCode::InvalidInput) if err.hint.is_none() => err.with_hint(EXPIRED_HINT),
                _ => err,
            }
        });
        match outcome? {
            Ok(signed_in) => return Ok(signed_in),
            Err(pending) if pending.status == "slow_down" => {
                // RFC 8628 section 3.5: add 5 s, or take the provider's new, longer interval.
                interval = u64::from(pending.interval.unwrap_or(0)).max(interval + 5);
            }
            Err(_) => {}
        }
        if Instant::now() >= expires {
            return Err(expired());
        }
    }
}

/// The authorization code flow with PKCE through a loopback redirect.
pub async fn web_flow(
    flows: &Backend,
    provider: &str,
    scopes: &[String],
    browser: bool,
) -> CliResult<SignedIn> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| CliError::internal(format!("cannot listen on a loopback port: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| CliError::internal(format!("cannot read the loopback port: {e}")))?
        .port();
    let redirect_uri = format!("http://127.0.0.1:{port}/callback");
    let verifier = random_token(32)?;
    let state = random_token(16)?;
    let request = AuthorizeRequest {
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        code_challenge: challenge(&verifier),
        scopes: scopes.to_vec(),
    };
    let url = flows
        .authorization_url(provider, &request)
        .await
        .map_err(provider_hint)?
        .url;
    eprintln!("To log in with {provider}, open this URL in a browser:\n  {url}");
    if browser {
        open_browser(&url);
    }
    eprintln!("waiting for the browser to come back to {redirect_uri} (Ctrl-C to give up)...");
    let code = tokio::time::timeout(WEB_TIMEOUT, callback(&listener, &state))
        .await
        .map_err(|_| {
            CliError::new(Exit::Refused, "no answer from the browser within 5 minutes").with_hint(
                format!("run `qhub login --provider {provider} --web` again"),
            )
        })??;
    let exchange = CodeExchange {
        code,
        redirect_uri,
        code_verifier: verifier,
    };
    flows
        .exchange_code(provider, &exchange)
        .await
        .map_err(provider_hint)
}

/// Waits for the redirect to `/callback`, answers the browser, and returns the
/// code. Other requests (a favicon, say) get a 404 and the wait goes on.
async fn callback(listener: &tokio::net::TcpListener, state: &str) -> CliResult<String> {
    loop {
        let (mut stream, _) = listener
            .accept()
            .await
            .map_err(|e| CliError::internal(format!("the loopback listener failed: {e}")))?;
        let mut buffer = vec![0; 8192];
        let read = stream.read(&mut buffer).await.unwrap_or(0);
        let request = String::from_utf8_lossy(&buffer[..read]);
        let target = request.split_whitespace().nth(1).unwrap_or("");
        let Ok(url) = url::Url::parse(&format!("http://127.0.0.1{target}")) else {
            continue;
        };
        if url.path() != "/callback" {
            let _ = stream
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await;
            continue;
        }
        let param = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let outcome = if param("state").as_deref() != Some(state) {
            Err(CliError::new(
                Exit::Refused,
                "the browser came back with the wrong state; the login was not finished",
            )
            .with_hint("start again; if it happens again, something is interfering with the login"))
        } else if let Some(error) = param("error") {
            let detail = param("error_description").unwrap_or_default();
            Err(CliError::new(
                Exit::Refused,
                format!("the provider refused the login: {error} {detail}")
                    .trim_end()
                    .to_owned(),
            ))
        } else {
            param("code")
                .ok_or_else(|| CliError::new(Exit::Refused, "the browser came back without a code"))
        };
        let page = if outcome.is_ok() {
            "QHub: you are logged in. You can close this window and return to the terminal."
        } else {
            "QHub: the login did not complete. See the terminal for details."
        };
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
            page.len()
        );
        let _ = stream.write_all(answer.as_bytes()).await;
        return outcome;
    }
}

/// The PKCE S256 challenge of a verifier.
fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// `bytes` random bytes, base64url without padding (a PKCE verifier from 32 bytes
/// is 43 characters, as RFC 7636 asks).
fn random_token(bytes: usize) -> CliResult<String> {
    let mut buffer = vec![0; bytes];
    getrandom::fill(&mut buffer)
        .map_err(|e| CliError::internal(format!("no randomness available: {e}")))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buffer))
}

/// Opens `url` in the user's browser if there is one; silent when there is not
/// (the URL is printed anyway).
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let _ = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}

/// What to do about a device code that expired, at the provider or here.
const EXPIRED_HINT: &str = "run the login again and approve it sooner";

fn expired() -> CliError {
    CliError::new(Exit::Refused, "the code expired before it was approved").with_hint(EXPIRED_HINT)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 appendix B's example.
    #[test]
    fn the_challenge_is_rfc_7636_s256() {
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn verifiers_are_43_url_safe_characters() {
        let verifier = random_token(32).unwrap();
        assert_eq!(verifier.len(), 43);
        assert!(
            verifier
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(verifier, random_token(32).unwrap());
    }
}
