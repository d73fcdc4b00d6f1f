//! Private keys: plain (PKCS#8, PKCS#1, SEC1), encrypted PKCS#8 (PBES2, and the PKCS#12
//! PBE with 3DES) and OpenSSL's legacy encrypted PEM (`Proc-Type: 4,ENCRYPTED`).
//!
//! ```
//! use sslsock::x509::create::create_key;
//! use sslsock::x509::keys::{key_to_pem, parse_private_key, LoadError, Password};
//!
//! let pem = create_key(sslsock::x509::create::KeyType::EcP256)?;
//! let key = parse_private_key(pem.as_bytes(), &Password::None)?;
//! let locked = key_to_pem(&key, Some("secret"))?;
//! assert_eq!(parse_private_key(locked.as_bytes(), &Password::None).unwrap_err(), LoadError::NeedPassword);
//! assert_eq!(parse_private_key(locked.as_bytes(), &"wrong".into()).unwrap_err(), LoadError::WrongPassword);
//! // A callback is asked only when encrypted material is met (`SSL_passwd_cb`).
//! let asked = Password::Callback(std::sync::Arc::new(|| "secret".to_owned()));
//! assert!(parse_private_key(locked.as_bytes(), &asked).is_ok());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::sync::Arc;

use std::num::NonZeroU32;

use aws_lc_rs::cipher::{
    self, DecryptionContext, EncryptionContext, PaddedBlockDecryptingKey, PaddedBlockEncryptingKey,
    UnboundCipherKey,
};
use aws_lc_rs::pbkdf2;
use md5::Digest as _;
use pkcs5::pbes2::{EncryptionScheme, Kdf, Pbkdf2Prf};
use pkcs8::der::asn1::OctetStringRef;
use pkcs8::EncryptedPrivateKeyInfoRef;
use pki_types::pem::PemObject;
use pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer};

use ::der::asn1::{AnyRef, Null, ObjectIdentifier, OctetString};
use ::der::{Decode, Encode, Reader, Sequence, SliceReader, Tag, Tagged};
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::pem;

/// Where the password of an encrypted key or PKCS#12 file comes from (`SSL_passwd_cb`).
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Password {
    /// No password: encrypted material cannot be read.
    #[default]
    None,
    /// This password.
    Fixed(String),
    /// Asked for only when encrypted material is met.
    Callback(Arc<dyn Fn() -> String + Send + Sync>),
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Password::None => "Password::None",
            Password::Fixed(_) => "Password::Fixed(..)",
            Password::Callback(_) => "Password::Callback(..)",
        })
    }
}

impl Password {
    /// The password, asking the callback if there is one.
    pub fn get(&self) -> Option<String> {
        match self {
            Password::None => None,
            Password::Fixed(p) => Some(p.clone()),
            Password::Callback(cb) => Some(cb()),
        }
    }
}

impl From<&str> for Password {
    fn from(p: &str) -> Password {
        Password::Fixed(p.to_owned())
    }
}

/// Why key material could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoadError {
    /// The material is encrypted and no password was given.
    NeedPassword,
    /// The password does not decrypt the material.
    WrongPassword,
    /// The bytes are not what they should be.
    Malformed(String),
    /// The material is well-formed but uses what this build cannot read: an algorithm, or
    /// a format behind a feature (PKCS#12 needs the `pkcs12` feature).
    Unsupported(String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::NeedPassword => {
                f.write_str("it is encrypted and no password was given (key_password / passwd_cb)")
            }
            LoadError::WrongPassword => f.write_str("wrong password (or corrupt encrypted data)"),
            LoadError::Malformed(s) | LoadError::Unsupported(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for LoadError {}

/// pbeWithSHAAnd3-KeyTripleDES-CBC (PKCS#12 PBE).
const PBE_SHA1_3DES: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.1.3");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");

/// Reads a private key from PEM or DER, decrypting it when needed.
pub fn parse_private_key(
    bytes: &[u8],
    password: &Password,
) -> Result<PrivateKeyDer<'static>, LoadError> {
    if pem::is_pem(bytes) {
        if let Some(block) = pem::find_block(bytes, |label| label.ends_with("PRIVATE KEY")) {
            if block
                .headers
                .iter()
                .any(|(k, v)| k == "Proc-Type" && v.contains("ENCRYPTED"))
            {
                return legacy_pem(&block, password);
            }
            if block.label == "ENCRYPTED PRIVATE KEY" {
                return decrypt_pkcs8(&block.der, password);
            }
        }
        return PrivateKeyDer::from_pem_slice(bytes).map_err(|e| match e {
            pki_types::pem::Error::NoItemsFound => {
                LoadError::Malformed("no private key found".to_owned())
            }
            other => {
                LoadError::Malformed(format!("private key: {}", crate::text::pem_error(&other)))
            }
        });
    }
    if is_encrypted_pkcs8(bytes) {
        return decrypt_pkcs8(bytes, password);
    }
    PrivateKeyDer::try_from(bytes)
        .map(|k| k.clone_key())
        .map_err(|e| LoadError::Malformed(format!("not a DER private key: {e}")))
}

/// EncryptedPrivateKeyInfo starts SEQUENCE { SEQUENCE (algorithm) ...}; PrivateKeyInfo and
/// the traditional forms start SEQUENCE { INTEGER ...}.
fn is_encrypted_pkcs8(der: &[u8]) -> bool {
    SliceReader::new(der)
        .and_then(|mut r| {
            r.sequence(|r| {
                let first = Tag::peek(r)?;
                while !r.is_finished() {
                    r.tlv_bytes()?;
                }
                Ok(first == Tag::Sequence)
            })
        })
        .unwrap_or(false)
}

/// True when `der` is exactly one SEQUENCE (how a decrypted key must look).
fn is_single_sequence(der: &[u8]) -> bool {
    AnyRef::from_der(der).is_ok_and(|a| a.tag() == Tag::Sequence)
}

fn decrypt_pkcs8(der: &[u8], password: &Password) -> Result<PrivateKeyDer<'static>, LoadError> {
    let pw = password.get().ok_or(LoadError::NeedPassword)?;
    let plain = if is_pkcs12_pbe(der) {
        pkcs12_pbe_decrypt(der, &pw)?
    } else {
        let info = EncryptedPrivateKeyInfoRef::try_from(der).map_err(|e| match e {
            pkcs8::Error::EncryptedPrivateKey(pkcs5::Error::UnsupportedAlgorithm { oid }) => {
                LoadError::Unsupported(format!("unsupported key encryption algorithm {oid}"))
            }
            e => LoadError::Malformed(format!("not an encrypted PKCS#8 key: {e}")),
        })?;
        match &info.encryption_algorithm {
            pkcs5::EncryptionScheme::Pbes2(params) => {
                pbes2_decrypt(params, pw.as_bytes(), info.encrypted_data.as_bytes())?
            }
            other => {
                return Err(LoadError::Unsupported(format!(
                    "key encrypted with {}, a PBES1 scheme (DES or RC2) too weak to read: re-encrypt it (openssl pkcs8 -topk8 -v2 aes-256-cbc)",
                    other.oid()
                )))
            }
        }
    };
    if !is_single_sequence(&plain) {
        return Err(LoadError::WrongPassword);
    }
    Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(plain)))
}

/// PBES2 (RFC 8018) with PBKDF2 and a CBC cipher, on aws-lc-rs.
fn pbes2_decrypt(
    params: &pkcs5::pbes2::Parameters,
    password: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, LoadError> {
    let unsupported = |what: &str| {
        LoadError::Unsupported(format!(
            "key encrypted with {what}, which is not supported: re-encrypt it (openssl pkcs8 -topk8 -v2 aes-256-cbc)"
        ))
    };
    let Kdf::Pbkdf2(kdf) = &params.kdf else {
        return Err(unsupported("scrypt"));
    };
    let prf = match kdf.prf {
        Pbkdf2Prf::HmacWithSha1 => pbkdf2::PBKDF2_HMAC_SHA1,
        Pbkdf2Prf::HmacWithSha256 => pbkdf2::PBKDF2_HMAC_SHA256,
        Pbkdf2Prf::HmacWithSha384 => pbkdf2::PBKDF2_HMAC_SHA384,
        Pbkdf2Prf::HmacWithSha512 => pbkdf2::PBKDF2_HMAC_SHA512,
        other => return Err(unsupported(&format!("PBKDF2 {}", other.oid()))),
    };
    let (algorithm, iv): (&'static cipher::Algorithm, &[u8]) = match &params.encryption {
        EncryptionScheme::Aes128Cbc { iv } => (&cipher::AES_128, iv),
        EncryptionScheme::Aes192Cbc { iv } => (&cipher::AES_192, iv),
        EncryptionScheme::Aes256Cbc { iv } => (&cipher::AES_256, iv),
        #[cfg(feature = "pkcs12")]
        EncryptionScheme::DesEde3Cbc { iv } => (&TDES, iv),
        other => return Err(unsupported(&other.oid().to_string())),
    };
    let key_len = params.encryption.key_size();
    if kdf.key_length.is_some_and(|n| usize::from(n) != key_len) {
        return Err(LoadError::Malformed(
            "PBES2 key length does not fit the cipher".to_owned(),
        ));
    }
    let iterations = NonZeroU32::new(kdf.iteration_count)
        .ok_or_else(|| LoadError::Malformed("PBKDF2 with zero iterations".to_owned()))?;
    let mut key = vec![0u8; key_len];
    pbkdf2::derive(prf, iterations, kdf.salt.as_bytes(), password, &mut key);
    cbc_decrypt(algorithm, &key, iv, ciphertext)
}

/// CBC with PKCS#7 padding; a padding error is a wrong password.
fn cbc_decrypt(
    algorithm: &'static cipher::Algorithm,
    key: &[u8],
    iv: &[u8],
    data: &[u8],
) -> Result<Vec<u8>, LoadError> {
    let bad_length = || LoadError::Malformed("bad key or IV length".to_owned());
    let key = UnboundCipherKey::new(algorithm, key).map_err(|_| bad_length())?;
    let context = match iv.len() {
        16 => DecryptionContext::Iv128(<[u8; 16]>::try_from(iv).map_err(|_| bad_length())?.into()),
        8 => DecryptionContext::Iv64(<[u8; 8]>::try_from(iv).map_err(|_| bad_length())?.into()),
        _ => return Err(bad_length()),
    };
    let decrypting = PaddedBlockDecryptingKey::cbc_pkcs7(key).map_err(|_| bad_length())?;
    let mut buf = data.to_vec();
    let plain_len = decrypting
        .decrypt(&mut buf, context)
        .map_err(|_| LoadError::WrongPassword)?
        .len();
    buf.truncate(plain_len);
    Ok(buf)
}

/// Whether the key is encrypted with the PKCS#12 3DES PBE (pbeWithSHAAnd3-KeyTripleDES-CBC).
fn is_pkcs12_pbe(der: &[u8]) -> bool {
    pkcs12_pbe_params(der).is_some()
}

#[cfg(not(feature = "pkcs12"))]
fn pkcs12_pbe_decrypt(_der: &[u8], _password: &str) -> Result<Vec<u8>, LoadError> {
    Err(LoadError::Unsupported(
        "key encrypted with the PKCS#12 3DES PBE: reading it needs sslsock's `pkcs12` feature (or re-encrypt it: openssl pkcs8 -topk8 -v2 aes-256-cbc)".to_owned(),
    ))
}

#[cfg(feature = "pkcs12")]
fn pkcs12_pbe_decrypt(der: &[u8], password: &str) -> Result<Vec<u8>, LoadError> {
    let params = pkcs12_pbe_params(der)
        .ok_or_else(|| LoadError::Malformed("invalid PKCS#12 PBE parameters".to_owned()))?;
    pbe_sha1_3des(&params, password)
}

/// An EncryptedPrivateKeyInfo under a PKCS#12 PBE (RFC 7292, appendix C).
#[derive(Sequence)]
#[cfg_attr(not(feature = "pkcs12"), allow(dead_code))]
struct Pkcs12PbeKey {
    algorithm: Pkcs12PbeAlgorithm,
    ciphertext: OctetString,
}

#[derive(Sequence)]
struct Pkcs12PbeAlgorithm {
    oid: ObjectIdentifier,
    params: PbeParams,
}

/// pkcs-12PbeParams.
#[derive(Sequence)]
#[cfg_attr(not(feature = "pkcs12"), allow(dead_code))]
struct PbeParams {
    salt: OctetString,
    iterations: u32,
}

/// The key when it is encrypted with the PKCS#12 3DES PBE.
fn pkcs12_pbe_params(der: &[u8]) -> Option<Pkcs12PbeKey> {
    Pkcs12PbeKey::from_der(der)
        .ok()
        .filter(|k| k.algorithm.oid == PBE_SHA1_3DES)
}

#[cfg(feature = "pkcs12")]
fn pbe_sha1_3des(k: &Pkcs12PbeKey, password: &str) -> Result<Vec<u8>, LoadError> {
    use pkcs12::kdf::{derive_key_utf8, Pkcs12KeyType};
    let bad = |_| LoadError::Malformed("invalid PKCS#12 PBE parameters".to_owned());
    let p = &k.algorithm.params;
    let iterations = i32::try_from(p.iterations).map_err(|_| bad(()))?;
    let salt = p.salt.as_bytes();
    let key =
        derive_key_utf8::<sha1::Sha1>(password, salt, Pkcs12KeyType::EncryptionKey, iterations, 24)
            .map_err(|_| bad(()))?;
    let iv = derive_key_utf8::<sha1::Sha1>(password, salt, Pkcs12KeyType::Iv, iterations, 8)
        .map_err(|_| bad(()))?;
    cbc_decrypt(&TDES, &key, &iv, k.ciphertext.as_bytes())
}

/// Triple DES, for keys OpenSSL encrypted with it (legacy PEM, PBES2 with des-ede3-cbc and
/// the PKCS#12 PBE): read, never written.
#[allow(deprecated)]
const TDES: cipher::Algorithm = cipher::DES_EDE3_FOR_LEGACY_USE_ONLY;

/// OpenSSL's traditional encrypted PEM: key = EVP_BytesToKey(MD5, password, IV[..8]).
fn legacy_pem(
    block: &pem::Block,
    password: &Password,
) -> Result<PrivateKeyDer<'static>, LoadError> {
    let dek = block
        .headers
        .iter()
        .find(|(k, _)| k == "DEK-Info")
        .map(|(_, v)| v.as_str())
        .ok_or_else(|| LoadError::Malformed("encrypted PEM without DEK-Info".to_owned()))?;
    let (cipher, iv_hex) = dek
        .split_once(',')
        .ok_or_else(|| LoadError::Malformed(format!("malformed DEK-Info \"{dek}\"")))?;
    let iv = crate::text::hex::decode(iv_hex.trim())
        .ok_or_else(|| LoadError::Malformed(format!("malformed IV in DEK-Info \"{dek}\"")))?;
    let key_len = match cipher {
        "AES-128-CBC" => 16,
        "AES-192-CBC" => 24,
        "AES-256-CBC" => 32,
        "DES-EDE3-CBC" => 24,
        other => {
            return Err(LoadError::Malformed(format!(
                "unsupported PEM encryption {other}"
            )))
        }
    };
    if iv.len() < 8 {
        return Err(LoadError::Malformed("IV too short".to_owned()));
    }
    let pw = password.get().ok_or(LoadError::NeedPassword)?;
    let key = evp_bytes_to_key(pw.as_bytes(), &iv[..8], key_len);
    let algorithm = match cipher {
        "AES-128-CBC" => &cipher::AES_128,
        "AES-192-CBC" => &cipher::AES_192,
        "AES-256-CBC" => &cipher::AES_256,
        _ => &TDES,
    };
    let plain = cbc_decrypt(algorithm, &key, &iv, &block.der)?;
    if !is_single_sequence(&plain) {
        return Err(LoadError::WrongPassword);
    }
    Ok(match block.label.as_str() {
        "RSA PRIVATE KEY" => PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(plain)),
        "EC PRIVATE KEY" => PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(plain)),
        _ => PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(plain)),
    })
}

/// EVP_BytesToKey with MD5 and one iteration, as OpenSSL's PEM encryption uses it.
fn evp_bytes_to_key(password: &[u8], salt: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 16);
    let mut prev: Vec<u8> = Vec::new();
    while out.len() < len {
        let mut h = md5::Md5::new();
        h.update(&prev);
        h.update(password);
        h.update(salt);
        prev = h.finalize().to_vec();
        out.extend_from_slice(&prev);
    }
    out.truncate(len);
    out
}

/// A key as PKCS#8 DER, converting PKCS#1 and SEC1 forms.
pub fn to_pkcs8(key: &PrivateKeyDer<'_>) -> Result<Vec<u8>, LoadError> {
    match key {
        PrivateKeyDer::Pkcs8(k) => Ok(k.secret_pkcs8_der().to_vec()),
        PrivateKeyDer::Pkcs1(k) => wrap_pkcs8(
            // rsaEncryption with NULL parameters.
            AlgorithmIdentifierOwned {
                oid: RSA_ENCRYPTION,
                parameters: Some(Null.into()),
            },
            k.secret_pkcs1_der(),
        ),
        PrivateKeyDer::Sec1(k) => {
            let curve = EcPrivateKey::from_der(k.secret_sec1_der())
                .ok()
                .and_then(|key| key.parameters)
                .ok_or_else(|| LoadError::Malformed("SEC1 key without a named curve".to_owned()))?;
            let curve = ::der::Any::encode_from(&curve).map_err(malformed)?;
            wrap_pkcs8(
                AlgorithmIdentifierOwned {
                    oid: ID_EC_PUBLIC_KEY,
                    parameters: Some(curve),
                },
                k.secret_sec1_der(),
            )
        }
        _ => Err(LoadError::Malformed("unknown private key form".to_owned())),
    }
}

fn malformed(e: ::der::Error) -> LoadError {
    LoadError::Malformed(e.to_string())
}

/// PrivateKeyInfo (RFC 5208), version 0.
#[derive(Sequence)]
struct PrivateKeyInfo {
    version: u8,
    algorithm: AlgorithmIdentifierOwned,
    private_key: OctetString,
}

fn wrap_pkcs8(algorithm: AlgorithmIdentifierOwned, key: &[u8]) -> Result<Vec<u8>, LoadError> {
    PrivateKeyInfo {
        version: 0,
        algorithm,
        private_key: OctetString::new(key).map_err(malformed)?,
    }
    .to_der()
    .map_err(malformed)
}

/// ECPrivateKey (RFC 5915); the curve is in `parameters`.
#[derive(Sequence)]
struct EcPrivateKey {
    version: u8,
    private_key: OctetString,
    #[asn1(context_specific = "0", optional = "true", tag_mode = "EXPLICIT")]
    parameters: Option<ObjectIdentifier>,
    #[asn1(context_specific = "1", optional = "true", tag_mode = "EXPLICIT")]
    public_key: Option<::der::asn1::BitString>,
}

/// PKCS#8 PEM, encrypted with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) when a password is given.
pub fn key_to_pem(key: &PrivateKeyDer<'_>, password: Option<&str>) -> Result<String, LoadError> {
    let pkcs8 = to_pkcs8(key)?;
    let Some(pw) = password else {
        return Ok(pem::encode("PRIVATE KEY", &pkcs8));
    };
    Ok(pem::encode(
        "ENCRYPTED PRIVATE KEY",
        &encrypt_pkcs8(&pkcs8, pw)?,
    ))
}

/// How hard PBKDF2 works for keys we encrypt (OpenSSL 3 uses 2048; more is kinder to keys).
const PBKDF2_ITERATIONS: u32 = 100_000;

/// An EncryptedPrivateKeyInfo (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC) for a PKCS#8 key.
pub fn encrypt_pkcs8(pkcs8: &[u8], password: &str) -> Result<Vec<u8>, LoadError> {
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt)
        .map_err(|_| LoadError::Malformed("no randomness".to_owned()))?;
    aws_lc_rs::rand::fill(&mut iv).map_err(|_| LoadError::Malformed("no randomness".to_owned()))?;
    let fail = |e: &dyn fmt::Display| LoadError::Malformed(format!("cannot encrypt the key: {e}"));
    let params =
        pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(PBKDF2_ITERATIONS, &salt, iv)
            .map_err(|e| fail(&e))?;
    let mut key = [0u8; 32];
    let iterations = NonZeroU32::new(PBKDF2_ITERATIONS).ok_or_else(|| fail(&"no iterations"))?;
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        &salt,
        password.as_bytes(),
        &mut key,
    );
    let unbound = UnboundCipherKey::new(&cipher::AES_256, &key).map_err(|e| fail(&e))?;
    let encrypting = PaddedBlockEncryptingKey::cbc_pkcs7(unbound).map_err(|e| fail(&e))?;
    let mut ct = pkcs8.to_vec();
    encrypting
        .less_safe_encrypt(&mut ct, EncryptionContext::Iv128(iv.into()))
        .map_err(|e| fail(&e))?;
    let info = pkcs8::EncryptedPrivateKeyInfo {
        encryption_algorithm: params.into(),
        encrypted_data: OctetStringRef::new(&ct)
            .map_err(|e| LoadError::Malformed(e.to_string()))?,
    };
    info.to_der()
        .map_err(|e| LoadError::Malformed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key under the PKCS#12 3DES PBE: read with the `pkcs12` feature (here a wrong
    /// password, the ciphertext being noise), refused naming the feature without it.
    #[test]
    fn pkcs12_pbe_keys_need_the_feature() {
        let der = Pkcs12PbeKey {
            algorithm: Pkcs12PbeAlgorithm {
                oid: PBE_SHA1_3DES,
                params: PbeParams {
                    salt: OctetString::new([7u8; 8]).unwrap(),
                    iterations: 2048,
                },
            },
            ciphertext: OctetString::new([0x55u8; 32]).unwrap(),
        }
        .to_der()
        .unwrap();
        let got = parse_private_key(&der, &Password::from("secret"));
        if cfg!(feature = "pkcs12") {
            assert_eq!(got.unwrap_err(), LoadError::WrongPassword);
        } else {
            let e = got.unwrap_err();
            assert!(matches!(e, LoadError::Unsupported(_)), "{e:?}");
            assert!(e.to_string().contains("`pkcs12` feature"), "{e}");
        }
    }

    /// PBES2 is aws-lc-rs's PBKDF2 and AES-CBC: what `encrypt_pkcs8` writes reads back, and
    /// another password fails as a wrong password.
    #[test]
    fn pbes2_round_trip() {
        let key = aws_lc_rs::signature::EcdsaKeyPair::generate(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        )
        .unwrap();
        let pkcs8 = key.to_pkcs8v1().unwrap().as_ref().to_vec();
        let sealed = encrypt_pkcs8(&pkcs8, "secret").unwrap();
        let opened = parse_private_key(&sealed, &Password::from("secret")).unwrap();
        assert_eq!(opened.secret_der(), pkcs8.as_slice());
        assert_eq!(
            parse_private_key(&sealed, &Password::from("other")).unwrap_err(),
            LoadError::WrongPassword
        );
    }

    #[test]
    fn evp_bytes_to_key_matches_openssl() {
        // Known answers from `openssl enc -aes-256-cbc -P -md md5 -pass pass:secret
        // -S 0001020304050607`: key=035FB814...F9DBFB7851, iv=1D112C3C...080816BE4 (the key
        // and the IV are one stream of 48 bytes).
        let salt = [0, 1, 2, 3, 4, 5, 6, 7];
        let stream = evp_bytes_to_key(b"secret", &salt, 48);
        assert_eq!(
            hex(&stream[..32]),
            "035fb8145b73cf111570dc936112be9c375a5d3d8b915bc213bdbef9dbfb7851"
        );
        assert_eq!(hex(&stream[32..]), "1d112c3c48b1d30dbceeaff080816be4");
        // AES-128: the first 16 bytes.
        assert_eq!(
            hex(&evp_bytes_to_key(b"secret", &salt, 16)),
            "035fb8145b73cf111570dc936112be9c"
        );
    }

    use crate::text::hex::encode as hex;

    #[test]
    fn garbage_and_missing_password() {
        assert!(matches!(
            parse_private_key(b"nope", &Password::None),
            Err(LoadError::Malformed(_))
        ));
        let algorithm = AlgorithmIdentifierOwned {
            oid: RSA_ENCRYPTION,
            parameters: None,
        };
        let enc = encrypt_pkcs8(&wrap_pkcs8(algorithm, &[1, 2, 3]).unwrap(), "pw").unwrap();
        assert_eq!(
            parse_private_key(&enc, &Password::None),
            Err(LoadError::NeedPassword)
        );
        assert_eq!(
            parse_private_key(&enc, &"wrong".into()),
            Err(LoadError::WrongPassword)
        );
        assert!(parse_private_key(&enc, &"pw".into()).is_ok());
    }
}
