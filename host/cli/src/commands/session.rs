//! What register and login share: keeping the new token and reporting the account.

use qhub_api::SignedIn;

use crate::backend::Backend;
use crate::context::Context;
use crate::exit::CliResult;
use crate::home::Config;
use crate::output;

/// `--json` output of register and login: the session without its token (the
/// token is a credential; it goes to config.toml, mode 0600, and nowhere else).
#[derive(Debug, serde::Serialize)]
struct SignedInJson {
    user: qhub_api::Profile,
    session_id: String,
    expires_at: String,
    server: Option<String>,
}

/// Saves the token (and the server that issued it), ends the session this device
/// held before for the same account on the same server, and reports who is
/// logged in.
///
/// One session per device: the previous token is about to be forgotten, so its
/// session could only linger as an unused credential (`sessions list` showed four
/// rows for one machine). Ending it is best effort, after the new token is saved:
/// a previous session that expired, was revoked or lives in another database
/// changes nothing, and a failure never fails the login. Another account's
/// session, or one at another server, is left alone.
pub async fn keep(
    ctx: &Context,
    backend: &Backend,
    signed_in: SignedIn,
    verb: &str,
) -> CliResult {
    let mut config = ctx.home.load_config().unwrap_or_else(|_| Config::default());
    let previous = config.token.take().filter(|_| {
        config.email.as_deref() == Some(signed_in.user.email.as_str())
            && config.server == backend.server()
    });
    config.token = Some(signed_in.token);
    config.email = Some(signed_in.user.email.clone());
    config.server = backend.server();
    ctx.home.save_config(&config)?;
    if let Some(previous) = previous {
        if let Err(err) = backend.logout(&previous).await {
            tracing::debug!("could not end this device's previous session: {}", err.message);
        }
    }
    if ctx.json {
        output::json(&SignedInJson {
            user: signed_in.user,
            session_id: signed_in.session_id,
            expires_at: signed_in.expires_at,
            server: config.server,
        });
    } else {
        let place = config
            .server
            .map(|s| format!(" at {s}"))
            .unwrap_or_default();
        outln!(
            "{verb} {}{place}; session valid until {}",
            signed_in.user.email,
            signed_in.expires_at
        );
    }
    Ok(())
}
