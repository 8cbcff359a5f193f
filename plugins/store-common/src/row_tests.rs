//! Tests of the row decoder, for hosts that hand back integers exactly
//! (PostgreSQL) and for those that may hand them back as reals (D1).

use super::*;

/// Reading rows whose whole numbers may arrive as reals, as from D1.
mod integral_reals {
    use super::*;

    fn row<'a>(columns: &'a [String], values: &'a [Value]) -> Row<'a> {
        Row {
            columns,
            values,
            integers: Integers::OrIntegralReals,
        }
    }

    fn columns() -> Vec<String> {
        ["name", "count", "maybe", "scopes", "ratio", "flag"]
            .map(str::to_owned)
            .to_vec()
    }

    fn values() -> Vec<Value> {
        vec![
            Value::Text("ada".to_owned()),
            Value::Integer(3),
            Value::Null,
            Value::Text(r#"["jobs:read","jobs:write"]"#.to_owned()),
            Value::Real(1_700_000_000_000.0),
            Value::Blob(vec![1]),
        ]
    }

    #[test]
    fn reads_columns_by_name() {
        let (columns, values) = (columns(), values());
        let row = row(&columns, &values);
        assert_eq!(row.text("name"), Ok("ada".to_owned()));
        assert_eq!(row.int("count"), Ok(3));
        assert_eq!(row.uint::<u32>("count"), Ok(3));
        assert_eq!(row.opt_text("maybe"), Ok(None));
        assert_eq!(row.opt_int("maybe"), Ok(None));
        assert_eq!(row.int("ratio"), Ok(1_700_000_000_000));
        assert_eq!(
            row.string_list("scopes"),
            Ok(vec!["jobs:read".to_owned(), "jobs:write".to_owned()])
        );
    }

    #[test]
    fn errors_name_the_column() {
        let (columns, values) = (columns(), values());
        let row = row(&columns, &values);
        assert_eq!(row.text("nope"), Err(DecodeError::MissingColumn("nope")));
        assert_eq!(
            row.text("count"),
            Err(DecodeError::WrongType {
                column: "count",
                expected: "text",
                found: "integer"
            })
        );
        assert_eq!(
            row.int("maybe"),
            Err(DecodeError::WrongType {
                column: "maybe",
                expected: "integer",
                found: "null"
            })
        );
        assert_eq!(
            row.opt_int("flag"),
            Err(DecodeError::WrongType {
                column: "flag",
                expected: "integer",
                found: "blob"
            })
        );
        assert!(matches!(
            row.string_list("name"),
            Err(DecodeError::Invalid { column: "name", .. })
        ));
        let message = StoreError::from(row.text("count").expect_err("count is not text"));
        assert!(
            matches!(&message, StoreError::Internal(m) if m.contains("`count`")),
            "{message:?}"
        );
    }

    #[test]
    fn rejects_inexact_reals_and_out_of_range() {
        let columns = ["a", "b", "c"].map(str::to_owned).to_vec();
        let values = vec![Value::Real(1.5), Value::Integer(-1), Value::Real(1e300)];
        let row = row(&columns, &values);
        assert!(matches!(
            row.int("a"),
            Err(DecodeError::WrongType { found: "real", .. })
        ));
        assert_eq!(
            row.uint::<u32>("b"),
            Err(DecodeError::OutOfRange {
                column: "b",
                value: -1
            })
        );
        assert!(matches!(row.int("c"), Err(DecodeError::WrongType { .. })));
    }

    #[test]
    fn short_rows_are_missing_columns() {
        let columns = ["a", "b"].map(str::to_owned).to_vec();
        let values = vec![Value::Integer(1)];
        let row = row(&columns, &values);
        assert_eq!(row.int("b"), Err(DecodeError::MissingColumn("b")));
    }
}

/// Reading rows whose integers always arrive as integers, as from PostgreSQL.
mod exact {
    use super::*;

    fn result() -> QueryResult {
        QueryResult {
            columns: ["name", "count", "maybe", "scopes", "ratio"]
                .map(str::to_owned)
                .to_vec(),
            rows: vec![
                vec![
                    Value::Text("ada".to_owned()),
                    Value::Integer(3),
                    Value::Null,
                    // jsonb's text form, with its spaces.
                    Value::Text(r#"["jobs:read", "jobs:write"]"#.to_owned()),
                    Value::Real(1.0),
                ],
                vec![Value::Text("short row".to_owned())],
            ],
            rows_affected: 0,
        }
    }

    #[test]
    fn reads_columns_by_name() {
        let result = result();
        let row = rows(&result, Integers::Exact).next().expect("a row");
        assert_eq!(row.text("name").ok(), Some("ada".to_owned()));
        assert_eq!(row.int("count").ok(), Some(3));
        assert_eq!(row.uint::<u32>("count").ok(), Some(3));
        assert_eq!(row.opt_text("maybe").ok(), Some(None));
        assert_eq!(row.opt_int("maybe").ok(), Some(None));
        assert_eq!(
            row.string_list("scopes").ok(),
            Some(vec!["jobs:read".to_owned(), "jobs:write".to_owned()])
        );
    }

    #[test]
    fn errors_name_the_column() {
        let result = result();
        let mut rows = rows(&result, Integers::Exact);
        let row = rows.next().expect("a row");
        internal(row.text("nope"), "`nope` is missing");
        internal(row.text("count"), "`count` holds integer, expected text");
        internal(row.int("maybe"), "`maybe` holds null, expected integer");
        // Times come back as bigint; a float means the select list lacks its cast.
        internal(row.int("ratio"), "`ratio` holds real, expected integer");
        internal(row.string_list("name"), "`name` is not a json array");
        let short = rows.next().expect("a second row");
        internal(short.int("count"), "`count` is missing");
    }

    #[test]
    fn out_of_range_integers_are_refused() {
        let columns = vec!["n".to_owned()];
        let values = vec![Value::Integer(-1)];
        let row = Row {
            columns: &columns,
            values: &values,
            integers: Integers::Exact,
        };
        internal(row.uint::<u32>("n"), "holds -1, out of range");
    }
}

/// Asserts that `result` is a decoding failure whose `internal` message (the one
/// the logs get) contains `fragment`.
#[track_caller]
fn internal<T: std::fmt::Debug>(result: Result<T, DecodeError>, fragment: &str) {
    match result.map_err(StoreError::from) {
        Err(StoreError::Internal(message)) => {
            assert!(message.contains(fragment), "{message:?} lacks {fragment:?}");
        }
        other => panic!("expected an internal error, got {other:?}"),
    }
}

#[test]
fn helpers_over_results() {
    for integers in [Integers::Exact, Integers::OrIntegralReals] {
        let decode: Decode<i64> = |row| row.int("n");
        let result = QueryResult {
            columns: vec!["n".to_owned()],
            rows: vec![vec![Value::Integer(1)], vec![Value::Integer(2)]],
            rows_affected: 0,
        };
        assert_eq!(all(&result, integers, decode).ok(), Some(vec![1, 2]));
        assert_eq!(first(&result, integers, decode).ok(), Some(Some(1)));
        let empty = QueryResult {
            columns: vec!["n".to_owned()],
            rows: vec![],
            rows_affected: 0,
        };
        assert_eq!(first(&empty, integers, decode).ok(), Some(None));
        match returned(&empty, integers, decode) {
            Err(StoreError::Internal(message)) => {
                assert!(message.contains("returned no row"), "{message:?}");
            }
            other => panic!("expected an internal error, got {other:?}"),
        }
    }
}
