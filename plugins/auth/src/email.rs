//! Email addresses: the one canonical form accounts are stored, looked up, throttled
//! and linked by.
//!
//! The check is deliberately loose about what an address may be (RFC 5321 allows far
//! more than anyone types), and strict about what two spellings are the same address:
//! two inputs get the same canonical form only when they name the same mailbox, and
//! text that would make look-alikes of different mailboxes is refused.
//!
//! The canonical form ([`parse`]):
//! 1. Surrounding whitespace is trimmed. Whitespace or control characters inside
//!    (`char::is_whitespace`, `char::is_control`, NUL included) are refused.
//! 2. Invisible characters are refused: every `Default_Ignorable_Code_Point` of
//!    Unicode's DerivedCoreProperties.txt (zero-width space and joiners, the BOM, soft
//!    hyphen, variation selectors, tags, Hangul fillers, ...), which includes every
//!    bidi control (UAX #9 section 2: LRM, RLM, ALM, LRE..RLO, LRI..PDI), plus the
//!    interlinear annotation controls U+FFF9..U+FFFB (UTS #39 section 3.1 and
//!    RFC 8264 section 9.13 on confusable and invisible characters).
//! 3. Non-ASCII characters that Unicode lowercasing or NFC turn into ASCII are
//!    refused (KELVIN SIGN U+212A, whose lowercase and NFC are `k`/`K`; LATIN CAPITAL
//!    LETTER I WITH DOT ABOVE U+0130, whose lowercase is `i` + U+0307): they would
//!    make a second spelling of an ASCII address (the "Kelvin sign" account-linking
//!    attack; RFC 8265 section 3.3 and UTS #39 section 4 on case-mapping confusables).
//! 4. The whole address is put in Unicode Normalization Form C (UAX #15), so a
//!    decomposed accent and a precomposed one are the same address (RFC 6530
//!    section 10.1 and RFC 6532 section 3.1 recommend NFC for internationalised mail).
//! 5. The local part is lowercased with Unicode's full lowercase mapping and put in
//!    NFC again. Lowercasing is the rule QHub has always applied (and what
//!    PostgreSQL's `users_email_check` requires); unlike case folding it never merges
//!    letters that differ other than by case (`ß` stays `ß`, not `ss`).
//! 6. The domain loses one trailing dot (the DNS root) and goes through IDNA UTS #46
//!    processing (nontransitional, the `idna` crate), which maps, lowercases and
//!    checks it. It is stored in its Unicode form, so `xn--bcher-kva.example` and
//!    `Bücher.example` are the same domain, and addresses stored before this rule
//!    (trimmed and lowercased) keep their form.
//! 7. The result is at most [`MAX_EMAIL_CHARS`] characters.

use unicode_normalization::UnicodeNormalization;

use crate::store::{Store, StoreError, User};

/// The longest address SMTP can carry (RFC 5321 section 4.5.3.1, in practice).
pub const MAX_EMAIL_CHARS: usize = 254;

/// Why an email address was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("email address is required")]
    Empty,
    #[error("invalid email address: longer than {MAX_EMAIL_CHARS} characters")]
    TooLong,
    #[error("invalid email address: contains whitespace or control characters")]
    Whitespace,
    #[error(
        "invalid email address: contains an invisible or text-direction character (zero-width space or joiner, byte-order mark, bidi control, ...)"
    )]
    Invisible,
    #[error(
        "invalid email address: contains a character that stands for an ASCII letter (like the Kelvin sign); type the ASCII letter instead"
    )]
    LookAlike,
    #[error("invalid email address: expected exactly one @")]
    At,
    #[error("invalid email address: nothing before the @")]
    EmptyLocalPart,
    #[error("invalid email address: nothing after the @")]
    EmptyDomain,
    #[error("invalid email address: the domain is not a valid domain name")]
    Domain,
}

/// Trimmed and lowercased: the form emails were stored in before the canonical
/// form, used to find accounts registered under those rules (and by the password
/// policy to compare a password with the email).
pub fn normalize(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// The canonical form of `raw` (see the module documentation), or why it has none.
pub fn parse(raw: &str) -> Result<String, EmailError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(EmailError::Empty);
    }
    if trimmed.chars().count() > MAX_EMAIL_CHARS {
        return Err(EmailError::TooLong);
    }
    if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(EmailError::Whitespace);
    }
    if trimmed.chars().any(is_invisible) {
        return Err(EmailError::Invisible);
    }
    if trimmed.chars().any(is_ascii_look_alike) {
        return Err(EmailError::LookAlike);
    }
    let composed: String = trimmed.nfc().collect();
    let mut parts = composed.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(EmailError::At);
    };
    if local.is_empty() {
        return Err(EmailError::EmptyLocalPart);
    }
    let local: String = local.to_lowercase().nfc().collect();
    let domain = canonical_domain(domain)?;
    let email = format!("{local}@{domain}");
    if email.chars().count() > MAX_EMAIL_CHARS {
        return Err(EmailError::TooLong);
    }
    Ok(email)
}

/// The domain's canonical form: an address literal (`[192.0.2.1]`) lowercased, a
/// name without its trailing dot, through UTS #46, in Unicode form.
fn canonical_domain(domain: &str) -> Result<String, EmailError> {
    if domain.starts_with('[') {
        return if domain.ends_with(']') && domain.is_ascii() {
            Ok(domain.to_ascii_lowercase())
        } else {
            Err(EmailError::Domain)
        };
    }
    let name = domain.strip_suffix('.').unwrap_or(domain);
    if name.is_empty() {
        return Err(EmailError::EmptyDomain);
    }
    let ascii = idna::domain_to_ascii_cow(name.as_bytes(), idna::AsciiDenyList::URL)
        .map_err(|_| EmailError::Domain)?;
    if ascii.split('.').any(str::is_empty) {
        return Err(EmailError::Domain);
    }
    let (unicode, checked) = idna::domain_to_unicode(&ascii);
    checked.map_err(|_| EmailError::Domain)?;
    Ok(unicode)
}

/// Unicode's `Default_Ignorable_Code_Point` (DerivedCoreProperties.txt, Unicode 16),
/// which contains every bidi control, plus U+FFF9..U+FFFB.
fn is_invisible(c: char) -> bool {
    matches!(
        u32::from(c),
        0x00AD
            | 0x034F
            | 0x061C
            | 0x115F..=0x1160
            | 0x17B4..=0x17B5
            | 0x180B..=0x180F
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0xFFF0..=0xFFFB
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF
    )
}

/// A non-ASCII character whose lowercase or NFC contains ASCII (U+212A, U+0130).
fn is_ascii_look_alike(c: char) -> bool {
    !c.is_ascii()
        && (c.to_lowercase().any(|l| l.is_ascii())
            || std::iter::once(c).nfc().any(|n| n.is_ascii()))
}

/// How a sign-in finds its account: by the canonical form, and by the form older
/// rules stored when it differs, so an address registered before the canonical form
/// still signs in. Input that has no canonical form is looked up in the older form
/// only (it matches nothing unless registered under those rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// The canonical form, or the older one: what sign-in limits are counted under.
    pub key: String,
    legacy: Option<String>,
}

impl Lookup {
    /// Refuses only what no rule ever stored (nothing, control characters, over-long
    /// text), so such input never reaches a database.
    pub fn new(raw: &str) -> Result<Self, EmailError> {
        let old = normalize(raw);
        if old.is_empty() {
            return Err(EmailError::Empty);
        }
        if old.chars().any(char::is_control) {
            return Err(EmailError::Whitespace);
        }
        if old.chars().count() > MAX_EMAIL_CHARS {
            return Err(EmailError::TooLong);
        }
        Ok(match parse(raw) {
            Ok(canonical) if canonical == old => Self {
                key: canonical,
                legacy: None,
            },
            Ok(canonical) => Self {
                key: canonical,
                legacy: Some(old),
            },
            Err(_) => Self {
                key: old,
                legacy: None,
            },
        })
    }

    /// The account under the canonical form, else under the older form. Whether a
    /// second look-up happens depends on the input only, never on what is stored.
    pub fn find(&self, store: &impl Store) -> Result<Option<User>, StoreError> {
        if let Some(user) = store.get_user_by_email(&self.key)? {
            return Ok(Some(user));
        }
        match &self.legacy {
            Some(old) => store.get_user_by_email(old),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
#[path = "email_tests.rs"]
mod tests;
