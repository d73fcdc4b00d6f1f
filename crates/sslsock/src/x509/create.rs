//! Creating certificates and keys (the `CERT_create` / `KEY_create_*` equivalent).

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};

use crate::error::ConfigError;

/// The key algorithm of a new certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum KeyType {
    /// ECDSA on P-256 with SHA-256. Defaults to this.
    #[default]
    EcP256,
    /// ECDSA on P-384 with SHA-384.
    EcP384,
    /// RSA 2048 with SHA-256.
    Rsa2048,
    /// Ed25519.
    Ed25519,
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
    key_type: KeyType,
    not_before: SystemTime,
    not_after: SystemTime,
    serial: Option<u64>,
    eku: Option<Vec<ExtendedKeyUsagePurpose>>,
}

/// A created certificate with its private key.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Issued {
    /// The certificate in PEM.
    pub cert_pem: String,
    /// The certificate in DER.
    pub cert_der: Vec<u8>,
    /// The private key in PKCS#8 PEM.
    pub key_pem: String,
}

fn err(e: rcgen::Error) -> ConfigError {
    ConfigError::Certificate(format!("cannot create certificate: {e}"))
}

impl CertSpec {
    /// A leaf with commonName `cn`, valid from now for one year, EC P-256 key.
    pub fn new(cn: &str) -> CertSpec {
        let now = SystemTime::now();
        CertSpec {
            subject: vec![("CN".to_owned(), cn.to_owned())],
            sans: Vec::new(),
            is_ca: false,
            key_type: KeyType::default(),
            not_before: now - Duration::from_secs(60),
            not_after: now + Duration::from_secs(365 * 86_400),
            serial: None,
            eku: None,
        }
    }
    /// Adds a subject attribute (`O`, `OU`, `C`, `ST`, `L`, `CN`) after those already given.
    pub fn subject(mut self, key: &str, value: &str) -> Self {
        self.subject.push((key.to_owned(), value.to_owned()));
        self
    }
    /// Adds a subjectAltName: an IP address when it parses as one, else a DNS name.
    pub fn san(mut self, name: &str) -> Self {
        self.sans.push(name.to_owned());
        self
    }
    /// Makes it a CA (basicConstraints CA:TRUE, keyCertSign, cRLSign).
    pub fn ca(mut self) -> Self {
        self.is_ca = true;
        self
    }
    /// The key algorithm. Defaults to [`KeyType::EcP256`].
    pub fn key_type(mut self, k: KeyType) -> Self {
        self.key_type = k;
        self
    }
    /// The validity period. Defaults to now - 1 minute .. now + 1 year.
    pub fn validity(mut self, not_before: SystemTime, not_after: SystemTime) -> Self {
        self.not_before = not_before;
        self.not_after = not_after;
        self
    }
    /// The serial number. Defaults to a random 64-bit positive number.
    pub fn serial(mut self, serial: u64) -> Self {
        self.serial = Some(serial);
        self
    }

    /// The extended key usages of a leaf, replacing the default (serverAuth and clientAuth):
    /// `serverAuth`, `clientAuth`, `codeSigning`, `emailProtection`, `timeStamping`, `OCSPSigning`.
    pub fn extended_key_usage(mut self, names: &[&str]) -> Result<Self, ConfigError> {
        let mut out = Vec::new();
        for n in names {
            out.push(match *n {
                "serverAuth" => ExtendedKeyUsagePurpose::ServerAuth,
                "clientAuth" => ExtendedKeyUsagePurpose::ClientAuth,
                "codeSigning" => ExtendedKeyUsagePurpose::CodeSigning,
                "emailProtection" => ExtendedKeyUsagePurpose::EmailProtection,
                "timeStamping" => ExtendedKeyUsagePurpose::TimeStamping,
                "OCSPSigning" => ExtendedKeyUsagePurpose::OcspSigning,
                other => {
                    return Err(ConfigError::Invalid(format!(
                        "unknown extended key usage \"{other}\""
                    )))
                }
            });
        }
        self.eku = Some(out);
        Ok(self)
    }

    fn params(&self) -> Result<CertificateParams, ConfigError> {
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        for (k, v) in &self.subject {
            let t = match k.to_ascii_uppercase().as_str() {
                "CN" => DnType::CommonName,
                "O" => DnType::OrganizationName,
                "OU" => DnType::OrganizationalUnitName,
                "C" => DnType::CountryName,
                "ST" => DnType::StateOrProvinceName,
                "L" => DnType::LocalityName,
                other => {
                    return Err(ConfigError::Invalid(format!(
                        "unknown subject attribute \"{other}\""
                    )))
                }
            };
            dn.push(t, v.as_str());
        }
        p.distinguished_name = dn;
        for s in &self.sans {
            p.subject_alt_names.push(match s.parse::<IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName(
                    s.clone()
                        .try_into()
                        .map_err(|_| ConfigError::Name(format!("invalid DNS name \"{s}\"")))?,
                ),
            });
        }
        p.not_before = self.not_before.into();
        p.not_after = self.not_after.into();
        let serial = self.serial.unwrap_or_else(random_serial);
        p.serial_number = Some(SerialNumber::from(serial.to_be_bytes().to_vec()));
        if self.is_ca {
            p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            p.key_usages = vec![
                KeyUsagePurpose::KeyCertSign,
                KeyUsagePurpose::CrlSign,
                KeyUsagePurpose::DigitalSignature,
            ];
        } else {
            p.is_ca = IsCa::ExplicitNoCa;
            p.key_usages = vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment,
            ];
            p.extended_key_usages = self.eku.clone().unwrap_or_else(|| {
                vec![
                    ExtendedKeyUsagePurpose::ServerAuth,
                    ExtendedKeyUsagePurpose::ClientAuth,
                ]
            });
        }
        p.use_authority_key_identifier_extension = true;
        Ok(p)
    }

    fn key(&self) -> Result<KeyPair, ConfigError> {
        let alg = match self.key_type {
            KeyType::EcP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            KeyType::EcP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            KeyType::Rsa2048 => &rcgen::PKCS_RSA_SHA256,
            KeyType::Ed25519 => &rcgen::PKCS_ED25519,
        };
        KeyPair::generate_for(alg).map_err(err)
    }

    /// Creates a self-signed certificate.
    pub fn self_signed(&self) -> Result<Issued, ConfigError> {
        let key = self.key()?;
        let cert = self.params()?.self_signed(&key).map_err(err)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            key_pem: key.serialize_pem(),
        })
    }

    /// Creates a certificate signed by `issuer` (which must be a CA made here or loaded).
    pub fn signed_by(&self, issuer: &Issued) -> Result<Issued, ConfigError> {
        let issuer_key = KeyPair::from_pem(&issuer.key_pem).map_err(err)?;
        let issuer =
            Issuer::from_ca_cert_der(&issuer.cert_der.clone().into(), issuer_key).map_err(err)?;
        let key = self.key()?;
        let cert = self.params()?.signed_by(&key, &issuer).map_err(err)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            key_pem: key.serialize_pem(),
        })
    }
}

fn random_serial() -> u64 {
    let mut b = [0u8; 8];
    // A failing system RNG leaves zeros; the fixed top bit still makes a positive 64-bit serial.
    let _ = aws_lc_rs::rand::fill(&mut b);
    (u64::from_be_bytes(b) & !(1 << 63)) | (1 << 62)
}
