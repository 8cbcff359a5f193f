//! Where account commands go: the one API client ([`qhub_client::Client`]), to a
//! server over HTTP or to the account core in this process. Both send the same
//! requests and read the same answers, so each command has one code path.

use qhub_runtime::ClientInfo;

/// The client account commands use.
pub type Backend = qhub_client::Client;

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
