//! `application/x-www-form-urlencoded` bodies and query strings.

/// Percent-encodes everything but RFC 3986's unreserved characters. Spaces become
/// `%20`, which both form decoders and query parsers read as a space.
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Ordered name/value pairs, encoded as a form body or a query string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    pub fn new() -> Form {
        Form::default()
    }

    /// Adds a pair.
    pub fn pair(mut self, name: &str, value: &str) -> Form {
        self.pairs.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds a pair when there is a value.
    pub fn opt(self, name: &str, value: Option<&str>) -> Form {
        match value {
            Some(value) => self.pair(name, value),
            None => self,
        }
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// `a=1&b=two%20words`.
    pub fn encode(&self) -> String {
        self.pairs
            .iter()
            .map(|(name, value)| format!("{}={}", percent_encode(name), percent_encode(value)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Appends `form` to `base`'s query string, keeping any query `base` already has
/// (RFC 6749 section 3.1 allows one on the authorization endpoint).
pub fn with_query(base: &str, form: &Form) -> String {
    if form.pairs.is_empty() {
        return base.to_owned();
    }
    let separator = match base.find('?') {
        None => '?',
        Some(at) if at + 1 == base.len() || base.ends_with('&') => {
            return format!("{base}{}", form.encode());
        }
        Some(_) => '&',
    };
    format!("{base}{separator}{}", form.encode())
}

/// The `scope` parameter: the host's scopes space-separated, or `default` when the
/// host passed none.
pub fn scope_param(scopes: &[String], default: &str) -> String {
    let scopes: Vec<&str> = scopes
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if scopes.is_empty() {
        default.to_owned()
    } else {
        scopes.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_reserved_characters_and_keeps_unreserved_ones() {
        let check = |input: &str, expected: &str| assert_eq!(percent_encode(input), expected);
        check("abc-XYZ_0.9~", "abc-XYZ_0.9~");
        check("a b", "a%20b");
        check(
            "http://127.0.0.1:5/cb?x=1",
            "http%3A%2F%2F127.0.0.1%3A5%2Fcb%3Fx%3D1",
        );
        check("a+b&c=d", "a%2Bb%26c%3Dd");
        check("é", "%C3%A9");
    }

    #[test]
    fn form_keeps_order_and_skips_missing_values() {
        let form = Form::new()
            .pair("grant_type", "authorization_code")
            .opt("client_secret", None)
            .opt("code", Some("a/b"));
        assert_eq!(form.encode(), "grant_type=authorization_code&code=a%2Fb");
    }

    #[test]
    fn query_is_appended_to_urls_with_and_without_one() {
        let form = Form::new().pair("a", "1");
        assert_eq!(with_query("https://x/auth", &form), "https://x/auth?a=1");
        assert_eq!(
            with_query("https://x/auth?p=q", &form),
            "https://x/auth?p=q&a=1"
        );
        assert_eq!(with_query("https://x/auth?", &form), "https://x/auth?a=1");
        assert_eq!(with_query("https://x/auth", &Form::new()), "https://x/auth");
    }

    #[test]
    fn scopes_fall_back_to_the_default() {
        assert_eq!(scope_param(&[], "openid email"), "openid email");
        assert_eq!(scope_param(&[" ".into()], "openid"), "openid");
        assert_eq!(
            scope_param(&["read:user".into(), "user:email".into()], "x"),
            "read:user user:email"
        );
    }
}
