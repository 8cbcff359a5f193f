//! `qhub jobs submit|list|show|cancel`: quantum jobs and their history.

use std::io::Read;
use std::path::{Path, PathBuf};

use qhub_api::{Job, JobRequest};

use crate::backend::Backend;
use crate::context::Context;
use crate::exit::{CliError, CliResult, Exit};
use crate::output;
use crate::short_id::{self, Candidate};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Queue an OpenQASM program; it counts against the monthly quota.
    Submit {
        /// The OpenQASM 2 or 3 source file, or `-` to read the program from stdin.
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
    /// Show one job, its source and result. ID may be a unique start of the id
    /// (4 characters or more).
    Show { id: String },
    /// Cancel a queued or running job. ID may be a unique start of the id (4
    /// characters or more).
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
                let source = read_source(&file)?;
                let request = JobRequest {
                    source,
                    shots,
                    backend,
                };
                let job = ctx.backend().await?.submit_job(&token, request).await?;
                show(ctx, &job, "queued job");
            }
            Command::List { status } => {
                // A usage error in both modes, before anything is sent.
                if let Some(name) = status.as_deref()
                    && !qhub_api::JOB_STATUSES.contains(&name)
                {
                    return Err(CliError::new(
                        Exit::Usage,
                        qhub_api::unknown_job_status(name),
                    ));
                }
                let jobs = ctx.backend().await?.list_jobs(&token, status).await?;
                if ctx.json {
                    output::json(&jobs);
                } else if jobs.is_empty() {
                    outln!("no jobs");
                } else {
                    outln!(
                        "{}",
                        output::header(&format!(
                            "{:<36}  {:<9}  {:>7}  {:<12}  CREATED",
                            "ID", "STATUS", "SHOTS", "BACKEND"
                        ))
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
                let backend = ctx.backend().await?;
                let id = resolve(&backend, &token, &id).await?;
                let job = backend.get_job(&token, &id).await?;
                show(ctx, &job, "job");
                if !ctx.json {
                    outln!("source:\n{}", job.source.trim_end());
                }
            }
            Command::Cancel { id } => {
                let backend = ctx.backend().await?;
                let id = resolve(&backend, &token, &id).await?;
                let job = backend.cancel_job(&token, &id).await?;
                show(ctx, &job, "cancelled job");
            }
        }
        Ok(())
    }
}

/// The program to submit: the file's text, or stdin's for `-` (as `cat -` reads).
fn read_source(file: &Path) -> CliResult<String> {
    if file == Path::new("-") {
        let mut source = String::new();
        std::io::stdin().read_to_string(&mut source).map_err(|e| {
            CliError::new(
                Exit::Usage,
                format!("cannot read the program from stdin: {e}"),
            )
        })?;
        return Ok(source);
    }
    std::fs::read_to_string(file).map_err(|e| {
        CliError::new(Exit::Usage, format!("cannot read {}: {e}", file.display())).with_hint(
            "pass the path of an OpenQASM file, e.g. `qhub jobs submit bell.qasm`, or `-` for stdin",
        )
    })
}

/// The job a full id or a unique start of one designates, among the newest jobs
/// `jobs list` shows (see `short_id`).
async fn resolve(backend: &Backend, token: &str, given: &str) -> CliResult<String> {
    let jobs = backend.list_jobs(token, None).await?;
    let candidates: Vec<Candidate> = jobs
        .into_iter()
        .map(|j| Candidate {
            id: j.id,
            alias: None,
            label: format!("{} {}", j.status, j.created_at),
        })
        .collect();
    short_id::resolve("job", given, &candidates)
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
