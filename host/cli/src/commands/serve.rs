//! `qhub serve`: the HTTP/JSON API on the same plugins the CLI runs.

use std::io::Write as _;
use std::net::SocketAddr;

use qhub_runtime::Allocation;

use crate::context::Context;
use crate::exit::{CliError, CliResult, Exit};
use crate::output;

/// The issuer of tokens minted by a server.
const SERVER_ISSUER: &str = "qhub";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address and port to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
}

impl Args {
    pub async fn run(self, ctx: &Context) -> CliResult {
        let secret = jwt_secret()?;
        let service = ctx
            .service(secret, SERVER_ISSUER, Allocation::PoolingIfAvailable)
            .await?;
        let listener = tokio::net::TcpListener::bind(self.listen)
            .await
            .map_err(|e| {
                CliError::new(
                    Exit::Usage,
                    format!("cannot listen on {}: {e}", self.listen),
                )
                .with_hint("pick another address with --listen, e.g. --listen 127.0.0.1:0")
            })?;
        let addr = listener
            .local_addr()
            .map_err(|e| CliError::internal(format!("cannot read the listening address: {e}")))?;
        if ctx.json {
            output::json(&serde_json::json!({ "listening": format!("http://{addr}") }));
        } else {
            outln!("qhub serve: listening on http://{addr} (Ctrl-C to stop)");
        }
        let providers = super::plugins::provider_services(&ctx.home, service.runtime().clone())?;
        if !ctx.json && !providers.is_empty() {
            let names: Vec<&str> = providers.keys().map(String::as_str).collect();
            eprintln!("qhub serve: OAuth providers: {}", names.join(", "));
        }
        let router = qhub_server::router(qhub_runtime::OAuthFlows::new(service, providers));
        qhub_server::serve(listener, router, qhub_server::shutdown_signal())
            .await
            .map_err(|e| CliError::internal(format!("the server failed: {e}")))?;
        if !ctx.json {
            // Whoever started the server may have closed our stdout by now; a
            // farewell line is not worth a panic.
            let _ = writeln!(std::io::stdout(), "qhub serve: stopped");
        }
        Ok(())
    }
}

/// `JWT_SECRET` from the environment, or from `.env.local` / `.env` in the
/// working directory (the environment wins). A server never invents its secret:
/// tokens must survive restarts and be shared by every instance.
fn jwt_secret() -> CliResult<String> {
    for file in [".env.local", ".env"] {
        // A missing file is fine; a malformed one is worth saying.
        if let Err(err) = dotenvy::from_filename(file)
            && !err.not_found()
        {
            return Err(CliError::new(
                Exit::Usage,
                format!("cannot read {file}: {err}"),
            ));
        }
    }
    let secret = std::env::var("JWT_SECRET").unwrap_or_default();
    if secret.is_empty() {
        return Err(CliError::new(Exit::Usage, "JWT_SECRET not set").with_hint(
            "set JWT_SECRET to at least 32 random bytes, e.g. `export JWT_SECRET=$(openssl rand -hex 32)`, \
             or put it in .env (see .env.example)",
        ));
    }
    if secret.len() < 32 {
        return Err(
            CliError::new(Exit::Usage, "JWT_SECRET is shorter than 32 bytes")
                .with_hint("use at least 32 random bytes, e.g. `openssl rand -hex 32`"),
        );
    }
    Ok(secret)
}
