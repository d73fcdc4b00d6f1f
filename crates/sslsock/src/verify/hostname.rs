//! Hostname verification with the per-protocol schemes of the Perl module.
//!
//! Pure policy over a parsed certificate: no TLS engine types here.
//!
//! # Schemes
//!
//! What each scheme checks, as the manual's `verify_hostname` section lists them. "Leftmost
//! label" wildcards stand for one whole label (`*.example.org`); "anywhere" wildcards may sit
//! inside it (`www*.example.org`, covering at least one character).
//!
//! | scheme (aliases) | wildcards in DNS SANs | CN compared | wildcards in CN | IP address in CN |
//! |---|---|---|---|---|
//! | `strict` (`rfc9525`) | leftmost label | never | - | no |
//! | `default` | anywhere | always | anywhere | IPv4 and IPv6 |
//! | `rfc2818` (`xmpp`, `rfc3920`, `ftp`, `rfc4217`) | anywhere | when no DNS SAN | anywhere | no |
//! | `http` (`www`) | anywhere | when no DNS SAN | anywhere | IPv4 |
//! | `smtp` (`rfc2595`, `imap`, `pop3`, `acap`, `rfc4642`, `nntp`, `rfc5539`, `netconf`, `rfc5538`, `syslog`, `rfc5425`, `snmp`, `rfc5953`) | leftmost label | always | leftmost label | no |
//! | `ldap` (`rfc4513`) | leftmost label | always | none | no |
//! | `gist` (`rfc5971`) | leftmost label | when no DNS SAN | leftmost label | no |
//! | `sip` (`rfc5922`) | none | always | none | no |
//! | `none` | nothing is checked | | | |
//!
//! In every scheme but `none`:
//! - An IP address is compared in binary with the iPAddress SANs (every textual form of an
//!   address matches), never with DNS names; a DNS name never with an address.
//! - A wildcard never covers a public suffix (`*.com`, `*.co.uk`; the built-in ICANN list, or
//!   [`Scheme::with_public_suffix`]), needs two labels after it, and never sits inside an
//!   A-label (`xn--*`).
//! - A name accepted from the CN must lie within the name constraints of every CA on the
//!   validated path ([`verify_hostname_in_path`]); the path validator already holds the SANs
//!   to them, and (as OpenSSL does) a leaf's CN that reads as a host name when the leaf has
//!   no DNS SAN, whatever the scheme.
//!
//! Which to choose: `strict` for new code. Certificates from public CAs carry their names in
//! SANs (required since 2012), and RFC 9525 no longer looks at the CN, whose free text is
//! how a name escapes what the certificate's type and constraints say. `default` stays the
//! default, as in the Perl module, for code ported from it and for private CAs that name the
//! host only in the CN; a protocol's own scheme (`http`, `smtp`, `ldap`, ...) when the
//! protocol's RFC is the contract.
//!
//! ```
//! use sslsock::verify::hostname::{verify_hostname, Scheme};
//! use sslsock::x509::create::CertSpec;
//!
//! let cert = CertSpec::new("legacy.example").san("*.example.org").self_signed()?.cert_der;
//! let strict = Scheme::parse("strict")?;
//! assert!(verify_hostname(&cert, "www.example.org", &strict).is_ok());
//! // A wildcard stands for one label, and strict never reads the CN.
//! assert!(verify_hostname(&cert, "a.b.example.org", &strict).is_err());
//! assert!(verify_hostname(&cert, "legacy.example", &strict).is_err());
//! // The Perl default also compares the CN.
//! assert!(verify_hostname(&cert, "legacy.example", &Scheme::default()).is_ok());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::{ConfigError, VerifyError};
use crate::verify::name_constraints::{self, ConstrainedName};
use crate::verify::public_suffix::PublicSuffix;
use crate::x509::{self, SubjectAltName};

/// Where a `*` may stand in a certificate name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Wildcards {
    /// No wildcards.
    No,
    /// Only a leftmost label that is exactly `*` (`*.example.org`).
    FullLabel,
    /// Anywhere in the leftmost label (`www*.example.org`), covering at least one character.
    Anywhere,
}

impl Wildcards {
    /// Parses the Perl values `0`, `full_label` (alias `leftmost`) and `anywhere`.
    pub fn parse(value: &str) -> Result<Wildcards, ConfigError> {
        match value.to_ascii_lowercase().as_str() {
            "0" | "" | "no" => Ok(Wildcards::No),
            "full_label" | "leftmost" => Ok(Wildcards::FullLabel),
            "anywhere" => Ok(Wildcards::Anywhere),
            _ => Err(ConfigError::Invalid(format!(
                "wildcards setting \"{value}\": use 0, full_label (or leftmost) or anywhere"
            ))),
        }
    }
}

/// Which IP addresses may stand in the commonName.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpInCn {
    /// None (only iPAddress subjectAltNames name an address).
    No,
    /// IPv4 only (the `http` scheme).
    V4,
    /// IPv6 only.
    V6,
    /// Both (the `default` scheme).
    Both,
}

impl IpInCn {
    /// Parses the Perl values `0`, `4`, `6` and `1` (both).
    pub fn parse(value: &str) -> Result<IpInCn, ConfigError> {
        match value.trim() {
            "0" | "" => Ok(IpInCn::No),
            "4" => Ok(IpInCn::V4),
            "6" => Ok(IpInCn::V6),
            "1" => Ok(IpInCn::Both),
            _ => Err(ConfigError::Invalid(format!(
                "ip_in_cn \"{value}\": use 0, 1, 4 or 6"
            ))),
        }
    }

    fn admits(self, ip: IpAddr) -> bool {
        match self {
            IpInCn::No => false,
            IpInCn::V4 => ip.is_ipv4(),
            IpInCn::V6 => ip.is_ipv6(),
            IpInCn::Both => true,
        }
    }
}

/// When the subject's commonName is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckCn {
    /// Never.
    No,
    /// Always, even when subjectAltNames hold DNS names.
    Always,
    /// Only when the subjectAltNames hold no DNS name.
    WhenOnly,
}

impl CheckCn {
    /// Parses the Perl values `0`, `always` and `when_only`.
    pub fn parse(value: &str) -> Result<CheckCn, ConfigError> {
        match value.to_ascii_lowercase().as_str() {
            "0" | "" | "no" => Ok(CheckCn::No),
            "always" => Ok(CheckCn::Always),
            "when_only" => Ok(CheckCn::WhenOnly),
            _ => Err(ConfigError::Invalid(format!(
                "check_cn setting \"{value}\": use 0, always or when_only"
            ))),
        }
    }
}

/// A callback deciding the match itself: `(hostname, commonName, subjectAltNames) -> ok`.
pub type SchemeCallback = Arc<dyn Fn(&str, Option<&str>, &[SubjectAltName]) -> bool + Send + Sync>;

/// A hostname verification scheme (`SSL_verifycn_scheme`); see the [module docs](self) for
/// what each named scheme checks and which to choose (`strict` for new code).
///
/// ```
/// use sslsock::verify::hostname::Scheme;
/// assert_eq!(Scheme::named("www").unwrap().name(), "http");
/// assert!(Scheme::named("gopher").is_none());
/// ```
#[derive(Clone)]
pub struct Scheme {
    name: String,
    wildcards_in_alt: Wildcards,
    wildcards_in_cn: Wildcards,
    check_cn: CheckCn,
    ip_in_cn: IpInCn,
    accept_all: bool,
    callback: Option<SchemeCallback>,
    /// The list that keeps wildcards from covering a public suffix; `None` disables the check.
    public_suffix: Option<Arc<PublicSuffix>>,
}

impl fmt::Debug for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scheme")
            .field("name", &self.name)
            .field("wildcards_in_alt", &self.wildcards_in_alt)
            .field("wildcards_in_cn", &self.wildcards_in_cn)
            .field("check_cn", &self.check_cn)
            .field("ip_in_cn", &self.ip_in_cn)
            .field("callback", &self.callback.is_some())
            .field("public_suffix_check", &self.public_suffix.is_some())
            .finish()
    }
}

impl Default for Scheme {
    fn default() -> Self {
        Scheme::preset(
            "default",
            Wildcards::Anywhere,
            Wildcards::Anywhere,
            CheckCn::Always,
            IpInCn::Both,
        )
    }
}

impl Scheme {
    fn preset(
        name: &str,
        alt: Wildcards,
        cn: Wildcards,
        check_cn: CheckCn,
        ip_in_cn: IpInCn,
    ) -> Scheme {
        Scheme {
            name: name.to_owned(),
            wildcards_in_alt: alt,
            wildcards_in_cn: cn,
            check_cn,
            ip_in_cn,
            accept_all: false,
            callback: None,
            public_suffix: Some(PublicSuffix::builtin()),
        }
    }

    /// Every name [`Scheme::named`] knows (lower case): the schemes and their aliases.
    pub const NAMES: &'static [&'static str] = &[
        "strict", "rfc9525", "default", "rfc2818", "rfc3920", "xmpp", "rfc4217", "ftp", "http",
        "www", "ldap", "rfc4513", "smtp", "rfc2595", "imap", "pop3", "acap", "rfc4642", "rfc5539",
        "nntp", "rfc5538", "netconf", "rfc5425", "syslog", "rfc5953", "snmp", "gist", "rfc5971",
        "sip", "rfc5922", "none",
    ];

    /// A named scheme: `"strict"` (alias `"rfc9525"`), or a protocol name or its RFC (`"http"`,
    /// `"www"`, `"rfc2818"`, `"smtp"`, `"ldap"`, `"sip"`, `"gist"`, `"default"`, `"none"`,
    /// ...), as tabled in the [module docs](self). Case-insensitive.
    pub fn named(name: &str) -> Option<Scheme> {
        use CheckCn::{Always, WhenOnly};
        use Wildcards::{Anywhere, FullLabel, No};
        let n = name.to_ascii_lowercase();
        let s = match n.as_str() {
            "default" => Scheme::default(),
            "rfc2818" | "rfc3920" | "xmpp" | "rfc4217" | "ftp" => {
                Scheme::preset("rfc2818", Anywhere, Anywhere, WhenOnly, IpInCn::No)
            }
            "www" | "http" => Scheme::preset("http", Anywhere, Anywhere, WhenOnly, IpInCn::V4),
            "rfc4513" | "ldap" => Scheme::preset("ldap", FullLabel, No, Always, IpInCn::No),
            "rfc2595" | "smtp" | "rfc4642" | "imap" | "pop3" | "acap" | "rfc5539" | "nntp"
            | "rfc5538" | "netconf" | "rfc5425" | "syslog" | "rfc5953" | "snmp" => {
                Scheme::preset("smtp", FullLabel, FullLabel, Always, IpInCn::No)
            }
            "rfc5971" | "gist" => {
                Scheme::preset("gist", FullLabel, FullLabel, WhenOnly, IpInCn::No)
            }
            "rfc5922" | "sip" => Scheme::preset("sip", No, No, Always, IpInCn::No),
            "strict" | "rfc9525" => {
                Scheme::preset("strict", FullLabel, No, CheckCn::No, IpInCn::No)
            }
            "none" => Scheme {
                accept_all: true,
                ..Scheme::preset("none", No, No, CheckCn::No, IpInCn::No)
            },
            _ => return None,
        };
        let mut s = s;
        s.name = if n == "www" { "http".to_owned() } else { n };
        Some(s)
    }

    /// A named scheme, or an error listing the names: what `SSL_verifycn_scheme` (in
    /// [`crate::args`] and `sslsock connect -o`) and [`SslSocket::verify_hostname`](crate::SslSocket::verify_hostname)
    /// take. The same as `s.parse::<Scheme>()`.
    ///
    /// ```
    /// use sslsock::Scheme;
    /// let http: Scheme = "http".parse()?;
    /// assert_eq!(http.name(), "http");
    /// let err = "htp".parse::<Scheme>().unwrap_err();
    /// assert!(err.to_string().contains("strict, rfc9525, default"), "{err}");
    /// # Ok::<(), sslsock::ConfigError>(())
    /// ```
    pub fn parse(name: &str) -> Result<Scheme, ConfigError> {
        Scheme::named(name).ok_or_else(|| {
            ConfigError::Invalid(format!(
                "unknown hostname scheme \"{name}\" (one of: {})",
                Scheme::NAMES.join(", ")
            ))
        })
    }

    /// A custom scheme (the hash form of the Perl module).
    pub fn custom(
        wildcards_in_alt: Wildcards,
        wildcards_in_cn: Wildcards,
        check_cn: CheckCn,
        ip_in_cn: IpInCn,
    ) -> Scheme {
        Scheme::preset(
            "custom",
            wildcards_in_alt,
            wildcards_in_cn,
            check_cn,
            ip_in_cn,
        )
    }

    /// Checks wildcards against `list` instead of the built-in public suffix list.
    pub fn with_public_suffix(mut self, list: Arc<PublicSuffix>) -> Scheme {
        self.public_suffix = Some(list);
        self
    }

    /// Turns the public suffix check off (`SSL_verifycn_publicsuffix => ''`): `*.co.uk`
    /// then matches `example.co.uk`. Wildcards over a single label (`*.com`) still never match.
    pub fn without_public_suffix(mut self) -> Scheme {
        self.public_suffix = None;
        self
    }

    /// A scheme that lets `callback(hostname, commonName, subjectAltNames)` decide.
    pub fn with_callback(
        callback: impl Fn(&str, Option<&str>, &[SubjectAltName]) -> bool + Send + Sync + 'static,
    ) -> Scheme {
        Scheme {
            callback: Some(Arc::new(callback)),
            ..Scheme::preset(
                "callback",
                Wildcards::No,
                Wildcards::No,
                CheckCn::No,
                IpInCn::No,
            )
        }
    }

    /// What makes this scheme itself, as bytes (its rules, and the very callback and public
    /// suffix list it uses).
    /// Whether the commonName can stand for a host name under this scheme (all but `strict`
    /// and schemes like it): only then is it held to the CAs' name constraints.
    pub(crate) fn reads_common_name(&self) -> bool {
        self.check_cn != CheckCn::No || self.callback.is_some() || self.accept_all
    }

    pub(crate) fn identity_part(&self) -> Vec<u8> {
        format!(
            "{:?} {:?} {:?}",
            self,
            self.callback.as_ref().map(Arc::as_ptr),
            self.public_suffix.as_ref().map(Arc::as_ptr)
        )
        .into_bytes()
    }

    /// The scheme's name as reported in errors.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// True for the `none` scheme.
    pub fn accepts_all(&self) -> bool {
        self.accept_all
    }
}

impl std::str::FromStr for Scheme {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Scheme, ConfigError> {
        Scheme::parse(s)
    }
}

/// Checks `identity` (host name or IP address) against a DER certificate with `scheme`.
///
/// This looks at the certificate alone. A name accepted from the commonName is not held
/// against the name constraints of the CAs that issued the certificate; when they are known,
/// use [`verify_hostname_in_path`].
///
/// ```no_run
/// # let der: Vec<u8> = vec![];
/// use sslsock::verify::hostname::{verify_hostname, Scheme};
/// verify_hostname(&der, "www.example.org", &Scheme::named("http").unwrap())?;
/// # Ok::<(), sslsock::VerifyError>(())
/// ```
pub fn verify_hostname(
    cert_der: &[u8],
    identity: &str,
    scheme: &Scheme,
) -> Result<(), VerifyError> {
    verify_hostname_in_path(cert_der, identity, scheme, &[] as &[&[u8]])
}

/// Checks `identity` against a DER certificate with `scheme`, and holds the accepted name to
/// the name constraints of `issuers`: the CA certificates of the validated path (trust
/// anchor included, any order).
///
/// The path validator applies name constraints to the subjectAltNames; a scheme that accepts
/// the name from the commonName (`default`, `http`, `ldap`, `smtp`, ...) would otherwise let a
/// name-constrained CA vouch for any host by writing it into a CN. So the host name checked
/// (and a wildcard commonName that matched it) must lie within every CA's permitted
/// subtrees and outside its excluded ones, or the check fails with
/// [`VerifyError::NameConstraint`].
///
/// ```no_run
/// # let (leaf, intermediate, root): (Vec<u8>, Vec<u8>, Vec<u8>) = Default::default();
/// use sslsock::verify::hostname::{verify_hostname_in_path, Scheme};
/// verify_hostname_in_path(&leaf, "www.example.org", &Scheme::default(), &[intermediate, root])?;
/// # Ok::<(), sslsock::VerifyError>(())
/// ```
pub fn verify_hostname_in_path<C: AsRef<[u8]>>(
    cert_der: &[u8],
    identity: &str,
    scheme: &Scheme,
    issuers: &[C],
) -> Result<(), VerifyError> {
    if scheme.accept_all {
        return Ok(());
    }
    let (_, cert) =
        X509Certificate::from_der(cert_der).map_err(|e| VerifyError::BadEncoding(e.to_string()))?;
    let cn = x509::common_name(&cert);
    let sans = x509::subject_alt_names(&cert);
    let matched = match &scheme.callback {
        Some(cb) => cb(identity, cn.as_deref(), &sans).then_some(Matched::Callback),
        None => matches(identity, cn.as_deref(), &sans, scheme),
    };
    if let Some(matched) = matched {
        return hold_to_constraints(identity, matched, issuers);
    }
    let mut presented: Vec<String> = sans
        .iter()
        .filter_map(|s| match s {
            SubjectAltName::Dns(d) => Some(d.clone()),
            SubjectAltName::Ip(ip) => Some(ip.to_string()),
            _ => None,
        })
        .collect();
    if let Some(cn) = cn {
        if !presented.contains(&cn) {
            presented.push(format!("CN={cn}"));
        }
    }
    Err(VerifyError::NameMismatch {
        expected: identity.to_owned(),
        presented,
        scheme: scheme.name.clone(),
    })
}

/// Which certificate name accepted the identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Matched<'c> {
    /// A subjectAltName: the path validator has held it to the name constraints already.
    San,
    /// The commonName, as written in the certificate.
    Cn(&'c str),
    /// The scheme's callback, which does not say which name.
    Callback,
}

/// A name from the commonName, or one a callback accepted, and the host name checked must
/// satisfy every CA's name constraints: the identity is what the certificate is taken to vouch for, a wildcard stands
/// for more names than the one asked for, and an address written in the commonName is an
/// untyped string, so it must pass the DNS constraints as well as the IP ones (OpenSSL, too,
/// reads a commonName that looks like a host name as one).
fn hold_to_constraints<C: AsRef<[u8]>>(
    identity: &str,
    matched: Matched<'_>,
    issuers: &[C],
) -> Result<(), VerifyError> {
    // A subjectAltName has been held to the constraints by the path validator already.
    if issuers.is_empty() || matched == Matched::San {
        return Ok(());
    }
    let identity = identity.strip_suffix('.').unwrap_or(identity);
    let cn = match matched {
        Matched::Cn(cn) => Some(cn.trim().trim_end_matches('.').to_ascii_lowercase()),
        Matched::San | Matched::Callback => None,
    };
    if let Some(ip) = parse_ip(identity) {
        let mut names = vec![ConstrainedName::Ip(ip)];
        names.extend(cn.as_deref().map(ConstrainedName::Dns));
        return name_constraints::check(issuers, &names);
    }
    // A callback may accept a name that is no valid host name; it is then checked as given.
    let host = normalize_host(identity).unwrap_or_else(|| identity.to_ascii_lowercase());
    let mut names = vec![ConstrainedName::Dns(&host)];
    names.extend(
        cn.as_deref()
            .filter(|c| *c != host)
            .map(ConstrainedName::Dns),
    );
    name_constraints::check(issuers, &names)
}

fn matches<'c>(
    identity: &str,
    cn: Option<&'c str>,
    sans: &[SubjectAltName],
    scheme: &Scheme,
) -> Option<Matched<'c>> {
    let identity = identity.strip_suffix('.').unwrap_or(identity);
    let check_cn_unless_dns = |has_dns: bool| match scheme.check_cn {
        CheckCn::Always => true,
        CheckCn::WhenOnly => !has_dns,
        CheckCn::No => false,
    };
    if let Some(ip) = parse_ip(identity) {
        // Addresses are compared in binary, so every textual form of one address matches.
        if sans
            .iter()
            .any(|s| matches!(s, SubjectAltName::Ip(a) if *a == ip))
        {
            return Some(Matched::San);
        }
        let family_ok = scheme.ip_in_cn.admits(ip);
        // As in the Perl module, DNS names do not count against an address: `when_only`
        // consults the commonName.
        let cn = cn.filter(|c| c.trim().parse::<IpAddr>().ok() == Some(ip))?;
        return (check_cn_unless_dns(false) && family_ok).then_some(Matched::Cn(cn));
    }
    if looks_like_ip(identity) {
        // Shaped like an address but not a valid one (`1.2.3.4.5`, `[::1]`): matches nothing.
        return None;
    }
    let host = normalize_host(identity)?;
    let psl = scheme.public_suffix.as_deref();
    let mut has_dns = false;
    for san in sans {
        if let SubjectAltName::Dns(pattern) = san {
            has_dns = true;
            if name_matches(pattern.trim(), &host, scheme.wildcards_in_alt, psl) {
                return Some(Matched::San);
            }
        }
    }
    let cn = cn.filter(|c| {
        !c.contains('\0') && name_matches(c.trim(), &host, scheme.wildcards_in_cn, psl)
    })?;
    check_cn_unless_dns(has_dns).then_some(Matched::Cn(cn))
}

fn parse_ip(s: &str) -> Option<IpAddr> {
    s.parse::<IpAddr>().ok()
}

fn looks_like_ip(s: &str) -> bool {
    s.contains(':')
        || s.starts_with('[')
        || (!s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// Lower-case A-label form without the trailing dot, or `None` when not a valid host name.
fn normalize_host(name: &str) -> Option<String> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.contains('*') {
        return None;
    }
    let ascii = idna::domain_to_ascii(name).ok()?;
    if ascii.is_empty() || ascii.split('.').any(str::is_empty) || !host_name_chars(&ascii, false) {
        return None;
    }
    Some(ascii)
}

/// Only what a host name may hold (letters, digits, `-`, `_`, `.`; `*` in a pattern): a
/// name with anything else (`w$w.example.com`) never matches, even the same string in a
/// certificate, as in the Perl module.
fn host_name_chars(name: &str, pattern: bool) -> bool {
    name.bytes().all(|b| {
        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') || (pattern && b == b'*')
    })
}

/// Matches one certificate name (possibly with a wildcard) against a normalized host.
fn name_matches(
    pattern: &str,
    host: &str,
    wildcards: Wildcards,
    psl: Option<&PublicSuffix>,
) -> bool {
    let pattern = pattern
        .strip_suffix('.')
        .unwrap_or(pattern)
        .to_ascii_lowercase();
    if pattern.is_empty() || !host_name_chars(&pattern, true) {
        return false;
    }
    if !pattern.contains('*') {
        return pattern == host;
    }
    let (Some((p_left, p_rest)), Some((h_left, h_rest))) =
        (pattern.split_once('.'), host.split_once('.'))
    else {
        return false;
    };
    // One wildcard, in the leftmost label only, and at least two labels after it
    // (never `*`, `*.*`, `*.com`, `www.*.com`).
    if p_rest.contains('*')
        || p_left.matches('*').count() != 1
        || !p_rest.contains('.')
        || p_rest != h_rest
    {
        return false;
    }
    let label_ok = match wildcards {
        Wildcards::No => false,
        Wildcards::FullLabel => p_left == "*",
        Wildcards::Anywhere => {
            // RFC 6125 6.4.3: no wildcard inside an A-label, on either side.
            let in_a_label =
                p_left.starts_with("xn--") || (h_left.starts_with("xn--") && p_left != "*");
            let (prefix, suffix) = p_left.split_once('*').unwrap_or((p_left, ""));
            !in_a_label
                && h_left.len() > prefix.len() + suffix.len()
                && h_left.starts_with(prefix)
                && h_left.ends_with(suffix)
        }
    };
    // The wildcard label must lie outside the registrable domain: `*.co.uk` and
    // `*.kobe.jp` cover public suffixes, `*.example.co.uk` and `*.city.kobe.jp` do not.
    label_ok
        && psl.is_none_or(|list| {
            list.public_suffix(host, 1)
                .is_some_and(|split| !split.rest.is_empty())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nm(pattern: &str, host: &str, w: Wildcards) -> bool {
        name_matches(pattern, host, w, Some(&PublicSuffix::builtin()))
    }

    #[test]
    fn wildcard_rules() {
        use Wildcards::*;
        assert!(nm("*.example.org", "www.example.org", FullLabel));
        assert!(!nm("*.example.org", "a.www.example.org", FullLabel));
        assert!(!nm("*.example.org", "example.org", Anywhere));
        assert!(nm("www*.example.org", "www1.example.org", Anywhere));
        assert!(!nm("www*.example.org", "www.example.org", Anywhere));
        assert!(!nm("www*.example.org", "www1.example.org", FullLabel));
        assert!(!nm("*.com", "example.com", Anywhere));
        assert!(!nm("*", "localhost", Anywhere));
        assert!(!nm("www.*.com", "www.x.com", Anywhere));
        assert!(!nm("*.*.com", "a.b.com", Anywhere));
        assert!(!nm("xn--*.example.org", "xn--abc.example.org", Anywhere));
        assert!(nm("WWW.Example.ORG.", "www.example.org", No));
        assert!(!nm("*.example.org", "www.example.org", No));
        // Characters no host name has never match, not even themselves.
        assert!(normalize_host("w$w.example.com").is_none());
        assert!(!nm("w$w.example.com", "w$w.example.com", No));
        assert!(nm("_srv.example.com", "_srv.example.com", No));
    }

    #[test]
    fn invalid_ip_shapes_match_nothing() {
        assert!(looks_like_ip("12345.6"));
        assert!(parse_ip("12345.6").is_none());
        assert!(looks_like_ip("[::1]"));
        assert!(parse_ip("[::1]").is_none());
    }

    #[test]
    fn every_listed_name_is_known() {
        for n in Scheme::NAMES {
            assert!(Scheme::named(n).is_some(), "{n}");
        }
        assert!(Scheme::named("STRICT").is_some());
    }

    #[test]
    fn named_schemes() {
        for n in [
            "rfc2818", "xmpp", "ftp", "http", "www", "smtp", "imap", "pop3", "acap", "netconf",
            "syslog", "snmp", "ldap", "sip", "gist", "default", "none", "RFC4513",
        ] {
            assert!(Scheme::named(n).is_some(), "{n}");
        }
        assert_eq!(
            Scheme::named("ldap").unwrap().wildcards_in_cn,
            Wildcards::No
        );
        assert_eq!(Scheme::named("http").unwrap().ip_in_cn, IpInCn::V4);
    }
}
