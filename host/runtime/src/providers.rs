//! The operator's OAuth provider configuration: `providers.toml`, with config values
//! overridable from the environment (`QHUB_PROVIDER_<NAME>_<KEY>`).
//!
//! It lives in the runtime, not in the CLI, because every host that runs provider
//! plugins needs the same reading of it: the CLI (`qhub plugins inspect`, `qhub login
//! --provider`) and the HTTP server (`qhub serve`, whose crate depends on the runtime,
//! not on the CLI). Where the file is (`QHUB_HOME`, `QHUB_PROVIDERS`) stays the
//! CLI's business; this module only reads a path and an environment it is given.
//!
//! ```toml
//! [providers.github]            # the NAME used in `qhub login --provider NAME`
//! plugin = "oauth-github"       # an embedded or installed plugin
//! grant = ["https://github.com:443", "https://api.github.com:443"]
//! [providers.github.config]
//! client-id = "Iv1.0123456789abcdef"
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::grants::parse_grant;

/// The prefix of the environment variables that set provider config values.
pub const ENV_PREFIX: &str = "QHUB_PROVIDER_";

/// Every provider the operator configured, by name.
#[derive(Debug, Clone, Default)]
pub struct ProvidersConfig {
    /// The file read; `None` when there was none.
    pub path: Option<PathBuf>,
    pub providers: BTreeMap<String, ProviderConfig>,
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

const FORMAT_HINT: &str = "each provider is a [providers.NAME] table with plugin = \"PLUGIN\", \
     grant = [\"https://host:443\", ...] and an optional [providers.NAME.config] table of strings";

impl ProvidersConfig {
    /// Reads `path`. A missing file means no providers, unless `required` (the
    /// operator named the file explicitly). `env` is the process environment (or a
    /// test's stand-in); only `QHUB_PROVIDER_*` variables are looked at.
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

    /// Parses the file's text (`path` is for messages) and applies `env`.
    pub fn parse(
        text: &str,
        path: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<ProvidersConfig, ProvidersError> {
        let fail = |message: String, hint: Option<String>| ProvidersError {
            path: path.to_owned(),
            message,
            hint,
        };
        let file: File = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|span| format!("line {}: ", text[..span.start].matches('\n').count() + 1))
                .unwrap_or_default();
            fail(
                format!("{line}{}", e.message().trim_end()),
                Some(FORMAT_HINT.into()),
            )
        })?;

        let mut providers = BTreeMap::new();
        for (name, raw) in file.providers {
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
                None => tracing::warn!(
                    "{variable} matches no provider in providers.toml; it is ignored"
                ),
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

/// The candidate closest to `name` by edit distance, if close enough to be a typo.
pub fn nearest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(2);
    candidates
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
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
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("oauth-githb", "oauth-github"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(nearest("zzz", ["oauth-github"].into_iter()), None);
    }
}
