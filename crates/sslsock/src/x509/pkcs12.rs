//! PKCS#12 (PFX) files: a key with its chain, or certificates alone. Reading and writing
//! them needs the `pkcs12` feature; without it a PKCS#12 file is recognised and refused with a
//! message naming the feature.
//!
//! ```
//! use sslsock::x509::create::CertSpec;
//! use sslsock::x509::pkcs12::{parse_pkcs12, Pkcs12Encryption};
//! use sslsock::x509::{parse_certificates, parse_private_key, save, Password};
//!
//! let leaf = CertSpec::new("client").self_signed()?;
//! let chain = parse_certificates(leaf.cert_pem.as_bytes())?;
//! let key = parse_private_key(leaf.key_pem.as_bytes(), &Password::None)?;
//! match save::to_pkcs12(&chain, &key, "secret", Pkcs12Encryption::Aes256) {
//!     Ok(p12) => {
//!         let back = parse_pkcs12(&p12, &Password::from("secret"))?;
//!         assert_eq!(back.certs, chain);
//!     }
//!     // Built without the `pkcs12` feature: refused, naming it.
//!     Err(e) => assert!(e.to_string().contains("`pkcs12` feature"), "{e}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "pkcs12")]
use p12_keystore::{
    Certificate, EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm, Pkcs12ImportPolicy,
    PrivateKey, PrivateKeyChain,
};
#[cfg(feature = "pkcs12")]
use pki_types::PrivatePkcs8KeyDer;
use pki_types::{CertificateDer, PrivateKeyDer};

use super::keys::{LoadError, Password};
use der::{Reader, SliceReader, Tag};

/// What a PKCS#12 file holds.
#[derive(Debug)]
#[non_exhaustive]
pub struct Pkcs12Contents {
    /// The private key (PKCS#8), if the file has one.
    pub key: Option<PrivateKeyDer<'static>>,
    /// The key's chain, leaf first; or every certificate of a file without key.
    pub certs: Vec<CertificateDer<'static>>,
}

/// PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo, ... }.
pub fn is_pkcs12(bytes: &[u8]) -> bool {
    SliceReader::new(bytes)
        .and_then(|mut r| {
            r.sequence(|r| {
                let version: u8 = r.decode()?;
                let auth_safe = Tag::peek(r)?;
                while !r.is_finished() {
                    r.tlv_bytes()?;
                }
                Ok(version == 3 && auth_safe == Tag::Sequence)
            })
        })
        .unwrap_or(false)
}

/// Why this build cannot read or write PKCS#12.
#[cfg(not(feature = "pkcs12"))]
fn needs_feature() -> LoadError {
    LoadError::Unsupported(
        "a PKCS#12 file: reading and writing PKCS#12 needs sslsock's `pkcs12` feature".to_owned(),
    )
}

/// Opens a PKCS#12 file (the `pkcs12` feature). Without a password the empty password is
/// tried, as OpenSSL does.
#[cfg(not(feature = "pkcs12"))]
pub fn parse_pkcs12(_bytes: &[u8], _password: &Password) -> Result<Pkcs12Contents, LoadError> {
    Err(needs_feature())
}

/// Opens a PKCS#12 file (the `pkcs12` feature). Without a password the empty password is
/// tried, as OpenSSL does.
#[cfg(feature = "pkcs12")]
pub fn parse_pkcs12(bytes: &[u8], password: &Password) -> Result<Pkcs12Contents, LoadError> {
    let given = password.get();
    let store = match KeyStore::from_pkcs12(
        bytes,
        given.as_deref().unwrap_or(""),
        Pkcs12ImportPolicy::Relaxed,
    ) {
        Ok(s) => s,
        Err(p12_keystore::error::Error::MacError(_)) if given.is_none() => {
            return Err(LoadError::NeedPassword)
        }
        Err(p12_keystore::error::Error::MacError(_)) => return Err(LoadError::WrongPassword),
        Err(e) => {
            return Err(LoadError::Malformed(format!(
                "not a usable PKCS#12 file: {e}"
            )))
        }
    };
    if let Some((_, chain)) = store.private_key_chain() {
        return Ok(Pkcs12Contents {
            key: Some(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
                chain.key().as_der().to_vec(),
            ))),
            certs: chain
                .certs()
                .iter()
                .map(|c| CertificateDer::from(c.as_der().to_vec()))
                .collect(),
        });
    }
    let certs = store
        .entries()
        .filter_map(|(_, e)| match e {
            KeyStoreEntry::Certificate(c) => Some(CertificateDer::from(c.as_der().to_vec())),
            _ => None,
        })
        .collect();
    Ok(Pkcs12Contents { key: None, certs })
}

/// Which encryption a new PKCS#12 file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Pkcs12Encryption {
    /// PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC, HMAC-SHA256 MAC. Defaults to this.
    #[default]
    Aes256,
    /// The legacy 3DES PBE with a SHA-1 MAC, for old readers only.
    Legacy3Des,
}

/// Writes a PKCS#12 file (the `pkcs12` feature).
#[cfg(not(feature = "pkcs12"))]
pub fn to_pkcs12(
    _chain: &[CertificateDer<'_>],
    _key: &PrivateKeyDer<'_>,
    _password: &str,
    _encryption: Pkcs12Encryption,
) -> Result<Vec<u8>, LoadError> {
    Err(needs_feature())
}

/// Writes a PKCS#12 file with `key` and its `chain` (leaf first), protected by `password`
/// (the `pkcs12` feature).
#[cfg(feature = "pkcs12")]
pub fn to_pkcs12(
    chain: &[CertificateDer<'_>],
    key: &PrivateKeyDer<'_>,
    password: &str,
    encryption: Pkcs12Encryption,
) -> Result<Vec<u8>, LoadError> {
    let fail =
        |e: p12_keystore::error::Error| LoadError::Malformed(format!("cannot write PKCS#12: {e}"));
    let pkcs8 = super::keys::to_pkcs8(key)?;
    let certs = chain
        .iter()
        .map(|c| Certificate::from_der(c))
        .collect::<Result<Vec<_>, _>>()
        .map_err(fail)?;
    let key = PrivateKey::from_der(&pkcs8).map_err(fail)?;
    let key_id = super::fingerprint::fingerprint_bin(
        chain.first().map(|c| c.as_ref()).unwrap_or_default(),
        crate::FingerprintAlgorithm::Sha1,
        false,
    )
    .unwrap_or_default();
    let mut store = KeyStore::new();
    store.add_entry(
        "sslsock",
        KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(key_id, key, certs)),
    );
    let (enc, mac) = match encryption {
        Pkcs12Encryption::Aes256 => (
            EncryptionAlgorithm::PbeWithHmacSha256AndAes256,
            MacAlgorithm::HmacSha256,
        ),
        Pkcs12Encryption::Legacy3Des => (
            EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc,
            MacAlgorithm::HmacSha1,
        ),
    };
    store
        .writer(password)
        .encryption_algorithm(enc)
        .mac_algorithm(mac)
        .write()
        .map_err(fail)
}
