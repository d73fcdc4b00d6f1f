//! Name constraints (RFC 5280 section 4.2.1.10) held against the names the host name check
//! accepts.
//!
//! The path validator applies the CAs' name constraints to the leaf's subjectAltNames only.
//! The host name schemes of the Perl module may also accept a name from the subject's
//! commonName; such a name must satisfy the constraints too, or a name-constrained CA could
//! vouch for any host by writing it into a CN. This module checks one name (a DNS name,
//! possibly with a wildcard, or an IP address) against every CA of a validated path.
//!
//! Matching, as RFC 5280 and the path validator define it:
//! - DNS: a constraint `example.com` covers `example.com` and every name below it; a
//!   constraint `.example.com` covers only names below it; an empty constraint covers all.
//!   Case is ignored.
//! - IP: an address is covered when it lies in the constraint's network (address and mask
//!   of the same family).
//! - A wildcard name (`*.example.com`) is within a permitted subtree only when every name it
//!   can stand for is, and it hits an excluded subtree when any name it can stand for does.
//! - Per CA and per name form: when the CA permits any subtree of the form, the name must lie
//!   in one of them; it must lie in none of the excluded ones.
//!
//! A connection applies them by itself; [`verify_hostname_in_path`](super::hostname::verify_hostname_in_path)
//! does the same for a certificate and its path:
//!
//! ```
//! use sslsock::verify::hostname::{verify_hostname_in_path, Scheme};
//! use sslsock::x509::create::CertSpec;
//!
//! // A CA constrained to example.com (nameConstraints, permitted dNSName example.com).
//! let constraint = vec![0x30, 0x11, 0xa0, 0x0f, 0x30, 0x0d, 0x82, 0x0b,
//!     b'e', b'x', b'a', b'm', b'p', b'l', b'e', b'.', b'c', b'o', b'm'];
//! let ca = CertSpec::new("Constrained CA").ca().extension("2.5.29.30", constraint, true).self_signed()?;
//! // A leaf naming another domain in its CN only: the default scheme would accept the CN,
//! // the constraint does not.
//! let leaf = CertSpec::new("www.example.net").signed_by(&ca)?;
//! let refused = verify_hostname_in_path(&leaf.cert_der, "www.example.net", &Scheme::default(), &[&ca.cert_der]);
//! assert!(refused.unwrap_err().to_string().contains("name constraints"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::net::IpAddr;

use x509_parser::extensions::{GeneralName, GeneralSubtree};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::VerifyError;
use crate::x509;

/// The most subtrees (permitted and excluded, all CAs together) a path may carry when a name
/// has to be checked against them. A path with more is refused: the limit keeps a hostile
/// chain from making each check arbitrarily long (real name-constrained CAs carry a handful).
pub const MAX_SUBTREES: usize = 1024;

/// The DER encoding of the nameConstraints OID (2.5.29.30); a certificate without these bytes
/// has no such extension, so it need not be parsed.
const NAME_CONSTRAINTS_OID: [u8; 5] = [0x06, 0x03, 0x55, 0x1d, 0x1e];

/// A name to check against the constraints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConstrainedName<'a> {
    /// A DNS name in A-label form, possibly with a `*` in its leftmost label.
    Dns(&'a str),
    /// An IP address.
    Ip(IpAddr),
}

impl ConstrainedName<'_> {
    fn describe(&self) -> String {
        match self {
            ConstrainedName::Dns(d) => (*d).to_owned(),
            ConstrainedName::Ip(ip) => ip.to_string(),
        }
    }
}

/// Checks each of `names` against the name constraints of every certificate in `issuers`
/// (the CA certificates of a validated path, the trust anchor included, in any order).
pub(crate) fn check<C: AsRef<[u8]>>(
    issuers: &[C],
    names: &[ConstrainedName<'_>],
) -> Result<(), VerifyError> {
    let mut certs = Vec::new();
    for der in issuers.iter().map(AsRef::as_ref) {
        if contains(der, &NAME_CONSTRAINTS_OID) {
            let (_, cert) = X509Certificate::from_der(der)
                .map_err(|e| VerifyError::BadEncoding(format!("CA certificate: {e}")))?;
            certs.push(cert);
        }
    }
    let mut parsed = Vec::new();
    let mut subtrees = 0usize;
    for cert in &certs {
        let Some(nc) = cert
            .name_constraints()
            .map_err(|e| VerifyError::BadEncoding(format!("name constraints: {e}")))?
        else {
            continue;
        };
        let permitted = nc.value.permitted_subtrees.as_deref().unwrap_or_default();
        let excluded = nc.value.excluded_subtrees.as_deref().unwrap_or_default();
        subtrees += permitted.len() + excluded.len();
        if subtrees > MAX_SUBTREES {
            return Err(VerifyError::TooManyNameConstraints {
                limit: MAX_SUBTREES,
            });
        }
        parsed.push((x509::oneline(cert.subject()), permitted, excluded));
    }
    for (ca, permitted, excluded) in &parsed {
        for name in names {
            check_one_ca(ca, permitted, excluded, *name)?;
        }
    }
    Ok(())
}

/// OpenSSL's rule for path validation: when the leaf (the last of `path`, listed root first)
/// has no DNS subjectAltName, each commonName that reads as a host name must satisfy the DNS
/// constraints of the CAs above it, whatever host name is checked later (or none).
pub(crate) fn check_leaf_common_names(path: &[Vec<u8>]) -> Result<(), VerifyError> {
    let Some((leaf, issuers)) = path.split_last() else {
        return Ok(());
    };
    if !issuers
        .iter()
        .any(|der| contains(der, &NAME_CONSTRAINTS_OID))
    {
        return Ok(());
    }
    let (_, cert) =
        X509Certificate::from_der(leaf).map_err(|e| VerifyError::BadEncoding(e.to_string()))?;
    let has_dns_san = x509::subject_alt_names(&cert)
        .iter()
        .any(|n| matches!(n, x509::SubjectAltName::Dns(_)));
    if has_dns_san {
        return Ok(());
    }
    let names: Vec<String> = cert
        .subject()
        .iter_common_name()
        .filter_map(|cn| cn.as_str().ok())
        .filter_map(host_name_in_common_name)
        .collect();
    let names: Vec<ConstrainedName<'_>> = names.iter().map(|n| ConstrainedName::Dns(n)).collect();
    check(issuers, &names)
}

/// The commonName as a host name when it reads as one (OpenSSL's test: letters, digits, `_`,
/// inner `-` and `.`, at least two labels), lower-cased and without a final dot.
fn host_name_in_common_name(cn: &str) -> Option<String> {
    let cn = cn.strip_suffix('.').unwrap_or(cn).as_bytes();
    let last = cn.len().checked_sub(1)?;
    let mut labels = false;
    for (i, &c) in cn.iter().enumerate() {
        if c.is_ascii_alphanumeric() || c == b'_' {
            continue;
        }
        let inner = i > 0 && i < last;
        match c {
            b'-' if inner => {}
            b'.' if inner && cn[i + 1] != b'.' && cn[i + 1] != b'-' && cn[i - 1] != b'-' => {
                labels = true;
            }
            _ => return None,
        }
    }
    labels.then(|| String::from_utf8_lossy(cn).to_ascii_lowercase())
}

fn check_one_ca(
    ca: &str,
    permitted: &[GeneralSubtree<'_>],
    excluded: &[GeneralSubtree<'_>],
    name: ConstrainedName<'_>,
) -> Result<(), VerifyError> {
    let violation = |what: String| VerifyError::NameConstraint {
        name: name.describe(),
        ca: ca.to_owned(),
        violation: what,
    };
    for subtree in excluded {
        if covers(&subtree.base, name, Subtrees::Excluded).map_err(violation)? == Some(true) {
            return Err(violation(format!(
                "it falls within the excluded subtree {}",
                describe(&subtree.base)
            )));
        }
    }
    let mut same_form = Vec::new();
    for subtree in permitted {
        match covers(&subtree.base, name, Subtrees::Permitted).map_err(violation)? {
            Some(true) => return Ok(()),
            Some(false) => same_form.push(describe(&subtree.base)),
            None => {}
        }
    }
    if same_form.is_empty() {
        // No permitted subtree of this name form: the form is not restricted.
        return Ok(());
    }
    Err(violation(format!(
        "it is in none of the permitted subtrees [{}]",
        same_form.join(", ")
    )))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subtrees {
    Permitted,
    Excluded,
}

/// Whether the constraint `base` covers `name`: `None` when it is of another name form, an
/// error text when the constraint is malformed (refused: a constraint that cannot be read
/// cannot be shown to hold).
fn covers(
    base: &GeneralName<'_>,
    name: ConstrainedName<'_>,
    role: Subtrees,
) -> Result<Option<bool>, String> {
    match (base, name) {
        (GeneralName::DNSName(c), ConstrainedName::Dns(n)) => Ok(Some(dns_covers(c, n, role))),
        (GeneralName::IPAddress(c), ConstrainedName::Ip(ip)) => ip_covers(c, ip).map(Some),
        _ => Ok(None),
    }
}

/// DNS subtree matching; `role` decides how a wildcard name counts (all of its expansions
/// for a permitted subtree, any of them for an excluded one).
fn dns_covers(constraint: &str, name: &str, role: Subtrees) -> bool {
    let constraint = constraint.trim_end_matches('.').to_ascii_lowercase();
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if constraint.is_empty() {
        return true;
    }
    let Some((_, rest)) = name.split_once('.').filter(|(l, _)| l.contains('*')) else {
        return plain_dns_covers(&constraint, &name);
    };
    // `left` stands for one label (never a dot): every expansion is `<label>.rest`.
    let dotted_rest = format!(".{rest}");
    let all_within = match constraint.strip_prefix('.') {
        Some(_) => dotted_rest.ends_with(&constraint),
        None => dotted_rest.ends_with(&format!(".{constraint}")),
    };
    match role {
        Subtrees::Permitted => all_within,
        // Some expansion is the constraint itself (`x.rest`), or all lie below it. The label
        // is not matched against the wildcard's letters: counting more names as excluded
        // only refuses more.
        Subtrees::Excluded => {
            all_within
                || constraint
                    .strip_suffix(&dotted_rest)
                    .is_some_and(|label| !label.is_empty() && !label.contains('.'))
        }
    }
}

fn plain_dns_covers(constraint: &str, name: &str) -> bool {
    if constraint.starts_with('.') {
        // Only names below it.
        name.ends_with(constraint)
    } else {
        name == constraint
            || name
                .strip_suffix(constraint)
                .is_some_and(|prefix| prefix.ends_with('.'))
    }
}

/// IP subtree matching: the constraint is an address followed by a mask of the same length
/// (8 bytes for IPv4, 32 for IPv6). An address of the other family is not covered.
fn ip_covers(constraint: &[u8], ip: IpAddr) -> Result<bool, String> {
    let (base, mask) = match constraint.len() {
        8 | 32 => constraint.split_at(constraint.len() / 2),
        n => {
            return Err(format!(
                "the IP constraint of {n} bytes is malformed (8 or 32 expected)"
            ))
        }
    };
    if !is_contiguous(mask) {
        return Err(format!(
            "the IP constraint {} has a non-contiguous mask",
            describe_ip(constraint)
        ));
    }
    let octets: Vec<u8> = match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    };
    if octets.len() != base.len() {
        return Ok(false);
    }
    Ok(octets
        .iter()
        .zip(base)
        .zip(mask)
        .all(|((a, b), m)| a & m == b & m))
}

fn is_contiguous(mask: &[u8]) -> bool {
    // Left-aligned in 128 bits, a contiguous mask is all ones and then all zeros.
    let bits = mask
        .iter()
        .fold(0u128, |acc, b| (acc << 8) | u128::from(*b))
        << (128 - mask.len() * 8);
    bits.count_ones() == bits.leading_ones()
}

/// OpenSSL's form of a subtree: `DNS:example.com`, `IP:192.0.2.0/255.255.255.0`.
fn describe(base: &GeneralName<'_>) -> String {
    match base {
        GeneralName::DNSName(d) => format!("DNS:{d}"),
        GeneralName::IPAddress(b) => format!("IP:{}", describe_ip(b)),
        other => other.to_string(),
    }
}

fn describe_ip(b: &[u8]) -> String {
    let addr = |half: &[u8]| match half.len() {
        4 => <[u8; 4]>::try_from(half)
            .map_or_else(|_| "?".to_owned(), |a| IpAddr::from(a).to_string()),
        16 => <[u8; 16]>::try_from(half)
            .map_or_else(|_| "?".to_owned(), |a| IpAddr::from(a).to_string()),
        _ => format!("{half:02X?}"),
    };
    match b.len() {
        8 | 32 => {
            let (base, mask) = b.split_at(b.len() / 2);
            format!("{}/{}", addr(base), addr(mask))
        }
        _ => addr(b),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_subtrees() {
        use Subtrees::*;
        assert!(dns_covers("example.com", "example.com", Permitted));
        assert!(dns_covers("example.com", "www.Example.com", Permitted));
        assert!(!dns_covers("example.com", "badexample.com", Permitted));
        assert!(!dns_covers(".example.com", "example.com", Permitted));
        assert!(dns_covers(".example.com", "a.b.example.com", Permitted));
        assert!(dns_covers("", "anything", Permitted));
        assert!(dns_covers("example.com.", "example.com", Excluded));
    }

    #[test]
    fn wildcard_names() {
        use Subtrees::*;
        assert!(dns_covers("example.com", "*.example.com", Permitted));
        assert!(dns_covers(".example.com", "*.example.com", Permitted));
        assert!(!dns_covers("www.example.com", "*.example.com", Permitted));
        assert!(dns_covers("www.example.com", "*.example.com", Excluded));
        assert!(dns_covers("www.example.com", "w*.example.com", Excluded));
        assert!(!dns_covers("a.www.example.com", "*.example.com", Excluded));
        assert!(!dns_covers("other.com", "*.example.com", Excluded));
        assert!(dns_covers("com", "*.example.com", Excluded));
    }

    #[test]
    fn ip_subtrees() {
        let net = [192, 0, 2, 0, 255, 255, 255, 0];
        assert_eq!(ip_covers(&net, "192.0.2.77".parse().unwrap()), Ok(true));
        assert_eq!(ip_covers(&net, "192.0.3.1".parse().unwrap()), Ok(false));
        assert_eq!(ip_covers(&net, "::1".parse().unwrap()), Ok(false));
        let mut v6 = [0u8; 32];
        v6[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        v6[16..20].copy_from_slice(&[0xff; 4]);
        assert_eq!(ip_covers(&v6, "2001:db8::7".parse().unwrap()), Ok(true));
        assert_eq!(ip_covers(&v6, "2001:db9::7".parse().unwrap()), Ok(false));
        assert!(ip_covers(
            &[192, 0, 2, 0, 255, 0, 255, 0],
            "192.0.2.1".parse().unwrap()
        )
        .is_err());
        assert!(ip_covers(&[1, 2, 3], "1.2.3.4".parse().unwrap()).is_err());
    }

    #[test]
    fn common_names_that_read_as_host_names() {
        let h = host_name_in_common_name;
        assert_eq!(h("Evil.Example").as_deref(), Some("evil.example"));
        assert_eq!(h("www.evil.example.").as_deref(), Some("www.evil.example"));
        assert_eq!(h("192.0.2.9").as_deref(), Some("192.0.2.9"));
        assert_eq!(h("localhost"), None);
        assert_eq!(h("*.evil.example"), None);
        assert_eq!(h("John Doe"), None);
        assert_eq!(h("a..b"), None);
        assert_eq!(h("a.-b"), None);
        assert_eq!(h(".a.b"), None);
        assert_eq!(h("2001:db8::1"), None);
        assert_eq!(h(""), None);
    }

    #[test]
    fn masks() {
        assert!(is_contiguous(&[255, 255, 0, 0]));
        assert!(is_contiguous(&[0, 0, 0, 0]));
        assert!(is_contiguous(&[255; 16]));
        assert!(!is_contiguous(&[255, 0, 255, 0]));
        assert!(!is_contiguous(&[0, 0, 0, 1]));
    }
}
