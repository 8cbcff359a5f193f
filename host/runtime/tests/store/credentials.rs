//! OAuth connections and API keys.

use super::*;

// ---- oauth connections ----------------------------------------------------------

pub(super) async fn oauth_connections(s: &Backend) {
    let ada = s.user("ada@example.com").await;
    let bob = s.user("bob@example.com").await;

    let github = s
        .create_oauth_connection(&new_connection(&ada.id, "github", "1001", T0))
        .await
        .unwrap();
    assert!(!github.id.is_empty());
    assert_eq!(github.user_id, ada.id);
    assert_eq!(
        (github.provider.as_str(), github.subject.as_str()),
        ("github", "1001")
    );
    assert_eq!(github.email.as_deref(), Some("1001@users.example.com"));
    assert_eq!(github.created_at, T0);

    // A provider's subject links to one account only, whichever asks.
    for user in [&ada, &bob] {
        let again = new_connection(&user.id, "github", "1001", T0 + 5);
        let result = s.create_oauth_connection(&again).await;
        assert_eq!(
            failure(result),
            "conflict(oauth-connection)",
            "{}",
            user.email
        );
    }
    // The same subject at another provider is another identity.
    let google = s
        .create_oauth_connection(&NewOauthConnection {
            email: None,
            ..new_connection(&ada.id, "google", "1001", T0 + 10)
        })
        .await
        .unwrap();
    assert_eq!(google.email, None);

    let found = s.get_oauth_connection("github", "1001").await.unwrap();
    assert_same(&found, &Some(github.clone()));
    assert!(
        s.get_oauth_connection("github", "1002")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.get_oauth_connection("gitlab", "1001")
            .await
            .unwrap()
            .is_none()
    );

    // Oldest first: the order in which they were linked.
    let linked = s.list_oauth_connections(&ada.id).await.unwrap();
    assert_eq!(ids!(linked), [&github.id, &google.id]);
    assert_same(&linked[0], &github);
    assert!(s.list_oauth_connections(&bob.id).await.unwrap().is_empty());

    // Another user cannot unlink it.
    assert!(
        !s.delete_oauth_connection(&bob.id, &github.id)
            .await
            .unwrap()
    );
    let found = s.get_oauth_connection("github", "1001").await.unwrap();
    assert_same(&found, &Some(github.clone()));

    assert!(
        s.delete_oauth_connection(&ada.id, &github.id)
            .await
            .unwrap()
    );
    assert!(
        !s.delete_oauth_connection(&ada.id, &github.id)
            .await
            .unwrap()
    );
    assert!(
        s.get_oauth_connection("github", "1001")
            .await
            .unwrap()
            .is_none()
    );
    let linked = s.list_oauth_connections(&ada.id).await.unwrap();
    assert_eq!(ids!(linked), [&google.id]);

    // Once unlinked, the identity can be linked to another account.
    let moved = s
        .create_oauth_connection(&new_connection(&bob.id, "github", "1001", T0 + 20))
        .await
        .unwrap();
    assert_eq!(moved.user_id, bob.id);
    let found = s.get_oauth_connection("github", "1001").await.unwrap();
    assert_eq!(found.map(|connection| connection.user_id), Some(bob.id));
}

// ---- api keys ---------------------------------------------------------------------

pub(super) async fn api_keys(s: &Backend) {
    let ada = s.user("ada@example.com").await;
    let bob = s.user("bob@example.com").await;

    let laptop = s
        .create_api_key(&new_key(&ada.id, "laptop", T0))
        .await
        .unwrap();
    assert!(!laptop.id.is_empty());
    assert_eq!(laptop.user_id, ada.id);
    assert_eq!(
        (
            laptop.name.as_str(),
            laptop.prefix.as_str(),
            laptop.secret_hash.as_str()
        ),
        ("laptop", "qh_laptop", "sha256:laptop")
    );
    assert_eq!(laptop.scopes, ["jobs:read", "jobs:write"]);
    assert_eq!(
        (laptop.created_at, laptop.expires_at),
        (T0, Some(T0 + 24 * HOUR))
    );
    assert_eq!((laptop.last_used_at, laptop.revoked_at), (None, None));

    // No scopes and no expiry round-trip as such.
    let ci = s
        .create_api_key(&NewApiKey {
            scopes: Vec::new(),
            expires_at: None,
            ..new_key(&ada.id, "ci", T0 + 10)
        })
        .await
        .unwrap();
    assert!(ci.scopes.is_empty());
    assert_eq!(ci.expires_at, None);
    let scoped = NewApiKey {
        scopes: vec!["admin".into(), "jobs:read".into(), "ünïcode scope".into()],
        ..new_key(&bob.id, "bobs", T0 + 20)
    };
    let bobs = s.create_api_key(&scoped).await.unwrap();
    assert_eq!(bobs.scopes, scoped.scopes);

    // The secret's hash and the visible prefix are both unique.
    let same_hash = NewApiKey {
        prefix: "qh_other".into(),
        ..new_key(&bob.id, "laptop", T0 + 30)
    };
    assert_eq!(
        failure(s.create_api_key(&same_hash).await),
        "conflict(api-key)"
    );
    let same_prefix = NewApiKey {
        secret_hash: "sha256:other".into(),
        ..new_key(&ada.id, "laptop", T0 + 30)
    };
    assert_eq!(
        failure(s.create_api_key(&same_prefix).await),
        "conflict(api-key)"
    );

    let found = s.get_api_key_by_hash("sha256:laptop").await.unwrap();
    assert_same(&found, &Some(laptop.clone()));
    assert!(
        s.get_api_key_by_hash("sha256:other")
            .await
            .unwrap()
            .is_none()
    );

    // Newest first.
    let keys = s.list_api_keys(&ada.id).await.unwrap();
    assert_eq!(ids!(keys), [&ci.id, &laptop.id]);
    assert_same(&keys[1], &laptop);
    let keys = s.list_api_keys(&bob.id).await.unwrap();
    assert_eq!(ids!(keys), [&bobs.id]);

    // Use moves `last-used-at` forward only.
    s.touch_api_key(&laptop.id, T0 + 100).await.unwrap();
    s.touch_api_key(&laptop.id, T0 + 50).await.unwrap();
    let used = s
        .get_api_key_by_hash("sha256:laptop")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(used.last_used_at, Some(T0 + 100));
    let unused = s.get_api_key_by_hash("sha256:ci").await.unwrap().unwrap();
    assert_eq!(unused.last_used_at, None);

    // Another user cannot revoke it; its owner can, once.
    assert!(
        !s.revoke_api_key(&bob.id, &laptop.id, T0 + 200)
            .await
            .unwrap()
    );
    let key = s
        .get_api_key_by_hash("sha256:laptop")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(key.revoked_at, None);
    assert!(
        s.revoke_api_key(&ada.id, &laptop.id, T0 + 200)
            .await
            .unwrap()
    );
    assert!(
        !s.revoke_api_key(&ada.id, &laptop.id, T0 + 300)
            .await
            .unwrap()
    );

    // A revoked key is still found (the core refuses it) and still listed.
    let key = s
        .get_api_key_by_hash("sha256:laptop")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(key.revoked_at, Some(T0 + 200));
    assert_eq!(key.last_used_at, Some(T0 + 100));
    let keys = s.list_api_keys(&ada.id).await.unwrap();
    assert_eq!(ids!(keys), [&ci.id, &laptop.id]);
    assert_eq!(keys[1].revoked_at, Some(T0 + 200));
    assert_eq!(keys[0].revoked_at, None);
}
