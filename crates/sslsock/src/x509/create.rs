//! Creating certificates and keys (the `CERT_create` / `KEY_create_*` equivalent).
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use sslsock::x509::create::{CertSpec, Digest, KeyType};
//!
//! let ca = CertSpec::new("Test CA").ca().key_type(KeyType::EcP384).self_signed()?;
//! let now = SystemTime::now();
//! let server = CertSpec::new("mail.example")
//!     .san("mail.example")
//!     .san("192.0.2.25")
//!     .purpose("server")
//!     .key_type(KeyType::Rsa2048)
//!     .digest(Digest::Sha384)
//!     .validity(now, now + Duration::from_secs(90 * 86_400))
//!     .ocsp_url("http://ocsp.example/")
//!     .must_staple()
//!     .signed_by(&ca)?;
//! assert!(server.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
//! # Ok::<(), sslsock::ConfigError>(())
//! ```

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, CrlDistributionPoint, CustomExtension, DistinguishedName,
    DnType, DnValue, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, RsaKeySize,
    SanType, SerialNumber, SignatureAlgorithm,
};

use super::{SubjectAltName, ATTRIBUTES};
use crate::error::ConfigError;
use ::der::asn1::ObjectIdentifier;
use ::der::Encode;

/// Days a created certificate is valid ([`crate::defaults::CERT_DAYS`]).
pub const DEFAULT_DAYS: u32 = 365;

/// The type of a created key ([`crate::defaults::CERT_KEY_TYPE`]): ECDSA on P-256, fast
/// handshakes and small certificates.
pub const DEFAULT_KEY_TYPE: KeyType = KeyType::EcP256;

/// The digest a created certificate is signed with ([`crate::defaults::CERT_DIGEST`]).
pub const DEFAULT_DIGEST: Digest = Digest::Sha256;

impl Default for KeyType {
    fn default() -> Self {
        DEFAULT_KEY_TYPE
    }
}

impl Default for Digest {
    fn default() -> Self {
        DEFAULT_DIGEST
    }
}

/// The key algorithm of a new certificate (`KEY_create_rsa`, `KEY_create_ec`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyType {
    /// ECDSA on P-256 ([`DEFAULT_KEY_TYPE`]).
    EcP256,
    /// ECDSA on P-384.
    EcP384,
    /// RSA, 2048 bits.
    Rsa2048,
    /// RSA, 3072 bits.
    Rsa3072,
    /// RSA, 4096 bits.
    Rsa4096,
    /// Ed25519.
    Ed25519,
}

impl KeyType {
    /// Parses `ec256`/`ec384`/`rsa2048`/`rsa3072`/`rsa4096`/`ed25519` (also `p256`, `rsa`).
    pub fn parse(s: &str) -> Result<KeyType, ConfigError> {
        Ok(match s.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "ec256" | "ec" | "p256" | "ecp256" | "prime256v1" => KeyType::EcP256,
            "ec384" | "p384" | "ecp384" | "secp384r1" => KeyType::EcP384,
            "rsa2048" | "rsa" => KeyType::Rsa2048,
            "rsa3072" => KeyType::Rsa3072,
            "rsa4096" => KeyType::Rsa4096,
            "ed25519" => KeyType::Ed25519,
            _ => {
                return Err(ConfigError::Invalid(format!(
                    "unknown key type \"{s}\" (use rsa2048, rsa3072, rsa4096, ec256, ec384 or ed25519)"
                )))
            }
        })
    }
}

/// The digest of the signature. For EC keys the curve decides (P-256: SHA-256, P-384:
/// SHA-384) and for Ed25519 there is none to choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Digest {
    /// SHA-256 ([`DEFAULT_DIGEST`]).
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl Digest {
    /// Parses `sha256`, `sha384`, `sha512`.
    pub fn parse(s: &str) -> Result<Digest, ConfigError> {
        match s.to_ascii_lowercase().replace('-', "").as_str() {
            "sha256" => Ok(Digest::Sha256),
            "sha384" => Ok(Digest::Sha384),
            "sha512" => Ok(Digest::Sha512),
            _ => Err(ConfigError::Invalid(format!(
                "unknown signature digest \"{s}\" (use sha256, sha384 or sha512)"
            ))),
        }
    }
}

/// What a new certificate should say. Subject attributes are written in the order given.
///
/// ```
/// use sslsock::x509::create::CertSpec;
/// let ca = CertSpec::new("Example CA").ca().self_signed()?;
/// let leaf = CertSpec::new("localhost").san("localhost").san("127.0.0.1").signed_by(&ca)?;
/// assert!(leaf.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
/// # Ok::<(), sslsock::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct CertSpec {
    subject: Vec<(String, String)>,
    sans: Vec<String>,
    is_ca: bool,
    purposes: Vec<String>,
    key_type: KeyType,
    digest: Digest,
    not_before: SystemTime,
    not_after: SystemTime,
    serial: Option<u64>,
    eku: Option<Vec<ExtendedKeyUsagePurpose>>,
    ocsp_urls: Vec<String>,
    ca_issuer_urls: Vec<String>,
    crl_urls: Vec<String>,
    must_staple: bool,
    extensions: Vec<(String, Vec<u8>, bool)>,
    /// Key usage and extended key usage given as raw extensions (a clone's, as the original
    /// has them) instead of from the purposes.
    raw_usages: bool,
    /// A serial number as bytes (a clone's), over `serial`.
    serial_bytes: Option<Vec<u8>>,
    /// The key to certify (PEM), instead of a new one.
    given_key: Option<String>,
    /// The subject as DER (a Name), in place of `subject`: attributes carried as they are.
    raw_subject: Option<Vec<u8>>,
}

/// A created certificate with its private key.
#[derive(Clone)]
#[non_exhaustive]
pub struct Issued {
    /// The certificate in PEM.
    pub cert_pem: String,
    /// The certificate in DER.
    pub cert_der: Vec<u8>,
    /// The private key in PKCS#8 PEM.
    pub key_pem: String,
}

/// The key stays out of logs.
impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"(redacted)")
            .finish_non_exhaustive()
    }
}

impl Issued {
    /// An issuer made elsewhere: its certificate (PEM or DER) and private key (PKCS#8 PEM or
    /// any form [`super::parse_private_key`] reads, decrypted with `password`).
    pub fn from_parts(
        cert: &[u8],
        key: &[u8],
        password: &super::Password,
    ) -> Result<Issued, ConfigError> {
        let certs = super::load_certificates(cert, password)
            .map_err(|e| ConfigError::Certificate(format!("issuer certificate: {e}")))?;
        let key = super::load_private_key(key, password)
            .map_err(|e| ConfigError::Certificate(format!("issuer key: {e}")))?;
        Ok(Issued {
            cert_pem: super::save::certs_to_pem(&certs[..1]),
            cert_der: certs[0].to_vec(),
            key_pem: super::save::key_to_pem(&key, None)?,
        })
    }
}

fn err(e: rcgen::Error) -> ConfigError {
    ConfigError::Certificate(format!("cannot create certificate: {e}"))
}

/// A dotted OID, when DER can encode it: two arcs at least, the first 0, 1 or 2, the second
/// below 40 under 0 and 1 (X.690, 8.19.4).
fn parse_oid(s: &str) -> Option<Vec<u64>> {
    let parts: Option<Vec<u64>> = s.split('.').map(|p| p.parse().ok()).collect();
    parts.filter(|p| match p.as_slice() {
        [first @ (0 | 1), second, ..] => *second < 40 && *first <= 1,
        [2, _, ..] => true,
        _ => false,
    })
}

fn dn_type(key: &str) -> Result<DnType, ConfigError> {
    let oid: Vec<u64> = match ATTRIBUTES
        .iter()
        .find(|(short, long, _)| short.eq_ignore_ascii_case(key) || long.eq_ignore_ascii_case(key))
    {
        Some((_, _, oid)) => oid.to_vec(),
        None => parse_oid(key).ok_or_else(|| {
            ConfigError::Invalid(format!("unknown subject attribute \"{key}\" (use CN, O, OU, C, ST, L, emailAddress, ... or a dotted OID)"))
        })?,
    };
    Ok(match oid.as_slice() {
        [2, 5, 4, 3] => DnType::CommonName,
        [2, 5, 4, 6] => DnType::CountryName,
        [2, 5, 4, 7] => DnType::LocalityName,
        [2, 5, 4, 8] => DnType::StateOrProvinceName,
        [2, 5, 4, 10] => DnType::OrganizationName,
        [2, 5, 4, 11] => DnType::OrganizationalUnitName,
        _ => DnType::CustomDnType(oid),
    })
}

/// Flags set by one purpose of the Perl module's table.
#[derive(Default)]
struct Flags {
    ca: bool,
    key_usage: BTreeSet<&'static str>,
    ext_key_usage: BTreeSet<&'static str>,
    cert_type: BTreeSet<&'static str>,
}

/// The purpose table of IO::Socket::SSL::Utils::CERT_create: what each purpose sets.
fn purpose_flags(name: &str) -> Option<Flags> {
    let mut f = Flags::default();
    let ds_ke = |f: &mut Flags| {
        f.key_usage.insert("digitalSignature");
        f.key_usage.insert("keyEncipherment");
    };
    let ca = |f: &mut Flags| {
        f.ca = true;
        f.key_usage.insert("digitalSignature");
        f.key_usage.insert("keyCertSign");
    };
    match name.to_ascii_lowercase().as_str() {
        "client" => {
            ds_ke(&mut f);
            f.ext_key_usage.insert("clientAuth");
            f.cert_type.insert("client");
        }
        "server" => {
            ds_ke(&mut f);
            f.ext_key_usage.insert("serverAuth");
            f.cert_type.insert("server");
        }
        "email" | "emailprotection" => {
            ds_ke(&mut f);
            f.ext_key_usage.insert("emailProtection");
            f.cert_type.insert("email");
        }
        "objsign" | "codesigning" => {
            ds_ke(&mut f);
            f.ext_key_usage.insert("codeSigning");
            f.cert_type.insert("objsign");
        }
        "ca" => ca(&mut f),
        "sslca" => {
            ca(&mut f);
            f.cert_type.insert("sslCA");
        }
        "emailca" => {
            ca(&mut f);
            f.cert_type.insert("emailCA");
        }
        "objca" => {
            ca(&mut f);
            f.cert_type.insert("objCA");
        }
        "timestamping" => {
            f.ext_key_usage.insert("timeStamping");
        }
        "clientauth" => {
            f.ext_key_usage.insert("clientAuth");
        }
        "serverauth" => {
            f.ext_key_usage.insert("serverAuth");
        }
        other => {
            let ku = [
                "digitalSignature",
                "nonRepudiation",
                "keyEncipherment",
                "dataEncipherment",
                "keyAgreement",
                "keyCertSign",
                "cRLSign",
                "encipherOnly",
                "decipherOnly",
            ]
            .into_iter()
            .find(|k| k.eq_ignore_ascii_case(other))?;
            f.key_usage.insert(ku);
        }
    }
    Some(f)
}

/// Evaluates purposes like the Perl module: enabled ones add their flags, then `-name`
/// ones remove theirs.
fn evaluate_purposes(list: &[String], is_ca: bool) -> Result<Flags, ConfigError> {
    let mut wanted: Vec<(String, bool)> = Vec::new();
    for entry in list.iter().flat_map(|p| {
        p.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '+' || c == '_'))
    }) {
        if entry.is_empty() {
            continue;
        }
        let (on, name) = match entry.as_bytes()[0] {
            b'-' => (false, &entry[1..]),
            b'+' => (true, &entry[1..]),
            _ => (true, entry),
        };
        wanted.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        wanted.push((name.to_owned(), on));
    }
    if is_ca {
        for d in ["CA", "sslCA", "emailCA", "objCA"] {
            if !wanted.iter().any(|(n, _)| n.eq_ignore_ascii_case(d)) {
                wanted.push((d.to_owned(), true));
            }
        }
    }
    if wanted.is_empty() {
        wanted = vec![("server".to_owned(), true), ("client".to_owned(), true)];
    }
    let mut out = Flags::default();
    let mut off = Flags::default();
    for (name, on) in &wanted {
        let f = purpose_flags(name)
            .ok_or_else(|| ConfigError::Invalid(format!("unknown purpose \"{name}\"")))?;
        let target = if *on { &mut out } else { &mut off };
        target.ca |= f.ca;
        target.key_usage.extend(f.key_usage);
        target.ext_key_usage.extend(f.ext_key_usage);
        target.cert_type.extend(f.cert_type);
    }
    out.ca &= !off.ca;
    out.key_usage.retain(|k| !off.key_usage.contains(k));
    out.ext_key_usage.retain(|k| !off.ext_key_usage.contains(k));
    out.cert_type.retain(|k| !off.cert_type.contains(k));
    Ok(out)
}

/// netscapeCertType bits (bit 0 is the most significant).
fn ns_cert_type_der(types: &BTreeSet<&'static str>) -> Result<Vec<u8>, ConfigError> {
    let names = [
        "client", "server", "email", "objsign", "", "sslCA", "emailCA", "objCA",
    ];
    let bits = names
        .iter()
        .enumerate()
        .filter(|(_, n)| types.contains(**n))
        .fold(0u8, |acc, (i, _)| acc | (0x80 >> i));
    let unused = if bits == 0 {
        0
    } else {
        bits.trailing_zeros() as u8
    };
    let encoded = ::der::asn1::BitString::new(unused, vec![bits]).and_then(|b| b.to_der());
    encoded.map_err(|e| ConfigError::Invalid(format!("netscapeCertType: {e}")))
}

/// The authority information access extension's value: OCSP responders, then CA issuers.
fn authority_info_access(ocsp: &[String], ca_issuers: &[String]) -> Result<Vec<u8>, ConfigError> {
    use x509_cert::ext::pkix::name::GeneralName;
    use x509_cert::ext::pkix::{AccessDescription, AuthorityInfoAccessSyntax};
    const OCSP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");
    const CA_ISSUERS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.2");
    let bad = |uri: &str, e: ::der::Error| ConfigError::Invalid(format!("URL \"{uri}\": {e}"));
    let described = |method, uri: &String| {
        Ok(AccessDescription {
            access_method: method,
            access_location: GeneralName::UniformResourceIdentifier(
                ::der::asn1::Ia5String::new(uri).map_err(|e| bad(uri, e))?,
            ),
        })
    };
    let list = ocsp
        .iter()
        .map(|u| described(OCSP, u))
        .chain(ca_issuers.iter().map(|u| described(CA_ISSUERS, u)))
        .collect::<Result<Vec<_>, ConfigError>>()?;
    AuthorityInfoAccessSyntax(list)
        .to_der()
        .map_err(|e| ConfigError::Invalid(format!("authority information access: {e}")))
}

impl CertSpec {
    /// A certificate with commonName `cn`, valid from now for one year, EC P-256 key.
    pub fn new(cn: &str) -> CertSpec {
        let now = SystemTime::now();
        CertSpec {
            subject: vec![("CN".to_owned(), cn.to_owned())],
            sans: Vec::new(),
            is_ca: false,
            purposes: Vec::new(),
            key_type: KeyType::default(),
            digest: Digest::default(),
            not_before: now - Duration::from_secs(60),
            not_after: now + Duration::from_secs(u64::from(DEFAULT_DAYS) * 86_400),
            serial: None,
            eku: None,
            ocsp_urls: Vec::new(),
            ca_issuer_urls: Vec::new(),
            crl_urls: Vec::new(),
            must_staple: false,
            extensions: Vec::new(),
            raw_usages: false,
            serial_bytes: None,
            given_key: None,
            raw_subject: None,
        }
    }
    /// A certificate whose subject is given entirely by `attrs`, in order (no CN is implied).
    pub fn with_subject(attrs: &[(&str, &str)]) -> CertSpec {
        let mut s = CertSpec::new("");
        s.subject = attrs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        s
    }
    /// Adds a subject attribute (`CN`, `O`, `OU`, `C`, `ST`, `L`, `emailAddress`, long names, or
    /// a dotted OID) after those already given.
    pub fn subject(mut self, key: &str, value: &str) -> Self {
        self.subject.push((key.to_owned(), value.to_owned()));
        self
    }
    /// Adds a subjectAltName: `DNS:`, `IP:`, `email:`, `URI:` prefixed, or without prefix an
    /// IP address when it parses as one, else a DNS name.
    pub fn san(mut self, name: &str) -> Self {
        self.sans.push(name.to_owned());
        self
    }
    /// Makes it a CA: the purposes default to CA, sslCA, emailCA, objCA.
    pub fn ca(mut self) -> Self {
        self.is_ca = true;
        self
    }
    /// Purposes as in the Perl module (`server`, `client`, `email`, `objsign`, `CA`, `sslCA`,
    /// `emailCA`, `objCA`, single keyUsage or extendedKeyUsage names), comma separated;
    /// `-name` removes. Defaults to `server,client` (or the CA set for [`ca`](Self::ca)).
    pub fn purpose(mut self, list: &str) -> Self {
        self.purposes.push(list.to_owned());
        self
    }
    /// The key algorithm. Defaults to [`KeyType::EcP256`].
    pub fn key_type(mut self, k: KeyType) -> Self {
        self.key_type = k;
        self
    }
    /// The signature digest for RSA issuers. Defaults to SHA-256.
    pub fn digest(mut self, d: Digest) -> Self {
        self.digest = d;
        self
    }
    /// The validity period. Defaults to now - 1 minute .. now + 1 year.
    pub fn validity(mut self, not_before: SystemTime, not_after: SystemTime) -> Self {
        self.not_before = not_before;
        self.not_after = not_after;
        self
    }
    /// The serial number. Defaults to a random positive number of 127 bits.
    pub fn serial(mut self, serial: u64) -> Self {
        self.serial = Some(serial);
        self
    }
    /// The extended key usages, replacing those the purposes give: `serverAuth`, `clientAuth`,
    /// `codeSigning`, `emailProtection`, `timeStamping`, `OCSPSigning`.
    pub fn extended_key_usage(mut self, names: &[&str]) -> Result<Self, ConfigError> {
        let mut out = Vec::new();
        for n in names {
            out.push(eku(n).ok_or_else(|| {
                ConfigError::Invalid(format!("unknown extended key usage \"{n}\""))
            })?);
        }
        self.eku = Some(out);
        Ok(self)
    }
    /// An OCSP responder URL (authorityInfoAccess).
    pub fn ocsp_url(mut self, url: &str) -> Self {
        self.ocsp_urls.push(url.to_owned());
        self
    }
    /// A CA issuers URL (authorityInfoAccess).
    pub fn ca_issuers_url(mut self, url: &str) -> Self {
        self.ca_issuer_urls.push(url.to_owned());
        self
    }
    /// A CRL distribution point URL.
    pub fn crl_url(mut self, url: &str) -> Self {
        self.crl_urls.push(url.to_owned());
        self
    }
    /// Adds the TLS feature extension "status_request" (OCSP must-staple, RFC 7633).
    pub fn must_staple(mut self) -> Self {
        self.must_staple = true;
        self
    }
    /// Adds an arbitrary extension: dotted OID, DER value, critical flag.
    pub fn extension(mut self, oid: &str, der_value: Vec<u8>, critical: bool) -> Self {
        self.extensions.push((oid.to_owned(), der_value, critical));
        self
    }

    /// Key usage and extended key usage exactly as these DER extension values say (either
    /// may be absent), instead of from the purposes.
    pub fn usages_as_extensions(
        mut self,
        key_usage: Option<(Vec<u8>, bool)>,
        extended_key_usage: Option<(Vec<u8>, bool)>,
    ) -> Self {
        self.raw_usages = true;
        if let Some((v, critical)) = key_usage {
            self.extensions.push(("2.5.29.15".to_owned(), v, critical));
        }
        if let Some((v, critical)) = extended_key_usage {
            self.extensions.push(("2.5.29.37".to_owned(), v, critical));
        }
        self
    }

    /// The serial number as big-endian bytes (made positive), over [`serial`](Self::serial).
    pub fn serial_bytes(mut self, serial: &[u8]) -> Self {
        self.serial_bytes = Some(serial.to_vec());
        self
    }

    /// The subject exactly as `name_der` (a DER Name) says, in place of the attributes:
    /// repeated attributes, any attribute type and any string type are carried as they are.
    pub(crate) fn subject_der(mut self, name_der: Vec<u8>) -> Self {
        self.raw_subject = Some(name_der);
        self
    }

    /// Certify this key (PEM, PKCS#8) instead of making a new one.
    pub fn with_key(mut self, key_pem: &str) -> Self {
        self.given_key = Some(key_pem.to_owned());
        self
    }

    /// The subject as rcgen writes it (emailAddress as IA5String, countryName printable).
    fn distinguished_name(&self) -> Result<DistinguishedName, ConfigError> {
        let mut dn = DistinguishedName::new();
        for (k, v) in &self.subject {
            let t = dn_type(k)?;
            if dn.get(&t).is_some() {
                return Err(ConfigError::Invalid(format!(
                    "subject attribute \"{k}\" given twice"
                )));
            }
            let value = match &t {
                DnType::CustomDnType(oid) if oid.as_slice() == [1, 2, 840, 113_549, 1, 9, 1] => {
                    DnValue::Ia5String(v.clone().try_into().map_err(|_| {
                        ConfigError::Invalid(format!("emailAddress \"{v}\" is not ASCII"))
                    })?)
                }
                DnType::CountryName => {
                    DnValue::PrintableString(v.clone().try_into().map_err(|_| {
                        ConfigError::Invalid(format!("countryName \"{v}\" is not printable"))
                    })?)
                }
                _ => DnValue::Utf8String(v.clone()),
            };
            dn.push(t, value);
        }
        Ok(dn)
    }

    /// The subjectAltNames, each of its own type.
    fn subject_alt_names(&self) -> Result<Vec<SanType>, ConfigError> {
        let mut sans = Vec::new();
        for s in &self.sans {
            sans.push(match SubjectAltName::parse(s)? {
                SubjectAltName::Ip(ip) => SanType::IpAddress(ip),
                SubjectAltName::Dns(d) => SanType::DnsName(
                    d.clone()
                        .try_into()
                        .map_err(|_| ConfigError::Name(format!("invalid DNS name \"{d}\"")))?,
                ),
                SubjectAltName::Email(e) => SanType::Rfc822Name(
                    e.clone()
                        .try_into()
                        .map_err(|_| ConfigError::Name(format!("invalid e-mail \"{e}\"")))?,
                ),
                SubjectAltName::Uri(u) => SanType::URI(
                    u.clone()
                        .try_into()
                        .map_err(|_| ConfigError::Name(format!("invalid URI \"{u}\"")))?,
                ),
                other => {
                    return Err(ConfigError::Name(format!(
                        "cannot write a subjectAltName \"{other}\""
                    )))
                }
            });
        }
        Ok(sans)
    }

    fn params(&self) -> Result<CertificateParams, ConfigError> {
        let mut p = CertificateParams::default();
        p.distinguished_name = self.distinguished_name()?;
        p.subject_alt_names = self.subject_alt_names()?;
        p.not_before = self.not_before.into();
        p.not_after = self.not_after.into();
        let serial = match (&self.serial_bytes, self.serial) {
            (Some(b), _) => positive(b),
            (None, Some(n)) => positive(&n.to_be_bytes()),
            (None, None) => random_serial()?,
        };
        p.serial_number = Some(SerialNumber::from(serial));

        let flags = evaluate_purposes(&self.purposes, self.is_ca)?;
        p.is_ca = if flags.ca {
            IsCa::Ca(BasicConstraints::Unconstrained)
        } else {
            IsCa::ExplicitNoCa
        };
        if self.raw_usages {
            p.key_usages = Vec::new();
            p.extended_key_usages = Vec::new();
        } else {
            p.key_usages = flags
                .key_usage
                .iter()
                .filter_map(|k| key_usage(k))
                .collect();
            p.extended_key_usages = match &self.eku {
                Some(list) => list.clone(),
                None => flags.ext_key_usage.iter().filter_map(|k| eku(k)).collect(),
            };
        }
        if !self.raw_usages && !flags.cert_type.is_empty() {
            p.custom_extensions.push(CustomExtension::from_oid_content(
                &[2, 16, 840, 1, 113_730, 1, 1],
                ns_cert_type_der(&flags.cert_type)?,
            ));
        }
        if !self.ocsp_urls.is_empty() || !self.ca_issuer_urls.is_empty() {
            p.custom_extensions.push(CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 5, 5, 7, 1, 1],
                authority_info_access(&self.ocsp_urls, &self.ca_issuer_urls)?,
            ));
        }
        if !self.crl_urls.is_empty() {
            p.crl_distribution_points = vec![CrlDistributionPoint {
                uris: self.crl_urls.clone(),
            }];
        }
        if self.must_staple {
            p.custom_extensions.push(CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 5, 5, 7, 1, 24],
                vec![0x30, 0x03, 0x02, 0x01, 0x05],
            ));
        }
        for (oid, value, critical) in &self.extensions {
            let arcs = parse_oid(oid)
                .ok_or_else(|| ConfigError::Invalid(format!("invalid extension OID \"{oid}\"")))?;
            if <::der::asn1::AnyRef<'_> as ::der::Decode<'_>>::from_der(value).is_err() {
                return Err(ConfigError::Invalid(format!(
                    "extension {oid}: the value is not one DER item"
                )));
            }
            let mut ext = CustomExtension::from_oid_content(&arcs, value.clone());
            ext.set_criticality(*critical);
            p.custom_extensions.push(ext);
        }
        p.use_authority_key_identifier_extension = true;
        Ok(p)
    }

    /// The signature algorithm for a key of `kind` with this spec's digest.
    fn algorithm(&self, kind: KeyType) -> &'static SignatureAlgorithm {
        match kind {
            KeyType::EcP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyType::EcP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            KeyType::Ed25519 => &rcgen::PKCS_ED25519,
            KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => match self.digest {
                Digest::Sha256 => &rcgen::PKCS_RSA_SHA256,
                Digest::Sha384 => &rcgen::PKCS_RSA_SHA384,
                Digest::Sha512 => &rcgen::PKCS_RSA_SHA512,
            },
        }
    }

    fn key(&self) -> Result<KeyPair, ConfigError> {
        let alg = self.algorithm(self.key_type);
        if let Some(pem) = &self.given_key {
            let plain = key_pair(pem, None)?;
            let kind = issuer_kind(plain.algorithm());
            return key_pair(pem, Some(self.algorithm(kind)));
        }
        match self.key_type {
            KeyType::Rsa2048 => KeyPair::generate_rsa_for(alg, RsaKeySize::_2048),
            KeyType::Rsa3072 => KeyPair::generate_rsa_for(alg, RsaKeySize::_3072),
            KeyType::Rsa4096 => KeyPair::generate_rsa_for(alg, RsaKeySize::_4096),
            _ => KeyPair::generate_for(alg),
        }
        .map_err(err)
    }

    /// Creates a self-signed certificate with a new key.
    pub fn self_signed(&self) -> Result<Issued, ConfigError> {
        let key = self.key()?;
        let cert = self.params()?.self_signed(&key).map_err(err)?;
        Ok(Issued {
            cert_pem: cert_pem(cert.der()),
            cert_der: cert.der().to_vec(),
            key_pem: key_pem(&key),
        })
    }

    /// Creates a certificate with a new key, signed by `issuer`.
    /// The issuer's key must be the one of its certificate.
    pub fn signed_by(&self, issuer: &Issued) -> Result<Issued, ConfigError> {
        let plain = key_pair(&issuer.key_pem, None)?;
        let cert_key = x509_parser::parse_x509_certificate(&issuer.cert_der)
            .map(|(_, c)| c.public_key().subject_public_key.data.to_vec())
            .map_err(|e| ConfigError::Certificate(format!("CA certificate: {e}")))?;
        if cert_key != plain.public_key_raw() {
            return Err(ConfigError::Certificate(
                "the CA key does not belong to the CA certificate (their public keys differ)"
                    .to_owned(),
            ));
        }
        let kind = issuer_kind(plain.algorithm());
        let issuer_key = key_pair(&issuer.key_pem, Some(self.algorithm(kind)))?;
        let signing_issuer =
            Issuer::from_ca_cert_der(&issuer.cert_der.clone().into(), issuer_key).map_err(err)?;
        let key = self.key()?;
        let cert = self
            .params()?
            .signed_by(&key, &signing_issuer)
            .map_err(err)?;
        let Some(subject) = &self.raw_subject else {
            return Ok(Issued {
                cert_pem: cert_pem(cert.der()),
                cert_der: cert.der().to_vec(),
                key_pem: key_pem(&key),
            });
        };
        let signer = key_pair(&issuer.key_pem, Some(self.algorithm(kind)))?;
        let cert_der = with_subject(cert.der(), subject, &signer)?;
        Ok(Issued {
            cert_pem: cert_pem(&cert_der),
            cert_der,
            key_pem: key_pem(&key),
        })
    }
}

/// A key pair from PKCS#8 PEM (the form of [`Issued::key_pem`]), signing with `algorithm` or
/// the key's own default.
fn key_pair(
    pem: &str,
    algorithm: Option<&'static SignatureAlgorithm>,
) -> Result<KeyPair, ConfigError> {
    use pki_types::pem::PemObject;
    let der = pki_types::PrivateKeyDer::from_pem_slice(pem.as_bytes())
        .map_err(|e| ConfigError::Certificate(format!("key: {}", crate::text::pem_error(&e))))?;
    match algorithm {
        Some(a) => KeyPair::from_der_and_sign_algo(&der, a),
        None => KeyPair::try_from(&der),
    }
    .map_err(err)
}

fn key_pem(key: &KeyPair) -> String {
    super::pem::encode("PRIVATE KEY", &key.serialize_der())
}

fn cert_pem(der: &[u8]) -> String {
    super::pem::encode("CERTIFICATE", der)
}

/// `cert_der` with its subject replaced by `name_der` (a DER Name), signed again by
/// `signer` with the same algorithm.
fn with_subject(
    cert_der: &[u8],
    name_der: &[u8],
    signer: &KeyPair,
) -> Result<Vec<u8>, ConfigError> {
    use ::der::asn1::{Any, BitString};
    use ::der::{Decode, Encode, Reader, SliceReader, Tag, TagNumber, Tagged};
    use rcgen::SigningKey;
    let bad = |what: &str, e: &dyn std::fmt::Display| {
        ConfigError::Certificate(format!("cannot create certificate: {what}: {e}"))
    };
    let reread = |e: ::der::Error| bad("re-reading it", &e);
    // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }.
    let (tbs, algorithm) = SliceReader::new(cert_der)
        .and_then(|mut r| {
            r.sequence(|r| {
                let tbs: Any = r.decode()?;
                let algorithm: Any = r.decode()?;
                let _signature: BitString = r.decode()?;
                Ok((tbs, algorithm))
            })
        })
        .map_err(reread)?;
    // TBSCertificate ::= SEQUENCE { [0] version, serial, signature, issuer, validity,
    // subject, ... }: replace the sixth field (the fifth without a version).
    let mut fields = Vec::<Any>::from_der(&tbs.to_der().map_err(reread)?).map_err(reread)?;
    let version = Tag::ContextSpecific {
        constructed: true,
        number: TagNumber(0),
    };
    let at = if fields.first().map(Tagged::tag) == Some(version) {
        5
    } else {
        4
    };
    let slot = fields
        .get_mut(at)
        .ok_or_else(|| bad("re-reading it", &"too few fields"))?;
    *slot = Any::from_der(name_der).map_err(|e| bad("the subject", &e))?;
    let tbs = fields.to_der().map_err(|e| bad("encoding it", &e))?;
    let signature = signer.sign(&tbs).map_err(|e| bad("signing it", &e))?;
    let signature = BitString::from_bytes(&signature).map_err(|e| bad("the signature", &e))?;
    vec![
        Any::from_der(&tbs).map_err(|e| bad("encoding it", &e))?,
        algorithm,
        Any::encode_from(&signature).map_err(|e| bad("encoding it", &e))?,
    ]
    .to_der()
    .map_err(|e| bad("encoding it", &e))
}

/// The key family of an issuer key, to pick the matching signature algorithm.
fn issuer_kind(alg: &SignatureAlgorithm) -> KeyType {
    if alg == &rcgen::PKCS_ECDSA_P384_SHA384 {
        KeyType::EcP384
    } else if alg == &rcgen::PKCS_ECDSA_P256_SHA256 {
        KeyType::EcP256
    } else if alg == &rcgen::PKCS_ED25519 {
        KeyType::Ed25519
    } else {
        KeyType::Rsa2048
    }
}

fn key_usage(name: &str) -> Option<KeyUsagePurpose> {
    Some(match name {
        "digitalSignature" => KeyUsagePurpose::DigitalSignature,
        "nonRepudiation" => KeyUsagePurpose::ContentCommitment,
        "keyEncipherment" => KeyUsagePurpose::KeyEncipherment,
        "dataEncipherment" => KeyUsagePurpose::DataEncipherment,
        "keyAgreement" => KeyUsagePurpose::KeyAgreement,
        "keyCertSign" => KeyUsagePurpose::KeyCertSign,
        "cRLSign" => KeyUsagePurpose::CrlSign,
        "encipherOnly" => KeyUsagePurpose::EncipherOnly,
        "decipherOnly" => KeyUsagePurpose::DecipherOnly,
        _ => return None,
    })
}

fn eku(name: &str) -> Option<ExtendedKeyUsagePurpose> {
    Some(match name {
        "serverAuth" => ExtendedKeyUsagePurpose::ServerAuth,
        "clientAuth" => ExtendedKeyUsagePurpose::ClientAuth,
        "codeSigning" => ExtendedKeyUsagePurpose::CodeSigning,
        "emailProtection" => ExtendedKeyUsagePurpose::EmailProtection,
        "timeStamping" => ExtendedKeyUsagePurpose::TimeStamping,
        "OCSPSigning" => ExtendedKeyUsagePurpose::OcspSigning,
        _ => return None,
    })
}

/// 16 random bytes with the sign bit clear: a positive serial with 127 bits of entropy.
fn random_serial() -> Result<Vec<u8>, ConfigError> {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b)
        .map_err(|_| ConfigError::Certificate("no randomness for the serial number".to_owned()))?;
    b[0] &= 0x7f;
    b[0] |= 0x40;
    Ok(b.to_vec())
}

/// Big-endian bytes as a positive DER INTEGER value: leading zeros dropped, a zero added
/// where the top bit would make it negative.
fn positive(bytes: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    match trimmed.first() {
        None => vec![0],
        Some(b) if b & 0x80 != 0 => [&[0u8][..], &trimmed].concat(),
        Some(_) => trimmed,
    }
}

/// A new private key as PKCS#8 PEM (`KEY_create_rsa`, `KEY_create_ec`).
pub fn create_key(kind: KeyType) -> Result<String, ConfigError> {
    Ok(key_pem(&CertSpec::new("").key_type(kind).key()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(f: &Flags) -> (bool, Vec<&str>, Vec<&str>, Vec<&str>) {
        (
            f.ca,
            f.key_usage.iter().copied().collect(),
            f.ext_key_usage.iter().copied().collect(),
            f.cert_type.iter().copied().collect(),
        )
    }

    #[test]
    fn debug_hides_the_key() {
        let issued = CertSpec::new("x").self_signed().unwrap();
        let text = format!("{issued:?}");
        assert!(
            text.contains("(redacted)") && !text.contains("PRIVATE KEY"),
            "{text}"
        );
    }

    #[test]
    fn purpose_table_like_perl() {
        let f = evaluate_purposes(&[], false).unwrap();
        assert_eq!(
            names(&f),
            (
                false,
                vec!["digitalSignature", "keyEncipherment"],
                vec!["clientAuth", "serverAuth"],
                vec!["client", "server"]
            )
        );
        let f = evaluate_purposes(&[], true).unwrap();
        assert_eq!(
            names(&f),
            (
                true,
                vec!["digitalSignature", "keyCertSign"],
                vec![],
                vec!["emailCA", "objCA", "sslCA"]
            )
        );
        let f = evaluate_purposes(&["sslCA,server".to_owned()], false).unwrap();
        assert_eq!(
            names(&f),
            (
                true,
                vec!["digitalSignature", "keyCertSign", "keyEncipherment"],
                vec!["serverAuth"],
                vec!["server", "sslCA"]
            )
        );
        let f = evaluate_purposes(&["server,-keyEncipherment,cRLSign".to_owned()], false).unwrap();
        assert_eq!(
            names(&f),
            (
                false,
                vec!["cRLSign", "digitalSignature"],
                vec!["serverAuth"],
                vec!["server"]
            )
        );
        let f = evaluate_purposes(&["-objCA".to_owned()], true).unwrap();
        assert_eq!(names(&f).3, vec!["emailCA", "sslCA"]);
        assert!(evaluate_purposes(&["flying".to_owned()], false).is_err());
    }

    #[test]
    fn serials_are_positive() {
        assert_eq!(positive(&1u64.to_be_bytes()), [1]);
        assert_eq!(positive(&u64::MAX.to_be_bytes())[0], 0);
        assert_eq!(positive(&0u64.to_be_bytes()), [0]);
        let r = random_serial().unwrap();
        assert_eq!(r.len(), 16);
        assert!(r[0] & 0x80 == 0 && r[0] & 0x40 != 0);
        assert!(create_key(KeyType::Ed25519)
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----"));
    }

    #[test]
    fn netscape_cert_type_bits() {
        let t: BTreeSet<&str> = ["server", "client"].into_iter().collect();
        assert_eq!(ns_cert_type_der(&t).unwrap(), [0x03, 0x02, 0x06, 0xc0]);
        let t: BTreeSet<&str> = ["sslCA", "emailCA", "objCA"].into_iter().collect();
        assert_eq!(ns_cert_type_der(&t).unwrap(), [0x03, 0x02, 0x00, 0x07]);
    }
}
