//! Certificate and public-key fingerprints in the Perl module's `algo$hex` form, and pins.
//!
//! The certificate fingerprint hashes the whole DER certificate. The public-key fingerprint
//! hashes the DER `SubjectPublicKeyInfo` (algorithm identifier and key bits), which is what
//! IO::Socket::SSL hashes (`i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert))`) and what
//! `openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256`
//! prints.

use std::fmt;

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

    fn hash(self, data: &[u8]) -> Vec<u8> {
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
    let digest = fingerprint_bin(cert_der, algo, pubkey)?;
    Ok(Pin {
        algo,
        pubkey,
        digest,
    }
    .to_string())
}

/// An accepted fingerprint (`SSL_fingerprint`): `algo$hex`, `algo$pub$hex`, `pub$hex` or bare
/// hex (the algorithm inferred from the length); colons ignored, case-insensitive.
///
/// ```
/// use sslsock::verify::fingerprint::Pin;
/// let pin = Pin::parse("SHA1$AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01")?;
/// assert_eq!(pin.to_string(), "sha1$abcdef0123456789abcdef0123456789abcdef01");
/// # Ok::<(), sslsock::ConfigError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Pin {
    algo: FingerprintAlgorithm,
    pubkey: bool,
    digest: Vec<u8>,
}

impl Pin {
    /// Parses one pin.
    pub fn parse(text: &str) -> Result<Pin, ConfigError> {
        let bad = |why: &str| ConfigError::Invalid(format!("fingerprint \"{text}\": {why}"));
        let lower = text.trim().to_ascii_lowercase();
        let mut parts: Vec<&str> = lower.split('$').collect();
        let hex = parts.pop().unwrap_or_default().replace(':', "");
        let pubkey = parts.last() == Some(&"pub");
        if pubkey {
            parts.pop();
        }
        let named = match parts.as_slice() {
            [] => None,
            [algo] => Some(FingerprintAlgorithm::parse(algo).map_err(|e| bad(&e.to_string()))?),
            _ => return Err(bad("expected algo$hex, algo$pub$hex or hex")),
        };
        if hex.is_empty() || hex.len() % 2 != 0 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("the digest must be an even number of hex digits"));
        }
        let digest: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or_default())
            .collect();
        let algo = match named {
            Some(a) if a.digest_len() != digest.len() => {
                return Err(bad(&format!(
                    "{} digests have {} bytes, this one {}",
                    a.name(),
                    a.digest_len(),
                    digest.len()
                )))
            }
            Some(a) => a,
            None => FingerprintAlgorithm::from_len(digest.len())
                .ok_or_else(|| bad(&format!("no digest algorithm has {} bytes", digest.len())))?,
        };
        Ok(Pin {
            algo,
            pubkey,
            digest,
        })
    }

    /// True when this pin matches the certificate (or its public key).
    pub fn matches(&self, cert_der: &[u8]) -> bool {
        fingerprint_bin(cert_der, self.algo, self.pubkey).is_ok_and(|d| d == self.digest)
    }

    /// The algorithm of this pin.
    pub fn algorithm(&self) -> FingerprintAlgorithm {
        self.algo
    }

    /// True for a public-key pin.
    pub fn is_pubkey(&self) -> bool {
        self.pubkey
    }
}

impl fmt::Display for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.algo.name())?;
        f.write_str(if self.pubkey { "$pub$" } else { "$" })?;
        self.digest.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pin({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_forms() {
        let hex64 = "ab".repeat(32);
        let p = Pin::parse(&hex64).unwrap();
        assert_eq!(
            (p.algorithm(), p.is_pubkey()),
            (FingerprintAlgorithm::Sha256, false)
        );
        let p = Pin::parse(&format!("pub${hex64}")).unwrap();
        assert!(p.is_pubkey());
        assert_eq!(
            Pin::parse(&"00".repeat(16)).unwrap().algorithm(),
            FingerprintAlgorithm::Md5
        );
        assert_eq!(
            Pin::parse(&"00".repeat(20)).unwrap().algorithm(),
            FingerprintAlgorithm::Sha1
        );
        assert_eq!(
            Pin::parse(&"00".repeat(28)).unwrap().algorithm(),
            FingerprintAlgorithm::Sha224
        );
        assert_eq!(
            Pin::parse(&"00".repeat(48)).unwrap().algorithm(),
            FingerprintAlgorithm::Sha384
        );
        assert_eq!(
            Pin::parse(&"00".repeat(64)).unwrap().algorithm(),
            FingerprintAlgorithm::Sha512
        );
        assert_eq!(
            Pin::parse(&format!("SHA256$PUB${}", "AB:".repeat(31) + "AB"))
                .unwrap()
                .to_string(),
            format!("sha256$pub${hex64}")
        );
        assert!(Pin::parse("sha256$abcd")
            .unwrap_err()
            .to_string()
            .contains("32 bytes"));
        assert!(Pin::parse("sha999$abcd").is_err());
        assert!(Pin::parse("xyz").is_err());
        assert!(Pin::parse("abc").is_err());
        assert!(Pin::parse(&"ab".repeat(33)).is_err());
        assert!(Pin::parse("a$b$c$dd").is_err());
    }
}
