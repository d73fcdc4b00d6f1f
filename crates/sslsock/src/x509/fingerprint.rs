//! Certificate and public-key fingerprints in the Perl module's `algo$hex` form.
//!
//! The certificate fingerprint hashes the whole DER certificate. The public-key fingerprint
//! hashes the DER `SubjectPublicKeyInfo` (algorithm identifier and key bits), which is what
//! IO::Socket::SSL hashes (`i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert))`) and what
//! `openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256`
//! prints.

use aws_lc_rs::digest;
use md5::Digest as _;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::ConfigError;

/// A digest algorithm for fingerprints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum FingerprintAlgorithm {
    /// MD5 (legacy pins only).
    Md5,
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

const ALL: [FingerprintAlgorithm; 6] = [
    FingerprintAlgorithm::Md5,
    FingerprintAlgorithm::Sha1,
    FingerprintAlgorithm::Sha224,
    FingerprintAlgorithm::Sha256,
    FingerprintAlgorithm::Sha384,
    FingerprintAlgorithm::Sha512,
];

impl FingerprintAlgorithm {
    /// Parses `md5`, `sha1`, `sha224`, `sha256`, `sha384`, `sha512` (case-insensitive, `-` optional).
    pub fn parse(name: &str) -> Result<Self, ConfigError> {
        let norm = name.to_ascii_lowercase().replace('-', "");
        ALL.into_iter().find(|a| a.name() == norm).ok_or_else(|| {
            ConfigError::Invalid(format!(
                "unknown fingerprint algorithm \"{name}\" (use md5, sha1, sha224, sha256, sha384 or sha512)"
            ))
        })
    }

    /// The lower-case name used in the textual form.
    pub fn name(self) -> &'static str {
        match self {
            Self::Md5 => "md5",
            Self::Sha1 => "sha1",
            Self::Sha224 => "sha224",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// The digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            Self::Md5 => 16,
            Self::Sha1 => 20,
            Self::Sha224 => 28,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// The algorithm whose digest has `len` bytes (how a bare hex pin is read).
    pub fn from_len(len: usize) -> Option<Self> {
        ALL.into_iter().find(|a| a.digest_len() == len)
    }

    pub(crate) fn hash(self, data: &[u8]) -> Vec<u8> {
        let algo = match self {
            Self::Md5 => return md5::Md5::digest(data).to_vec(),
            Self::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            Self::Sha224 => &digest::SHA224,
            Self::Sha256 => &digest::SHA256,
            Self::Sha384 => &digest::SHA384,
            Self::Sha512 => &digest::SHA512,
        };
        digest::digest(algo, data).as_ref().to_vec()
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
        return Ok(algo.hash(cert.public_key().raw));
    }
    Ok(algo.hash(cert_der))
}

/// `sha256$<hex>` for the certificate, `sha256$pub$<hex>` for its public key.
///
/// ```no_run
/// # let der: Vec<u8> = vec![];
/// use sslsock::x509::fingerprint::{fingerprint, FingerprintAlgorithm};
/// let fp = fingerprint(&der, FingerprintAlgorithm::Sha256, false)?;
/// assert!(fp.starts_with("sha256$"));
/// # Ok::<(), sslsock::ConfigError>(())
/// ```
pub fn fingerprint(
    cert_der: &[u8],
    algo: FingerprintAlgorithm,
    pubkey: bool,
) -> Result<String, ConfigError> {
    let digest = fingerprint_bin(cert_der, algo, pubkey)?;
    Ok(text(algo, pubkey, &digest))
}

/// The textual form: `algo$hex` or `algo$pub$hex`, lower-case hex.
pub(crate) fn text(algo: FingerprintAlgorithm, pubkey: bool, digest: &[u8]) -> String {
    let hex = crate::text::hex::encode(digest);
    format!("{}{}{hex}", algo.name(), if pubkey { "$pub$" } else { "$" })
}
