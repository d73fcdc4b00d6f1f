//! Certificates and keys (the IO::Socket::SSL::Utils equivalent): load, save, create, inspect.
//!
//! Formats are detected from the content, not from the file name: PEM when a `-----BEGIN`
//! line is present, PKCS#12 when the DER is a PFX, DER otherwise.
//!
//! ```
//! use sslsock::x509::create::CertSpec;
//! use sslsock::x509::info::CertInfo;
//! use sslsock::x509::{load_certificates, parse_private_key, save, Password};
//! use sslsock::FingerprintAlgorithm;
//!
//! let ca = CertSpec::new("Example CA").ca().self_signed()?;
//! let leaf = CertSpec::new("www.example").san("www.example").signed_by(&ca)?;
//! let chain = load_certificates(format!("{}{}", leaf.cert_pem, ca.cert_pem).as_bytes(), &Password::None)?;
//! assert_eq!(chain.len(), 2);
//! let key = parse_private_key(leaf.key_pem.as_bytes(), &Password::None)?;
//! let sealed = save::key_to_pem(&key, Some("secret"))?; // PBES2, AES-256-CBC
//! assert!(sealed.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
//! let info = CertInfo::from_der(&chain[0], FingerprintAlgorithm::Sha256)?;
//! assert_eq!(info.issuer_line, "/CN=Example CA");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod create;
pub mod fingerprint;
pub mod info;
pub mod keys;
pub(crate) mod pem;
pub mod pkcs12;
pub mod save;

pub use keys::{parse_private_key, LoadError, Password};
pub use pkcs12::{is_pkcs12, parse_pkcs12, Pkcs12Contents};

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use pki_types::pem::PemObject;
use pki_types::{CertificateDer, PrivateKeyDer};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::ConfigError;

/// Attribute names (short and long) and their OIDs, for subjects.
pub(crate) const ATTRIBUTES: &[(&str, &str, &[u64])] = &[
    ("CN", "commonName", &[2, 5, 4, 3]),
    ("C", "countryName", &[2, 5, 4, 6]),
    ("L", "localityName", &[2, 5, 4, 7]),
    ("ST", "stateOrProvinceName", &[2, 5, 4, 8]),
    ("street", "streetAddress", &[2, 5, 4, 9]),
    ("O", "organizationName", &[2, 5, 4, 10]),
    ("OU", "organizationalUnitName", &[2, 5, 4, 11]),
    ("title", "title", &[2, 5, 4, 12]),
    ("SN", "surname", &[2, 5, 4, 4]),
    ("serialNumber", "serialNumber", &[2, 5, 4, 5]),
    ("postalCode", "postalCode", &[2, 5, 4, 17]),
    ("GN", "givenName", &[2, 5, 4, 42]),
    (
        "emailAddress",
        "emailAddress",
        &[1, 2, 840, 113_549, 1, 9, 1],
    ),
    (
        "DC",
        "domainComponent",
        &[0, 9, 2342, 19_200_300, 100, 1, 25],
    ),
    ("UID", "userId", &[0, 9, 2342, 19_200_300, 100, 1, 1]),
];

/// The OpenSSL long name of a name attribute (`organizationalUnitName`), if known.
pub(crate) fn attribute_long_name(oid: &str) -> Option<&'static str> {
    ATTRIBUTES
        .iter()
        .find(|(_, _, arcs)| {
            let dotted: Vec<String> = arcs.iter().map(u64::to_string).collect();
            dotted.join(".") == oid
        })
        .map(|(_, long, _)| *long)
}

/// Where a certificate chain or key comes from.
#[derive(Clone)]
#[non_exhaustive]
pub enum Source {
    /// A file in PEM or DER form.
    File(PathBuf),
    /// Bytes in PEM or DER form.
    Memory(Vec<u8>),
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::File(p) => write!(f, "File({})", p.display()),
            Source::Memory(b) => write!(f, "Memory({} bytes)", b.len()),
        }
    }
}

/// One subjectAltName entry, as `peer_certificate('subjectAltNames')` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SubjectAltName {
    /// A DNS name (GEN_DNS).
    Dns(String),
    /// An IP address (GEN_IPADD).
    Ip(IpAddr),
    /// An e-mail address (GEN_EMAIL).
    Email(String),
    /// A URI (GEN_URI).
    Uri(String),
    /// Any other kind: OpenSSL's tag (`DIRNAME`, `RID`, `OTHERNAME`, `IP` for an address of
    /// an odd length) and the value as text.
    Other {
        /// The kind.
        kind: String,
        /// The value.
        value: String,
    },
}

impl SubjectAltName {
    /// Parses `DNS:name`, `IP:addr`, `email:x@y`, `URI:u`; without a type, an address or a DNS
    /// name (as `sslsock cert create --san` takes them).
    ///
    /// ```
    /// use sslsock::SubjectAltName;
    /// assert_eq!(SubjectAltName::parse("IP:192.0.2.1")?.to_string(), "IP:192.0.2.1");
    /// assert_eq!(SubjectAltName::parse("www.example.org")?, SubjectAltName::Dns("www.example.org".into()));
    /// # Ok::<(), sslsock::ConfigError>(())
    /// ```
    pub fn parse(s: &str) -> Result<SubjectAltName, ConfigError> {
        let bad_ip =
            |v: &str| ConfigError::Invalid(format!("invalid IP address \"{v}\" in subjectAltName"));
        Ok(match s.split_once(':') {
            Some((t, v)) if t.eq_ignore_ascii_case("dns") => SubjectAltName::Dns(v.to_owned()),
            Some((t, v)) if t.eq_ignore_ascii_case("ip") => {
                SubjectAltName::Ip(v.parse().map_err(|_| bad_ip(v))?)
            }
            Some((t, v)) if t.eq_ignore_ascii_case("email") => SubjectAltName::Email(v.to_owned()),
            Some((t, v)) if t.eq_ignore_ascii_case("uri") => SubjectAltName::Uri(v.to_owned()),
            _ => match s.parse::<IpAddr>() {
                Ok(ip) => SubjectAltName::Ip(ip),
                Err(_) => SubjectAltName::Dns(s.to_owned()),
            },
        })
    }

    /// One entry of a certificate's subjectAltName extension.
    pub(crate) fn from_general_name(gn: &GeneralName<'_>) -> SubjectAltName {
        let other = |kind: &str, value: String| SubjectAltName::Other {
            kind: kind.to_owned(),
            value,
        };
        match gn {
            GeneralName::DNSName(s) => SubjectAltName::Dns((*s).to_owned()),
            GeneralName::RFC822Name(s) => SubjectAltName::Email((*s).to_owned()),
            GeneralName::URI(s) => SubjectAltName::Uri((*s).to_owned()),
            GeneralName::IPAddress(b) => {
                match (<[u8; 4]>::try_from(*b), <[u8; 16]>::try_from(*b)) {
                    (Ok(v4), _) => SubjectAltName::Ip(IpAddr::from(v4)),
                    (_, Ok(v6)) => SubjectAltName::Ip(IpAddr::from(v6)),
                    _ => other("IP", b.iter().map(|x| format!("{x:02X}")).collect()),
                }
            }
            GeneralName::DirectoryName(n) => other("DIRNAME", n.to_string()),
            GeneralName::RegisteredID(oid) => other("RID", oid.to_id_string()),
            GeneralName::OtherName(oid, _) => other("OTHERNAME", oid.to_id_string()),
            gn => other("OTHER", format!("{gn:?}")),
        }
    }

    /// OpenSSL's type tag (`DNS`, `IP`, `EMAIL`, `URI`, `DIRNAME`, ...) and the value.
    pub fn kind_and_value(&self) -> (&str, String) {
        match self {
            SubjectAltName::Dns(s) => ("DNS", s.clone()),
            SubjectAltName::Ip(ip) => ("IP", ip.to_string()),
            SubjectAltName::Email(s) => ("EMAIL", s.clone()),
            SubjectAltName::Uri(s) => ("URI", s.clone()),
            SubjectAltName::Other { kind, value } => (kind, value.clone()),
        }
    }
}

/// In JSON: `["DNS", "www.example.org"]`, OpenSSL's tag and the value.
impl serde::Serialize for SubjectAltName {
    fn serialize<Z: serde::Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        self.kind_and_value().serialize(serializer)
    }
}

impl std::fmt::Display for SubjectAltName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SubjectAltName::Dns(s) => write!(f, "DNS:{s}"),
            SubjectAltName::Ip(ip) => write!(f, "IP:{ip}"),
            SubjectAltName::Email(s) => write!(f, "email:{s}"),
            SubjectAltName::Uri(s) => write!(f, "URI:{s}"),
            SubjectAltName::Other { kind, value } => write!(f, "{kind}:{value}"),
        }
    }
}

/// The DER contents of the subject Name (without its SEQUENCE header), as CA hints carry it.
pub(crate) fn subject_der(der: &[u8]) -> Result<Vec<u8>, String> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| e.to_string())?;
    let raw = cert.subject().as_raw();
    let header = match raw.get(1) {
        Some(&l) if l < 0x80 => 2,
        Some(&l) => 2 + usize::from(l & 0x7f),
        None => return Err("empty subject".to_owned()),
    };
    Ok(raw.get(header..).unwrap_or_default().to_vec())
}

/// The subject's first commonName; `None` when absent or not a string.
pub(crate) fn common_name(cert: &X509Certificate<'_>) -> Option<String> {
    cert.subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok().map(str::to_owned))
}

pub(crate) fn subject_alt_names(cert: &X509Certificate<'_>) -> Vec<SubjectAltName> {
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .map(SubjectAltName::from_general_name)
        .collect()
}

/// OpenSSL's `X509_NAME_oneline` form: `/C=DE/O=Example/CN=host`.
pub(crate) fn oneline(name: &x509_parser::x509::X509Name<'_>) -> String {
    let mut out = String::new();
    for rdn in name.iter() {
        for attr in rdn.iter() {
            let oid = attr.attr_type();
            let key = x509_parser::objects::oid2abbrev(oid, x509_parser::objects::oid_registry())
                .map(str::to_owned)
                .unwrap_or_else(|_| oid.to_id_string());
            let value = attr
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|_| format!("{:02X?}", attr.as_slice()));
            out.push('/');
            out.push_str(&key);
            out.push('=');
            out.push_str(&value);
        }
    }
    out
}

fn read_source(src: &Source, what: &str) -> Result<Vec<u8>, ConfigError> {
    match src {
        Source::Memory(b) => Ok(b.clone()),
        Source::File(p) => read_file(p, what),
    }
}

pub(crate) fn read_file(path: &Path, what: &str) -> Result<Vec<u8>, ConfigError> {
    read_capped(path).map_err(|reason| ConfigError::File {
        path: path.to_owned(),
        reason: format!("cannot read {what}: {reason}"),
    })
}

/// The largest certificate, key, CRL, CA bundle or list file read (a CA bundle is a few
/// hundred kilobytes, the largest public CRLs some megabytes).
pub const MAX_FILE: u64 = 32 * 1024 * 1024;

/// Reads a file of at most [`MAX_FILE`] bytes, so that `/dev/zero` or a wrong path to a huge
/// file is refused instead of filling memory; the failure in words.
pub fn read_capped(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(format!(
            "larger than {} MiB; refused",
            MAX_FILE / (1024 * 1024)
        ));
    }
    Ok(bytes)
}

/// Reads every certificate from PEM (other blocks skipped) or one DER certificate.
pub fn parse_certificates(bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>, LoadError> {
    let bad = LoadError::Malformed;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(bad("no certificate in it: it is empty".to_owned()));
    }
    if !pem::is_pem(bytes) && bytes.first() != Some(&0x30) {
        return Err(bad(
            "no certificate in it: neither PEM (no -----BEGIN line) nor DER".to_owned(),
        ));
    }
    let certs: Vec<CertificateDer<'static>> = if pem::is_pem(bytes) {
        CertificateDer::pem_slice_iter(bytes)
            .collect::<Result<_, _>>()
            .map_err(|e| bad(crate::text::pem_error(&e)))?
    } else {
        vec![CertificateDer::from(bytes.to_vec())]
    };
    if certs.is_empty() {
        return Err(bad(
            "no certificate in it (no -----BEGIN CERTIFICATE----- block)".to_owned(),
        ));
    }
    for c in &certs {
        X509Certificate::from_der(c)
            .map_err(|e| bad(format!("not a valid X.509 certificate: {e}")))?;
    }
    Ok(certs)
}

/// Reads certificates from PEM, DER or PKCS#12 (opened with `password`).
pub fn load_certificates(
    bytes: &[u8],
    password: &Password,
) -> Result<Vec<CertificateDer<'static>>, LoadError> {
    if !pem::is_pem(bytes) && is_pkcs12(bytes) {
        let certs = parse_pkcs12(bytes, password)?.certs;
        if certs.is_empty() {
            return Err(LoadError::Malformed(
                "the PKCS#12 file holds no certificate".to_owned(),
            ));
        }
        return Ok(certs);
    }
    parse_certificates(bytes)
}

/// Reads a private key from a key file, or from a PEM or PKCS#12 certificate file.
pub fn load_private_key(
    bytes: &[u8],
    password: &Password,
) -> Result<PrivateKeyDer<'static>, LoadError> {
    if !pem::is_pem(bytes) && is_pkcs12(bytes) {
        return parse_pkcs12(bytes, password)?.key.ok_or_else(|| {
            LoadError::Malformed("the PKCS#12 file holds no private key".to_owned())
        });
    }
    parse_private_key(bytes, password)
}

/// Loads a certificate chain from a [`Source`]; the error names the file.
pub(crate) fn load_chain(
    src: &Source,
    password: &Password,
) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let bytes = read_source(src, "certificate")?;
    load_certificates(&bytes, password).map_err(|e| located(src, "certificate", e, false))
}

/// Loads a private key from `key`, or from the certificate source when no key source is given.
pub(crate) fn load_key(
    key: Option<&Source>,
    cert: &Source,
    password: &Password,
) -> Result<PrivateKeyDer<'static>, ConfigError> {
    // The manual: a key inside a PKCS#12 certificate file wins over SSL_key(_file).
    if let Some(given) = key {
        let cert_bytes = read_source(cert, "certificate")?;
        if !pem::is_pem(&cert_bytes) && is_pkcs12(&cert_bytes) {
            let inner = parse_pkcs12(&cert_bytes, password)
                .map_err(|e| located(cert, "certificate", e, false))?
                .key;
            if let Some(inner) = inner {
                let place = match given {
                    Source::File(p) => p.display().to_string(),
                    Source::Memory(_) => "the in-memory key".to_owned(),
                };
                log::warn!("the PKCS#12 certificate file holds its own key: {place} is not used");
                return Ok(inner);
            }
        }
    }
    let src = key.unwrap_or(cert);
    let bytes = read_source(src, "private key")?;
    load_private_key(&bytes, password).map_err(|e| located(src, "private key", e, key.is_none()))
}

fn located(src: &Source, what: &str, e: LoadError, from_cert_file: bool) -> ConfigError {
    let place = match src {
        Source::File(p) => p.display().to_string(),
        Source::Memory(_) => "in-memory data".to_owned(),
    };
    match e {
        LoadError::NeedPassword | LoadError::WrongPassword => ConfigError::Password {
            what: format!("{place}: {what}"),
            missing: e == LoadError::NeedPassword,
        },
        LoadError::Malformed(reason) | LoadError::Unsupported(reason) => {
            let reason = if from_cert_file {
                format!("{reason} (no key file given, so the key was looked for in the certificate file)")
            } else {
                reason
            };
            match src {
                Source::File(p) => ConfigError::File {
                    path: p.clone(),
                    reason: format!("{what}: {reason}"),
                },
                Source::Memory(_) => {
                    ConfigError::Certificate(format!("{what} in {place}: {reason}"))
                }
            }
        }
    }
}

pub(crate) use crate::timefmt::system_time;
pub use crate::timefmt::{format_system_time, format_unix_time};

/// A certificate or CRL time as a `SystemTime` (times before 1970 as 1970).
pub(crate) fn asn1_time(t: x509_parser::time::ASN1Time) -> std::time::SystemTime {
    std::time::UNIX_EPOCH
        + std::time::Duration::from_secs(u64::try_from(t.timestamp()).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_epoch_and_leap_day() {
        assert_eq!(format_unix_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_unix_time(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_unix_time(1_798_761_599), "2026-12-31 23:59:59 UTC");
        assert_eq!(format_unix_time(253_402_300_799), "9999-12-31 23:59:59 UTC");
        assert_eq!(format_unix_time(u64::MAX), format!("@{}", u64::MAX));
    }

    #[test]
    fn garbage_is_refused_with_reason() {
        assert!(parse_certificates(b"\x30\x03\x02\x01\x01").is_err());
        assert!(
            parse_certificates(b"-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n")
                .unwrap_err()
                .to_string()
                .contains("no certificate")
        );
        assert!(parse_private_key(b"hello", &Password::None).is_err());
    }
}
