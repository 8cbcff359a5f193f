//! Sessions per device, `logout --all` and `passwd`, on both databases.

use serde_json::Value;

use crate::harness::{PASSWORD, Qhub, on_both_databases};

const NEW_PASSWORD: &str = "a brand new passphrase";

/// The saved token, then a fresh login from another device (one that does not
/// hold the first token) whose token is saved.
fn second_session(qhub: &Qhub) -> String {
    let first = qhub.token();
    qhub.forget_login();
    qhub.login("ada@example.com", PASSWORD).ok();
    assert_ne!(qhub.token(), first);
    first
}

fn sessions(qhub: &Qhub) -> Vec<Value> {
    qhub.run(&["sessions", "list", "--json"])
        .json()
        .as_array()
        .expect("an array")
        .clone()
}

fn whoami_as(qhub: &Qhub, token: &str) -> crate::harness::Run {
    qhub.run_with(&["whoami"], None, &[("QHUB_TOKEN", token)])
}

on_both_databases! {
    fn logging_in_again_replaces_this_devices_session(qhub) {
        qhub.register("ada@example.com").ok();
        let registered = qhub.token();
        let mut previous = registered.clone();
        for _ in 0..3 {
            qhub.login("ada@example.com", PASSWORD).ok();
            whoami_as(&qhub, &previous).fails(4, "session revoked");
            previous = qhub.token();
        }
        let listed = sessions(&qhub);
        assert_eq!(listed.len(), 1, "one session per device: {listed:?}");
        assert_eq!(listed[0]["current"], true);

        // Another account's login on this device leaves Ada's session alone (it
        // is forgotten here, and `sessions list` elsewhere can end it).
        qhub.run_with(
            &["register", "--email", "bob@example.com", "--password-stdin"],
            Some(&format!("{PASSWORD}\n")),
            &[],
        )
        .ok();
        whoami_as(&qhub, &previous).ok();
    }

    fn short_session_ids_are_accepted(qhub) {
        qhub.register("ada@example.com").ok();
        let other = second_session(&qhub);
        let listed = sessions(&qhub);
        let other_id = listed[1]["id"].as_str().unwrap();
        qhub.run(&["sessions", "revoke", &other_id[..3]]).fails(2, "too short");
        qhub.run(&["sessions", "revoke", &other_id[..8]]).ok();
        whoami_as(&qhub, &other).fails(4, "session revoked");
    }

    fn sessions_are_listed_per_device_and_revocable(qhub) {
        qhub.register("ada@example.com").ok();
        let other = second_session(&qhub);

        let listed = sessions(&qhub);
        assert_eq!(listed.len(), 2, "{listed:?}");
        assert_eq!(listed.iter().filter(|s| s["current"] == true).count(), 1);
        assert_eq!(listed[0]["current"], true, "newest first: this device logged in last");
        assert!(listed[0]["user_agent"].as_str().unwrap().starts_with("qhub/"));
        let text = qhub.run(&["sessions", "list"]);
        assert!(text.ok().lines().nth(1).unwrap().starts_with("* "), "{text:#?}");

        // Revoke the other device's session by id: its next request is refused.
        let other_id = listed[1]["id"].as_str().unwrap();
        qhub.run(&["sessions", "revoke", other_id]).ok();
        whoami_as(&qhub, &other).fails(4, "session revoked");
        qhub.run(&["whoami"]).ok();
        assert_eq!(sessions(&qhub).len(), 1);

        qhub.run(&["sessions", "revoke", other_id]).fails(3, "no such session");
        qhub.run(&["sessions", "revoke"]).fails(2, "--others");

        // --others ends every session but this device's.
        let kept = second_session(&qhub);
        second_session(&qhub);
        assert_eq!(qhub.run(&["sessions", "revoke", "--others", "--json"]).json()["revoked"], 2);
        whoami_as(&qhub, &kept).fails(4, "session revoked");
        assert_eq!(sessions(&qhub).len(), 1);
    }

    fn logout_all_ends_every_session(qhub) {
        qhub.register("ada@example.com").ok();
        let other = second_session(&qhub);
        let out = qhub.run(&["logout", "--all"]);
        assert!(out.ok().contains("2 sessions ended"), "{out:#?}");
        whoami_as(&qhub, &other).fails(4, "session revoked");
        qhub.run(&["whoami"]).fails(4, "not logged in");
    }

    fn passwd_checks_the_current_password_and_logs_out_other_devices(qhub) {
        qhub.register("ada@example.com").ok();
        let other = second_session(&qhub);
        let passwd = |input: &str| qhub.run_with(&["passwd", "--password-stdin"], Some(input), &[]);

        passwd(&format!("wrong password!\n{NEW_PASSWORD}\n"))
            .fails(3, "current password is incorrect")
            .fails(3, "hint: type the password you log in with now");
        whoami_as(&qhub, &other).ok();
        passwd(&format!("{PASSWORD}\nshort\n")).fails(3, "at least 8 characters");
        passwd(&format!("{PASSWORD}\n")).fails(2, "two lines");

        assert!(passwd(&format!("{PASSWORD}\n{NEW_PASSWORD}\n")).ok().contains("password changed"));
        whoami_as(&qhub, &other).fails(4, "session revoked");
        qhub.run(&["whoami"]).ok();
        qhub.login("ada@example.com", PASSWORD).fails(3, "invalid email or password");
        qhub.login("ada@example.com", NEW_PASSWORD).ok();
    }
}
