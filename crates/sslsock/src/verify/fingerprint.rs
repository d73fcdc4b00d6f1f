//! Certificate and public-key fingerprints in the Perl module's `algo$hex` form.

use aws_lc_rs::digest;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::ConfigError;

/// A digest algorithm for fingerprints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FingerprintAlgorithm {
    /// SHA-1 (legacy pins only).
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256. Defaults to this.
    #[default]
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl FingerprintAlgorithm {
    /// Parses `sha1`, `sha256`, ... (case-insensitive, `-` optional).
    pub fn parse(name: &str) -> Result<Self, ConfigError> {
        Ok(match name.to_ascii_lowercase().replace('-', "").as_str() {
            "sha1" => Self::Sha1,
            "sha224" => Self::Sha224,
            "sha256" => Self::Sha256,
            "sha384" => Self::Sha384,
            "sha512" => Self::Sha512,
            _ => {
                return Err(ConfigError::Invalid(format!(
                    "unknown fingerprint algorithm \"{name}\" (use sha1, sha224, sha256, sha384 or sha512)"
                )))
            }
        })
    }

    /// The lower-case name used in the textual form.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Sha224 => "sha224",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    fn digest(self) -> &'static digest::Algorithm {
        match self {
            Self::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            Self::Sha224 => &digest::SHA224,
            Self::Sha256 => &digest::SHA256,
            Self::Sha384 => &digest::SHA384,
            Self::Sha512 => &digest::SHA512,
        }
    }
}

/// The binary digest of the certificate, or with `pubkey` of its SubjectPublicKeyInfo.
pub fn fingerprint_bin(
    cert_der: &[u8],
    algo: FingerprintAlgorithm,
    pubkey: bool,
) -> Result<Vec<u8>, ConfigError> {
    if pubkey {
        let (_, cert) = X509Certificate::from_der(cert_der)
            .map_err(|e| ConfigError::Certificate(format!("certificate cannot be parsed: {e}")))?;
        return Ok(digest::digest(algo.digest(), cert.public_key().raw)
            .as_ref()
            .to_vec());
    }
    Ok(digest::digest(algo.digest(), cert_der).as_ref().to_vec())
}

/// `sha256$<hex>` for the certificate, `sha256$pub$<hex>` for its public key.
///
/// ```no_run
/// # let der: Vec<u8> = vec![];
/// use sslsock::verify::fingerprint::{fingerprint, FingerprintAlgorithm};
/// let fp = fingerprint(&der, FingerprintAlgorithm::Sha256, false)?;
/// assert!(fp.starts_with("sha256$"));
/// # Ok::<(), sslsock::ConfigError>(())
/// ```
pub fn fingerprint(
    cert_der: &[u8],
    algo: FingerprintAlgorithm,
    pubkey: bool,
) -> Result<String, ConfigError> {
    let bin = fingerprint_bin(cert_der, algo, pubkey)?;
    let hex: String = bin.iter().map(|b| format!("{b:02x}")).collect();
    Ok(if pubkey {
        format!("{}$pub${hex}", algo.name())
    } else {
        format!("{}${hex}", algo.name())
    })
}
