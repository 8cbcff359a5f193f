//! Which functions jco must treat as asynchronous, read from the WIT files so the
//! list can never drift from the contract: a world's imports of `sql` or `store`
//! reach D1 (a promise), and so all its exports return promises too.

use std::path::Path;

use qhub_plugin_build::WIT_PACKAGE;

use crate::BuildError;

/// Imports whose host implementation waits for I/O (D1, a backend that waits for
/// D1, the network, a provider plugin that reaches the network): they are
/// asynchronous in JavaScript.
const ASYNC_IMPORTS: &[&str] = &["sql", "store", "http", "oauth"];

/// For a world: (async imports, async exports), as jco names them
/// (`qhub:plugin/sql@0.1.0#query`). A world with an asynchronous import has only
/// asynchronous exports, since any of them may reach that import.
pub(crate) fn async_functions(
    wit_dir: &Path,
    world: &str,
) -> Result<(Vec<String>, Vec<String>), BuildError> {
    let path = wit_dir.join("worlds.wit");
    let text = std::fs::read_to_string(&path).map_err(|source| BuildError::Read {
        path: path.clone(),
        source,
    })?;
    let (imports, exports) = world_items(&text, world);
    let mut async_imports = Vec::new();
    for interface in imports
        .iter()
        .filter(|i| ASYNC_IMPORTS.contains(&i.as_str()))
    {
        async_imports.extend(qualified(wit_dir, interface)?);
    }
    let mut async_exports = Vec::new();
    if !async_imports.is_empty() {
        for interface in &exports {
            async_exports.extend(qualified(wit_dir, interface)?);
        }
    }
    Ok((async_imports, async_exports))
}

/// The interfaces a world imports and exports (`import sql;`, `export store;`).
fn world_items(text: &str, world: &str) -> (Vec<String>, Vec<String>) {
    let (mut imports, mut exports) = (Vec::new(), Vec::new());
    let mut inside = false;
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("world ") {
            inside = rest.trim_end_matches('{').trim() == world;
            continue;
        }
        if !inside {
            continue;
        }
        if line.starts_with('}') {
            inside = false;
        } else if let Some(name) = line.strip_prefix("import ") {
            imports.push(name.trim_end_matches(';').trim().to_owned());
        } else if let Some(name) = line.strip_prefix("export ") {
            exports.push(name.trim_end_matches(';').trim().to_owned());
        }
    }
    (imports, exports)
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
    fn reads_a_worlds_imports_and_exports() {
        let text = "world a {\n  import sql;\n  export store;\n}\nworld b {\n  import store;\n  import config;\n  export accounts;\n}\n";
        assert_eq!(
            world_items(text, "b"),
            (
                vec!["store".to_owned(), "config".to_owned()],
                vec!["accounts".to_owned()]
            )
        );
        assert_eq!(world_items(text, "c"), (vec![], vec![]));
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
