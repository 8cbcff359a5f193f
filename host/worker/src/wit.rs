//! Which functions jco must treat as asynchronous, read from the WIT package with
//! `wit-parser` so the list can never drift from the contract: a world's imports
//! of `sql`, `store`, `http`, `oauth` or `fetch` wait for I/O in JavaScript (a promise), and
//! so all its exports return promises too.

use std::path::Path;

use wit_parser::{Resolve, WorldItem};

use crate::BuildError;

/// Imports whose host implementation waits for I/O (D1, a backend that waits for
/// D1, the network, a provider plugin that reaches the network, the gateway's one
/// `fetch`): they are
/// asynchronous in JavaScript.
const ASYNC_IMPORTS: &[&str] = &["sql", "store", "http", "oauth", "fetch"];

/// For a world of the package in `wit_dir` or of one of its `deps/` (a short name,
/// `account-core`, or a qualified one, `qhub:provider/oauth-provider-plugin@0.1.0`):
/// (async imports, async exports), as
/// jco names them (`qhub:plugin/sql@0.1.0#query`). A world with an asynchronous
/// import has only asynchronous exports, since any of them may reach that import.
pub(crate) fn async_functions(
    wit_dir: &Path,
    world: &str,
) -> Result<(Vec<String>, Vec<String>), BuildError> {
    let invalid = |e: anyhow::Error| BuildError::Wit {
        path: wit_dir.to_owned(),
        reason: format!("{e:#}"),
    };
    let mut resolve = Resolve::default();
    let (package, _) = resolve.push_dir(wit_dir).map_err(invalid)?;
    let world = resolve
        .select_world(&[package], Some(world))
        .map_err(invalid)?;
    let functions = |items: &mut dyn Iterator<Item = &WorldItem>, only_async: bool| {
        let mut names = Vec::new();
        for item in items {
            let WorldItem::Interface { id, .. } = item else {
                continue;
            };
            let interface = &resolve.interfaces[*id];
            let name = interface.name.as_deref().unwrap_or_default();
            if only_async && !ASYNC_IMPORTS.contains(&name) {
                continue;
            }
            let Some(qualified) = resolve.id_of(*id) else {
                continue;
            };
            names.extend(
                interface
                    .functions
                    .keys()
                    .map(|f| format!("{qualified}#{f}")),
            );
        }
        names
    };
    let world = &resolve.worlds[world];
    let async_imports = functions(&mut world.imports.values(), true);
    let async_exports = if async_imports.is_empty() {
        Vec::new()
    } else {
        functions(&mut world.exports.values(), false)
    };
    Ok((async_imports, async_exports))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_world_the_worker_runs_has_its_async_functions() {
        let wit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit");
        let (imports, exports) = async_functions(&wit, "account-core").unwrap();
        assert!(imports.contains(&"qhub:plugin/store@0.1.0#create-user".to_owned()));
        assert!(imports.contains(&"qhub:plugin/oauth@0.1.0#fetch-identity".to_owned()));
        assert!(
            !imports.iter().any(|f| f.contains("/config@")),
            "{imports:?}"
        );
        assert!(exports.contains(&"qhub:plugin/accounts@0.1.0#login".to_owned()));
        assert!(exports.contains(&"qhub:plugin/api@0.1.0#handle".to_owned()));
        let (imports, _) = async_functions(&wit, "store-backend").unwrap();
        assert_eq!(
            imports,
            ["qhub:plugin/sql@0.1.0#query", "qhub:plugin/sql@0.1.0#batch"]
        );
        let (imports, exports) =
            async_functions(&wit, "qhub:provider/oauth-provider-plugin@0.1.0").unwrap();
        assert_eq!(imports, ["qhub:provider/http@0.1.0#send"]);
        assert!(exports.contains(&"qhub:provider/oauth-provider@0.1.0#fetch-identity".to_owned()));
        let (imports, exports) = async_functions(&wit, "provider-gateway").unwrap();
        assert_eq!(imports, ["qhub:plugin/fetch@0.1.0#send"]);
        assert!(
            exports.contains(&"qhub:provider/http@0.1.0#send".to_owned()),
            "{exports:?}"
        );
        assert!(exports.contains(&"qhub:plugin/gateway@0.1.0#allow".to_owned()));
        let (imports, _) = async_functions(&wit, "qhub:plugin/store-backend@0.1.0").unwrap();
        assert_eq!(imports.len(), 2, "{imports:?}");
        assert!(async_functions(&wit, "no-such-world").is_err());
    }
}
