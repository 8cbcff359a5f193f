//! What register and login share: keeping the new token and reporting the account.

use qhub_runtime::{Profile, SignedIn};
use serde::Serialize;

use crate::context::Context;
use crate::exit::CliResult;
use crate::home::Config;
use crate::output;

/// A profile as `--json` prints it.
#[derive(Debug, Serialize)]
pub struct ProfileJson {
    pub id: String,
    pub email: String,
    pub display_name: Option<String>,
    pub created_at: String,
}

impl From<Profile> for ProfileJson {
    fn from(p: Profile) -> Self {
        ProfileJson {
            id: p.id,
            email: p.email,
            display_name: p.display_name,
            created_at: output::timestamp(p.created_at),
        }
    }
}

#[derive(Debug, Serialize)]
struct SignedInJson {
    user: ProfileJson,
    session_id: String,
    expires_at: String,
}

/// Saves the token in `config.toml` (mode 0600) and reports who is now logged in.
/// The token itself is never printed.
pub fn keep(ctx: &Context, signed_in: SignedIn, verb: &str) -> CliResult {
    let mut config = ctx.home.load_config().unwrap_or_else(|_| Config::default());
    config.token = Some(signed_in.token);
    config.email = Some(signed_in.user.email.clone());
    ctx.home.save_config(&config)?;
    if ctx.json {
        output::json(&SignedInJson {
            user: signed_in.user.into(),
            session_id: signed_in.session_id,
            expires_at: output::timestamp(signed_in.expires_at),
        });
    } else {
        println!(
            "{verb} {}; session valid until {}",
            signed_in.user.email,
            output::timestamp(signed_in.expires_at)
        );
    }
    Ok(())
}
