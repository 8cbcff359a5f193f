//! Preferences: upsert, order, JSON values.

use super::*;

// ---- preferences ------------------------------------------------------------------

pub(super) async fn preferences(s: &Backend) {
    let ada = s.user("ada@example.com").await;
    let bob = s.user("bob@example.com").await;
    assert!(s.list_preferences(&ada.id).await.unwrap().is_empty());

    let theme = r#"{ "mode" : "dark",   "contrast": [1, 2.5, null], "font": "Fira Code" }"#;
    s.set_preference(&ada.id, "theme", theme, T0).await.unwrap();
    s.set_preference(&ada.id, "editor", r#""vim""#, T0 + 1)
        .await
        .unwrap();
    s.set_preference(&ada.id, "Zoom", "1.25", T0 + 2)
        .await
        .unwrap();
    s.set_preference(&ada.id, "beta", "null", T0 + 3)
        .await
        .unwrap();
    s.set_preference(&bob.id, "theme", r#"{"mode":"light"}"#, T0 + 4)
        .await
        .unwrap();

    // Ordered by key, byte by byte; values compared as JSON.
    let expected = [
        ("Zoom", "1.25", T0 + 2),
        ("beta", "null", T0 + 3),
        ("editor", r#""vim""#, T0 + 1),
        ("theme", theme, T0),
    ];
    check_preferences(&s.list_preferences(&ada.id).await.unwrap(), &expected);

    // Setting again replaces: one row per key, the last value wins.
    let light = r#"{"mode":"light"}"#;
    s.set_preference(&ada.id, "theme", light, T0 + 10)
        .await
        .unwrap();
    let expected = [
        ("Zoom", "1.25", T0 + 2),
        ("beta", "null", T0 + 3),
        ("editor", r#""vim""#, T0 + 1),
        ("theme", light, T0 + 10),
    ];
    check_preferences(&s.list_preferences(&ada.id).await.unwrap(), &expected);
    // Even within the same millisecond.
    s.set_preference(&ada.id, "theme", "[]", T0 + 10)
        .await
        .unwrap();
    let listed = s.list_preferences(&ada.id).await.unwrap();
    check_preferences(&listed[3..], &[("theme", "[]", T0 + 10)]);

    // A value that is not JSON is refused and changes nothing.
    let refused = failure(
        s.set_preference(&ada.id, "theme", "{not json", T0 + 20)
            .await,
    );
    assert!(refused.starts_with("internal"), "{refused}");
    let refused = failure(s.set_preference(&ada.id, "fresh", "", T0 + 20).await);
    assert!(refused.starts_with("internal"), "{refused}");
    let listed = s.list_preferences(&ada.id).await.unwrap();
    assert_eq!(listed.len(), 4);
    check_preferences(&listed[3..], &[("theme", "[]", T0 + 10)]);

    assert!(s.delete_preference(&ada.id, "theme").await.unwrap());
    assert!(!s.delete_preference(&ada.id, "theme").await.unwrap());
    assert!(!s.delete_preference(&ada.id, "missing").await.unwrap());
    assert!(!s.delete_preference(&bob.id, "editor").await.unwrap());
    let expected = [
        ("Zoom", "1.25", T0 + 2),
        ("beta", "null", T0 + 3),
        ("editor", r#""vim""#, T0 + 1),
    ];
    check_preferences(&s.list_preferences(&ada.id).await.unwrap(), &expected);

    // Bob's preferences are his own.
    let expected = [("theme", r#"{"mode":"light"}"#, T0 + 4)];
    check_preferences(&s.list_preferences(&bob.id).await.unwrap(), &expected);
}

#[track_caller]
fn check_preferences(actual: &[Preference], expected: &[(&str, &str, Timestamp)]) {
    let actual: Vec<(&str, JsonValue, Timestamp)> = actual
        .iter()
        .map(|p| (p.key.as_str(), json(&p.value), p.updated_at))
        .collect();
    let expected: Vec<(&str, JsonValue, Timestamp)> = expected
        .iter()
        .map(|&(key, value, at)| (key, json(value), at))
        .collect();
    assert_eq!(actual, expected);
}
