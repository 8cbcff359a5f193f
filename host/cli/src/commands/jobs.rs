//! `qhub jobs submit|list|show|cancel`: quantum jobs and their history.

use std::path::PathBuf;

use qhub_api::{Job, JobRequest};

use crate::context::Context;
use crate::exit::{CliError, CliResult, Exit};
use crate::output;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Queue an OpenQASM program; it counts against the monthly quota.
    Submit {
        /// The OpenQASM 2 or 3 source file.
        file: PathBuf,
        /// How many times to run the circuit.
        #[arg(long, default_value_t = 1024)]
        shots: u32,
        /// The execution backend (default: the service's simulator).
        #[arg(long)]
        backend: Option<String>,
    },
    /// List jobs, newest first.
    List {
        /// Only jobs in this status: queued, running, completed, failed or cancelled.
        #[arg(long)]
        status: Option<String>,
    },
    /// Show one job, its source and result.
    Show { id: String },
    /// Cancel a queued or running job.
    Cancel { id: String },
}

impl Command {
    pub async fn run(self, ctx: &Context) -> CliResult {
        let token = ctx.token()?;
        match self {
            Command::Submit {
                file,
                shots,
                backend,
            } => {
                let source = std::fs::read_to_string(&file).map_err(|e| {
                    CliError::new(Exit::Usage, format!("cannot read {}: {e}", file.display()))
                        .with_hint(
                            "pass the path of an OpenQASM file, e.g. `qhub jobs submit bell.qasm`",
                        )
                })?;
                let request = JobRequest {
                    source,
                    shots,
                    backend,
                };
                let job = ctx.backend().await?.submit_job(&token, request).await?;
                show(ctx, &job, "queued job");
            }
            Command::List { status } => {
                let jobs = ctx.backend().await?.list_jobs(&token, status).await?;
                if ctx.json {
                    output::json(&jobs);
                } else if jobs.is_empty() {
                    outln!("no jobs");
                } else {
                    outln!(
                        "{:<36}  {:<9}  {:>7}  {:<12}  CREATED",
                        "ID",
                        "STATUS",
                        "SHOTS",
                        "BACKEND"
                    );
                    for j in jobs {
                        outln!(
                            "{:<36}  {:<9}  {:>7}  {:<12}  {}",
                            j.id,
                            j.status,
                            j.shots,
                            j.backend,
                            j.created_at
                        );
                    }
                }
            }
            Command::Show { id } => {
                let job = ctx.backend().await?.get_job(&token, &id).await?;
                show(ctx, &job, "job");
                if !ctx.json {
                    outln!("source:\n{}", job.source.trim_end());
                }
            }
            Command::Cancel { id } => {
                let job = ctx.backend().await?.cancel_job(&token, &id).await?;
                show(ctx, &job, "cancelled job");
            }
        }
        Ok(())
    }
}

fn show(ctx: &Context, job: &Job, what: &str) {
    if ctx.json {
        output::json(job);
        return;
    }
    outln!("{what} {}", job.id);
    outln!("status:  {}", job.status);
    outln!("backend: {}  shots: {}", job.backend, job.shots);
    outln!("created: {}  updated: {}", job.created_at, job.updated_at);
    if let Some(result) = &job.result {
        outln!("result:  {result}");
    }
    if let Some(error) = &job.error {
        outln!("error:   {error}");
    }
}
