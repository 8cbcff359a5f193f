//! Signing in with a provider's identity, listing and unlinking identities, end to
//! end: the real account core over store-d1 on SQLite and store-postgres on
//! PostgreSQL, so the linking rules meet the backends' real unique constraints,
//! foreign keys and id formats.
//!
//! Each scenario is one `async fn(&AccountService)`; [`on_both!`] runs it as
//! `<scenario>::sqlite` and `<scenario>::postgres`, each on a fresh database.
//! PostgreSQL must be running (see `qhub_test_support`); those tests fail, never
//! skip, without it.

#![expect(clippy::unwrap_used, reason = "a scenario fails by panicking")]

mod common;

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use common::{client, load};
use qhub_runtime::{
    AccountService, Allocation, Database, ErrorCode, Identity, Limits, LoadedPlugin,
    ProviderIdentity, RegisterRequest, Runtime, RuntimeConfig, ServiceError, SignedIn,
};
use qhub_test_support::TempDatabase;
use tokio::task::JoinSet;

macro_rules! on_both {
    ($($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let (service, _database) = super::sqlite().await;
                    super::$scenario(&service).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let (service, _database) = super::postgres().await;
                    super::$scenario(&service).await;
                    service.database().close().await;
                }
            }
        )*
    };
}

on_both!(
    a_verified_email_links_the_existing_account,
    a_verified_email_of_no_account_creates_one_without_a_password,
    an_unverified_email_is_refused_and_nothing_is_written,
    a_linked_identity_wins_over_a_changed_email,
    list_and_unlink_follow_the_rules,
    concurrent_first_sign_ins_end_in_one_account_and_one_link,
);

const EMAIL: &str = "ada@example.com";
const PASSWORD: &str = "correct horse battery staple";

// ---- the harness ----------------------------------------------------------------

/// One engine for the whole test binary, so each plugin is compiled once.
fn runtime() -> Arc<Runtime> {
    static RUNTIME: OnceLock<Arc<Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            Arc::new(
                Runtime::new(RuntimeConfig {
                    cache_dir: None,
                    limits: Limits::default(),
                    allocation: Allocation::OnDemand,
                })
                .expect("the runtime starts"),
            )
        })
        .clone()
}

fn plugin(name: &'static str) -> LoadedPlugin {
    static PLUGINS: OnceLock<std::sync::Mutex<BTreeMap<&'static str, LoadedPlugin>>> =
        OnceLock::new();
    let mut plugins = PLUGINS.get_or_init(Default::default).lock().unwrap();
    plugins
        .entry(name)
        .or_insert_with(|| load(&runtime(), name))
        .clone()
}

async fn service(backend: &'static str, db: Database) -> AccountService {
    db.migrate().await.expect("the migrations apply");
    let config = BTreeMap::from([("jwt-secret".to_owned(), "k".repeat(64))]);
    AccountService::new(runtime(), plugin("auth"), plugin(backend), db, config)
        .expect("the core links to the backend")
}

/// The account service over store-d1 and a new SQLite file, with what keeps the
/// file alive.
async fn sqlite() -> (AccountService, Box<dyn Any>) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = Database::open_sqlite(&dir.path().join("qhub.db"))
        .await
        .expect("the SQLite database opens");
    (service("store-d1", db).await, Box::new(dir))
}

/// The account service over store-postgres and a new database on the test server.
async fn postgres() -> (AccountService, Box<dyn Any>) {
    let temp = TempDatabase::create();
    let db = Database::connect(temp.url())
        .await
        .expect("the PostgreSQL URL is valid");
    (service("store-postgres", db).await, Box::new(temp))
}

/// An identity as a provider plugin returns it, converted as a host converts it.
fn identity(subject: &str, email: Option<&str>, verified: bool) -> ProviderIdentity {
    Identity {
        subject: subject.into(),
        email: email.map(str::to_owned),
        email_verified: verified,
        display_name: Some("Ada Lovelace".into()),
    }
    .into()
}

async fn sign_in(service: &AccountService, provider: &str, who: ProviderIdentity) -> SignedIn {
    service
        .sign_in_with_identity(provider, who, client("identities-test"))
        .await
        .unwrap()
}

/// The core's refusal: its code and message.
fn refusal<T: std::fmt::Debug>(result: Result<T, ServiceError>) -> (ErrorCode, String) {
    match result {
        Err(ServiceError::Account(error)) => (error.code, error.message),
        other => panic!("expected the core to refuse, got {other:?}"),
    }
}

async fn register(service: &AccountService, email: &str) -> SignedIn {
    let request = RegisterRequest {
        email: email.into(),
        password: PASSWORD.into(),
        display_name: None,
    };
    service
        .register(request, client("identities-test"))
        .await
        .unwrap()
}

/// (provider, subject, email) of the token's linked identities, oldest first.
async fn linked(service: &AccountService, token: &str) -> Vec<(String, String, Option<String>)> {
    service
        .list_connections(token)
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.provider, c.subject, c.email))
        .collect()
}

fn link(provider: &str, subject: &str, email: &str) -> (String, String, Option<String>) {
    (provider.into(), subject.into(), Some(email.into()))
}

// ---- the scenarios ------------------------------------------------------------------

async fn a_verified_email_links_the_existing_account(service: &AccountService) {
    let registered = register(service, EMAIL).await;
    let signed_in = sign_in(
        service,
        "github",
        identity("583231", Some("Ada@Example.com"), true),
    )
    .await;

    assert_eq!(signed_in.user.id, registered.user.id);
    let profile = service.whoami(&signed_in.token).await.unwrap();
    assert_eq!(profile.email, EMAIL);
    assert_eq!(
        linked(service, &registered.token).await,
        [link("github", "583231", EMAIL)]
    );
    // The password still signs in.
    service
        .login(EMAIL, PASSWORD, client("identities-test"))
        .await
        .unwrap();
}

async fn a_verified_email_of_no_account_creates_one_without_a_password(service: &AccountService) {
    let signed_in = sign_in(service, "github", identity("583231", Some(EMAIL), true)).await;
    assert_eq!(signed_in.user.email, EMAIL);
    assert_eq!(signed_in.user.display_name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(
        linked(service, &signed_in.token).await,
        [link("github", "583231", EMAIL)]
    );

    // No password: a password sign-in reads exactly as a wrong password does.
    let no_password = refusal(
        service
            .login(EMAIL, PASSWORD, client("identities-test"))
            .await,
    );
    register(service, "bob@example.com").await;
    let wrong_password = refusal(
        service
            .login(
                "bob@example.com",
                "not bob's password",
                client("identities-test"),
            )
            .await,
    );
    assert_eq!(no_password, wrong_password);
    assert_eq!(no_password.0, ErrorCode::InvalidCredentials);

    let (code, message) = refusal(
        service
            .change_password(&signed_in.token, "", "a brand new passphrase")
            .await,
    );
    assert_eq!(code, ErrorCode::Conflict);
    assert!(
        message.contains("this account has no password"),
        "{message}"
    );
}

async fn an_unverified_email_is_refused_and_nothing_is_written(service: &AccountService) {
    let (code, message) = refusal(
        service
            .sign_in_with_identity(
                "github",
                identity("583231", Some(EMAIL), false),
                client("identities-test"),
            )
            .await,
    );
    assert_eq!(code, ErrorCode::Forbidden);
    assert!(
        message.starts_with("the provider did not verify the email address ada@example.com;"),
        "{message}"
    );
    let (code, _) = refusal(
        service
            .sign_in_with_identity(
                "github",
                identity("583231", None, true),
                client("identities-test"),
            )
            .await,
    );
    assert_eq!(code, ErrorCode::Forbidden);
    let (code, message) = refusal(
        service
            .sign_in_with_identity(
                "GitHub",
                identity("583231", Some(EMAIL), true),
                client("identities-test"),
            )
            .await,
    );
    assert_eq!(code, ErrorCode::InvalidInput);
    assert!(
        message.starts_with("provider name must be lowercase kebab-case"),
        "{message}"
    );

    // Neither an account nor a link was left behind: the email is free to register,
    // and the identity is not linked to it.
    let registered = register(service, EMAIL).await;
    assert!(linked(service, &registered.token).await.is_empty());
}

async fn a_linked_identity_wins_over_a_changed_email(service: &AccountService) {
    let first = sign_in(service, "github", identity("583231", Some(EMAIL), true)).await;
    register(service, "bob@example.com").await;
    for email in [Some("bob@example.com"), Some("ada@new.example"), None] {
        let again = sign_in(service, "github", identity("583231", email, false)).await;
        assert_eq!(again.user.id, first.user.id, "{email:?}");
    }
    assert_eq!(
        linked(service, &first.token).await,
        [link("github", "583231", EMAIL)]
    );
}

async fn list_and_unlink_follow_the_rules(service: &AccountService) {
    // An account without a password, with two identities.
    let ada = sign_in(service, "github", identity("ada-gh", Some(EMAIL), true)).await;
    sign_in(
        service,
        "example-sso",
        identity("ada-sso", Some(EMAIL), true),
    )
    .await;
    let bob = register(service, "bob@example.com").await;
    sign_in(
        service,
        "github",
        identity("bob-gh", Some("bob@example.com"), true),
    )
    .await;

    let adas = service.list_connections(&ada.token).await.unwrap();
    assert_eq!(
        adas.iter().map(|c| c.subject.as_str()).collect::<Vec<_>>(),
        ["ada-gh", "ada-sso"]
    );
    let bobs = service.list_connections(&bob.token).await.unwrap();
    assert_eq!(bobs.len(), 1);

    // Another account's identity, an unknown id and an id of no valid form are all
    // simply not found.
    let unknown = "00000000-0000-4000-8000-000000000000";
    for id in [bobs[0].id.as_str(), unknown, "not-an-id"] {
        let (code, message) = refusal(service.unlink_connection(&ada.token, id).await);
        assert_eq!(
            (code, message.as_str()),
            (ErrorCode::NotFound, "no such connection"),
            "{id}"
        );
    }
    // API keys may list (with account:read) but never unlink.
    let key = service
        .create_api_key(&ada.token, "ci", Some(&["account:read".to_owned()]), None)
        .await
        .unwrap();
    assert_eq!(
        service.list_connections(&key.secret).await.unwrap().len(),
        2
    );
    let (code, _) = refusal(service.unlink_connection(&key.secret, &adas[0].id).await);
    assert_eq!(code, ErrorCode::Forbidden);

    service
        .unlink_connection(&ada.token, &adas[0].id)
        .await
        .unwrap();
    let (code, message) = refusal(service.unlink_connection(&ada.token, &adas[1].id).await);
    assert_eq!(code, ErrorCode::Conflict);
    assert!(
        message.starts_with("cannot unlink the last identity"),
        "{message}"
    );
    assert_eq!(
        linked(service, &ada.token).await,
        [link("example-sso", "ada-sso", EMAIL)]
    );

    // An account with a password may unlink its only identity.
    service
        .unlink_connection(&bob.token, &bobs[0].id)
        .await
        .unwrap();
    assert!(linked(service, &bob.token).await.is_empty());
}

async fn concurrent_first_sign_ins_end_in_one_account_and_one_link(service: &AccountService) {
    // The same new person signs in from several places at once: the requests race
    // to create the account and to link the identity, and the unique constraints
    // decide. Every one of them must sign in to the same account.
    let mut tasks = JoinSet::new();
    for _ in 0..6 {
        let service = service.clone();
        tasks.spawn(async move {
            service
                .sign_in_with_identity(
                    "github",
                    identity("583231", Some(EMAIL), true),
                    client("identities-test"),
                )
                .await
        });
    }
    let mut users = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let signed_in = joined
            .unwrap()
            .unwrap_or_else(|e| panic!("a sign-in failed: {e:?}"));
        users.push((signed_in.user.id, signed_in.token));
    }
    users.dedup_by(|a, b| a.0 == b.0);
    assert_eq!(users.len(), 1, "one account: {users:?}");
    assert_eq!(
        linked(service, &users[0].1).await,
        [link("github", "583231", EMAIL)]
    );
}
