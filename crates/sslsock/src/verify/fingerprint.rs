//! Pins (`SSL_fingerprint`): the fingerprints a peer's certificate may match. The digests
//! themselves are certificate business ([`crate::x509::fingerprint`], re-exported here).
//!
//! A pin accepts the peer's certificate (or its public key, with `$pub$`) by digest, in
//! place of the CA check; the host name is still checked unless the scheme is `none`:
//!
//! ```
//! use sslsock::verify::fingerprint::fingerprint;
//! use sslsock::x509::create::CertSpec;
//! use sslsock::{FingerprintAlgorithm, Options, SslContext};
//!
//! let cert = CertSpec::new("device.lan").san("device.lan").self_signed()?;
//! let pin = fingerprint(&cert.cert_der, FingerprintAlgorithm::Sha256, true)?; // "sha256$pub$..."
//! let client = SslContext::new(&Options::new().fingerprint(&pin).hostname("device.lan"))?;
//! // A pin that is not a digest is refused when the context is made.
//! assert!(SslContext::new(&Options::new().fingerprint("sha256$xyz")).is_err());
//! # let _ = client;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use crate::error::ConfigError;
pub use crate::x509::fingerprint::{fingerprint, fingerprint_bin, FingerprintAlgorithm};

/// An accepted fingerprint (`SSL_fingerprint`): `algo$hex`, `algo$pub$hex`, `pub$hex` or bare
/// hex (the algorithm inferred from the length); colons ignored, case-insensitive.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Pin {
    algo: FingerprintAlgorithm,
    pubkey: bool,
    digest: Vec<u8>,
}

impl Pin {
    /// Parses one pin.
    pub(crate) fn parse(text: &str) -> Result<Pin, ConfigError> {
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
        let digest = crate::text::hex::decode(&hex)
            .filter(|d| !d.is_empty())
            .ok_or_else(|| bad("the digest must be an even number of hex digits"))?;
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
    pub(crate) fn matches(&self, cert_der: &[u8]) -> bool {
        fingerprint_bin(cert_der, self.algo, self.pubkey).is_ok_and(|d| d == self.digest)
    }

    /// The algorithm of this pin.
    pub(crate) fn algorithm(&self) -> FingerprintAlgorithm {
        self.algo
    }

    /// True for a public-key pin.
    pub(crate) fn is_pubkey(&self) -> bool {
        self.pubkey
    }
}

impl fmt::Display for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::x509::fingerprint::text(
            self.algo,
            self.pubkey,
            &self.digest,
        ))
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
    fn a_pin_is_written_back_in_one_form() {
        let pin =
            Pin::parse("SHA1$AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01").unwrap();
        assert_eq!(
            pin.to_string(),
            "sha1$abcdef0123456789abcdef0123456789abcdef01"
        );
    }

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
