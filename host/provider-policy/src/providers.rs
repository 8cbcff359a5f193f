//! The operator's OAuth provider configuration: which providers exist, the plugin
//! each runs, the origins granted to it and its config values, overridable from the
//! environment (`QHUB_PROVIDER_<NAME>_<KEY>`).
//!
//! Every host reads it the same way, through this module: natively from
//! `providers.toml` ([`ProvidersConfig::load`], feature `toml`), in the Worker from
//! the variable `QHUB_PROVIDERS`, the same tables as JSON
//! ([`ProvidersConfig::from_json`]). Where the file is (`QHUB_HOME`,
//! `QHUB_PROVIDERS`) is the host's business.
//!
//! ```toml
//! [providers.github]            # the NAME used in `qhub login --provider NAME`
//! plugin = "oauth-github"       # an embedded or installed plugin
//! grant = ["https://github.com:443", "https://api.github.com:443"]
//! [providers.github.config]
//! client-id = "Iv1.0123456789abcdef"
//! ```
//!
//! ```json
//! {"github": {"plugin": "oauth-github", "grant": ["https://github.com:443"],
//!             "config": {"client-id": "Iv1.0123456789abcdef"}}}
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::origin::parse_grant;

/// The prefix of the environment variables that set provider config values.
pub const ENV_PREFIX: &str = "QHUB_PROVIDER_";

/// Every provider the operator configured, by name.
#[derive(Debug, Clone, Default)]
pub struct ProvidersConfig {
    /// The file read; `None` when there was none.
    pub path: Option<PathBuf>,
    pub providers: BTreeMap<String, ProviderConfig>,
    /// What the operator should be told, though nothing failed: a
    /// `QHUB_PROVIDER_*` variable that no provider claims, say. The host logs them.
    pub warnings: Vec<String>,
}

/// One `[providers.NAME]` table, environment overrides applied.
#[derive(Clone)]
pub struct ProviderConfig {
    pub name: String,
    /// The plugin that implements it (embedded or installed).
    pub plugin: String,
    /// Exact origins, as written (each checked to parse, without wildcards).
    pub grant: Vec<String>,
    /// The keys the plugin reads through its `config` import.
    pub config: BTreeMap<String, String>,
    /// Keys whose value came from the environment (which wins over the file).
    pub from_env: BTreeSet<String>,
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values may be client secrets: show the keys only.
        f.debug_struct("ProviderConfig")
            .field("name", &self.name)
            .field("plugin", &self.plugin)
            .field("grant", &self.grant)
            .field("config_keys", &self.config.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// What is wrong with the provider configuration, and how to fix it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct ProvidersError {
    pub path: PathBuf,
    pub message: String,
    pub hint: Option<String>,
}

#[cfg(feature = "toml")]
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    providers: BTreeMap<String, RawProvider>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    plugin: String,
    #[serde(default)]
    grant: Vec<String>,
    #[serde(default)]
    config: BTreeMap<String, Scalar>,
}

/// A config value. Plugins read strings; numbers and booleans are accepted in the
/// file for convenience and passed on as written.
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    String(String),
    Integer(i64),
    Bool(bool),
}

impl Scalar {
    fn into_string(self) -> String {
        match self {
            Scalar::String(s) => s,
            Scalar::Integer(i) => i.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

#[cfg(feature = "toml")]
const FORMAT_HINT: &str = "each provider is a [providers.NAME] table with plugin = \"PLUGIN\", \
     grant = [\"https://host:443\", ...] and an optional [providers.NAME.config] table of strings";

/// The Worker's form: one JSON object of providers.
const JSON_HINT: &str = "QHUB_PROVIDERS is a JSON object {\"NAME\": {\"plugin\": \"oauth-oidc\", \
     \"grant\": [\"https://host:443\"], \"config\": {\"issuer\": \"...\", \"client-id\": \"...\"}}}";

/// Where the Worker's configuration comes from, as its errors name it.
pub const JSON_SOURCE: &str = "QHUB_PROVIDERS";

impl ProvidersConfig {
    /// Reads `path`. A missing file means no providers, unless `required` (the
    /// operator named the file explicitly). `env` is the process environment (or a
    /// test's stand-in); only `QHUB_PROVIDER_*` variables are looked at.
    #[cfg(feature = "toml")]
    pub fn load(
        path: &Path,
        required: bool,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<ProvidersConfig, ProvidersError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, path, env),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound && !required => {
                Ok(ProvidersConfig::default())
            }
            Err(err) => Err(ProvidersError {
                path: path.to_owned(),
                message: format!("cannot read the provider configuration: {err}"),
                hint: Some(
                    "check QHUB_PROVIDERS, or unset it to use QHUB_HOME/providers.toml".into(),
                ),
            }),
        }
    }

    /// Parses providers.toml's text (`path` is for messages) and applies `env`.
    #[cfg(feature = "toml")]
    pub fn parse(
        text: &str,
        path: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<ProvidersConfig, ProvidersError> {
        let file: File = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|span| format!("line {}: ", text[..span.start].matches('\n').count() + 1))
                .unwrap_or_default();
            ProvidersError {
                path: path.to_owned(),
                message: format!("{line}{}", e.message().trim_end()),
                hint: Some(FORMAT_HINT.into()),
            }
        })?;
        Self::from_raw(file.providers, path, env)
    }

    /// Parses the Worker's `QHUB_PROVIDERS` (a JSON object of providers, each as
    /// a `[providers.NAME]` table of providers.toml) and applies `env`. Empty text
    /// is no providers.
    pub fn from_json(
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<ProvidersConfig, ProvidersError> {
        let path = Path::new(JSON_SOURCE);
        if text.trim().is_empty() {
            return Ok(ProvidersConfig::default());
        }
        let providers = serde_json::from_str(text).map_err(|e| ProvidersError {
            path: path.to_owned(),
            message: format!("line {}: {e}", e.line()),
            hint: Some(JSON_HINT.into()),
        })?;
        Self::from_raw(providers, path, env)
    }

    fn from_raw(
        raw: BTreeMap<String, RawProvider>,
        path: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<ProvidersConfig, ProvidersError> {
        let fail = |message: String, hint: Option<String>| ProvidersError {
            path: path.to_owned(),
            message,
            hint,
        };
        let mut providers = BTreeMap::new();
        for (name, raw) in raw {
            if !valid_name(&name) {
                return Err(fail(
                    format!("provider name {name:?} is not lowercase letters, digits and dashes"),
                    Some("rename the [providers.NAME] table, e.g. [providers.github]".into()),
                ));
            }
            for entry in &raw.grant {
                parse_grant(entry).map_err(|e| {
                    let hint = if e.wildcard {
                        "grant each origin the provider needs, e.g. \"https://login.example.com:443\"; \
                         wildcards belong only in a plugin's manifest"
                    } else {
                        "a grant entry is an origin: scheme://host:port, e.g. \"https://api.github.com:443\""
                    };
                    fail(
                        format!("provider {name:?}: grant entry {e}"),
                        Some(hint.into()),
                    )
                })?;
            }
            let config = raw
                .config
                .into_iter()
                .map(|(k, v)| (k, v.into_string()))
                .collect();
            providers.insert(
                name.clone(),
                ProviderConfig {
                    name,
                    plugin: raw.plugin,
                    grant: raw.grant,
                    config,
                    from_env: BTreeSet::new(),
                },
            );
        }
        let mut config = ProvidersConfig {
            path: Some(path.to_owned()),
            providers,
            warnings: Vec::new(),
        };
        config.apply_env(env);
        Ok(config)
    }

    /// `QHUB_PROVIDER_<NAME>_<KEY>=value` sets `KEY` (lowercased, `_` -> `-`) for
    /// provider `NAME` (uppercased, `-` -> `_`). When two provider names could claim
    /// a variable (`a` and `a-b`), the longer name wins.
    fn apply_env(&mut self, env: impl IntoIterator<Item = (String, String)>) {
        for (variable, value) in env {
            let Some(rest) = variable.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let claimant = self
                .providers
                .keys()
                .filter_map(|name| {
                    let prefix = format!("{}_", env_name(name));
                    let key = rest.strip_prefix(&prefix).filter(|k| !k.is_empty())?;
                    Some((name.clone(), key.to_ascii_lowercase().replace('_', "-")))
                })
                .max_by_key(|(name, _)| name.len());
            match claimant {
                Some((name, key)) => {
                    let provider = self
                        .providers
                        .get_mut(&name)
                        .expect("a configured provider");
                    provider.config.insert(key.clone(), value);
                    provider.from_env.insert(key);
                }
                None => self.warnings.push(format!(
                    "{variable} matches no provider in {}; it is ignored",
                    self.path
                        .as_deref()
                        .and_then(Path::file_name)
                        .map_or("the provider configuration".into(), |f| f.to_string_lossy())
                )),
            }
        }
    }

    /// Checks that every provider names a plugin among `known`, suggesting the
    /// nearest name for a typo.
    pub fn check_plugins(&self, known: &[&str]) -> Result<(), ProvidersError> {
        for provider in self.providers.values() {
            if known.contains(&provider.plugin.as_str()) {
                continue;
            }
            let hint = match nearest(&provider.plugin, known.iter().copied()) {
                Some(near) => format!("did you mean {near:?}? `qhub plugins list` shows them all"),
                None => "install it with `qhub plugins install PATH`; `qhub plugins list` shows the plugins".into(),
            };
            return Err(ProvidersError {
                path: self.path.clone().unwrap_or_default(),
                message: format!(
                    "provider {:?}: no plugin named {:?}",
                    provider.name, provider.plugin
                ),
                hint: Some(hint),
            });
        }
        Ok(())
    }

    /// The provider called `name`, or an error suggesting the nearest configured name.
    pub fn get(&self, name: &str) -> Result<&ProviderConfig, ProvidersError> {
        self.providers.get(name).ok_or_else(|| {
            let hint = match nearest(name, self.providers.keys().map(String::as_str)) {
                Some(near) => format!("did you mean {near:?}?"),
                None if self.providers.is_empty() => {
                    "configure providers in QHUB_HOME/providers.toml (see README, OAuth providers)"
                        .into()
                }
                None => format!(
                    "configured providers: {}",
                    self.providers
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            ProvidersError {
                path: self.path.clone().unwrap_or_else(|| "providers.toml".into()),
                message: format!("no provider named {name:?}"),
                hint: Some(hint),
            }
        })
    }

    /// The providers implemented by `plugin`.
    pub fn using<'a>(&'a self, plugin: &'a str) -> impl Iterator<Item = &'a ProviderConfig> {
        self.providers.values().filter(move |p| p.plugin == plugin)
    }
}

fn valid_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// `my-github` -> `MY_GITHUB`, as it appears in variable names.
pub fn env_name(provider: &str) -> String {
    provider.to_ascii_uppercase().replace('-', "_")
}

/// The candidate closest to `name` by edit distance (Levenshtein, by characters),
/// if close enough to be a typo: at most a third of its length, and at least 2.
pub fn nearest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(2);
    candidates
        .map(|c| (strsim::levenshtein(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(all(test, feature = "toml"))]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
[providers.github]
plugin = "oauth-github"
grant = ["https://github.com:443", "https://api.github.com"]
[providers.github.config]
client-id = "Iv1.0123456789abcdef"

[providers.corp-sso]
plugin = "oauth-oidc"
grant = ["https://login.example.com"]
config = { issuer = "https://login.example.com", client-id = "qhub", retries = 3 }
"#;

    fn parse(text: &str, env: &[(&str, &str)]) -> Result<ProvidersConfig, ProvidersError> {
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        ProvidersConfig::parse(text, Path::new("providers.toml"), env)
    }

    #[test]
    fn reads_providers_and_their_config() {
        let config = parse(SAMPLE, &[]).unwrap();
        let github = config.get("github").unwrap();
        assert_eq!(github.plugin, "oauth-github");
        assert_eq!(github.grant.len(), 2);
        assert_eq!(github.config["client-id"], "Iv1.0123456789abcdef");
        let sso = config.get("corp-sso").unwrap();
        assert_eq!(sso.config["retries"], "3", "scalars are passed on as text");
        assert_eq!(config.using("oauth-oidc").count(), 1);
    }

    #[test]
    fn the_environment_overrides_and_adds_config_values() {
        let config = parse(
            SAMPLE,
            &[
                ("QHUB_PROVIDER_GITHUB_CLIENT_SECRET", "s3cret"),
                ("QHUB_PROVIDER_GITHUB_CLIENT_ID", "from-env"),
                ("QHUB_PROVIDER_CORP_SSO_ISSUER", "https://sso.example.com"),
                ("QHUB_PROVIDER_NOBODY_CLIENT_ID", "ignored"),
                ("UNRELATED", "x"),
            ],
        )
        .unwrap();
        let github = config.get("github").unwrap();
        assert_eq!(github.config["client-secret"], "s3cret");
        assert_eq!(
            github.config["client-id"], "from-env",
            "the environment wins"
        );
        assert!(github.from_env.contains("client-secret"));
        let sso = config.get("corp-sso").unwrap();
        assert_eq!(sso.config["issuer"], "https://sso.example.com");
        assert!(
            !format!("{github:?}").contains("s3cret"),
            "Debug hides values"
        );
    }

    #[test]
    fn the_longest_provider_name_claims_a_variable() {
        let text = "[providers.a]\nplugin = \"p\"\n[providers.a-b]\nplugin = \"p\"\n";
        let config = parse(text, &[("QHUB_PROVIDER_A_B_CLIENT_ID", "x")]).unwrap();
        assert_eq!(config.get("a-b").unwrap().config["client-id"], "x");
        assert!(config.get("a").unwrap().config.is_empty());
    }

    #[test]
    fn errors_say_what_is_wrong_and_how_to_fix_it() {
        let check = |text: &str, message: &str, hint: &str| {
            let err = parse(text, &[]).unwrap_err();
            assert!(err.to_string().contains(message), "{err}");
            let got = err.hint.clone().unwrap_or_default();
            assert!(got.contains(hint), "{err}: hint {got:?}");
        };
        check(
            "[providers.github]\nplugin = \"oauth-github\"\ngrants = []\n",
            "line 3: unknown field `grants`",
            "[providers.NAME]",
        );
        check("[providers.github\n", "line 1", "[providers.NAME]");
        check(
            "[providers.github]\nplugin = \"oauth-github\"\ngrant = [\"https://*:443\"]\n",
            "grant entry \"https://*:443\"",
            "wildcards belong only in a plugin's manifest",
        );
        check(
            "[providers.github]\nplugin = \"oauth-github\"\ngrant = [\"github.com\"]\n",
            "grant entry \"github.com\"",
            "scheme://host:port",
        );
        check(
            "[providers.GitHub]\nplugin = \"oauth-github\"\n",
            "provider name \"GitHub\"",
            "rename",
        );
    }

    #[test]
    fn unknown_plugins_and_providers_get_near_matches() {
        let text = "[providers.github]\nplugin = \"oauth-githb\"\n";
        let config = parse(text, &[]).unwrap();
        let err = config
            .check_plugins(&["oauth-github", "oauth-oidc"])
            .unwrap_err();
        assert!(
            err.message.contains("no plugin named \"oauth-githb\""),
            "{err}"
        );
        assert_eq!(
            err.hint.as_deref(),
            Some("did you mean \"oauth-github\"? `qhub plugins list` shows them all")
        );
        let err = config.get("githib").unwrap_err();
        assert_eq!(err.hint.as_deref(), Some("did you mean \"github\"?"));
        assert!(config.check_plugins(&["oauth-githb"]).is_ok());
    }

    #[test]
    fn a_missing_file_is_no_providers_unless_required() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("providers.toml");
        let config = ProvidersConfig::load(&path, false, []).unwrap();
        assert!(config.providers.is_empty());
        let err = ProvidersConfig::load(&path, true, []).unwrap_err();
        assert!(err.message.contains("cannot read"), "{err}");
    }

    #[test]
    fn only_near_names_are_suggested() {
        assert_eq!(nearest("zzz", ["oauth-github"].into_iter()), None);
        assert_eq!(
            nearest("oauth-oicd", ["oauth-github", "oauth-oidc"].into_iter()),
            Some("oauth-oidc")
        );
    }
}

/// The Worker's JSON form: the same rules as providers.toml.
#[cfg(test)]
mod json_tests {
    use super::*;

    fn parse(text: &str, env: &[(&str, &str)]) -> Result<ProvidersConfig, ProvidersError> {
        ProvidersConfig::from_json(
            text,
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    }

    #[test]
    fn reads_providers_and_applies_the_environment() {
        let config = parse(
            r#"{"corp-sso": {"plugin": "oauth-oidc", "grant": ["https://login.example.com"],
                "config": {"issuer": "https://login.example.com", "retries": 3, "strict": true}}}"#,
            &[
                ("QHUB_PROVIDER_CORP_SSO_CLIENT_ID", "qhub"),
                ("QHUB_PROVIDER_NOBODY_X", "y"),
            ],
        )
        .unwrap();
        let sso = config.get("corp-sso").unwrap();
        assert_eq!(sso.plugin, "oauth-oidc");
        assert_eq!(sso.config["retries"], "3");
        assert_eq!(sso.config["strict"], "true");
        assert_eq!(sso.config["client-id"], "qhub");
        assert_eq!(
            config.warnings,
            ["QHUB_PROVIDER_NOBODY_X matches no provider in QHUB_PROVIDERS; it is ignored"]
        );
        assert!(parse("", &[]).unwrap().providers.is_empty());
    }

    #[test]
    fn errors_name_the_variable_and_show_the_form() {
        for (text, message) in [
            ("{", "QHUB_PROVIDERS: line 1: EOF while parsing"),
            (
                "[]",
                "QHUB_PROVIDERS: line 1: invalid type: sequence, expected a map",
            ),
            (
                r#"{"a": {"plugin": "p", "grants": []}}"#,
                "unknown field `grants`",
            ),
            (r#"{"a": {"grant": []}}"#, "missing field `plugin`"),
            (r#"{"A": {"plugin": "p"}}"#, "provider name \"A\""),
            (
                r#"{"a": {"plugin": "p", "grant": ["https://*:443"]}}"#,
                "grant entry \"https://*:443\"",
            ),
        ] {
            let err = parse(text, &[]).unwrap_err();
            assert!(err.to_string().contains(message), "{text}: {err}");
            assert!(err.hint.is_some(), "{text}: {err}");
        }
    }
}
