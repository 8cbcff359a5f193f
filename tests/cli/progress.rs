//! Progress (compiling the plugins on a first run, applying migrations) is drawn on
//! stderr only when stderr is a terminal: on pipes a first run prints nothing more
//! than its result.

use std::process::Command;

use crate::harness::Qhub;

#[test]
fn a_first_run_on_pipes_prints_no_progress() {
    // A fresh home: the plugins are compiled and the database migrated.
    let qhub = Qhub::new().with_own_cache();
    let run = qhub.register("ada@example.com");
    run.ok();
    assert_eq!(run.stderr, "", "{run:#?}");

    let qhub = Qhub::new().with_own_cache();
    let run = qhub.run(&["migrate", "run"]);
    assert_eq!(run.ok(), "applied migration 1\napplied migration 2\n");
    assert_eq!(run.stderr, "", "{run:#?}");
}

/// The same first run on a terminal (a pseudo-terminal from util-linux's `script`)
/// says what it did: the lines each finished step leaves behind.
#[test]
fn a_first_run_on_a_terminal_says_what_it_compiles_and_migrates() {
    let qhub = Qhub::new().with_own_cache();
    // An unknown token: the command migrates and loads the plugins, then refuses.
    let text = on_terminal(&qhub, "whoami", &[("QHUB_TOKEN", "not-a-token")]);
    for expected in [
        "applied 2 database migrations",
        "compiled plugin \"auth\" 0.1.0 in",
        "compiled plugin \"store-d1\" 0.1.0 in",
        // Coloured on a terminal: the style ends between "error:" and the message.
        "error:",
    ] {
        assert!(text.contains(expected), "no {expected:?} in {text:?}");
    }
}

/// Runs `qhub ARGS` (a shell word list) on a pseudo-terminal 100 columns wide, in
/// the harness's environment plus `env`; returns what the terminal received.
fn on_terminal(qhub: &Qhub, args: &str, env: &[(&str, &str)]) -> String {
    let prepared = qhub.command(&[], env);
    let mut script = Command::new("script");
    script
        .arg("-qec")
        .arg(format!(
            "stty cols 100 rows 24; exec {} {args}",
            env!("CARGO_BIN_EXE_qhub")
        ))
        .arg("/dev/null")
        .current_dir(qhub.home());
    for (key, value) in prepared.get_envs() {
        match value {
            Some(value) => script.env(key, value),
            None => script.env_remove(key),
        };
    }
    let out = script.output().expect("`script` (util-linux) runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
