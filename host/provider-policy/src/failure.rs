//! How a provider plugin's `provider-error` is worded for the account core and, through
//! it, for the client and the operator: "plugin \"oauth-oidc\" 0.1.0: http: ...". The
//! texts name the plugin and what failed, never a secret.

/// A case of the provider contract's `provider-error`, with its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderFailure<'a> {
    /// The provider does not offer the flow asked for.
    NotSupported,
    /// The provider's configuration is wrong (a missing client id, say).
    Misconfigured(&'a str),
    /// The provider could not be reached, or the host refused the destination.
    Http(&'a str),
    /// The provider answered something the protocol does not allow.
    Protocol(&'a str),
}

impl ProviderFailure<'_> {
    /// The failure as a lowercase fragment ("http: connection refused").
    pub fn describe(&self) -> String {
        match self {
            ProviderFailure::NotSupported => "this provider does not offer that flow".into(),
            ProviderFailure::Misconfigured(what) => format!("misconfigured: {what}"),
            ProviderFailure::Http(what) => format!("http: {what}"),
            ProviderFailure::Protocol(what) => {
                format!("protocol violation by the provider: {what}")
            }
        }
    }

    /// The whole message, naming the plugin labelled `plugin` (`"oauth-oidc" 0.1.0`).
    pub fn message(&self, plugin: &str) -> String {
        format!("plugin {plugin}: {}", self.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_plugin_and_the_case() {
        let plugin = "\"oauth-oidc\" 0.1.0";
        assert_eq!(
            ProviderFailure::Http("denied: no").message(plugin),
            "plugin \"oauth-oidc\" 0.1.0: http: denied: no"
        );
        assert_eq!(
            ProviderFailure::NotSupported.message(plugin),
            "plugin \"oauth-oidc\" 0.1.0: this provider does not offer that flow"
        );
        assert_eq!(
            ProviderFailure::Protocol("no token").describe(),
            "protocol violation by the provider: no token"
        );
        assert_eq!(
            ProviderFailure::Misconfigured("x").describe(),
            "misconfigured: x"
        );
    }
}
