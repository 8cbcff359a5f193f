//! Users: create, look up, update, delete, and unknown ids everywhere.

use super::*;

// ---- users ------------------------------------------------------------------------

pub(super) async fn users(s: &Backend) {
    let ada = s
        .create_user(&NewUser {
            email: "ada@example.com".into(),
            display_name: Some("Ada".into()),
            password_hash: Some(HASH.into()),
            created_at: T0,
        })
        .await
        .unwrap();
    assert!(!ada.id.is_empty());
    assert_eq!(ada.email, "ada@example.com");
    assert_eq!(ada.display_name.as_deref(), Some("Ada"));
    assert_eq!(ada.password_hash.as_deref(), Some(HASH));
    assert_eq!((ada.created_at, ada.updated_at), (T0, T0));

    // An account that only signs in through OAuth has no password.
    let grace = s
        .create_user(&NewUser {
            email: "grace@example.com".into(),
            display_name: None,
            password_hash: None,
            created_at: T0 + 1,
        })
        .await
        .unwrap();
    assert_ne!(grace.id, ada.id);
    assert_eq!((grace.display_name, grace.password_hash), (None, None));
    assert_eq!((grace.created_at, grace.updated_at), (T0 + 1, T0 + 1));

    let found = s.get_user(&ada.id).await.unwrap();
    assert_same(&found, &Some(ada.clone()));
    let found = s.get_user_by_email("ada@example.com").await.unwrap();
    assert_same(&found, &Some(ada.clone()));
    let found = s.get_user_by_email("grace@example.com").await.unwrap();
    assert_eq!(found.map(|user| user.id), Some(grace.id));
    assert!(
        s.get_user_by_email("nobody@example.com")
            .await
            .unwrap()
            .is_none()
    );
    for id in ABSENT_IDS {
        assert!(s.get_user(id).await.unwrap().is_none(), "{id}");
    }

    // The email is the account: a second one cannot take it, and the refusal
    // leaves the first untouched.
    let impostor = NewUser {
        email: "ada@example.com".into(),
        display_name: Some("Impostor".into()),
        password_hash: None,
        created_at: T0 + 2,
    };
    assert_eq!(failure(s.create_user(&impostor).await), "conflict(email)");
    let found = s.get_user_by_email("ada@example.com").await.unwrap();
    assert_same(&found, &Some(ada));
}

pub(super) async fn user_updates(s: &Backend) {
    let ada = s.user("ada@example.com").await;
    let bob = s.user("bob@example.com").await;

    let rehash = "$argon2id$v=19$m=65536,t=3,p=4$bmV3c2FsdA$bmV3aGFzaA";
    s.set_password_hash(&ada.id, rehash, T0 + 10).await.unwrap();
    let after = s.get_user(&ada.id).await.unwrap().unwrap();
    assert_eq!(after.password_hash.as_deref(), Some(rehash));
    assert_eq!((after.created_at, after.updated_at), (T0, T0 + 10));
    assert_eq!(
        (after.email.as_str(), after.display_name),
        (ada.email.as_str(), None)
    );

    s.set_display_name(&ada.id, Some("Ada Lovelace"), T0 + 20)
        .await
        .unwrap();
    let after = s.get_user(&ada.id).await.unwrap().unwrap();
    assert_eq!(after.display_name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(after.password_hash.as_deref(), Some(rehash));
    assert_eq!((after.created_at, after.updated_at), (T0, T0 + 20));

    // A second change within the same millisecond still reads back as that
    // millisecond, and clearing the name is a change like any other.
    s.set_display_name(&ada.id, None, T0 + 20).await.unwrap();
    let after = s.get_user(&ada.id).await.unwrap().unwrap();
    assert_eq!(after.display_name, None);
    assert_eq!(after.updated_at, T0 + 20);
    s.set_password_hash(&ada.id, HASH, T0 + 20).await.unwrap();
    let after = s.get_user(&ada.id).await.unwrap().unwrap();
    assert_eq!(after.password_hash.as_deref(), Some(HASH));
    assert_eq!(after.updated_at, T0 + 20);

    for id in ABSENT_IDS {
        let result = s.set_password_hash(id, rehash, T0 + 30).await;
        assert_eq!(failure(result), "not-found", "set-password-hash {id}");
        let result = s.set_display_name(id, Some("Nobody"), T0 + 30).await;
        assert_eq!(failure(result), "not-found", "set-display-name {id}");
    }

    // Only the named user changed.
    let found = s.get_user(&bob.id).await.unwrap();
    assert_same(&found, &Some(bob));
}

pub(super) async fn user_deletion(s: &Backend) {
    let ada = s.user("ada@example.com").await;
    let bob = s.user("bob@example.com").await;
    let adas = furnish(s, &ada, "ada").await;
    let bobs = furnish(s, &bob, "bob").await;
    assert_holdings(s, &ada, &adas, true).await;

    s.delete_user(&ada.id).await.unwrap();
    assert_holdings(s, &ada, &adas, false).await;
    assert_holdings(s, &bob, &bobs, true).await;
    assert_eq!(failure(s.delete_user(&ada.id).await), "not-found");
    for id in ABSENT_IDS {
        assert_eq!(failure(s.delete_user(id).await), "not-found", "{id}");
    }

    // The email, the OAuth identity and the key's hash are free again, and the new
    // account inherits nothing.
    let again = s.user("ada@example.com").await;
    assert_ne!(again.id, ada.id);
    assert!(s.list_sessions(&again.id, T0).await.unwrap().is_empty());
    assert!(s.list_jobs(&again.id, None, 100).await.unwrap().is_empty());
    let renewed = furnish(s, &again, "ada").await;
    assert_holdings(s, &again, &renewed, true).await;
    assert_holdings(s, &bob, &bobs, true).await;
}

/// Ids that name nothing: reads find nothing, writes for a user that does not
/// exist are refused with `not-found` (the owning user is missing), and changes to
/// rows that do not exist report that they changed nothing.
pub(super) async fn unknown_ids(s: &Backend) {
    let ada = s.user("ada@example.com").await;
    let adas = furnish(s, &ada, "ada").await;
    let limits = quota(PERIOD, 100, 10_000);

    for (n, id) in ABSENT_IDS.into_iter().enumerate() {
        let tag = format!("ghost{n}");
        assert!(s.get_session(id).await.unwrap().is_none(), "{id}");
        assert!(s.list_sessions(id, T0).await.unwrap().is_empty(), "{id}");
        assert!(
            s.list_oauth_connections(id).await.unwrap().is_empty(),
            "{id}"
        );
        assert!(s.list_api_keys(id).await.unwrap().is_empty(), "{id}");
        assert!(s.list_preferences(id).await.unwrap().is_empty(), "{id}");
        assert_usage(&s.get_usage(id, PERIOD).await.unwrap(), PERIOD, 0, 0);
        assert!(s.list_jobs(id, None, 100).await.unwrap().is_empty(), "{id}");
        assert!(s.get_job(&ada.id, id).await.unwrap().is_none(), "{id}");
        assert!(s.get_job(id, &adas.job.id).await.unwrap().is_none(), "{id}");

        let cases = [
            (
                "create-session",
                failure(
                    s.create_session(&new_session(id, T0, T0 + HOUR), None)
                        .await,
                ),
            ),
            (
                "create-oauth-connection",
                failure(
                    s.create_oauth_connection(&new_connection(id, "github", &tag, T0))
                        .await,
                ),
            ),
            (
                "create-api-key",
                failure(s.create_api_key(&new_key(id, &tag, T0)).await),
            ),
            (
                "set-preference",
                failure(s.set_preference(id, "theme", "1", T0).await),
            ),
            (
                "submit-job",
                failure(s.submit_job(&new_job(id, 1, T0), &limits).await),
            ),
            ("touch-session", failure(s.touch_session(id, T0).await)),
            ("touch-api-key", failure(s.touch_api_key(id, T0).await)),
        ];
        for (function, outcome) in cases {
            assert_eq!(outcome, "not-found", "{function} {id}");
        }

        assert!(!s.revoke_session(&ada.id, id, T0).await.unwrap(), "{id}");
        let revoked = s.revoke_session(id, &adas.session.id, T0).await.unwrap();
        assert!(!revoked, "{id}");
        assert_eq!(s.revoke_sessions(id, None, T0).await.unwrap(), 0, "{id}");
        let deleted = s.delete_oauth_connection(&ada.id, id).await.unwrap();
        assert!(!deleted, "{id}");
        let deleted = s
            .delete_oauth_connection(id, &adas.connection.id)
            .await
            .unwrap();
        assert!(!deleted, "{id}");
        assert!(!s.revoke_api_key(&ada.id, id, T0).await.unwrap(), "{id}");
        assert!(
            !s.revoke_api_key(id, &adas.key.id, T0).await.unwrap(),
            "{id}"
        );
        assert!(!s.delete_preference(id, "theme").await.unwrap(), "{id}");
        let moved = s
            .move_job(&ada.id, id, &[JobStatus::Queued], JobStatus::Running, T0)
            .await;
        assert!(moved.is_none(), "{id}");
        let moved = s
            .move_job(
                id,
                &adas.job.id,
                &[JobStatus::Queued],
                JobStatus::Running,
                T0,
            )
            .await;
        assert!(moved.is_none(), "{id}");
    }

    // None of it touched the one real user's rows.
    assert!(
        s.get_oauth_connection("github", "ghost0")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.get_api_key_by_hash("sha256:ghost0")
            .await
            .unwrap()
            .is_none()
    );
    assert_holdings(s, &ada, &adas, true).await;
    let session = s.get_session(&adas.session.id).await.unwrap().unwrap();
    assert_eq!(session.revoked_at, None);
    let key = s
        .get_api_key_by_hash(&adas.key.secret_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(key.revoked_at, None);
    let job = s.get_job(&ada.id, &adas.job.id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Queued);
}
