//! Habits users bring from gh and wrangler: being asked for what is missing on a
//! terminal (and told what to pass without one), and colour only on a terminal.

use crate::harness::Qhub;

#[test]
fn login_without_email_or_provider_names_both_without_a_terminal() {
    let qhub = Qhub::new();
    qhub.run(&["login"])
        .fails(
            2,
            "--email or --provider is required when there is no terminal",
        )
        .fails(
            2,
            "hint: pass --email EMAIL to log in with a password, or --provider NAME",
        );
    qhub.run_with(&["login", "--password-stdin"], Some("secret\n"), &[])
        .fails(2, "--password-stdin needs --email");
    let help = qhub.run(&["login", "--help"]);
    let usage = help.ok().lines().find(|l| l.starts_with("Usage:")).unwrap();
    assert!(usage.contains("--email"), "{help:#?}");
    assert!(
        help.ok().contains("qhub login --provider <NAME>"),
        "{help:#?}"
    );
}

#[test]
fn colour_only_where_it_can_be_seen() {
    let qhub = Qhub::new();
    let styled = |env: &[(&str, &str)]| {
        let run = qhub.run_with(&["whoami"], None, env);
        run.fails(4, "not logged in");
        run.stderr.contains('\u{1b}')
    };
    // A pipe gets plain text.
    assert!(!styled(&[]));
    // Forced colour (CLICOLOR_FORCE, as on a terminal) styles `error:` and `hint:`...
    assert!(styled(&[("CLICOLOR_FORCE", "1")]));
    let forced = qhub.run_with(&["whoami"], None, &[("CLICOLOR_FORCE", "1")]);
    assert!(
        forced.stderr.contains("\u{1b}[31m"),
        "red error: {forced:#?}"
    );
    assert!(
        forced.stderr.contains("\u{1b}[36m"),
        "cyan hint: {forced:#?}"
    );
    // ...and NO_COLOR wins over everything.
    assert!(!styled(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]));
}

/// Runs `qhub args...` on a pseudo-terminal (util-linux `script`), typing `input`.
/// Returns what the terminal showed and the exit code.
fn on_a_terminal(qhub: &Qhub, args: &[&str], input: &str) -> (String, i32) {
    let line = std::iter::once(env!("CARGO_BIN_EXE_qhub"))
        .chain(args.iter().copied())
        .map(|word| format!("'{word}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let mut command = std::process::Command::new("script");
    command.args(["-qec", &line, "/dev/null"]);
    let template = qhub.command(&[], &[]);
    for (key, value) in template.get_envs() {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    command.current_dir(qhub.home());
    let run = crate::harness::Run::finish(crate::harness::spawn_piped(&mut command, Some(input)));
    (run.stdout, run.code)
}

#[test]
fn on_a_terminal_login_asks_for_the_email_and_a_mistyped_repeat_asks_again() {
    let qhub = Qhub::new();
    let password = crate::harness::PASSWORD;
    let (shown, code) = on_a_terminal(
        &qhub,
        &["register", "--email", "ada@example.com"],
        &format!("{password}\nnot the same\n{password}\n{password}\n"),
    );
    assert_eq!(code, 0, "{shown}");
    assert!(
        shown.contains("the passwords did not match; try again"),
        "{shown}"
    );
    assert!(
        shown.contains("registered and logged in as ada@example.com"),
        "{shown}"
    );

    let (shown, code) = on_a_terminal(&qhub, &["login"], &format!("ada@example.com\n{password}\n"));
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("Email: "), "{shown}");
    assert!(shown.contains("logged in as ada@example.com"), "{shown}");

    // Three mismatches end the command.
    let (shown, code) = on_a_terminal(
        &qhub,
        &["passwd"],
        &format!("{password}\na1111111\nb1111111\na1111111\nb1111111\na1111111\nb1111111\n"),
    );
    assert_eq!(code, 2, "{shown}");
    assert!(
        shown.contains("the passwords did not match 3 times"),
        "{shown}"
    );
}
