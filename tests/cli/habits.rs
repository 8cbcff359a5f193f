//! Habits users bring from gh and wrangler: being asked for what is missing on a
//! terminal (and told what to pass without one), and colour only on a terminal.

use crate::harness::Qhub;

#[test]
fn login_without_email_or_provider_names_both_without_a_terminal() {
    let qhub = Qhub::new();
    qhub.run(&["login"])
        .fails(2, "--email or --provider is required when there is no terminal")
        .fails(2, "hint: pass --email EMAIL to log in with a password, or --provider NAME");
    qhub.run_with(&["login", "--password-stdin"], Some("secret\n"), &[])
        .fails(2, "--password-stdin needs --email");
    let help = qhub.run(&["login", "--help"]);
    let usage = help.ok().lines().find(|l| l.starts_with("Usage:")).unwrap();
    assert!(usage.contains("--email"), "{help:#?}");
    assert!(help.ok().contains("qhub login --provider <NAME>"), "{help:#?}");
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
    assert!(forced.stderr.contains("\u{1b}[31m"), "red error: {forced:#?}");
    assert!(forced.stderr.contains("\u{1b}[36m"), "cyan hint: {forced:#?}");
    // ...and NO_COLOR wins over everything.
    assert!(!styled(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]));
}
