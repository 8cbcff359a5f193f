//! Saved logins: a way out of remote mode when the server is down, `qhub status`,
//! several logins side by side with `qhub switch`, the old config format, and a
//! token that belongs to another database.

use std::os::unix::fs::PermissionsExt;

use serde_json::Value;

use crate::harness::{PASSWORD, Qhub, Run};
use crate::server::Server;

/// `qhub args...` with the password on stdin, for register and login.
fn with_password(qhub: &Qhub, args: &[&str], env: &[(&str, &str)]) -> Run {
    qhub.run_with(args, Some(&format!("{PASSWORD}\n")), env)
}

/// The JSON `qhub status` printed, whatever its exit code.
fn status(qhub: &Qhub, args: &[&str]) -> (i32, Value) {
    let mut argv = vec!["status", "--json"];
    argv.extend_from_slice(args);
    let run = qhub.run(&argv);
    let json = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("status printed no JSON ({e}): {run:#?}"));
    (run.code, json)
}

#[test]
fn a_dead_server_does_not_hold_the_cli_in_remote_mode() {
    let qhub = Qhub::new();
    let server = Server::start(Qhub::new());
    let url = server.url.clone();
    with_password(
        &qhub,
        &["register", "--email", "ada@example.com", "--password-stdin"],
        &[("QHUB_SERVER", &url)],
    )
    .ok();
    drop(server);

    qhub.run(&["whoami"]).fails(5, "cannot reach the server");
    // Explicit ways to the embedded database, none of which go to the server.
    qhub.run(&["--server", "", "whoami"])
        .fails(4, "not logged in");
    qhub.run_with(&["whoami"], None, &[("QHUB_SERVER", "")])
        .fails(4, "not logged in");
    qhub.run(&["--embedded", "whoami"])
        .fails(4, "not logged in");
    qhub.run(&["--database", "sqlite:other.db", "whoami"])
        .fails(4, "not logged in at sqlite:");
    let out = with_password(
        &qhub,
        &[
            "--embedded",
            "register",
            "--email",
            "bob@example.com",
            "--password-stdin",
        ],
        &[],
    );
    assert!(
        !out.ok().contains(&url),
        "registered here, not at the server: {out:#?}"
    );

    // Two logins; the newest is active. Switch back to the dead server's.
    let (code, listed) = status(&qhub, &[]);
    assert_eq!(code, 0, "{listed}");
    let logins = listed["logins"].as_array().unwrap();
    assert_eq!(logins.len(), 2, "{listed}");
    assert_eq!(logins[0]["email"], "bob@example.com");
    assert_eq!(logins[0]["kind"], "embedded");
    assert_eq!(logins[1]["location"], url.as_str());
    assert_eq!(logins[1]["token"]["state"], "unreachable");
    assert!(qhub.run(&["switch"]).ok().contains("ada@example.com"));
    let (code, listed) = status(&qhub, &[]);
    assert_eq!(code, 5, "the active login's server is down: {listed}");
    assert_eq!(listed["target"]["kind"], "server");

    // Logging out forgets the login although its session could not be revoked.
    let out = qhub.run(&["logout"]);
    assert!(
        out.ok().contains("forgot the login ada@example.com"),
        "{out:#?}"
    );
    assert!(out.stderr.contains("was not revoked"), "{out:#?}");
    assert!(!qhub.config().contains(&url), "{}", qhub.config());
    // Only that login: bob's is now the active one.
    assert_eq!(
        qhub.run(&["whoami", "--json"]).json()["email"],
        "bob@example.com"
    );
}

#[test]
fn status_says_where_commands_go_and_whether_the_token_works() {
    let qhub = Qhub::new();
    let (code, nobody) = status(&qhub, &[]);
    assert_eq!(code, 4, "{nobody}");
    assert_eq!(nobody["target"]["kind"], "embedded");
    assert_eq!(nobody["target"]["source"]["from"], "default");

    qhub.register("ada@example.com").ok();
    let (code, fine) = status(&qhub, &[]);
    assert_eq!(code, 0, "{fine}");
    assert_eq!(fine["target"]["source"]["from"], "config");
    let login = &fine["logins"][0];
    assert_eq!(login["email"], "ada@example.com");
    assert_eq!(
        (login["active"].clone(), login["in_use"].clone()),
        (Value::Bool(true), Value::Bool(true))
    );
    assert_eq!(login["token"]["state"], "valid");
    let text = qhub.run(&["status"]);
    assert!(
        text.ok().contains("* ada@example.com  embedded"),
        "{text:#?}"
    );

    qhub.expire_sessions();
    let (code, expired) = status(&qhub, &[]);
    assert_eq!(code, 4, "{expired}");
    assert_eq!(expired["logins"][0]["token"]["state"], "expired");
    qhub.run(&["status"]).fails(4, "hint: log in again");

    // A flag names another place: where commands go, and that nobody is logged in there.
    let (code, elsewhere) = status(&qhub, &["--database", "sqlite:other.db"]);
    assert_eq!(code, 4, "{elsewhere}");
    assert_eq!(elsewhere["target"]["kind"], "database");
    assert_eq!(
        elsewhere["target"]["source"],
        serde_json::json!({"from": "flag", "name": "--database"})
    );
    assert_eq!(elsewhere["logins"][0]["in_use"], false);
}

#[test]
fn several_logins_live_side_by_side_and_switch_picks_one() {
    let qhub = Qhub::new();
    qhub.register("ada@example.com").ok();
    with_password(
        &qhub,
        &[
            "--database",
            "sqlite:team.db",
            "register",
            "--email",
            "bob@example.com",
            "--password-stdin",
        ],
        &[],
    )
    .ok();
    // The newest login is active and its database is where commands go.
    assert_eq!(
        qhub.run(&["whoami", "--json"]).json()["email"],
        "bob@example.com"
    );
    // A flag picks the login saved for that place.
    assert_eq!(
        qhub.run(&["--embedded", "whoami", "--json"]).json()["email"],
        "ada@example.com"
    );

    let switched = qhub.run(&["switch", "--email", "ada@example.com"]);
    assert!(
        switched
            .ok()
            .contains("the active login is now ada@example.com"),
        "{switched:#?}"
    );
    assert_eq!(
        qhub.run(&["whoami", "--json"]).json()["email"],
        "ada@example.com"
    );
    assert_eq!(
        qhub.run(&["--database", "sqlite:team.db", "whoami", "--json"])
            .json()["email"],
        "bob@example.com",
        "the relative path names the same file as at login"
    );
    qhub.run(&["switch", "--email", "nobody@example.com"])
        .fails(2, "no saved login matches");

    // Logout removes only the login in use.
    let out = qhub.run(&["logout"]);
    assert!(
        out.ok().contains("the active login is now bob@example.com"),
        "{out:#?}"
    );
    let (code, listed) = status(&qhub, &[]);
    assert_eq!(code, 0, "{listed}");
    assert_eq!(listed["logins"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["logins"][0]["kind"], "database");
    assert_eq!(mode(&qhub), 0o600);
}

#[test]
fn an_old_single_login_config_is_read_and_migrated_in_place() {
    let qhub = Qhub::new();
    qhub.register("ada@example.com").ok();
    let token = qhub.token();
    // The format before logins were kept side by side; the file keeps its mode.
    std::fs::write(
        qhub.path("config.toml"),
        format!("token = {token:?}\nemail = \"ada@example.com\"\n"),
    )
    .unwrap();
    assert_eq!(
        qhub.run(&["whoami", "--json"]).json()["email"],
        "ada@example.com"
    );
    let config: toml::Table = toml::from_str(&qhub.config()).unwrap();
    assert!(!config.contains_key("token"), "{config:?}");
    assert_eq!(config["login"][0]["token"].as_str(), Some(token.as_str()));
    assert_eq!(mode(&qhub), 0o600);

    // An old login at a server stays a login at that server.
    std::fs::write(
        qhub.path("config.toml"),
        format!(
            "token = {token:?}\nemail = \"ada@example.com\"\nserver = \"http://127.0.0.1:1/\"\n"
        ),
    )
    .unwrap();
    let (code, listed) = status(&qhub, &[]);
    assert_eq!(code, 5, "{listed}");
    assert_eq!(listed["logins"][0]["kind"], "server");
    assert_eq!(listed["logins"][0]["location"], "http://127.0.0.1:1");
    assert_eq!(mode(&qhub), 0o600);
}

#[test]
fn a_token_from_another_database_is_not_known_there() {
    let qhub = Qhub::new();
    qhub.register("ada@example.com").ok();
    let token = qhub.token();
    qhub.run_with(
        &["--database", "sqlite:other.db", "whoami"],
        None,
        &[("QHUB_TOKEN", &token)],
    )
    .fails(4, "not known to this database")
    .fails(
        4,
        "hint: the token was issued for another database or server",
    )
    .fails(4, "login --email");
}

fn mode(qhub: &Qhub) -> u32 {
    std::fs::metadata(qhub.path("config.toml"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}
