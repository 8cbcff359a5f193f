//! Sessions: liveness, touch, revocation.

use super::*;

// ---- sessions ---------------------------------------------------------------------

pub(super) async fn sessions(s: &Backend) {
    let ada = s.user("ada@example.com").await;
    let bob = s.user("bob@example.com").await;

    let first = s
        .create_session(&new_session(&ada.id, T0, T0 + HOUR), None)
        .await
        .unwrap();
    assert!(!first.id.is_empty());
    assert_eq!(first.user_id, ada.id);
    assert_eq!(first.user_agent.as_deref(), Some("qhub-cli/0.1.0 (linux)"));
    assert_eq!(first.ip.as_deref(), Some("127.0.0.1"));
    assert_eq!((first.created_at, first.last_seen_at), (T0, T0));
    assert_eq!((first.expires_at, first.revoked_at), (T0 + HOUR, None));
    let found = s.get_session(&first.id).await.unwrap();
    assert_same(&found, &Some(first.clone()));

    let anonymous = NewSession {
        user_agent: None,
        ip: None,
        ..new_session(&ada.id, T0 + 10, T0 + 2 * HOUR)
    };
    let second = s.create_session(&anonymous, None).await.unwrap();
    assert_eq!(
        (second.user_agent.as_deref(), second.ip.as_deref()),
        (None, None)
    );
    let brief = s
        .create_session(&new_session(&ada.id, T0 + 20, T0 + 50), None)
        .await
        .unwrap();
    let fourth = s
        .create_session(&new_session(&ada.id, T0 + 30, T0 + 3 * HOUR), None)
        .await
        .unwrap();
    let bobs = s
        .create_session(&new_session(&bob.id, T0 + 40, T0 + HOUR), None)
        .await
        .unwrap();

    // Live ones only, newest first; a session is expired from its `expires-at` on.
    let live = s.list_sessions(&ada.id, T0 + 49).await.unwrap();
    assert_eq!(ids!(live), [&fourth.id, &brief.id, &second.id, &first.id]);
    assert_same(&live[3], &first);
    let live = s.list_sessions(&ada.id, T0 + 50).await.unwrap();
    assert_eq!(ids!(live), [&fourth.id, &second.id, &first.id]);

    // Activity moves `last-seen-at` forward only, and only on a live session.
    s.touch_session(&first.id, T0 + 100).await.unwrap();
    s.touch_session(&first.id, T0 + 60).await.unwrap();
    let touched = s.get_session(&first.id).await.unwrap().unwrap();
    assert_eq!(touched.last_seen_at, T0 + 100);
    assert_eq!((touched.created_at, touched.expires_at), (T0, T0 + HOUR));
    assert_eq!(
        failure(s.touch_session(&brief.id, T0 + 100).await),
        "not-found"
    );
    let untouched = s.get_session(&brief.id).await.unwrap().unwrap();
    assert_eq!(untouched.last_seen_at, T0 + 20);

    // Revoking one: only a live session of this user, once.
    assert!(
        !s.revoke_session(&bob.id, &second.id, T0 + 110)
            .await
            .unwrap()
    );
    assert!(!s.revoke_session(&ada.id, &bobs.id, T0 + 110).await.unwrap());
    assert!(
        !s.revoke_session(&ada.id, &brief.id, T0 + 110)
            .await
            .unwrap()
    );
    assert!(
        s.revoke_session(&ada.id, &fourth.id, T0 + 110)
            .await
            .unwrap()
    );
    assert!(
        !s.revoke_session(&ada.id, &fourth.id, T0 + 111)
            .await
            .unwrap()
    );
    let revoked = s.get_session(&fourth.id).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(T0 + 110));
    assert_eq!(
        failure(s.touch_session(&fourth.id, T0 + 115).await),
        "not-found"
    );
    let live = s.list_sessions(&ada.id, T0 + 120).await.unwrap();
    assert_eq!(ids!(live), [&second.id, &first.id]);

    // Revoking all but the current one counts only the live sessions it revoked,
    // and leaves expired and already revoked ones as they were.
    let count = s
        .revoke_sessions(&ada.id, Some(&first.id), T0 + 130)
        .await
        .unwrap();
    assert_eq!(count, 1);
    let live = s.list_sessions(&ada.id, T0 + 130).await.unwrap();
    assert_eq!(ids!(live), [&first.id]);
    let revoked = s.get_session(&second.id).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(T0 + 130));
    let revoked = s.get_session(&fourth.id).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(T0 + 110));
    let expired = s.get_session(&brief.id).await.unwrap().unwrap();
    assert_eq!(expired.revoked_at, None);

    assert_eq!(s.revoke_sessions(&ada.id, None, T0 + 140).await.unwrap(), 1);
    assert!(s.list_sessions(&ada.id, T0 + 140).await.unwrap().is_empty());
    assert_eq!(s.revoke_sessions(&ada.id, None, T0 + 150).await.unwrap(), 0);

    // Bob's session lived through all of it.
    let live = s.list_sessions(&bob.id, T0 + 150).await.unwrap();
    assert_eq!(ids!(live), [&bobs.id]);
    assert_same(&live[0], &bobs);
}

/// A session made for a password sign-in exists only while the account still has
/// the hash that was checked: a password changed since, an account without a
/// password or one deleted since get `not-found`, and nothing is written.
pub(super) async fn sessions_require_the_checked_password_hash(s: &Backend) {
    let ada = s.user("ada@example.com").await;
    let held = s
        .create_session(&new_session(&ada.id, T0, T0 + HOUR), Some(HASH))
        .await
        .unwrap();
    assert_eq!(held.user_id, ada.id);
    let other_hash = format!("{HASH}x");
    assert_eq!(
        failure(
            s.create_session(&new_session(&ada.id, T0, T0 + HOUR), Some(&other_hash))
                .await
        ),
        "not-found"
    );
    // The password changes: the old hash no longer makes a session, the new one does.
    s.set_password_hash(&ada.id, &other_hash, T0 + 1)
        .await
        .unwrap();
    assert_eq!(
        failure(
            s.create_session(&new_session(&ada.id, T0 + 2, T0 + HOUR), Some(HASH))
                .await
        ),
        "not-found"
    );
    s.create_session(&new_session(&ada.id, T0 + 3, T0 + HOUR), Some(&other_hash))
        .await
        .unwrap();
    let live = s.list_sessions(&ada.id, T0 + 4).await.unwrap();
    assert_eq!(live.len(), 2, "refused sessions were not written: {live:?}");

    // An account without a password has no hash to match.
    let oauth_only = s
        .create_user(&NewUser {
            password_hash: None,
            ..new_user("oauth@example.com", T0)
        })
        .await
        .unwrap();
    assert_eq!(
        failure(
            s.create_session(&new_session(&oauth_only.id, T0, T0 + HOUR), Some(HASH))
                .await
        ),
        "not-found"
    );
    s.create_session(&new_session(&oauth_only.id, T0, T0 + HOUR), None)
        .await
        .unwrap();

    // A deleted account gets no session, with or without a hash.
    s.delete_user(&ada.id).await.unwrap();
    for hash in [None, Some(other_hash.as_str())] {
        assert_eq!(
            failure(
                s.create_session(&new_session(&ada.id, T0 + 5, T0 + HOUR), hash)
                    .await
            ),
            "not-found"
        );
    }
}

/// Registration writes the account and its first session as one batch: both, or,
/// when the email is taken, neither (and nothing for the existing account).
pub(super) async fn registration_writes_the_user_and_session_together(s: &Backend) {
    let (ada, session) = s
        .create_user_with_session(
            &new_user("ada@example.com", T0),
            Some("qhub-cli/0.1.0 (linux)"),
            Some("127.0.0.1"),
            T0 + HOUR,
        )
        .await
        .unwrap();
    assert_eq!(ada.email, "ada@example.com");
    assert_eq!(ada.password_hash.as_deref(), Some(HASH));
    assert_eq!(session.user_id, ada.id);
    assert_eq!(
        session.user_agent.as_deref(),
        Some("qhub-cli/0.1.0 (linux)")
    );
    assert_eq!(session.ip.as_deref(), Some("127.0.0.1"));
    assert_eq!((session.created_at, session.last_seen_at), (T0, T0));
    assert_eq!((session.expires_at, session.revoked_at), (T0 + HOUR, None));
    assert_same(&s.get_user(&ada.id).await.unwrap(), &Some(ada.clone()));
    assert_same(
        &s.get_session(&session.id).await.unwrap(),
        &Some(session.clone()),
    );

    let taken = s
        .create_user_with_session(&new_user("ada@example.com", T0 + 1), None, None, T0 + HOUR)
        .await;
    assert_eq!(failure(taken), "conflict(email)");
    let live = s.list_sessions(&ada.id, T0 + 2).await.unwrap();
    assert_eq!(
        ids!(live),
        [&session.id],
        "no session for the existing account"
    );

    let (bob, bobs) = s
        .create_user_with_session(&new_user("bob@example.com", T0 + 3), None, None, T0 + HOUR)
        .await
        .unwrap();
    assert_ne!(bob.id, ada.id);
    assert_eq!(
        (bobs.user_id.as_str(), bobs.user_agent, bobs.ip),
        (bob.id.as_str(), None, None)
    );
}
