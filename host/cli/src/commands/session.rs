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

/// Saves the token (and the server that issued it) and reports who is logged in.
pub fn keep(ctx: &Context, backend: &Backend, signed_in: SignedIn, verb: &str) -> CliResult {
    let mut config = ctx.home.load_config().unwrap_or_else(|_| Config::default());
    config.token = Some(signed_in.token);
    config.email = Some(signed_in.user.email.clone());
    config.server = backend.server();
    ctx.home.save_config(&config)?;
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
