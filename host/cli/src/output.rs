//! Printing results: human text by default, one JSON document with `--json`.

use std::time::{Duration, UNIX_EPOCH};

use serde::Serialize;

/// Prints `value` as pretty JSON on stdout.
pub fn json<T: Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("output types always serialise")
    );
}

/// Milliseconds since the epoch as RFC 3339 UTC (`2026-11-26T05:28:50Z`).
pub fn timestamp(ms: i64) -> String {
    let time = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_seconds(time).to_string()
}
