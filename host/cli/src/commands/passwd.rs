//! `qhub passwd`: change the password; every other session is logged out.

use qhub_api::ChangePassword;
use serde_json::json;

use crate::context::Context;
use qhub_runtime::ErrorCode;

use crate::exit::{CliError, CliResult};
use crate::output;
use crate::password;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Read the current password, then the new one, from the first two lines of stdin.
    #[arg(long)]
    password_stdin: bool,
}

impl Args {
    pub async fn run(self, ctx: &Context) -> CliResult {
        let token = ctx.token()?;
        let (current_password, new_password) = password::read_change(self.password_stdin)?;
        let change = ChangePassword {
            current_password,
            new_password,
        };
        ctx.backend()
            .await?
            .change_password(&token, change)
            .await
            .map_err(CliError::from)
            .map_err(|err| match err.code {
                // The login hint ("check the email and password") does not fit here.
                Some(ErrorCode::InvalidCredentials) => CliError {
                    hint: Some("type the password you log in with now".into()),
                    ..err
                },
                _ => err,
            })?;
        if ctx.json {
            output::json(&json!({ "password_changed": true }));
        } else {
            outln!("password changed; every other session was logged out");
        }
        Ok(())
    }
}
