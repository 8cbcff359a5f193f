//! How values cross the host boundary in the PostgreSQL dialect: select lists that
//! turn `uuid`, `jsonb` and `timestamptz` columns into the types the host decodes
//! (text and integers), and the expressions that turn integer parameters back into
//! times.
//!
//! The host binds every `integer` parameter as INT8 and decodes only booleans,
//! integers, floats, text and bytea; so every placeholder is cast explicitly in the
//! statement, and every other column type is cast in the select list.

/// A column as the statement reads it, which decides how it is selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Column {
    name: &'static str,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `text` or `bigint`: the host decodes it as it is.
    Plain,
    /// `uuid` or `jsonb`: read as its text form.
    Text,
    /// `timestamptz`: read as milliseconds since the Unix epoch.
    Time,
}

impl Column {
    /// A `text` or `bigint` column.
    pub(crate) const fn plain(name: &'static str) -> Column {
        Column {
            name,
            kind: Kind::Plain,
        }
    }

    /// A `uuid` column, read as the canonical lowercase hyphenated text.
    pub(crate) const fn uuid(name: &'static str) -> Column {
        Column {
            name,
            kind: Kind::Text,
        }
    }

    /// A `jsonb` column, read as JSON text (PostgreSQL's normalised form).
    pub(crate) const fn json(name: &'static str) -> Column {
        Column {
            name,
            kind: Kind::Text,
        }
    }

    /// A `timestamptz` column, read as a WIT `timestamp`.
    pub(crate) const fn time(name: &'static str) -> Column {
        Column {
            name,
            kind: Kind::Time,
        }
    }

    /// The select-list item: the column converted, under its own name.
    fn item(self) -> String {
        let name = self.name;
        match self.kind {
            Kind::Plain => name.to_owned(),
            Kind::Text => format!("{name}::text AS {name}"),
            // `extract` returns an exact numeric since PostgreSQL 14, and times are
            // only ever stored from whole milliseconds (give or take the nudge of
            // `set_updated_at`), so rounding to bigint gives them back exactly.
            Kind::Time => format!("(extract(epoch FROM {name}) * 1000)::bigint AS {name}"),
        }
    }
}

/// The select list (or `RETURNING` list) for `columns`, each under its own name.
pub(crate) fn select_list(columns: &[Column]) -> String {
    columns
        .iter()
        .map(|column| column.item())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `timestamptz` for the WIT `timestamp` (milliseconds) bound at `$index`; NULL
/// when the parameter is null.
pub(crate) fn time_param(index: usize) -> String {
    format!("to_timestamp(${index}::bigint / 1000.0)")
}

/// The value an `UPDATE` assigns to `updated_at`: the time `new` (an SQL
/// expression), nudged by one microsecond when it equals the row's current value.
///
/// The `qhub_set_updated_at` trigger stamps the transaction's time on UPDATEs that
/// leave `updated_at` unchanged, taking them for UPDATEs that did not set it. The
/// plugin passes the core's clock instead, like store-d1, so its value must always
/// differ from the old one; the microsecond disappears when the time is read back
/// in milliseconds. `current` names the row's column (`table.updated_at` where the
/// statement needs it qualified, as in `ON CONFLICT DO UPDATE`).
pub(crate) fn set_updated_at(current: &str, new: &str) -> String {
    format!(
        "{new} + CASE WHEN {current} = {new} THEN interval '1 microsecond' \
         ELSE interval '0' END"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_lists_cast_what_the_host_cannot_decode() {
        let columns = [
            Column::uuid("id"),
            Column::plain("email"),
            Column::json("scopes"),
            Column::time("created_at"),
        ];
        assert_eq!(
            select_list(&columns),
            "id::text AS id, email, scopes::text AS scopes, \
             (extract(epoch FROM created_at) * 1000)::bigint AS created_at"
        );
        assert_eq!(select_list(&[]), "");
    }

    #[test]
    fn time_parameters_are_cast_from_milliseconds() {
        assert_eq!(time_param(3), "to_timestamp($3::bigint / 1000.0)");
    }

    #[test]
    fn updated_at_is_nudged_only_when_unchanged() {
        assert_eq!(
            set_updated_at("t.updated_at", "excluded.updated_at"),
            "excluded.updated_at + CASE WHEN t.updated_at = excluded.updated_at \
             THEN interval '1 microsecond' ELSE interval '0' END"
        );
    }
}
