//! `qhub serve`: the HTTP/JSON API on the same plugins the CLI runs, over
//! `--database` / `DATABASE_URL` or its own `QHUB_HOME/server.db`. At start it
//! logs (info, on stderr) the database, credentials masked, and its plugins.

use std::io::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use qhub_runtime::{Allocation, LoadLimits};

use crate::context::Context;
use crate::exit::{CliError, CliResult, Exit};
use crate::output;

use qhub_api::core_config::{MIN_JWT_SECRET_BYTES, SERVER_ISSUER};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address and port to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8787")]
    listen: SocketAddr,

    #[command(flatten)]
    load: LoadArgs,
}

/// The concurrency bounds (README: "Load: concurrency bounds and 503"). A request
/// that finds its queue full, or waits longer than --queue-timeout, gets 503
/// `unavailable` with Retry-After. Defaults follow the number of cores.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Load bounds")]
struct LoadArgs {
    /// Plugin calls in flight at once, password hashing included (at most 100)
    /// [default: 32 per core, 16 to 96]
    #[arg(long, env = "QHUB_MAX_CALLS", value_name = "N")]
    max_calls: Option<usize>,
    /// Calls that may wait for a turn [default: 4 x max calls]
    #[arg(long, env = "QHUB_CALL_QUEUE", value_name = "N")]
    call_queue: Option<usize>,
    /// Password-hashing calls (register, login, password change) at once, each on
    /// its own thread; less than max calls [default: one per core]
    #[arg(long, env = "QHUB_MAX_HASHING", value_name = "N")]
    max_hashing: Option<usize>,
    /// Password-hashing calls that may wait for a turn [default: 16 per core]
    #[arg(long, env = "QHUB_HASHING_QUEUE", value_name = "N")]
    hashing_queue: Option<usize>,
    /// How long a call may wait for its turn, e.g. 500ms or 2s; also the
    /// Retry-After of a refusal, rounded up to whole seconds [default: 2s]
    #[arg(long, env = "QHUB_QUEUE_TIMEOUT", value_name = "DURATION", value_parser = humantime::parse_duration)]
    queue_timeout: Option<Duration>,
}

impl LoadArgs {
    /// The defaults for this machine with the given settings over them, checked.
    fn limits(&self) -> CliResult<LoadLimits> {
        let defaults = LoadLimits::for_this_machine();
        let max_calls = self.max_calls.unwrap_or(defaults.max_calls);
        let limits = LoadLimits {
            max_calls,
            call_queue: self.call_queue.unwrap_or(4 * max_calls),
            max_hashing: self
                .max_hashing
                .unwrap_or(defaults.max_hashing.min(max_calls.saturating_sub(1))),
            hashing_queue: self.hashing_queue.unwrap_or(defaults.hashing_queue),
            queue_timeout: self.queue_timeout.unwrap_or(defaults.queue_timeout),
        };
        limits.validate().map_err(|message| {
            CliError::new(Exit::Usage, message).with_hint(
                "set the load bounds with --max-calls, --max-hashing, --call-queue, --hashing-queue \
                 and --queue-timeout (or QHUB_MAX_CALLS, ...); see `qhub serve --help`",
            )
        })?;
        Ok(limits)
    }
}

impl Args {
    pub async fn run(self, ctx: &Context) -> CliResult {
        let limits = self.load.limits()?;
        let secret = jwt_secret(ctx)?;
        // Its own file unless a database is named: the quick start's accounts in
        // qhub.db never mix with the server's.
        let database = match &ctx.database {
            Some(url) => url.clone(),
            None => {
                ctx.home.ensure()?;
                format!("sqlite:{}", ctx.home.server_database_path().display())
            }
        };
        tracing::info!(database = %crate::target::mask(&database), "database");
        let service = ctx
            .service_at(
                Some(&database),
                secret,
                SERVER_ISSUER,
                Allocation::PoolingIfAvailable,
            )
            .await?;
        for plugin in service.plugins() {
            tracing::info!(plugin = %plugin.name, version = %plugin.version, "plugin");
        }
        tracing::info!(?limits, "load bounds");
        service
            .runtime()
            .set_load_limits(limits)
            .map_err(|e| CliError::internal(e.to_string()))?;
        // Before the address is announced: whoever reads it may stop us at once.
        let shutdown = qhub_server::shutdown_signal()
            .map_err(|e| CliError::internal(format!("cannot install the signal handlers: {e}")))?;
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
        let host = ctx.host();
        let providers = host.provider_services(service.runtime().clone())?;
        for (name, provider) in &providers {
            let plugin = &provider.plugin().manifest;
            tracing::info!(provider = %name, plugin = %plugin.name, version = %plugin.version, "OAuth provider");
        }
        if !ctx.json && !providers.is_empty() {
            let names: Vec<&str> = providers.keys().map(String::as_str).collect();
            eprintln!("qhub serve: OAuth providers: {}", names.join(", "));
        }
        let runtime = service.runtime().clone();
        let service = service
            .with_providers(providers)
            .with_provider_plugins(host.provider_plugins()?);
        let router = qhub_server::router(service);
        let served = qhub_server::serve(listener, router, shutdown).await;
        // However serving ended, sign-ins whose clients left still end as the core
        // began them (a wait the runtime bounds by their deadlines).
        if !runtime.finish_hashing().await {
            tracing::warn!("stopping while password-hashing calls are still running");
        }
        served.map_err(|e| CliError::internal(format!("the server failed: {e}")))?;
        if !ctx.json {
            // Whoever started the server may have closed our stdout by now; a
            // farewell line is not worth a panic.
            let _ = writeln!(std::io::stdout(), "qhub serve: stopped");
        }
        Ok(())
    }
}

/// `JWT_SECRET` (from the environment or `.env`, see [`crate::dotenv`]), else
/// the server's own secret file in `QHUB_HOME`, made once and kept, so tokens
/// survive restarts. Several servers sharing a database must share `JWT_SECRET`.
fn jwt_secret(ctx: &Context) -> CliResult<String> {
    let Some(secret) = std::env::var_os("JWT_SECRET") else {
        let (secret, path) = ctx.home.server_jwt_secret()?;
        tracing::info!(
            "signing tokens with the secret in {} (set JWT_SECRET to share one between servers)",
            path.display()
        );
        return Ok(secret);
    };
    let secret = secret.to_string_lossy().into_owned();
    if secret.is_empty() {
        return Err(CliError::new(Exit::Usage, "JWT_SECRET is set but empty").with_hint(
            format!(
                "set it to at least {MIN_JWT_SECRET_BYTES} random bytes, e.g. `openssl rand -hex 32`, \
                 or unset it to use the server's own secret in QHUB_HOME/server-jwt-secret"
            ),
        ));
    }
    // Its length is the core's rule, checked when the service is built.
    tracing::info!("signing tokens with JWT_SECRET");
    Ok(secret)
}
