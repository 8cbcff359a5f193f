//! PostgreSQL: the team/staging database.
//!
//! Statements run as unnamed prepared statements (`persistent(false)`): the
//! parameter types are those of each call's values, so the same statement text can
//! be run once with a NULL (bound as TEXT) and once with an integer. Backends cast
//! placeholders explicitly (`$1::uuid`), which the `sql` WIT documents.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgArguments, PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Arguments, AssertSqlSafe, Column, Executor, Row, TypeInfo, ValueRef};

use super::{Database, map_sqlx, sql_error};
use crate::bindings::sql::{ErrorKind, QueryResult, SqlError, Statement, Value};
use crate::error::{Error, Result};

/// Connects lazily: the pool opens connections on demand and replaces broken ones,
/// so a server keeps running while the database is down and recovers by itself.
pub(super) fn open_url(url: &str) -> Result<Database> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| Error::InvalidUrl(format!("invalid database URL: {e}")))?;
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy_with(options);
    Ok(Database::Postgres(pool))
}

pub(super) async fn batch(
    pool: &PgPool,
    stmts: Vec<Statement>,
) -> Result<Vec<QueryResult>, SqlError> {
    let mut tx = pool.begin().await.map_err(map_sqlx)?;
    let mut results = Vec::with_capacity(stmts.len());
    for stmt in stmts {
        results.push(run(&mut *tx, stmt).await?);
    }
    tx.commit().await.map_err(map_sqlx)?;
    Ok(results)
}

pub(super) async fn run<'c, E>(executor: E, stmt: Statement) -> Result<QueryResult, SqlError>
where
    E: Executor<'c, Database = sqlx::Postgres>,
{
    let mut args = PgArguments::default();
    for value in stmt.params {
        let bound = match value {
            Value::Null => args.add(None::<String>),
            Value::Integer(i) => args.add(i),
            Value::Real(r) => args.add(r),
            Value::Text(s) => args.add(s),
            Value::Blob(b) => args.add(b),
        };
        bound.map_err(|e| sql_error(ErrorKind::Query, e.to_string()))?;
    }
    // The text comes from a backend plugin and values are bound as parameters.
    let query = sqlx::query_with(AssertSqlSafe(stmt.sql), args).persistent(false);
    super::collect(
        executor,
        query,
        decode_row,
        sqlx::postgres::PgQueryResult::rows_affected,
    )
    .await
}

fn decode_row(row: &PgRow) -> Result<Vec<Value>, SqlError> {
    row.columns()
        .iter()
        .enumerate()
        .map(|(i, column)| {
            let raw = row.try_get_raw(i).map_err(map_sqlx)?;
            if raw.is_null() {
                return Ok(Value::Null);
            }
            let ty = raw.type_info().name().to_owned();
            let decoded = match ty.as_str() {
                "BOOL" => row.try_get::<bool, _>(i).map(|b| Value::Integer(b.into())),
                "INT2" => row.try_get::<i16, _>(i).map(|v| Value::Integer(v.into())),
                "INT4" => row.try_get::<i32, _>(i).map(|v| Value::Integer(v.into())),
                "INT8" => row.try_get::<i64, _>(i).map(Value::Integer),
                "FLOAT4" => row.try_get::<f32, _>(i).map(|v| Value::Real(v.into())),
                "FLOAT8" => row.try_get::<f64, _>(i).map(Value::Real),
                "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => row.try_get::<String, _>(i).map(Value::Text),
                "BYTEA" => row.try_get::<Vec<u8>, _>(i).map(Value::Blob),
                _ => {
                    return Err(sql_error(
                        ErrorKind::Query,
                        format!(
                            "column {:?} has type {ty}, which the sql contract cannot carry; cast it in the \
                             statement (e.g. ::text or ::bigint)",
                            column.name()
                        ),
                    ));
                }
            };
            decoded.map_err(map_sqlx)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmt(sql: &str, params: Vec<Value>) -> Statement {
        Statement {
            sql: sql.into(),
            params,
        }
    }

    #[tokio::test]
    async fn values_round_trip_and_unsupported_types_are_named() {
        let db = qhub_test_support::TempDatabase::create();
        let Database::Postgres(pool) = open_url(db.url()).unwrap() else {
            unreachable!()
        };
        let result = run(
            &pool,
            stmt(
                "SELECT $1::text AS n, $2::bigint AS i, $3::float8 AS r, $4::text AS t, $5::bytea AS b, true AS yes",
                vec![
                    Value::Null,
                    Value::Integer(-7),
                    Value::Real(1.5),
                    Value::Text("héllo".into()),
                    Value::Blob(vec![0, 255]),
                ],
            ),
        )
        .await
        .unwrap();
        assert_eq!(result.columns, ["n", "i", "r", "t", "b", "yes"]);
        assert!(matches!(
            result.rows[0].as_slice(),
            [Value::Null, Value::Integer(-7), Value::Real(r), Value::Text(t), Value::Blob(b), Value::Integer(1)]
                if *r == 1.5 && t == "héllo" && b == &[0, 255]
        ));
        // The same text with a NULL where an integer was: types follow each call.
        let again = run(&pool, stmt("SELECT $1::bigint AS i", vec![Value::Null]))
            .await
            .unwrap();
        assert!(matches!(again.rows[0][0], Value::Null));
        let again = run(
            &pool,
            stmt("SELECT $1::bigint AS i", vec![Value::Integer(3)]),
        )
        .await
        .unwrap();
        assert!(matches!(again.rows[0][0], Value::Integer(3)));

        let err = run(&pool, stmt("SELECT now() AS t", vec![]))
            .await
            .unwrap_err();
        assert!(
            err.message.contains("\"t\" has type TIMESTAMPTZ"),
            "{}",
            err.message
        );
        pool.close().await;
    }

    #[tokio::test]
    async fn constraint_names_are_reported_and_failed_batches_roll_back() {
        let db = qhub_test_support::TempDatabase::create();
        let Database::Postgres(pool) = open_url(db.url()).unwrap() else {
            unreachable!()
        };
        run(
            &pool,
            stmt("CREATE TABLE t (k text CONSTRAINT t_k_key UNIQUE)", vec![]),
        )
        .await
        .unwrap();
        let err = batch(
            &pool,
            vec![
                stmt("INSERT INTO t VALUES ('a')", vec![]),
                stmt("INSERT INTO t VALUES ('a')", vec![]),
            ],
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::UniqueViolation);
        assert_eq!(err.constraint.as_deref(), Some("t_k_key"));
        let count = run(&pool, stmt("SELECT count(*) AS n FROM t", vec![]))
            .await
            .unwrap();
        assert!(matches!(count.rows[0][0], Value::Integer(0)));
        pool.close().await;
    }

    #[tokio::test]
    async fn an_unreachable_server_is_a_connection_error() {
        let Database::Postgres(pool) = open_url("postgres://postgres@127.0.0.1:1/test").unwrap()
        else {
            unreachable!()
        };
        let err = run(&pool, stmt("SELECT 1", vec![])).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Connection, "{}", err.message);
    }
}
