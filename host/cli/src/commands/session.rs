//! What register and login share: keeping the new token and reporting the account.

use qhub_api::SignedIn;

use crate::backend::Backend;
use crate::context::Context;
use crate::exit::CliResult;
use crate::home::{Config, Login};
use crate::output;
use crate::target::Target;

/// `--json` output of register and login: the session without its token (the
/// token is a credential; it goes to config.toml, mode 0600, and nowhere else).
#[derive(Debug, serde::Serialize)]
struct SignedInJson {
    user: qhub_api::Profile,
    session_id: String,
    expires_at: String,
    /// The server's URL, when the login is at a server.
    server: Option<String>,
    /// The database's URL (password masked), when the login is at a database
    /// named by `--database` / `DATABASE_URL`.
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<String>,
}

/// Saves the token as the active login for where the command went, beside the
/// other saved logins, ends the session this device held before for the same
/// account at the same place, and reports who is logged in.
///
/// One session per device: the previous token is about to be replaced, so its
/// session could only linger as an unused credential (`sessions list` showed four
/// rows for one machine). Ending it is best effort, after the new token is saved:
/// a previous session that expired, was revoked or lives elsewhere changes
/// nothing, and a failure never fails the login. Another account's session, or
/// one at another server or database, is left alone.
pub async fn keep(ctx: &Context, backend: &Backend, signed_in: SignedIn, verb: &str) -> CliResult {
    let target = ctx.choice()?.target;
    let mut config = ctx.home.load_config().unwrap_or_else(|_| Config::default());
    let previous = config
        .logins
        .iter()
        .find(|l| l.target() == target && l.email.eq_ignore_ascii_case(&signed_in.user.email))
        .map(|l| l.token.clone());
    config.activate(Login::new(
        &target,
        signed_in.user.email.clone(),
        signed_in.token,
    ));
    ctx.home.save_config(&config)?;
    if let Some(previous) = previous
        && let Err(err) = backend.logout(&previous).await
    {
        tracing::debug!("could not end this device's previous session: {}", err);
    }
    let (server, database) = match &target {
        Target::Server(url) => (Some(url.clone()), None),
        Target::Database(url) => (None, Some(crate::target::mask(url))),
        Target::Embedded => (None, None),
    };
    if ctx.json {
        output::json(&SignedInJson {
            user: signed_in.user,
            session_id: signed_in.session_id,
            expires_at: signed_in.expires_at,
            server,
            database,
        });
    } else {
        let place = server
            .or(database)
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
