//! Which functions jco must treat as asynchronous, read from the WIT files so the
//! list can never drift from the contract: a world's imports of `sql` or `store`
//! reach D1 (a promise), and so its exports return promises too.

use std::path::Path;

use qhub_plugin_build::WIT_PACKAGE;

use crate::BuildError;

/// For a world: (async imports, async exports), as jco names them
/// (`qhub:plugin/sql@0.1.0#query`).
pub(crate) fn async_functions(
    wit_dir: &Path,
    world: &str,
) -> Result<(Vec<String>, Vec<String>), BuildError> {
    let (imported, exported) = match world {
        "store-backend" => ("sql", "store"),
        "account-core" => ("store", "accounts"),
        // Any other world has no asynchronous import in the Worker.
        _ => return Ok((Vec::new(), Vec::new())),
    };
    Ok((qualified(wit_dir, imported)?, qualified(wit_dir, exported)?))
}

fn qualified(wit_dir: &Path, interface: &str) -> Result<Vec<String>, BuildError> {
    let path = wit_dir.join(format!("{interface}.wit"));
    let text = std::fs::read_to_string(&path).map_err(|source| BuildError::Read {
        path: path.clone(),
        source,
    })?;
    let (package, version) = WIT_PACKAGE
        .split_once('@')
        .expect("the WIT package is versioned");
    let names = function_names(&text);
    if names.is_empty() {
        return Err(BuildError::Wit(path));
    }
    Ok(names
        .into_iter()
        .map(|f| format!("{package}/{interface}@{version}#{f}"))
        .collect())
}

/// The names of the functions an interface file declares (`name: func(...)`).
fn function_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let (name, rest) = line.split_once(':')?;
            let name = name.trim().trim_start_matches('%');
            let is_name = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            (is_name && rest.trim_start().starts_with("func(")).then(|| name.to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_function_names_and_skips_records_and_comments() {
        let text = "interface sql {\n  /// query: func() in a comment\n  record r { a: u32 }\n  \
                    query: func(stmt: statement) -> result;\n  %batch: func() -> u32;\n}\n";
        assert_eq!(function_names(text), ["query", "batch"]);
    }

    #[test]
    fn every_world_the_worker_runs_has_its_async_functions() {
        let wit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit");
        let (imports, exports) = async_functions(&wit, "account-core").unwrap();
        assert!(imports.contains(&"qhub:plugin/store@0.1.0#create-user".to_owned()));
        assert!(exports.contains(&"qhub:plugin/accounts@0.1.0#login".to_owned()));
        let (imports, _) = async_functions(&wit, "store-backend").unwrap();
        assert_eq!(
            imports,
            ["qhub:plugin/sql@0.1.0#query", "qhub:plugin/sql@0.1.0#batch"]
        );
    }
}
