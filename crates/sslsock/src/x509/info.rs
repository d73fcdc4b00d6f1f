//! `CertInfo`: everything a certificate says, serialisable to JSON (`CERT_asHash`).

use serde::Serialize;
use x509_parser::der_parser::oid::Oid;
use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
use x509_parser::objects::{oid2sn, oid_registry};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

use crate::error::ConfigError;
use crate::text::hex::encode as hex;
use crate::x509::fingerprint::{fingerprint_bin, FingerprintAlgorithm};

/// One extension of a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ExtensionInfo {
    /// Dotted OID.
    pub oid: String,
    /// Short name (`keyUsage`), or the OID when unknown.
    pub name: String,
    /// The critical flag.
    pub critical: bool,
    /// A readable value, close to what `openssl x509 -text` prints; hex for unknown ones.
    pub value: String,
}

/// The contents of a certificate (the `CERT_asHash` equivalent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CertInfo {
    /// The version field as stored: 2 for an X.509 v3 certificate (as `CERT_asHash` reports it).
    pub version: u32,
    /// The serial number, decimal.
    pub serial: String,
    /// The serial number, colon-separated hex as `openssl x509 -text` prints it.
    pub serial_hex: String,
    /// Signature algorithm, OpenSSL name (`ecdsa-with-SHA256`, `sha256WithRSAEncryption`).
    pub signature_algorithm: String,
    /// Subject attributes in certificate order, as (long name, value).
    pub subject: Vec<(String, String)>,
    /// Issuer attributes in certificate order, as (long name, value).
    pub issuer: Vec<(String, String)>,
    /// The subject in OpenSSL one-line form, e.g. `/CN=localhost/O=Example`
    /// (`peer_certificate('subject')`).
    pub subject_line: String,
    /// The issuer in OpenSSL one-line form.
    pub issuer_line: String,
    /// The first commonName of the subject, if any.
    pub common_name: Option<String>,
    /// notBefore, seconds since the Unix epoch.
    pub not_before: i64,
    /// notAfter, seconds since the Unix epoch.
    pub not_after: i64,
    /// notBefore as text (`2026-11-27 16:00:00 UTC`).
    pub not_before_text: String,
    /// notAfter as text.
    pub not_after_text: String,
    /// subjectAltNames in certificate order; in JSON as (type, value): DNS, IP (IPv6
    /// compressed), EMAIL, URI, DIRNAME, RID, OTHERNAME.
    pub subject_alt_names: Vec<super::SubjectAltName>,
    /// CRL distribution point URIs.
    pub crl_uri: Vec<String>,
    /// OCSP responder URIs (authorityInfoAccess).
    pub ocsp_uri: Vec<String>,
    /// CA issuer URIs (authorityInfoAccess).
    pub ca_issuers_uri: Vec<String>,
    /// keyUsage bits by name (`digitalSignature`, `keyCertSign`, ...).
    pub keyusage: Vec<String>,
    /// extendedKeyUsage purposes by short name (`serverAuth`), or OID.
    pub extkeyusage: Vec<String>,
    /// Public key type: `RSA`, `EC`, `ED25519`, `ED448`, or the algorithm OID.
    pub pubkey_type: String,
    /// Public key size in bits as OpenSSL reports it.
    pub pubkey_size: u32,
    /// The named curve of an EC key (`prime256v1`, `secp384r1`).
    pub pubkey_curve: Option<String>,
    /// The digest algorithm of the three digests below.
    pub digest: String,
    /// Digest of the certificate DER, lower-case hex.
    pub x509_digest: String,
    /// Digest of the SubjectPublicKeyInfo DER, lower-case hex.
    pub pubkey_digest: String,
    /// The certificate digest as `openssl x509 -fingerprint` prints it (`AB:CD:...`).
    pub fingerprint: String,
    /// True for a CA certificate (basicConstraints CA:TRUE).
    pub is_ca: bool,
    /// Every extension in certificate order.
    pub extensions: Vec<ExtensionInfo>,
}

impl CertInfo {
    /// Inspects a DER certificate, with digests in `digest`.
    ///
    /// ```
    /// use sslsock::x509::{create::CertSpec, info::CertInfo};
    /// use sslsock::FingerprintAlgorithm;
    /// let cert = CertSpec::new("example.org").san("example.org").self_signed()?;
    /// let info = CertInfo::from_der(&cert.cert_der, FingerprintAlgorithm::Sha256)?;
    /// assert_eq!(info.subject, [("commonName".to_owned(), "example.org".to_owned())]);
    /// # Ok::<(), sslsock::ConfigError>(())
    /// ```
    pub fn from_der(der: &[u8], digest: FingerprintAlgorithm) -> Result<CertInfo, ConfigError> {
        let (_, cert) = X509Certificate::from_der(der)
            .map_err(|e| ConfigError::Certificate(format!("certificate cannot be parsed: {e}")))?;
        let x509_digest = fingerprint_bin(der, digest, false)?;
        let pubkey_digest = fingerprint_bin(der, digest, true)?;
        let mut info = CertInfo {
            version: cert.version().0,
            serial: cert.serial.to_string(),
            serial_hex: colon_hex(&trim_serial(cert.raw_serial()), false),
            signature_algorithm: oid_name(&cert.signature_algorithm.algorithm),
            subject: name_entries(cert.subject()),
            issuer: name_entries(cert.issuer()),
            subject_line: super::oneline(cert.subject()),
            issuer_line: super::oneline(cert.issuer()),
            common_name: super::common_name(&cert),
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            not_before_text: time_text(cert.validity().not_before.timestamp()),
            not_after_text: time_text(cert.validity().not_after.timestamp()),
            subject_alt_names: Vec::new(),
            crl_uri: Vec::new(),
            ocsp_uri: Vec::new(),
            ca_issuers_uri: Vec::new(),
            keyusage: Vec::new(),
            extkeyusage: Vec::new(),
            pubkey_type: String::new(),
            pubkey_size: 0,
            pubkey_curve: None,
            digest: digest.name().to_owned(),
            x509_digest: hex(&x509_digest),
            pubkey_digest: hex(&pubkey_digest),
            fingerprint: colon_hex(&x509_digest, true),
            is_ca: false,
            extensions: Vec::new(),
        };
        public_key(&cert, &mut info);
        for ext in cert.extensions() {
            let value = describe(
                ext.parsed_extension(),
                &ext.oid.to_id_string(),
                ext.value,
                &mut info,
            );
            info.extensions.push(ExtensionInfo {
                oid: ext.oid.to_id_string(),
                name: oid_name(&ext.oid),
                critical: ext.critical,
                value,
            });
        }
        Ok(info)
    }

    /// The JSON form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

fn oid_name(oid: &Oid<'_>) -> String {
    let dotted = oid.to_id_string();
    match dotted.as_str() {
        "1.3.6.1.5.5.7.1.24" => "tlsfeature".to_owned(),
        "1.3.6.1.4.1.11129.2.4.2" => "ct_precert_scts".to_owned(),
        _ => oid2sn(oid, oid_registry())
            .map(str::to_owned)
            .unwrap_or(dotted),
    }
}

fn name_entries(name: &x509_parser::x509::X509Name<'_>) -> Vec<(String, String)> {
    name.iter_attributes()
        .map(|a| {
            let value = a
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|_| hex(a.as_slice()));
            let oid = a.attr_type().to_id_string();
            let name = super::attribute_long_name(&oid)
                .map_or_else(|| oid_name(a.attr_type()), str::to_owned);
            (name, value)
        })
        .collect()
}

fn time_text(t: i64) -> String {
    super::format_unix_time(u64::try_from(t).unwrap_or_default())
}

fn colon_hex(b: &[u8], upper: bool) -> String {
    crate::text::hex::joined(b, ":", upper)
}

/// The serial's bytes without the sign-padding zero.
fn trim_serial(raw: &[u8]) -> Vec<u8> {
    match raw {
        [0, rest @ ..] if !rest.is_empty() => rest.to_vec(),
        other => other.to_vec(),
    }
}

fn public_key(cert: &X509Certificate<'_>, info: &mut CertInfo) {
    let spki = cert.public_key();
    let alg = spki.algorithm.algorithm.to_id_string();
    let (kind, size) = match (alg.as_str(), spki.parsed()) {
        ("1.2.840.113549.1.1.1", Ok(PublicKey::RSA(rsa))) => ("RSA".to_owned(), rsa.key_size()),
        ("1.2.840.10045.2.1", Ok(PublicKey::EC(ec))) => ("EC".to_owned(), ec.key_size()),
        ("1.3.101.112", _) => ("ED25519".to_owned(), 253),
        ("1.3.101.113", _) => ("ED448".to_owned(), 456),
        (other, Ok(k)) => (other.to_owned(), k.key_size()),
        (other, Err(_)) => (other.to_owned(), 0),
    };
    info.pubkey_type = kind;
    info.pubkey_size = u32::try_from(size).unwrap_or_default();
    info.pubkey_curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|oid| oid_name(&oid));
}

fn general_name(gn: &GeneralName<'_>) -> (String, String) {
    let name = super::SubjectAltName::from_general_name(gn);
    let (kind, value) = name.kind_and_value();
    (kind.to_owned(), value)
}

/// netscapeCertType bits in OpenSSL's words.
fn ns_cert_type(raw: &[u8]) -> String {
    let bits = <::der::asn1::BitStringRef<'_> as ::der::Decode<'_>>::from_der(raw)
        .ok()
        .and_then(|b| b.raw_bytes().first().copied())
        .unwrap_or(0);
    let names = [
        "SSL Client",
        "SSL Server",
        "S/MIME",
        "Object Signing",
        "Unused",
        "SSL CA",
        "S/MIME CA",
        "Object Signing CA",
    ];
    names
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (0x80 >> i) != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

fn tls_features(raw: &[u8]) -> String {
    let Ok(features) = <Vec<u32> as ::der::Decode<'_>>::from_der(raw) else {
        return hex(raw);
    };
    features
        .iter()
        .map(|n| match n {
            5 => "status_request".to_owned(),
            17 => "status_request_v2".to_owned(),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn text_of(gn: &GeneralName<'_>) -> String {
    let (t, v) = general_name(gn);
    let label = match t.as_str() {
        "IP" => "IP Address",
        "EMAIL" => "email",
        other => other,
    };
    format!("{label}:{v}")
}

/// A readable value for an extension; fills the matching CertInfo lists on the way.
fn describe(parsed: &ParsedExtension<'_>, oid: &str, raw: &[u8], info: &mut CertInfo) -> String {
    match parsed {
        ParsedExtension::BasicConstraints(bc) => {
            info.is_ca = bc.ca;
            let mut s = format!("CA:{}", if bc.ca { "TRUE" } else { "FALSE" });
            if let Some(n) = bc.path_len_constraint {
                s.push_str(&format!(", pathlen:{n}"));
            }
            s
        }
        ParsedExtension::KeyUsage(ku) => key_usage(ku, info),
        ParsedExtension::ExtendedKeyUsage(eku) => extended_key_usage(eku, info),
        ParsedExtension::SubjectAlternativeName(san) => {
            info.subject_alt_names = san
                .general_names
                .iter()
                .map(super::SubjectAltName::from_general_name)
                .collect();
            san.general_names
                .iter()
                .map(text_of)
                .collect::<Vec<_>>()
                .join(", ")
        }
        ParsedExtension::SubjectKeyIdentifier(kid) => colon_hex(kid.0, true),
        ParsedExtension::AuthorityKeyIdentifier(aki) => aki
            .key_identifier
            .as_ref()
            .map(|k| colon_hex(k.0, true))
            .unwrap_or_default(),
        ParsedExtension::AuthorityInfoAccess(aia) => {
            let mut parts = Vec::new();
            for d in &aia.accessdescs {
                let method = d.access_method.to_id_string();
                let uri = match &d.access_location {
                    GeneralName::URI(u) => (*u).to_owned(),
                    other => text_of(other),
                };
                match method.as_str() {
                    "1.3.6.1.5.5.7.48.1" => {
                        info.ocsp_uri.push(uri.clone());
                        parts.push(format!("OCSP - URI:{uri}"));
                    }
                    "1.3.6.1.5.5.7.48.2" => {
                        info.ca_issuers_uri.push(uri.clone());
                        parts.push(format!("CA Issuers - URI:{uri}"));
                    }
                    other => parts.push(format!("{other} - {uri}")),
                }
            }
            parts.join(", ")
        }
        ParsedExtension::CRLDistributionPoints(points) => {
            let mut parts = Vec::new();
            for p in points.iter() {
                if let Some(DistributionPointName::FullName(names)) = &p.distribution_point {
                    for n in names {
                        if let GeneralName::URI(u) = n {
                            info.crl_uri.push((*u).to_owned());
                        }
                        parts.push(text_of(n));
                    }
                }
            }
            parts.join(", ")
        }
        ParsedExtension::NSCertType(_) => ns_cert_type(raw),
        // TLS feature (RFC 7633): a SEQUENCE of INTEGER extension numbers.
        _ if oid == "1.3.6.1.5.5.7.1.24" => tls_features(raw),
        _ => hex(raw),
    }
}

/// keyUsage: the names into `info`, OpenSSL's words as the text.
fn key_usage(ku: &x509_parser::extensions::KeyUsage, info: &mut CertInfo) -> String {
    let bits = [
        (
            ku.digital_signature(),
            "digitalSignature",
            "Digital Signature",
        ),
        (ku.non_repudiation(), "nonRepudiation", "Non Repudiation"),
        (ku.key_encipherment(), "keyEncipherment", "Key Encipherment"),
        (
            ku.data_encipherment(),
            "dataEncipherment",
            "Data Encipherment",
        ),
        (ku.key_agreement(), "keyAgreement", "Key Agreement"),
        (ku.key_cert_sign(), "keyCertSign", "Certificate Sign"),
        (ku.crl_sign(), "cRLSign", "CRL Sign"),
        (ku.encipher_only(), "encipherOnly", "Encipher Only"),
        (ku.decipher_only(), "decipherOnly", "Decipher Only"),
    ];
    info.keyusage = bits
        .iter()
        .filter(|b| b.0)
        .map(|b| b.1.to_owned())
        .collect();
    bits.iter()
        .filter(|b| b.0)
        .map(|b| b.2)
        .collect::<Vec<_>>()
        .join(", ")
}

/// extendedKeyUsage: the names (and unknown OIDs) into `info`, OpenSSL's words as the text.
fn extended_key_usage(
    eku: &x509_parser::extensions::ExtendedKeyUsage<'_>,
    info: &mut CertInfo,
) -> String {
    let known = [
        (eku.any, "anyExtendedKeyUsage", "Any Extended Key Usage"),
        (
            eku.server_auth,
            "serverAuth",
            "TLS Web Server Authentication",
        ),
        (
            eku.client_auth,
            "clientAuth",
            "TLS Web Client Authentication",
        ),
        (eku.code_signing, "codeSigning", "Code Signing"),
        (eku.email_protection, "emailProtection", "E-mail Protection"),
        (eku.time_stamping, "timeStamping", "Time Stamping"),
        (eku.ocsp_signing, "OCSPSigning", "OCSP Signing"),
    ];
    info.extkeyusage = known
        .iter()
        .filter(|k| k.0)
        .map(|k| k.1.to_owned())
        .collect();
    info.extkeyusage
        .extend(eku.other.iter().map(|o| o.to_id_string()));
    let mut text: Vec<String> = known
        .iter()
        .filter(|k| k.0)
        .map(|k| k.2.to_owned())
        .collect();
    text.extend(eku.other.iter().map(|o| o.to_id_string()));
    text.join(", ")
}
