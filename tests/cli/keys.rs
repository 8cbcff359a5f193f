//! API keys: shown once, usable as QHUB_TOKEN within their scopes, revocable.

use crate::harness::on_both_databases;

const BELL: &str =
    "OPENQASM 2.0;\nqreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\nmeasure q -> c;\n";

on_both_databases! {
    fn api_keys_work_within_their_scopes_until_revoked(qhub) {
        qhub.register("ada@example.com").ok();
        let created = qhub.run(&["keys", "create", "--name", "ci", "--json"]).json();
        let secret = created["secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with(created["key"]["prefix"].as_str().unwrap()), "{created}");
        assert_eq!(created["key"]["scopes"].as_array().unwrap().len(), 5, "all scopes by default");
        let key_id = created["key"]["id"].as_str().unwrap().to_owned();

        // The secret is never shown again.
        let listed = qhub.run(&["keys", "list", "--json"]);
        assert!(!listed.stdout.contains(&secret));
        assert_eq!(listed.json()[0]["id"], key_id.as_str());

        // The key works as QHUB_TOKEN.
        let as_key = |args: &[&str], key: &str| qhub.run_with(args, None, &[("QHUB_TOKEN", key)]);
        assert_eq!(as_key(&["whoami", "--json"], &secret).json()["email"], "ada@example.com");
        let bell = qhub.path("bell.qasm");
        std::fs::write(&bell, BELL).unwrap();
        let bell = bell.display().to_string();
        as_key(&["jobs", "submit", &bell], &secret).ok();

        // ...but not for what only a session may do.
        as_key(&["keys", "create", "--name", "x"], &secret).fails(3, "API keys cannot");
        as_key(&["sessions", "list"], &secret).fails(3, "API keys cannot");

        // A read-only key cannot submit.
        let reader = qhub
            .run(&["keys", "create", "--name", "ro", "--scope", "jobs:read", "--expires-in", "30d", "--json"])
            .json();
        assert!(reader["key"]["expires_at"].is_string());
        let reader = reader["secret"].as_str().unwrap().to_owned();
        assert_eq!(as_key(&["jobs", "list", "--json"], &reader).json().as_array().unwrap().len(), 1);
        as_key(&["jobs", "submit", &bell], &reader).fails(3, "lacks the jobs:write scope");
        qhub.run(&["keys", "create", "--name", "x", "--scope", "root"]).fails(3, "unknown scope");
        qhub.run(&["keys", "create", "--name", "x", "--expires-in", "2x"]).fails(2, "is not a duration");
        // A bare number is refused rather than read as seconds; below a minute the
        // core refuses, as every host would.
        qhub.run(&["keys", "create", "--name", "x", "--expires-in", "30"])
            .fails(2, "has no unit")
            .fails(2, "hint: give a number with a unit, e.g. --expires-in 30d");
        qhub.run(&["keys", "create", "--name", "x", "--expires-in", "30s"]).fails(3, "1 minute to 366 days");

        // `keys list` shows the expiry, and marks an expired key.
        let listed = qhub.run(&["keys", "list"]);
        assert!(listed.ok().contains("EXPIRES"), "{listed:#?}");
        assert!(listed.ok().contains("(in 29d)"), "{listed:#?}");
        qhub.expire_api_keys();
        let listed = qhub.run(&["keys", "list"]);
        assert!(listed.ok().contains("(expired)"), "{listed:#?}");
        // An expired key in QHUB_TOKEN points at `keys create`, not at `qhub login`.
        let expired = as_key(&["whoami"], &reader);
        expired.fails(4, "api key expired").fails(4, "hint: the API key in QHUB_TOKEN");
        assert!(expired.stderr.contains("qhub keys create"), "{expired:#?}");
        assert!(!expired.stderr.contains("qhub login"), "{expired:#?}");

        // Revoked: refused at once. The key's visible prefix designates it.
        let prefix = created["key"]["prefix"].as_str().unwrap();
        assert!(qhub.run(&["keys", "revoke", prefix]).ok().contains(&key_id));
        as_key(&["whoami"], &secret).fails(4, "api key revoked");
        qhub.run(&["keys", "revoke", &key_id]).fails(3, "no such api key");
        as_key(&["whoami"], "qhk_00000000_notakey").fails(4, "invalid api key");
    }
}
