//! Where account commands go: the plugins in this process, or a QHub server.
//! Both answer with the same wire types, so each command has one code path.

use qhub_api::{ChangePassword, LoginRequest, Profile, RegisterRequest, Session, SignedIn};
use qhub_client::Client;
use qhub_runtime::{AccountService, ClientInfo};

use crate::exit::CliResult;

pub enum Backend {
    /// Boxed: the service (instance templates, pools) is far larger than a client.
    Local(Box<AccountService>),
    Remote(Client),
}

impl Backend {
    /// The server URL, for remote mode.
    pub fn server(&self) -> Option<String> {
        match self {
            Backend::Local(_) => None,
            Backend::Remote(client) => Some(client.base().trim_end_matches('/').to_owned()),
        }
    }

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

fn client_info() -> ClientInfo {
    ClientInfo {
        user_agent: Some(user_agent()),
        ip: None,
    }
}
