use super::*;
use crate::memory_store::MemoryStore;
use crate::store::NewUser;

fn check(input: &str, expected: Result<&str, EmailError>) {
    let actual = parse(input);
    assert_eq!(actual.as_deref(), expected.as_deref(), "input {input:?}");
}

#[test]
fn parse_normalises_and_validates() {
    let at_limit = format!("{}@example.com", "a".repeat(MAX_EMAIL_CHARS - 12));
    let over_limit = format!("{}@example.com", "a".repeat(MAX_EMAIL_CHARS - 11));
    let cases: &[(&str, Result<&str, EmailError>)] = &[
        ("ada@example.com", Ok("ada@example.com")),
        ("  Ada@Example.COM\n", Ok("ada@example.com")),
        ("\tÉLODIE@exemple.fr ", Ok("élodie@exemple.fr")),
        ("a@b", Ok("a@b")),
        (
            "first.last+tag@sub.example.org",
            Ok("first.last+tag@sub.example.org"),
        ),
        (&at_limit, Ok(&at_limit)),
        ("", Err(EmailError::Empty)),
        ("   \t ", Err(EmailError::Empty)),
        (&over_limit, Err(EmailError::TooLong)),
        ("ada lovelace@example.com", Err(EmailError::Whitespace)),
        ("ada@exa\tmple.com", Err(EmailError::Whitespace)),
        ("ada\u{0}@example.com", Err(EmailError::Whitespace)),
        ("ada.example.com", Err(EmailError::At)),
        ("ada@@example.com", Err(EmailError::At)),
        ("a@b@example.com", Err(EmailError::At)),
        ("@example.com", Err(EmailError::EmptyLocalPart)),
        ("ada@", Err(EmailError::EmptyDomain)),
    ];
    for (input, expected) in cases {
        check(input, *expected);
    }
}

/// Spellings of one mailbox share one canonical form; look-alikes of another
/// mailbox are refused; different mailboxes stay different.
#[test]
fn canonical_form_table() {
    let cases: &[(&str, Result<&str, EmailError>)] = &[
        // NFC: a decomposed accent is the precomposed one.
        ("e\u{301}lodie@exemple.fr", Ok("élodie@exemple.fr")),
        ("\u{e9}lodie@exemple.fr", Ok("élodie@exemple.fr")),
        ("E\u{301}LODIE@exemple.fr", Ok("élodie@exemple.fr")),
        // The domain: trailing dot, case, IDNA (Unicode and Punycode alike).
        ("ada@example.com.", Ok("ada@example.com")),
        ("ada@EXAMPLE.com.", Ok("ada@example.com")),
        ("ada@example.com..", Err(EmailError::Domain)),
        ("ada@.", Err(EmailError::EmptyDomain)),
        ("ada@exa..mple.com", Err(EmailError::Domain)),
        ("ada@B\u{fc}cher.example", Ok("ada@bücher.example")),
        ("ada@bu\u{308}cher.example", Ok("ada@bücher.example")),
        ("ada@xn--bcher-kva.example", Ok("ada@bücher.example")),
        ("ada@XN--BCHER-KVA.example", Ok("ada@bücher.example")),
        ("ada@exa/mple.com", Err(EmailError::Domain)),
        ("ada@[192.0.2.1]", Ok("ada@[192.0.2.1]")),
        ("ada@[IPv6:2001:DB8::1]", Ok("ada@[ipv6:2001:db8::1]")),
        ("ada@[192.0.2.1", Err(EmailError::Domain)),
        // Invisible and text-direction characters.
        ("ad\u{200b}a@example.com", Err(EmailError::Invisible)),
        ("ad\u{200d}a@example.com", Err(EmailError::Invisible)),
        ("ad\u{200c}a@example.com", Err(EmailError::Invisible)),
        ("\u{feff}ada@example.com", Err(EmailError::Invisible)),
        ("ada@exam\u{feff}ple.com", Err(EmailError::Invisible)),
        ("ad\u{202e}a@example.com", Err(EmailError::Invisible)),
        ("ad\u{2066}a@example.com", Err(EmailError::Invisible)),
        ("ad\u{200f}a@example.com", Err(EmailError::Invisible)),
        ("ad\u{ad}a@example.com", Err(EmailError::Invisible)),
        ("ad\u{34f}a@example.com", Err(EmailError::Invisible)),
        ("ada\u{fe0f}@example.com", Err(EmailError::Invisible)),
        ("ada\u{e0041}@example.com", Err(EmailError::Invisible)),
        ("ada\u{2060}@example.com", Err(EmailError::Invisible)),
        // Non-ASCII characters that lowercase or NFC to ASCII.
        ("\u{212a}elvin@example.com", Err(EmailError::LookAlike)),
        ("kelvin@exampl\u{212a}.com", Err(EmailError::LookAlike)),
        ("\u{130}stanbul@example.com", Err(EmailError::LookAlike)),
        ("\u{2126}mega@example.com", Ok("ωmega@example.com")),
        (
            "\u{212b}ngstr\u{f6}m@example.com",
            Ok("ångström@example.com"),
        ),
        // Distinct mailboxes stay distinct.
        ("stra\u{df}e@example.com", Ok("straße@example.com")),
        ("strasse@example.com", Ok("strasse@example.com")),
        ("\u{131}@example.com", Ok("ı@example.com")),
        ("\u{ff41}da@example.com", Ok("ａda@example.com")),
        // Control characters, NUL and line separators.
        ("ada\u{7f}@example.com", Err(EmailError::Whitespace)),
        ("ada\u{85}@example.com", Err(EmailError::Whitespace)),
        ("ada\u{2028}@example.com", Err(EmailError::Whitespace)),
        ("ada@example.com\u{0}", Err(EmailError::Whitespace)),
    ];
    for (input, expected) in cases {
        check(input, *expected);
    }
}

#[test]
fn canonical_forms_are_stable_and_lowercase() {
    for input in [
        "E\u{301}LODIE@exemple.fr",
        "ada@XN--BCHER-KVA.example.",
        "\u{3a3}\u{3a3}@example.gr",
        "D\u{17d}@example.com",
        "\u{1c5}@example.com",
    ] {
        let once = parse(input).expect(input);
        assert_eq!(parse(&once).as_deref(), Ok(once.as_str()), "{input:?}");
        assert_eq!(once.to_lowercase(), once, "{input:?}");
        assert_eq!(once.nfc().collect::<String>(), once, "{input:?}");
    }
}

#[test]
fn length_counts_characters_not_bytes() {
    // 242 two-byte characters + "@example.com" is 254 characters but 496 bytes.
    let email = format!("{}@example.com", "é".repeat(MAX_EMAIL_CHARS - 12));
    assert_eq!(parse(&email), Ok(email.clone()));
}

#[test]
fn messages_are_lowercase_without_trailing_period() {
    assert_eq!(EmailError::Empty.to_string(), "email address is required");
    assert_eq!(
        EmailError::TooLong.to_string(),
        "invalid email address: longer than 254 characters"
    );
    assert_eq!(
        EmailError::At.to_string(),
        "invalid email address: expected exactly one @"
    );
    for error in [
        EmailError::Invisible,
        EmailError::LookAlike,
        EmailError::Domain,
    ] {
        let message = error.to_string();
        assert!(message.starts_with("invalid email address: "), "{message}");
        assert!(!message.ends_with('.'), "{message}");
    }
}

#[test]
fn normalize_only_trims_and_lowercases() {
    assert_eq!(normalize("  Not An Email "), "not an email");
}

#[test]
fn lookup_tries_the_canonical_then_the_older_form() {
    let plain = Lookup::new(" Ada@Example.com ").expect("valid");
    assert_eq!(plain.key, "ada@example.com");
    assert_eq!(plain.legacy, None);

    let dotted = Lookup::new("Ada@Example.com.").expect("valid");
    assert_eq!(dotted.key, "ada@example.com");
    assert_eq!(dotted.legacy.as_deref(), Some("ada@example.com."));

    // No canonical form: looked up as older rules stored it.
    let kelvin = Lookup::new("\u{212a}elvin@example.com").expect("valid");
    assert_eq!(kelvin.key, "kelvin@example.com");
    assert_eq!(kelvin.legacy, None);

    assert_eq!(Lookup::new("  "), Err(EmailError::Empty));
    assert_eq!(
        Lookup::new("ada\u{0}@example.com"),
        Err(EmailError::Whitespace)
    );
}

#[test]
fn an_address_stored_under_older_rules_is_still_found() {
    let store = MemoryStore::default();
    let stored = |email: &str| {
        store
            .create_user(NewUser {
                email: email.to_owned(),
                display_name: None,
                password_hash: None,
                created_at: 0,
            })
            .expect("created")
    };
    let old = stored("ada@example.com.");
    let found = Lookup::new("ADA@example.com.")
        .map(|lookup| lookup.find(&store))
        .expect("valid")
        .expect("found");
    assert_eq!(found.map(|user| user.id), Some(old.id));

    let nfd = stored("e\u{301}lodie@exemple.fr");
    let found = Lookup::new("E\u{301}lodie@exemple.fr")
        .map(|lookup| lookup.find(&store))
        .expect("valid")
        .expect("found");
    assert_eq!(found.map(|user| user.id), Some(nfd.id));
}
