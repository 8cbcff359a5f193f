//! Origins, the patterns a plugin's manifest requests, the exact origins an operator
//! grants, and the allow-list the `http` import enforces: manifest ∩ grant.
//!
//! An origin is a scheme (`http` or `https`), a host and a port. A manifest entry may
//! put `*` in place of the whole host (`https://*:443`) or of the port
//! (`http://127.0.0.1:*`), because a generic client (OIDC) cannot know in advance which
//! server it will be pointed at. A grant never has a wildcard: the operator names each
//! origin, so the effective allow-list is always a finite set of exact origins. A port
//! left out means the scheme's default (80 or 443), in manifests and grants alike.

use std::collections::BTreeSet;
use std::fmt;

use url::{Host, Url};

/// The two schemes the `http` import speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    fn parse(text: &str) -> Option<Scheme> {
        match text.to_ascii_lowercase().as_str() {
            "http" => Some(Scheme::Http),
            "https" => Some(Scheme::Https),
            _ => None,
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// One exact origin: `https://api.github.com:443`. Hosts are normalised the way the
/// `url` crate normalises them (lowercase, IDNA, canonical IP literals), so two
/// spellings of one host compare equal.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Destination {
    pub scheme: Scheme,
    pub host: Host<String>,
    pub port: u16,
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Host`'s Display puts IPv6 literals in brackets, as a URL needs.
        write!(f, "{}://{}:{}", self.scheme.as_str(), self.host, self.port)
    }
}

impl Destination {
    /// The origin a request URL goes to. Refuses what the `http` import never sends:
    /// other schemes, URLs without a host, and credentials in the URL (which would
    /// otherwise leave the plugin in clear text and bypass header rules).
    pub fn of_url(url: &Url) -> Result<Destination, OriginError> {
        // The error names the URL's scheme and host only: its credentials, path
        // and query may hold secrets (codes, tokens), and errors reach logs.
        let shown = match url.host_str() {
            Some(host) => format!("{}://{host}", url.scheme()),
            None => format!("{}:", url.scheme()),
        };
        let scheme = Scheme::parse(url.scheme())
            .ok_or_else(|| OriginError::new(&shown, "only http and https are allowed"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(OriginError::new(
                &shown,
                "credentials in the URL are not allowed; send them in a header",
            ));
        }
        let host = url
            .host()
            .ok_or_else(|| OriginError::new(&shown, "the URL has no host"))?
            .to_owned();
        let port = url.port().unwrap_or(scheme.default_port());
        Ok(Destination { scheme, host, port })
    }
}

/// A manifest entry: an origin in which the host or the port may be `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginPattern {
    scheme: Scheme,
    /// `None` is `*`: any host.
    host: Option<Host<String>>,
    /// `None` is `*`: any port.
    port: Option<u16>,
}

impl OriginPattern {
    /// Parses a manifest entry (`https://*:443`, `http://127.0.0.1:*`).
    pub fn parse(text: &str) -> Result<OriginPattern, OriginError> {
        parse_origin(text, true)
    }

    pub fn matches(&self, dest: &Destination) -> bool {
        self.scheme == dest.scheme
            && self.host.as_ref().is_none_or(|h| *h == dest.host)
            && self.port.is_none_or(|p| p == dest.port)
    }
}

/// Parses one grant entry: an exact origin, the port defaulting to the scheme's.
pub fn parse_grant(text: &str) -> Result<Destination, OriginError> {
    let pattern = parse_origin(text, false)?;
    match (pattern.host, pattern.port) {
        (Some(host), Some(port)) => Ok(Destination {
            scheme: pattern.scheme,
            host,
            port,
        }),
        // parse_origin refuses wildcards when they are not allowed.
        _ => Err(OriginError::new(text, "a grant names exact origins")),
    }
}

/// Why an origin or a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?}: {reason}")]
pub struct OriginError {
    pub text: String,
    pub reason: String,
    /// The entry had a wildcard where none is allowed (a grant).
    pub wildcard: bool,
}

impl OriginError {
    fn new(text: &str, reason: impl Into<String>) -> OriginError {
        OriginError {
            text: text.to_owned(),
            reason: reason.into(),
            wildcard: false,
        }
    }
}

/// `scheme://host[:port][/]`, `*` allowed for host or port when `wildcards`.
fn parse_origin(text: &str, wildcards: bool) -> Result<OriginPattern, OriginError> {
    let err = |reason: &str| OriginError::new(text, reason);
    let (scheme, rest) = text
        .split_once("://")
        .ok_or_else(|| err("expected scheme://host:port"))?;
    let scheme = Scheme::parse(scheme).ok_or_else(|| err("only http and https are allowed"))?;
    // An origin has no path; a single trailing slash is forgiven.
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#']) {
        return Err(err("an origin has no path, query or fragment"));
    }
    if authority.contains('@') {
        return Err(err("an origin has no user name or password"));
    }
    // Split host and port; an IPv6 literal keeps its colons inside brackets.
    let (host, port) = if authority.starts_with('[') {
        let end = authority
            .find(']')
            .ok_or_else(|| err("unclosed IPv6 literal"))?;
        let (host, after) = authority.split_at(end + 1);
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err(err("expected :port after the IPv6 literal")),
            },
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };

    let wildcard = |what: &str| OriginError {
        wildcard: true,
        ..err(&format!(
            "a grant names exact origins; `*` in the {what} is only for manifests"
        ))
    };
    let host = match host {
        "" => return Err(err("the origin has no host")),
        "*" if wildcards => None,
        "*" => return Err(wildcard("host")),
        _ if host.contains('*') => {
            return Err(err(
                "`*` must stand for the whole host, not part of it (no *.example.com)",
            ));
        }
        host => Some(Host::parse(host).map_err(|e| err(&format!("invalid host: {e}")))?),
    };
    let port = match port {
        None => Some(scheme.default_port()),
        Some("*") if wildcards => None,
        Some("*") => return Err(wildcard("port")),
        Some(port) => Some(
            port.parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| err("the port must be a number from 1 to 65535"))?,
        ),
    };
    Ok(OriginPattern { scheme, host, port })
}

/// The origins one plugin may reach: the operator's grant entries that its manifest
/// requests. Built once per provider; checked on every request and every redirect hop.
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    requested: Vec<OriginPattern>,
    allowed: BTreeSet<Destination>,
    /// Granted but not requested by the manifest: never reachable, reported to the
    /// operator so a typo in the grant does not go unnoticed.
    ignored: Vec<Destination>,
}

/// Why a destination is not on the allow-list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The manifest does not request it: no grant can allow it.
    NotRequested,
    /// The manifest requests it, but the operator did not grant it.
    NotGranted,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::NotRequested => "not requested in its manifest",
            Refusal::NotGranted => "not granted",
        })
    }
}

impl AllowList {
    /// manifest ∩ grant. `manifest` entries may have wildcards; `grant` entries may not.
    pub fn new(manifest: &[String], grant: &[String]) -> Result<AllowList, OriginError> {
        let requested = manifest
            .iter()
            .map(|m| OriginPattern::parse(m))
            .collect::<Result<Vec<_>, _>>()?;
        let mut list = AllowList {
            requested,
            ..AllowList::default()
        };
        for entry in grant {
            let dest = parse_grant(entry)?;
            if list.requested.iter().any(|p| p.matches(&dest)) {
                list.allowed.insert(dest);
            } else {
                list.ignored.push(dest);
            }
        }
        Ok(list)
    }

    pub fn check(&self, dest: &Destination) -> Result<(), Refusal> {
        if self.allowed.contains(dest) {
            Ok(())
        } else if self.requested.iter().any(|p| p.matches(dest)) {
            Err(Refusal::NotGranted)
        } else {
            Err(Refusal::NotRequested)
        }
    }

    /// The effective allow-list, sorted.
    pub fn allowed(&self) -> impl Iterator<Item = &Destination> {
        self.allowed.iter()
    }

    /// Grant entries the manifest does not request (and that therefore do nothing).
    pub fn ignored(&self) -> &[Destination] {
        &self.ignored
    }

    /// What the operator should be told about this list: one line per granted
    /// origin the manifest does not request (a typo in the grant, most likely).
    pub fn warnings(&self) -> impl Iterator<Item = String> + '_ {
        self.ignored.iter().map(|dest| {
            format!("granted origin {dest} is not requested in the plugin's manifest; it stays unreachable")
        })
    }

    /// The allow-list of the plugin labelled `plugin` (`"oauth-oidc" 0.1.0`), its
    /// manifest's `hosts` and the operator's `grant`, with an error that says which
    /// of the two is malformed.
    pub fn for_plugin(
        plugin: &str,
        manifest: &[String],
        grant: &[String],
    ) -> Result<AllowList, AllowListError> {
        AllowList::new(manifest, grant).map_err(|e| {
            if manifest.contains(&e.text) {
                AllowListError::Manifest(format!("its manifest requests a malformed origin {e}"))
            } else {
                AllowListError::Grant(format!(
                    "the grant for plugin {plugin} has a malformed origin {e}"
                ))
            }
        })
    }
}

/// Why [`AllowList::for_plugin`] failed: the plugin is broken, or the operator's
/// grant is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllowListError {
    /// The plugin's manifest has an origin that does not parse.
    #[error("{0}")]
    Manifest(String),
    /// A grant entry does not parse, or has a wildcard.
    #[error("{0}")]
    Grant(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `url` may be reached by a plugin whose manifest says `manifest` and
    /// whose operator granted `grant`: `Ok(())`, or the refusal as text.
    fn check(manifest: &[&str], grant: &[&str], url: &str) -> Result<(), String> {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let list = AllowList::new(&owned(manifest), &owned(grant)).map_err(|e| e.to_string())?;
        let url = Url::parse(url).map_err(|e| e.to_string())?;
        let dest = Destination::of_url(&url).map_err(|e| e.to_string())?;
        list.check(&dest).map_err(|r| r.to_string())
    }

    /// Manifest, grant, URL, and the expected outcome.
    type Case = (
        &'static [&'static str],
        &'static [&'static str],
        &'static str,
        Result<(), String>,
    );

    const GITHUB: &[&str] = &["https://github.com:443", "https://api.github.com:443"];
    const OIDC: &[&str] = &["https://*:443", "http://127.0.0.1:*", "http://localhost:*"];

    #[test]
    fn allow_list_table() {
        let ok = Ok(());
        let not_granted = Err("not granted".to_owned());
        let not_requested = Err("not requested in its manifest".to_owned());
        #[rustfmt::skip]
        let table: &[Case] = &[
            // scheme, host and port all count.
            (GITHUB, GITHUB, "https://api.github.com/user", ok.clone()),
            (GITHUB, GITHUB, "http://api.github.com/user", not_requested.clone()),
            (GITHUB, GITHUB, "https://api.github.com:8443/user", not_requested.clone()),
            (GITHUB, GITHUB, "https://evil.example/", not_requested.clone()),
            (GITHUB, GITHUB, "https://github.com.evil.example/", not_requested.clone()),
            // Default ports: written or not, 443 is 443, in URL, manifest and grant.
            (GITHUB, &["https://api.github.com"], "https://api.github.com:443/", ok.clone()),
            (&["https://api.github.com"], GITHUB, "https://api.github.com/", ok.clone()),
            (&["http://example.com"], &["http://example.com:80"], "http://example.com/", ok.clone()),
            // Wildcard host (manifest only): any host on that scheme and port.
            (OIDC, &["https://login.example.com"], "https://login.example.com/x", ok.clone()),
            (OIDC, &["https://login.example.com"], "https://other.example.com/", not_granted.clone()),
            (OIDC, &["https://login.example.com"], "http://login.example.com/", not_requested.clone()),
            // Wildcard port (manifest only).
            (OIDC, &["http://127.0.0.1:8080"], "http://127.0.0.1:8080/", ok.clone()),
            (OIDC, &["http://127.0.0.1:8080"], "http://127.0.0.1:8081/", not_granted.clone()),
            // An empty grant denies everything.
            (OIDC, &[], "https://login.example.com/", not_granted.clone()),
            (GITHUB, &[], "https://api.github.com/", not_granted.clone()),
            // Granted but not requested: the grant does nothing.
            (GITHUB, &["https://evil.example:443"], "https://evil.example/", not_requested.clone()),
            // IPv6 literals, however they are spelled.
            (&["http://[::1]:*"], &["http://[0:0::1]:8080"], "http://[::1]:8080/", ok.clone()),
            (&["http://[::1]:*"], &["http://[::1]:8080"], "http://127.0.0.1:8080/", not_requested.clone()),
            // Hosts are case-insensitive everywhere.
            (&["https://API.GitHub.com:443"], &["https://api.GITHUB.com"], "https://Api.Github.COM/", ok.clone()),
            (&["HTTPS://api.github.com"], GITHUB, "https://api.github.com/", ok.clone()),
        ];
        for (manifest, grant, url, expected) in table {
            assert_eq!(
                &check(manifest, grant, url),
                expected,
                "manifest {manifest:?}, grant {grant:?}, url {url}"
            );
        }
    }

    #[test]
    fn a_refused_url_is_named_without_its_secrets() {
        for url in [
            "https://user:s3cret@api.github.com/path?code=s3cret",
            "ftp://api.github.com/s3cret?code=s3cret",
        ] {
            let err = Destination::of_url(&Url::parse(url).unwrap()).unwrap_err();
            assert!(!err.to_string().contains("s3cret"), "{err}");
            assert!(err.to_string().contains("api.github.com"), "{err}");
        }
    }

    #[test]
    fn urls_with_credentials_or_other_schemes_are_refused() {
        for (url, reason) in [
            ("https://user:pw@api.github.com/", "credentials in the URL"),
            ("https://user@api.github.com/", "credentials in the URL"),
            ("ftp://api.github.com/", "only http and https"),
            ("file:///etc/passwd", "only http and https"),
        ] {
            let err = check(GITHUB, GITHUB, url).unwrap_err();
            assert!(err.contains(reason), "{url}: {err}");
        }
    }

    #[test]
    fn grants_refuse_wildcards_and_malformed_origins() {
        for (entry, reason, wildcard) in [
            ("https://*:443", "only for manifests", true),
            ("http://127.0.0.1:*", "only for manifests", true),
            ("https://*.example.com", "whole host", false),
            ("api.github.com", "scheme://host:port", false),
            ("https://api.github.com/user", "no path", false),
            ("https://me@api.github.com", "no user name", false),
            ("https://api.github.com:99999", "1 to 65535", false),
            ("https://api.github.com:0", "1 to 65535", false),
            ("https://:443", "no host", false),
            ("https://[::1", "unclosed IPv6", false),
            ("gopher://example.com", "only http and https", false),
        ] {
            let err = parse_grant(entry).unwrap_err();
            assert!(err.reason.contains(reason), "{entry}: {err}");
            assert_eq!(err.wildcard, wildcard, "{entry}");
        }
    }

    #[test]
    fn destinations_print_as_full_origins() {
        let show = |url: &str| {
            Destination::of_url(&Url::parse(url).unwrap())
                .unwrap()
                .to_string()
        };
        assert_eq!(
            show("https://API.github.com/user"),
            "https://api.github.com:443"
        );
        assert_eq!(show("http://[::1]:8080/"), "http://[::1]:8080");
        assert_eq!(show("http://127.0.0.1/"), "http://127.0.0.1:80");
    }

    #[test]
    fn ignored_grants_are_reported() {
        let list = AllowList::new(
            &["https://github.com:443".into()],
            &["https://github.com".into(), "https://gitlab.com".into()],
        )
        .unwrap();
        let allowed: Vec<String> = list.allowed().map(|d| d.to_string()).collect();
        assert_eq!(allowed, ["https://github.com:443"]);
        assert_eq!(list.ignored()[0].to_string(), "https://gitlab.com:443");
    }
}
