//! Where account commands go: the plugins in this process, or a QHub server.
//! Both answer with the same wire types, so each command has one code path.

use qhub_api::{
    ApiKey, ChangePassword, Connection, CreateApiKey, Job, JobFilter, JobRequest, LoginRequest,
    NewApiKey, Preference, Profile, RegisterRequest, Session, SignedIn, Usage,
};
use qhub_client::Client;
use qhub_runtime::{AccountService, ClientInfo};

use crate::exit::CliResult;

pub enum Backend {
    /// Boxed: the service (instance templates, pools) is far larger than a client.
    Local(Box<AccountService>),
    Remote(Client),
}

impl Backend {
    pub async fn register(&self, request: RegisterRequest) -> CliResult<SignedIn> {
        Ok(match self {
            Backend::Local(service) => {
                let request = qhub_runtime::RegisterRequest {
                    email: request.email,
                    password: request.password,
                    display_name: request.display_name,
                };
                service.register(request, client_info()).await?.into()
            }
            Backend::Remote(client) => client.register(&request).await?,
        })
    }

    pub async fn login(&self, request: LoginRequest) -> CliResult<SignedIn> {
        Ok(match self {
            Backend::Local(service) => service
                .login(&request.email, &request.password, client_info())
                .await?
                .into(),
            Backend::Remote(client) => client.login(&request).await?,
        })
    }

    pub async fn whoami(&self, token: &str) -> CliResult<Profile> {
        Ok(match self {
            Backend::Local(service) => service.whoami(token).await?.into(),
            Backend::Remote(client) => client.whoami(token).await?,
        })
    }

    pub async fn logout(&self, token: &str) -> CliResult {
        match self {
            Backend::Local(service) => service.logout(token).await?,
            Backend::Remote(client) => client.logout(token).await?,
        }
        Ok(())
    }
}

impl Backend {
    pub async fn list_connections(&self, token: &str) -> CliResult<Vec<Connection>> {
        Ok(match self {
            Backend::Local(service) => service
                .list_connections(token)
                .await?
                .into_iter()
                .map(Connection::from)
                .collect(),
            Backend::Remote(client) => client.list_connections(token).await?,
        })
    }

    pub async fn unlink_connection(&self, token: &str, id: &str) -> CliResult {
        match self {
            Backend::Local(service) => service.unlink_connection(token, id).await?,
            Backend::Remote(client) => client.unlink_connection(token, id).await?,
        }
        Ok(())
    }

    pub async fn list_sessions(&self, token: &str) -> CliResult<Vec<Session>> {
        Ok(match self {
            Backend::Local(service) => service
                .list_sessions(token)
                .await?
                .into_iter()
                .map(Session::from)
                .collect(),
            Backend::Remote(client) => client.list_sessions(token).await?,
        })
    }

    pub async fn revoke_session(&self, token: &str, session_id: &str) -> CliResult {
        match self {
            Backend::Local(service) => service.revoke_session(token, session_id).await?,
            Backend::Remote(client) => client.revoke_session(token, session_id).await?,
        }
        Ok(())
    }

    pub async fn revoke_other_sessions(&self, token: &str) -> CliResult<u32> {
        Ok(match self {
            Backend::Local(service) => service.revoke_other_sessions(token).await?,
            Backend::Remote(client) => client.revoke_other_sessions(token).await?,
        })
    }

    pub async fn logout_all(&self, token: &str) -> CliResult<u32> {
        Ok(match self {
            Backend::Local(service) => service.logout_all(token).await?,
            Backend::Remote(client) => client.logout_all(token).await?,
        })
    }

    pub async fn change_password(&self, token: &str, change: ChangePassword) -> CliResult {
        match self {
            Backend::Local(service) => {
                service
                    .change_password(token, &change.current_password, &change.new_password)
                    .await?
            }
            Backend::Remote(client) => client.change_password(token, &change).await?,
        }
        Ok(())
    }
}

impl Backend {
    pub async fn list_preferences(&self, token: &str) -> CliResult<Vec<Preference>> {
        Ok(match self {
            Backend::Local(service) => service
                .list_preferences(token)
                .await?
                .into_iter()
                .map(Preference::from)
                .collect(),
            Backend::Remote(client) => client.list_preferences(token).await?,
        })
    }

    pub async fn set_preference(&self, token: &str, key: &str, value: &str) -> CliResult {
        match self {
            Backend::Local(service) => service.set_preference(token, key, value).await?,
            Backend::Remote(client) => client.set_preference(token, key, value).await?,
        }
        Ok(())
    }

    pub async fn unset_preference(&self, token: &str, key: &str) -> CliResult {
        match self {
            Backend::Local(service) => service.unset_preference(token, key).await?,
            Backend::Remote(client) => client.unset_preference(token, key).await?,
        }
        Ok(())
    }

    pub async fn usage(&self, token: &str) -> CliResult<Usage> {
        Ok(match self {
            Backend::Local(service) => service.get_usage(token).await?.into(),
            Backend::Remote(client) => client.usage(token).await?,
        })
    }

    pub async fn submit_job(&self, token: &str, job: JobRequest) -> CliResult<Job> {
        Ok(match self {
            Backend::Local(service) => {
                let request = qhub_runtime::JobRequest {
                    source: job.source,
                    shots: job.shots,
                    backend: job.backend,
                };
                service.submit_job(token, request).await?.into()
            }
            Backend::Remote(client) => client.submit_job(token, &job).await?,
        })
    }

    /// `status` is a wire name; an unknown one is a usage error in both modes.
    pub async fn list_jobs(&self, token: &str, status: Option<String>) -> CliResult<Vec<Job>> {
        Ok(match self {
            Backend::Local(service) => {
                let status = status
                    .as_deref()
                    .map(qhub_api::job_status_from_name)
                    .transpose()
                    .map_err(|message| {
                        crate::exit::CliError::new(crate::exit::Exit::Usage, message)
                    })?;
                service
                    .list_jobs(token, status)
                    .await?
                    .into_iter()
                    .map(Job::from)
                    .collect()
            }
            Backend::Remote(client) => client.list_jobs(token, &JobFilter { status }).await?,
        })
    }

    pub async fn get_job(&self, token: &str, id: &str) -> CliResult<Job> {
        Ok(match self {
            Backend::Local(service) => service.get_job(token, id).await?.into(),
            Backend::Remote(client) => client.get_job(token, id).await?,
        })
    }

    pub async fn cancel_job(&self, token: &str, id: &str) -> CliResult<Job> {
        Ok(match self {
            Backend::Local(service) => service.cancel_job(token, id).await?.into(),
            Backend::Remote(client) => client.cancel_job(token, id).await?,
        })
    }

    pub async fn export_account(&self, token: &str) -> CliResult<serde_json::Value> {
        Ok(match self {
            Backend::Local(service) => {
                let document = service.export_account(token).await?;
                serde_json::from_str(&document).map_err(|e| {
                    crate::exit::CliError::internal(format!(
                        "the account core exported malformed JSON: {e}"
                    ))
                })?
            }
            Backend::Remote(client) => client.export_account(token).await?,
        })
    }

    pub async fn create_api_key(&self, token: &str, request: CreateApiKey) -> CliResult<NewApiKey> {
        Ok(match self {
            Backend::Local(service) => service
                .create_api_key(
                    token,
                    &request.name,
                    request.scopes.as_deref(),
                    request.expires_in,
                )
                .await?
                .into(),
            Backend::Remote(client) => client.create_api_key(token, &request).await?,
        })
    }

    pub async fn list_api_keys(&self, token: &str) -> CliResult<Vec<ApiKey>> {
        Ok(match self {
            Backend::Local(service) => service
                .list_api_keys(token)
                .await?
                .into_iter()
                .map(ApiKey::from)
                .collect(),
            Backend::Remote(client) => client.list_api_keys(token).await?,
        })
    }

    pub async fn revoke_api_key(&self, token: &str, id: &str) -> CliResult {
        match self {
            Backend::Local(service) => service.revoke_api_key(token, id).await?,
            Backend::Remote(client) => client.revoke_api_key(token, id).await?,
        }
        Ok(())
    }

    pub async fn delete_account(&self, token: &str) -> CliResult {
        match self {
            Backend::Local(service) => service.delete_account(token).await?,
            Backend::Remote(client) => client.delete_account(token).await?,
        }
        Ok(())
    }
}

/// How this client describes itself to the session it creates (shown by
/// `sessions list` to tell devices apart).
pub fn user_agent() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty());
    let mut agent = format!(
        "qhub/{} ({}; {})",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    if let Some(host) = host {
        agent.push_str(&format!(" on {host}"));
    }
    agent
}

pub(crate) fn client_info() -> ClientInfo {
    ClientInfo {
        user_agent: Some(user_agent()),
        ip: None,
    }
}
