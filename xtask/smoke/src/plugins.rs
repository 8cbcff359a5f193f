//! The plugin check: the component files a server says it runs (`GET /v1/plugins`)
//! against the ones of the local build (`qhub plugins list --json`).
//!
//! The rule, and why:
//! - Every plugin both sides list must have the same sha256: a mismatch means the
//!   server runs other bytes than the ones built and tested here.
//! - The server must list an account core (world `account-core`) and a storage
//!   backend (world `store-backend`), and both must be part of the local build:
//!   every QHub host runs exactly these two for every account request, so they are
//!   the bytes the smoke test exists to vouch for.
//! - A plugin of the local build that the server does not list is reported, not a
//!   failure: a host lists the one backend it uses (`store-postgres` or
//!   `store-d1`), and may list only the providers it is configured with.
//! - A plugin the server lists that the local build lacks (one an operator
//!   installed into the server's `QHUB_HOME/plugins`) is reported, not a failure,
//!   unless it is the account core or the backend (above): there are no local bytes
//!   to compare it with.

use serde::{Deserialize, Serialize};

/// One plugin as both `GET /v1/plugins` and `qhub plugins list --json` describe it
/// (other fields are ignored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plugin {
    pub name: String,
    pub version: String,
    /// The qualified WIT world, e.g. `qhub:plugin/store-backend@0.1.0`.
    pub world: String,
    /// Lowercase hex SHA-256 of the component file.
    pub sha256: String,
}

impl Plugin {
    /// The world's short name: `store-backend` for `qhub:plugin/store-backend@0.1.0`.
    fn world_name(&self) -> &str {
        let after_slash = self.world.rsplit('/').next().unwrap_or(&self.world);
        after_slash.split('@').next().unwrap_or(after_slash)
    }
}

/// What the comparison found for one plugin name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Listed by both, same sha256.
    Match,
    /// Listed by both, different sha256 (a failure).
    Mismatch,
    /// In the local build only (not a failure, see the module docs).
    NotOnServer,
    /// On the server only (a failure only for the account core or the backend).
    NotInBuild,
}

/// One row of the comparison, by plugin name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginRow {
    pub name: String,
    /// The server's sha256, if it lists the plugin.
    pub server_sha256: Option<String>,
    /// The local build's sha256, if it has the plugin.
    pub local_sha256: Option<String>,
    pub verdict: Verdict,
}

/// The outcome of [`compare`]: a row per plugin name (the server's order, then the
/// local build's remaining plugins) and the problems, empty when the check passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    pub rows: Vec<PluginRow>,
    /// One sentence per failure, e.g. `store-d1: the server runs sha256 ab12...,
    /// this build has cd34...`.
    pub problems: Vec<String>,
}

/// The worlds the server must run, each with a plugin of the local build.
const REQUIRED_WORLDS: &[(&str, &str)] = &[
    ("account-core", "an account core"),
    ("store-backend", "a storage backend"),
];

/// Compares the server's plugins with the local build's under the module's rule.
pub fn compare(local: &[Plugin], server: &[Plugin]) -> Comparison {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for remote in server {
        let mine = local.iter().find(|p| p.name == remote.name);
        let verdict = match mine {
            Some(mine) if mine.sha256 == remote.sha256 => Verdict::Match,
            Some(mine) => {
                problems.push(format!(
                    "{}: the server runs sha256 {} ({}), this build has {} ({})",
                    remote.name, remote.sha256, remote.version, mine.sha256, mine.version
                ));
                Verdict::Mismatch
            }
            None => Verdict::NotInBuild,
        };
        rows.push(PluginRow {
            name: remote.name.clone(),
            server_sha256: Some(remote.sha256.clone()),
            local_sha256: mine.map(|p| p.sha256.clone()),
            verdict,
        });
    }
    for mine in local {
        if !server.iter().any(|p| p.name == mine.name) {
            rows.push(PluginRow {
                name: mine.name.clone(),
                server_sha256: None,
                local_sha256: Some(mine.sha256.clone()),
                verdict: Verdict::NotOnServer,
            });
        }
    }
    for (world, what) in REQUIRED_WORLDS {
        let listed: Vec<&Plugin> = server.iter().filter(|p| p.world_name() == *world).collect();
        if listed.is_empty() {
            problems.push(format!(
                "the server lists no {what} (world {world}); every QHub host runs one"
            ));
        }
        for plugin in listed {
            if !local.iter().any(|p| p.name == plugin.name) {
                problems.push(format!(
                    "{}: the server's {what} is not part of this build, so its bytes cannot be checked",
                    plugin.name
                ));
            }
        }
    }
    Comparison { rows, problems }
}

impl Comparison {
    /// One line for the check's output: what matched, and what was not compared.
    pub fn summary(&self) -> String {
        let names = |verdict: Verdict| -> Vec<&str> {
            self.rows
                .iter()
                .filter(|r| r.verdict == verdict)
                .map(|r| r.name.as_str())
                .collect()
        };
        if !self.problems.is_empty() {
            return self.problems.join("; ");
        }
        let mut line = format!(
            "{} plugin(s) match this build: {}",
            names(Verdict::Match).len(),
            names(Verdict::Match).join(", ")
        );
        let not_on_server = names(Verdict::NotOnServer);
        if !not_on_server.is_empty() {
            line.push_str(&format!(
                "; not listed by the server: {}",
                not_on_server.join(", ")
            ));
        }
        let not_in_build = names(Verdict::NotInBuild);
        if !not_in_build.is_empty() {
            line.push_str(&format!(
                "; not in this build, not compared: {}",
                not_in_build.join(", ")
            ));
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin(name: &str, world: &str, sha: &str) -> Plugin {
        Plugin {
            name: name.into(),
            version: "0.1.0".into(),
            world: format!("qhub:plugin/{world}@0.1.0"),
            sha256: sha.into(),
        }
    }

    fn local() -> Vec<Plugin> {
        vec![
            plugin("auth", "account-core", "aa"),
            plugin("store-d1", "store-backend", "dd"),
            plugin("store-postgres", "store-backend", "pp"),
            plugin("oauth-oidc", "oauth-provider-plugin", "oo"),
        ]
    }

    /// Compares `server` with [`local`] and checks the verdicts by name and the
    /// number of problems.
    #[track_caller]
    fn check(server: &[Plugin], verdicts: &[(&str, Verdict)], problems: usize) {
        let comparison = compare(&local(), server);
        let got: Vec<(&str, Verdict)> = comparison
            .rows
            .iter()
            .map(|r| (r.name.as_str(), r.verdict))
            .collect();
        assert_eq!(got, verdicts, "{comparison:#?}");
        assert_eq!(comparison.problems.len(), problems, "{comparison:#?}");
    }

    use Verdict::*;

    #[test]
    fn a_server_running_the_same_core_and_backend_passes() {
        check(
            &[
                plugin("auth", "account-core", "aa"),
                plugin("store-d1", "store-backend", "dd"),
            ],
            &[
                ("auth", Match),
                ("store-d1", Match),
                ("store-postgres", NotOnServer),
                ("oauth-oidc", NotOnServer),
            ],
            0,
        );
    }

    #[test]
    fn any_hash_mismatch_fails() {
        check(
            &[
                plugin("auth", "account-core", "aa"),
                plugin("store-d1", "store-backend", "dd"),
                plugin("oauth-oidc", "oauth-provider-plugin", "XX"),
            ],
            &[
                ("auth", Match),
                ("store-d1", Match),
                ("oauth-oidc", Mismatch),
                ("store-postgres", NotOnServer),
            ],
            1,
        );
        let comparison = compare(
            &local(),
            &[
                plugin("auth", "account-core", "XX"),
                plugin("store-d1", "store-backend", "dd"),
            ],
        );
        assert_eq!(
            comparison.problems,
            ["auth: the server runs sha256 XX (0.1.0), this build has aa (0.1.0)"]
        );
        assert_eq!(comparison.summary(), comparison.problems[0]);
    }

    #[test]
    fn a_server_without_core_or_backend_fails() {
        check(
            &[plugin("store-d1", "store-backend", "dd")],
            &[
                ("store-d1", Match),
                ("auth", NotOnServer),
                ("store-postgres", NotOnServer),
                ("oauth-oidc", NotOnServer),
            ],
            1,
        );
        check(
            &[],
            &[
                ("auth", NotOnServer),
                ("store-d1", NotOnServer),
                ("store-postgres", NotOnServer),
                ("oauth-oidc", NotOnServer),
            ],
            2,
        );
    }

    #[test]
    fn an_installed_provider_is_reported_but_a_foreign_backend_fails() {
        check(
            &[
                plugin("auth", "account-core", "aa"),
                plugin("store-d1", "store-backend", "dd"),
                plugin("oauth-corp", "oauth-provider-plugin", "cc"),
            ],
            &[
                ("auth", Match),
                ("store-d1", Match),
                ("oauth-corp", NotInBuild),
                ("store-postgres", NotOnServer),
                ("oauth-oidc", NotOnServer),
            ],
            0,
        );
        check(
            &[
                plugin("auth", "account-core", "aa"),
                plugin("store-mysql", "store-backend", "mm"),
            ],
            &[
                ("auth", Match),
                ("store-mysql", NotInBuild),
                ("store-d1", NotOnServer),
                ("store-postgres", NotOnServer),
                ("oauth-oidc", NotOnServer),
            ],
            1,
        );
    }

    #[test]
    fn the_summary_names_what_was_compared_and_what_was_not() {
        let comparison = compare(
            &local(),
            &[
                plugin("auth", "account-core", "aa"),
                plugin("store-d1", "store-backend", "dd"),
                plugin("oauth-corp", "oauth-provider-plugin", "cc"),
            ],
        );
        assert_eq!(
            comparison.summary(),
            "2 plugin(s) match this build: auth, store-d1; not listed by the server: \
             store-postgres, oauth-oidc; not in this build, not compared: oauth-corp"
        );
    }
}
