//! QHUB_HOME: file modes, and the compiled-plugin cache (these tests keep theirs in
//! their own home, not in the test process's shared one).

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use crate::harness::{PASSWORD, Qhub};

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn secrets_and_config_are_private() {
    let qhub = Qhub::new();
    qhub.register("ada@example.com").ok();
    assert_eq!(
        mode(&qhub.path("config.toml")),
        0o600,
        "config.toml holds the token"
    );
    assert_eq!(mode(&qhub.path("jwt-secret")), 0o600);
    assert_eq!(mode(qhub.home()), 0o700);
    assert!(qhub.config().contains("token = "));
}

#[test]
fn a_second_command_compiles_nothing() {
    let qhub = Qhub::new().with_own_cache();
    let debug = [("QHUB_LOG", "qhub_runtime=debug")];
    let first = qhub.run_with(
        &["register", "--email", "ada@example.com", "--password-stdin"],
        Some("correct horse battery staple\n"),
        &debug,
    );
    first.ok();
    assert_eq!(
        first.stderr.matches("compiled component").count(),
        2,
        "{first:#?}"
    );

    let second = qhub.run_with(&["whoami", "--json"], None, &debug);
    second.ok();
    assert!(!second.stderr.contains("compiled component"), "{second:#?}");
    assert_eq!(
        second.stderr.matches("origin=Cache").count(),
        2,
        "{second:#?}"
    );
}

/// Compiled plugins are code qhub maps and runs: an entry that other users may
/// write (or that is not a compiled component at all) is ignored and compiled
/// again, and the new entry is private.
#[test]
fn a_cache_entry_others_may_write_or_that_is_damaged_is_compiled_again() {
    use std::os::unix::fs::PermissionsExt as _;
    let qhub = Qhub::new().with_own_cache();
    qhub.register("ada@example.com").ok();
    let entries: Vec<_> = std::fs::read_dir(qhub.path("cache"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "cwasm"))
        .collect();
    assert_eq!(entries.len(), 2, "{entries:?}");
    // One entry open to others' writes, the other cut short.
    std::fs::set_permissions(&entries[0], std::fs::Permissions::from_mode(0o666)).unwrap();
    let bytes = std::fs::read(&entries[1]).unwrap();
    std::fs::write(&entries[1], &bytes[..bytes.len() / 2]).unwrap();
    let run = qhub.run_with(
        &["whoami", "--json"],
        None,
        &[("QHUB_LOG", "qhub_runtime=debug")],
    );
    assert_eq!(run.json()["email"], "ada@example.com");
    assert!(run.stderr.contains("other users may write"), "{run:#?}");
    assert!(run.stderr.contains("unusable cache entry"), "{run:#?}");
    assert_eq!(
        run.stderr.matches("compiled component").count(),
        2,
        "{run:#?}"
    );
    for entry in &entries {
        let mode = std::fs::metadata(entry).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", entry.display());
    }
    // And they are used from then on.
    let run = qhub.run_with(
        &["whoami", "--json"],
        None,
        &[("QHUB_LOG", "qhub_runtime=debug")],
    );
    assert_eq!(
        run.stderr.matches("compiled component").count(),
        0,
        "{run:#?}"
    );
}

// ---- permissions: refused as OpenSSH refuses a private key others can read ----

fn set_mode(path: &std::path::Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Issue 10, kind 6: a `jwt-secret` with a known value, mode 0666, in a
/// world-writable QHUB_HOME was used as it was, so tokens could be forged.
#[test]
fn a_planted_secret_in_a_world_writable_home_is_refused() {
    let qhub = Qhub::new();
    let secret = qhub.path("jwt-secret");
    std::fs::write(&secret, [b'k'; 64]).unwrap();
    set_mode(&secret, 0o666);
    set_mode(qhub.home(), 0o777);

    let home = qhub.home().display().to_string();
    qhub.register("ada@example.com")
        .fails(1, &format!("{home} has mode 0777"))
        .fails(1, &format!("hint: run `chmod 700 {home}`"));
    assert_eq!(mode(qhub.home()), 0o777, "left as it was");

    set_mode(qhub.home(), 0o700);
    qhub.register("ada@example.com")
        .fails(1, &format!("{} has mode 0666", secret.display()))
        .fails(1, &format!("hint: run `chmod 600 {}`", secret.display()));
    assert!(!qhub.path("config.toml").exists(), "nobody was logged in");

    // Deleting it, as the hint offers, makes a fresh one.
    std::fs::remove_file(&secret).unwrap();
    qhub.register("ada@example.com").ok();
    assert_ne!(std::fs::read(&secret).unwrap(), [b'k'; 64]);
}

#[test]
fn group_or_other_access_to_a_secret_is_refused_with_its_chmod() {
    let qhub = Qhub::new().with_own_cache();
    qhub.register("ada@example.com").ok();
    let home = qhub.home().display().to_string();
    for (path, bad, fix) in [
        (qhub.path("config.toml"), 0o644, "chmod 600"),
        (qhub.path("config.toml"), 0o660, "chmod 600"),
        (qhub.path("jwt-secret"), 0o640, "chmod 600"),
        (qhub.path("jwt-secret"), 0o602, "chmod 600"),
        (qhub.path("cache"), 0o770, "chmod 700"),
        (qhub.home().to_path_buf(), 0o1777, "chmod 700"),
        (qhub.home().to_path_buf(), 0o720, "chmod 700"),
    ] {
        set_mode(&path, bad);
        let run = qhub.run(&["whoami"]);
        run.fails(1, &format!("{} has mode {bad:04o}", path.display()))
            .fails(1, &format!("hint: run `{fix} {}`", path.display()));
        assert_eq!(run.stdout, "", "{run:#?}");
        set_mode(&path, if fix == "chmod 600" { 0o600 } else { 0o700 });
        assert_eq!(
            qhub.run(&["whoami", "--json"]).json()["email"],
            "ada@example.com"
        );
    }
    // Safe but looser than qhub makes them: accepted.
    set_mode(qhub.home(), 0o755);
    set_mode(&qhub.path("jwt-secret"), 0o400);
    qhub.run(&["whoami"]).ok();
    assert_eq!(mode(qhub.home()), 0o700, "{home} is tightened as before");
}

/// Files owned by another user are refused even when private (ssh's "bad owner").
/// Making one takes root; the suite runs as root in CI.
#[test]
fn a_secret_owned_by_another_user_is_refused() {
    let qhub = Qhub::new();
    qhub.register("ada@example.com").ok();
    let secret = qhub.path("jwt-secret");
    let me = std::fs::metadata(qhub.home()).unwrap().uid();
    if std::os::unix::fs::chown(&secret, Some(me + 1), None).is_err() {
        assert_ne!(me, 0, "root can always chown");
        // CI runs as root, so there this test must run, never skip.
        assert!(
            std::env::var_os("CI").is_none(),
            "only root can give a file to another user, and CI must run this test as root"
        );
        eprintln!("skipped outside CI: only root can give a file to another user");
        return;
    }
    qhub.run(&["whoami"])
        .fails(
            1,
            &format!(
                "{} is owned by another user (uid {})",
                secret.display(),
                me + 1
            ),
        )
        .fails(1, &format!("chown {me} {}", secret.display()));
    std::os::unix::fs::chown(&secret, Some(me), None).unwrap();
    qhub.run(&["whoami"]).ok();
}

/// `command` run under `umask 022`, as most shells have it: SQLite on its own
/// would then create a database and its `-wal`/`-shm` readable by everyone.
pub(crate) fn with_umask_022(command: &std::process::Command) -> std::process::Command {
    let mut outer = std::process::Command::new("sh");
    outer
        .args(["-c", "umask 022 && exec \"$@\"", "sh"])
        .arg(command.get_program())
        .args(command.get_args());
    if let Some(dir) = command.get_current_dir() {
        outer.current_dir(dir);
    }
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => outer.env(key, value),
            None => outer.env_remove(key),
        };
    }
    outer
}

#[test]
fn everything_qhub_creates_is_private_whatever_the_umask() {
    let qhub = Qhub::new().with_own_cache();
    // A QHUB_HOME that does not exist yet.
    let home = qhub.path("home");
    let home_env = [("QHUB_HOME", home.to_str().unwrap())];
    let register = qhub.command(
        &["register", "--email", "ada@example.com", "--password-stdin"],
        &home_env,
    );
    let mut child = with_umask_022(&register)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, format!("{PASSWORD}\n").as_bytes()).unwrap();
    drop(stdin);
    assert!(child.wait().unwrap().success());

    assert_eq!(mode(&home), 0o700);
    assert_eq!(mode(&home.join("cache")), 0o700);
    for file in ["config.toml", "jwt-secret", "qhub.db"] {
        assert_eq!(mode(&home.join(file)), 0o600, "{file}");
    }
    for entry in std::fs::read_dir(home.join("cache")).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
    // -wal and -shm exist while a connection is open (`qhub serve` keeps one):
    // see start.rs. Any left behind are private too.
    for file in ["qhub.db-wal", "qhub.db-shm"] {
        if home.join(file).exists() {
            assert_eq!(mode(&home.join(file)), 0o600, "{file}");
        }
    }
}

/// `QHUB_CACHE_DIR` moves the cache out of `QHUB_HOME`, so that homes can share
/// one (the tests do), under the same checks as `QHUB_HOME/cache`.
#[test]
fn qhub_cache_dir_is_shared_by_homes_and_checked_as_the_home_cache_is() {
    let (first, second) = (Qhub::new().with_own_cache(), Qhub::new().with_own_cache());
    let shared = first.path("shared-cache");
    let env = [
        ("QHUB_CACHE_DIR", shared.to_str().unwrap()),
        ("QHUB_LOG", "qhub_runtime=debug"),
    ];
    let register = |qhub: &Qhub| {
        let args = ["register", "--email", "ada@example.com", "--password-stdin"];
        qhub.run_with(&args, Some(&format!("{PASSWORD}\n")), &env)
    };
    let run = register(&first);
    run.ok();
    assert_eq!(
        run.stderr.matches("compiled component").count(),
        2,
        "{run:#?}"
    );
    assert!(!first.path("cache").exists(), "the home holds no cache");
    assert_eq!(mode(&shared), 0o700);

    // Another home finds both plugins compiled.
    let run = register(&second);
    run.ok();
    assert!(!run.stderr.contains("compiled component"), "{run:#?}");
    assert_eq!(run.stderr.matches("origin=Cache").count(), 2, "{run:#?}");

    for bad in [0o777, 0o770] {
        set_mode(&shared, bad);
        second
            .run_with(&["whoami"], None, &env)
            .fails(1, &format!("{} has mode {bad:04o}", shared.display()))
            .fails(1, &format!("hint: run `chmod 700 {}`", shared.display()));
        set_mode(&shared, 0o700);
    }
    assert_eq!(
        second.run_with(&["whoami", "--json"], None, &env).json()["email"],
        "ada@example.com"
    );
}
