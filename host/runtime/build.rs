//! Embeds the migration files (`migrations/d1`, `migrations/postgres`) in the binary.
//!
//! This replaces `sqlx::migrate!`: that proc macro needs sqlx's `macros` feature,
//! which builds sqlx, its SQLite and PostgreSQL drivers and the SQLite C library a
//! second time, for the compiler, on every fresh build. Here the build script only
//! lists the files; `sql::migrate` turns them into sqlx `Migration`s with sqlx's own
//! rules (file names, checksums), and a test checks the result against sqlx's
//! resolver for the same directories.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
    let root = manifest_dir.join("../../migrations");
    println!("cargo:rerun-if-changed={}", root.display());

    let mut code = String::new();
    for (name, dir) in [("SQLITE_FILES", "d1"), ("POSTGRES_FILES", "postgres")] {
        let dir = root.join(dir);
        println!("cargo:rerun-if-changed={}", dir.display());
        writeln!(
            code,
            "/// `(file name, contents)` of `migrations/{}`, sorted by name.",
            dir.file_name().and_then(|n| n.to_str()).unwrap_or_default()
        )
        .expect("write to String");
        writeln!(code, "pub static {name}: &[(&str, &str)] = &[").expect("write to String");
        for file in sql_files(&dir) {
            let file_name = file
                .file_name()
                .and_then(|n| n.to_str())
                .expect("UTF-8 file name");
            let path = file.canonicalize().expect("migration file path");
            writeln!(
                code,
                "    ({file_name:?}, include_str!({:?})),",
                path.display().to_string()
            )
            .expect("write to String");
        }
        code.push_str("];\n");
    }
    std::fs::write(out_dir.join("migrations.rs"), code).expect("write migrations.rs");
}

/// The `.sql` files of `dir`, sorted by name.
fn sql_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_file() && path.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    files
}
