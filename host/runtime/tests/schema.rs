//! The D1/SQLite schema (`migrations/d1`) and the PostgreSQL schema
//! (`migrations/postgres`) are one logical schema: the same tables, the same
//! columns with the same nullability, the same primary keys and unique constraints
//! under the same names, and the same other indexes. Each migration set is applied
//! to a real, empty database, both are introspected into the same shape, and the
//! shapes must be equal. Types, defaults, CHECKs and triggers are dialect matters
//! and are not compared.
//!
//! PostgreSQL must be running (see `qhub_test_support`); these tests fail, never
//! skip, without it.

#![expect(clippy::unwrap_used, reason = "a test fails by panicking")]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use qhub_test_support::TempDatabase;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPool;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

/// One table, described the same way for both dialects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Table {
    /// Column name -> whether it is NOT NULL.
    columns: BTreeMap<String, bool>,
    /// Constraint name -> its columns, in order: the primary key and the UNIQUE
    /// constraints.
    unique: BTreeMap<String, Vec<String>>,
    /// Index name -> its columns, in order: the indexes no constraint created.
    indexes: BTreeMap<String, Vec<String>>,
}

/// Table name -> table, without the migrator's bookkeeping table.
type Schema = BTreeMap<String, Table>;

const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

/// The tables the migrations create; checked so that two empty introspections
/// cannot pass as equal.
const TABLES: [&str; 8] = [
    "api_keys",
    "login_throttles",
    "oauth_connections",
    "quantum_jobs",
    "usage_records",
    "user_preferences",
    "user_sessions",
    "users",
];

fn migrations(dialect: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations")
        .join(dialect)
}

#[tokio::test]
async fn d1_and_postgres_schemas_are_logically_equal() {
    let dir = tempfile::tempdir().unwrap();
    let d1 = sqlite_schema_of(&migrations("d1"), dir.path()).await;
    let database = TempDatabase::create();
    let postgres = postgres_schema_of(&database).await;

    assert_eq!(d1.keys().map(String::as_str).collect::<Vec<_>>(), TABLES);
    assert_schemas_equal(&d1, &postgres);
}

/// Guards the comparison itself: a D1 schema altered in each compared respect must
/// be reported with exactly those differences, and nothing else.
#[tokio::test]
async fn the_comparison_reports_every_kind_of_difference() {
    let original = std::fs::read_to_string(migrations("d1").join("0001_init.sql")).unwrap();
    let altered = [
        // A column loses its NOT NULL.
        ("    name TEXT NOT NULL,\n", "    name TEXT,\n"),
        // A column disappears.
        ("    ip TEXT,\n", ""),
        // A unique constraint is renamed.
        (
            "CONSTRAINT users_email_key UNIQUE (email)",
            "CONSTRAINT users_mail_key UNIQUE (email)",
        ),
        // A unique constraint loses its name (SQLite then calls it sqlite_autoindex_*).
        (
            "CONSTRAINT api_keys_prefix_key UNIQUE (prefix)",
            "UNIQUE (prefix)",
        ),
        // An index changes columns.
        (
            "ON quantum_jobs (user_id, status, created_at);",
            "ON quantum_jobs (user_id, created_at, status);",
        ),
        // An index is renamed.
        (
            "CREATE INDEX idx_api_keys_user_id\n",
            "CREATE INDEX idx_api_keys_owner\n",
        ),
    ]
    .iter()
    .fold(original, |sql, (from, to)| {
        assert_eq!(
            sql.matches(from).count(),
            1,
            "migrations/d1/0001_init.sql should contain {from:?} exactly once; update this test"
        );
        sql.replace(from, to)
    });
    let altered_dir = tempfile::tempdir().unwrap();
    // The later migrations apply unaltered, so that they add no difference.
    for entry in std::fs::read_dir(migrations("d1")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, altered_dir.path().join(path.file_name().unwrap())).unwrap();
    }
    std::fs::write(altered_dir.path().join("0001_init.sql"), altered).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let d1 = sqlite_schema_of(altered_dir.path(), dir.path()).await;
    let database = TempDatabase::create();
    let postgres = postgres_schema_of(&database).await;

    let expected = [
        "api_keys.name: d1 NULL, postgres NOT NULL",
        "api_keys: unique constraint api_keys_prefix_key: only in postgres (prefix)",
        "api_keys: unique constraint sqlite_autoindex_api_keys_3 (unnamed, name it): \
         only in d1 (prefix)",
        "api_keys: index idx_api_keys_owner: only in d1 (user_id)",
        "api_keys: index idx_api_keys_user_id: only in postgres (user_id)",
        "quantum_jobs: index idx_quantum_jobs_user_id_status_created_at: \
         d1 (user_id, created_at, status), postgres (user_id, status, created_at)",
        "user_sessions.ip: only in postgres",
        "users: unique constraint users_email_key: only in postgres (email)",
        "users: unique constraint users_mail_key: only in d1 (email)",
    ];
    assert_eq!(differences(&d1, &postgres), expected);
}

/// The down migration drops everything the up migration created, and the up
/// migration then applies again to the same schema.
#[tokio::test]
async fn the_postgres_down_migration_leaves_nothing_behind() {
    let database = TempDatabase::create();
    let pool = PgPool::connect(database.url()).await.unwrap();
    let migrator = Migrator::new(migrations("postgres").as_path())
        .await
        .unwrap();
    migrator.run(&pool).await.unwrap();
    let before = postgres_schema(&pool).await;
    assert_eq!(before.len(), TABLES.len());

    migrator.undo(&pool, 0).await.unwrap();
    let leftovers: Vec<String> = sqlx::query_scalar(
        "SELECT format('%s %s', kind, name) FROM ( \
             SELECT 'relation' AS kind, c.relname::text AS name \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relname NOT LIKE '\\_sqlx\\_migrations%' \
             UNION ALL \
             SELECT 'function', p.proname::text \
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
             WHERE n.nspname = 'public' \
             UNION ALL \
             SELECT 'type', t.typname::text \
             FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
             WHERE n.nspname = 'public' AND t.typname NOT LIKE '%\\_sqlx\\_migrations' \
         ) objects ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        leftovers,
        Vec::<String>::new(),
        "left behind by the down migrations"
    );

    migrator.run(&pool).await.unwrap();
    assert_eq!(postgres_schema(&pool).await, before);
    pool.close().await;
}

// ---- comparison --------------------------------------------------------------

#[track_caller]
fn assert_schemas_equal(d1: &Schema, postgres: &Schema) {
    let differences = differences(d1, postgres);
    assert!(
        differences.is_empty(),
        "migrations/d1 and migrations/postgres describe different schemas:\n  {}",
        differences.join("\n  ")
    );
}

/// Every difference between the two schemas, one line each, naming both sides.
fn differences(d1: &Schema, postgres: &Schema) -> Vec<String> {
    let mut lines = Vec::new();
    for name in keys(d1, postgres) {
        match (d1.get(name), postgres.get(name)) {
            (Some(_), None) => lines.push(format!("table {name}: only in d1")),
            (None, Some(_)) => lines.push(format!("table {name}: only in postgres")),
            (Some(left), Some(right)) => table_differences(name, left, right, &mut lines),
            (None, None) => unreachable!("the name comes from one of the maps"),
        }
    }
    lines
}

fn table_differences(table: &str, d1: &Table, postgres: &Table, lines: &mut Vec<String>) {
    let nullability = |not_null: bool| if not_null { "NOT NULL" } else { "NULL" };
    for column in keys(&d1.columns, &postgres.columns) {
        let prefix = format!("{table}.{column}");
        match (d1.columns.get(column), postgres.columns.get(column)) {
            (Some(_), None) => lines.push(format!("{prefix}: only in d1")),
            (None, Some(_)) => lines.push(format!("{prefix}: only in postgres")),
            (Some(&left), Some(&right)) if left != right => lines.push(format!(
                "{prefix}: d1 {}, postgres {}",
                nullability(left),
                nullability(right)
            )),
            _ => {}
        }
    }
    for (what, left, right) in [
        ("unique constraint", &d1.unique, &postgres.unique),
        ("index", &d1.indexes, &postgres.indexes),
    ] {
        for name in keys(left, right) {
            let prefix = format!("{table}: {what} {name}");
            match (left.get(name), right.get(name)) {
                (Some(columns), None) => {
                    lines.push(format!("{prefix}: only in d1 ({})", columns.join(", ")));
                }
                (None, Some(columns)) => {
                    lines.push(format!(
                        "{prefix}: only in postgres ({})",
                        columns.join(", ")
                    ));
                }
                (Some(l), Some(r)) if l != r => lines.push(format!(
                    "{prefix}: d1 ({}), postgres ({})",
                    l.join(", "),
                    r.join(", ")
                )),
                _ => {}
            }
        }
    }
}

/// The keys of both maps, sorted, each once.
fn keys<'a, V>(left: &'a BTreeMap<String, V>, right: &'a BTreeMap<String, V>) -> BTreeSet<&'a str> {
    left.keys()
        .chain(right.keys())
        .map(String::as_str)
        .collect()
}

// ---- SQLite ------------------------------------------------------------------

/// Applies the migrations in `dir` to a new SQLite file under `scratch` and
/// introspects the result.
async fn sqlite_schema_of(dir: &Path, scratch: &Path) -> Schema {
    let options = SqliteConnectOptions::new()
        .filename(scratch.join("schema.db"))
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    Migrator::new(dir).await.unwrap().run(&pool).await.unwrap();
    let schema = sqlite_schema(&pool).await;
    pool.close().await;
    schema
}

/// SQLite names the indexes behind PRIMARY KEY and UNIQUE constraints
/// `sqlite_autoindex_<table>_<n>` and keeps no other record of a constraint's name
/// than the CREATE TABLE text, so names come from that text and columns from the
/// pragmas. A constraint without a name keeps its autoindex name, marked, so the
/// comparison shows it.
async fn sqlite_schema(pool: &SqlitePool) -> Schema {
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master \
         WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> ?1",
    )
    .bind(MIGRATIONS_TABLE)
    .fetch_all(pool)
    .await
    .unwrap();
    let mut schema = Schema::new();
    for (name, create_sql) in tables {
        let named = named_constraints(&create_sql);
        let name_for = |kind: Kind, columns: &[String]| {
            named
                .iter()
                .find(|constraint| constraint.kind == kind && constraint.columns == columns)
                .map(|constraint| constraint.name.clone())
        };
        let mut table = Table::default();

        // (name, notnull, position in the primary key or 0).
        let columns: Vec<(String, i64, i64)> =
            sqlx::query_as("SELECT name, \"notnull\", pk FROM pragma_table_info(?1) ORDER BY cid")
                .bind(&name)
                .fetch_all(pool)
                .await
                .unwrap();
        let mut primary_key: Vec<(i64, String)> = Vec::new();
        for (column, not_null, pk) in columns {
            if pk > 0 {
                primary_key.push((pk, column.clone()));
            }
            table.columns.insert(column, not_null != 0);
        }
        primary_key.sort();
        let primary_key: Vec<String> = primary_key.into_iter().map(|(_, c)| c).collect();
        if !primary_key.is_empty() {
            let key = name_for(Kind::PrimaryKey, &primary_key)
                .unwrap_or_else(|| format!("{name} primary key (unnamed, name it)"));
            table.unique.insert(key, primary_key);
        }

        let indexes: Vec<(String, String)> =
            sqlx::query_as("SELECT name, origin FROM pragma_index_list(?1)")
                .bind(&name)
                .fetch_all(pool)
                .await
                .unwrap();
        for (index, origin) in indexes {
            let columns: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")
                    .bind(&index)
                    .fetch_all(pool)
                    .await
                    .unwrap();
            match origin.as_str() {
                // Read from pragma_table_info above, which also covers a rowid alias.
                "pk" => {}
                "u" => {
                    let key = name_for(Kind::Unique, &columns)
                        .unwrap_or_else(|| format!("{index} (unnamed, name it)"));
                    table.unique.insert(key, columns);
                }
                _ => {
                    table.indexes.insert(index, columns);
                }
            }
        }
        schema.insert(name, table);
    }
    schema
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    PrimaryKey,
    Unique,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct NamedConstraint {
    name: String,
    kind: Kind,
    columns: Vec<String>,
}

/// The `CONSTRAINT <name> PRIMARY KEY (...)` and `CONSTRAINT <name> UNIQUE (...)`
/// clauses of a CREATE TABLE statement. Other constraints (FOREIGN KEY, CHECK) are
/// skipped; comments are removed first so that none can look like a clause.
fn named_constraints(create_sql: &str) -> Vec<NamedConstraint> {
    let sql: String = create_sql
        .lines()
        .map(|line| line.split_once("--").map_or(line, |(code, _)| code))
        .collect::<Vec<_>>()
        .join(" ");
    let words: Vec<&str> = sql
        .split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
        .filter(|word| !word.is_empty())
        .collect();
    let mut constraints = Vec::new();
    for (at, word) in words.iter().enumerate() {
        if !word.eq_ignore_ascii_case("CONSTRAINT") {
            continue;
        }
        let Some(name) = words.get(at + 1) else {
            continue;
        };
        let (kind, last_keyword) = match words.get(at + 2..at + 4) {
            Some([primary, key])
                if primary.eq_ignore_ascii_case("PRIMARY") && key.eq_ignore_ascii_case("KEY") =>
            {
                (Kind::PrimaryKey, key)
            }
            Some([unique, _]) if unique.eq_ignore_ascii_case("UNIQUE") => (Kind::Unique, unique),
            _ => continue,
        };
        // The column list is the parenthesised group right after the keywords.
        let clause = text_after(&sql, last_keyword);
        let columns = clause
            .trim_start()
            .strip_prefix('(')
            .and_then(|list| list.split_once(')'))
            .map(|(list, _)| {
                list.split(',')
                    .filter_map(|column| column.split_whitespace().next())
                    .map(unquote)
                    .collect()
            })
            .unwrap_or_else(|| {
                panic!("cannot read the columns of constraint {name} in:\n{create_sql}")
            });
        constraints.push(NamedConstraint {
            name: unquote(name),
            kind,
            columns,
        });
    }
    constraints
}

/// The text of `sql` after `word`, one of the words [`named_constraints`] split it
/// into: every word is a subslice of `sql`, so its offset is a pointer difference.
fn text_after<'a>(sql: &'a str, word: &str) -> &'a str {
    let end = word.as_ptr() as usize - sql.as_ptr() as usize + word.len();
    &sql[end..]
}

fn unquote(identifier: &str) -> String {
    identifier
        .trim_matches(|c| matches!(c, '"' | '`' | '[' | ']'))
        .to_owned()
}

// ---- PostgreSQL --------------------------------------------------------------

async fn postgres_schema_of(database: &TempDatabase) -> Schema {
    let pool = PgPool::connect(database.url()).await.unwrap();
    Migrator::new(migrations("postgres").as_path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    let schema = postgres_schema(&pool).await;
    pool.close().await;
    schema
}

async fn postgres_schema(pool: &PgPool) -> Schema {
    let mut schema = Schema::new();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> $1",
    )
    .bind(MIGRATIONS_TABLE)
    .fetch_all(pool)
    .await
    .unwrap();
    for table in tables {
        schema.insert(table, Table::default());
    }

    let columns: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, is_nullable = 'NO' \
         FROM information_schema.columns WHERE table_schema = 'public'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (table, column, not_null) in columns {
        if let Some(table) = schema.get_mut(&table) {
            table.columns.insert(column, not_null);
        }
    }

    let constraints: Vec<(String, String, Vec<String>)> = sqlx::query_as(
        "SELECT t.relname::text, c.conname::text, \
                 array(SELECT a.attname::text \
                       FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, position) \
                       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum \
                       ORDER BY k.position) \
         FROM pg_constraint c \
         JOIN pg_class t ON t.oid = c.conrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = 'public' AND c.contype IN ('p', 'u')",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (table, name, columns) in constraints {
        if let Some(table) = schema.get_mut(&table) {
            table.unique.insert(name, columns);
        }
    }

    // The indexes that no primary key, unique or exclusion constraint owns; an
    // expression column shows as its expression.
    let indexes: Vec<(String, String, Vec<String>)> = sqlx::query_as(
        "SELECT t.relname::text, i.relname::text, \
                 array(SELECT pg_get_indexdef(x.indexrelid, k, true) \
                       FROM generate_series(1, x.indnkeyatts) AS k ORDER BY k) \
         FROM pg_index x \
         JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = 'public' AND NOT EXISTS ( \
             SELECT 1 FROM pg_constraint c \
             WHERE c.conindid = x.indexrelid AND c.contype IN ('p', 'u', 'x'))",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (table, name, columns) in indexes {
        if let Some(table) = schema.get_mut(&table) {
            table.indexes.insert(name, columns);
        }
    }
    schema
}

#[test]
fn constraint_names_are_read_from_create_table_text() {
    let sql = "CREATE TABLE t (\n\
               id TEXT NOT NULL, -- CONSTRAINT fake UNIQUE (nope)\n\
               a TEXT, b TEXT,\n\
               CONSTRAINT t_pkey PRIMARY KEY (id),\n\
               CONSTRAINT \"t_a_b_key\" UNIQUE (a, b COLLATE NOCASE),\n\
               CONSTRAINT t_a_fkey FOREIGN KEY (a) REFERENCES u (id),\n\
               CONSTRAINT t_b_check CHECK (b <> '')\n\
               )";
    let strings = |columns: &[&str]| columns.iter().map(|c| (*c).to_owned()).collect();
    assert_eq!(
        named_constraints(sql),
        vec![
            NamedConstraint {
                name: "t_pkey".into(),
                kind: Kind::PrimaryKey,
                columns: strings(&["id"]),
            },
            NamedConstraint {
                name: "t_a_b_key".into(),
                kind: Kind::Unique,
                columns: strings(&["a", "b"]),
            },
        ]
    );
}
