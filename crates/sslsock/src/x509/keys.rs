//! Private keys: plain (PKCS#8, PKCS#1, SEC1), encrypted PKCS#8 (PBES2, and the PKCS#12
//! PBE with 3DES) and OpenSSL's legacy encrypted PEM (`Proc-Type: 4,ENCRYPTED`).

use std::fmt;
use std::sync::Arc;

use cbc::cipher::{BlockModeDecrypt, KeyIvInit};
use md5::Digest as _;
use pkcs8::der::asn1::OctetStringRef;
use pkcs8::der::Encode;
use pkcs8::EncryptedPrivateKeyInfoRef;
use pki_types::pem::PemObject;
use pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer};

use super::der::{self as tlv, Tlv};
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
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::NeedPassword => {
                f.write_str("it is encrypted and no password was given (key_password / passwd_cb)")
            }
            LoadError::WrongPassword => f.write_str("wrong password (or corrupt encrypted data)"),
            LoadError::Malformed(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for LoadError {}

/// OID 1.2.840.113549.1.12.1.3: pbeWithSHAAnd3-KeyTripleDES-CBC (PKCS#12 PBE).
const PBE_SHA1_3DES: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x01, 0x03];

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
    Tlv::parse(der)
        .and_then(|outer| Tlv::parse(outer.value).map(|first| first.tag == 0x30))
        .unwrap_or(false)
}

fn decrypt_pkcs8(der: &[u8], password: &Password) -> Result<PrivateKeyDer<'static>, LoadError> {
    let pw = password.get().ok_or(LoadError::NeedPassword)?;
    let plain = if let Some(params) = pkcs12_pbe_params(der) {
        pbe_sha1_3des(&params, &pw)?
    } else {
        let info = EncryptedPrivateKeyInfoRef::try_from(der)
            .map_err(|e| LoadError::Malformed(format!("not an encrypted PKCS#8 key: {e}")))?;
        match info.decrypt(pw.as_bytes()) {
            Ok(doc) => doc.as_bytes().to_vec(),
            Err(pkcs8::Error::EncryptedPrivateKey(pkcs5::Error::UnsupportedAlgorithm { oid })) => {
                return Err(LoadError::Malformed(format!(
                    "unsupported key encryption algorithm {oid}"
                )))
            }
            Err(_) => return Err(LoadError::WrongPassword),
        }
    };
    if !tlv::is_single_sequence(&plain) {
        return Err(LoadError::WrongPassword);
    }
    Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(plain)))
}

struct PbeParams {
    salt: Vec<u8>,
    iterations: i32,
    ciphertext: Vec<u8>,
}

/// The salt, iteration count and ciphertext of a key encrypted with the PKCS#12 3DES PBE.
fn pkcs12_pbe_params(der: &[u8]) -> Option<PbeParams> {
    let outer = Tlv::parse(der)?;
    let alg = Tlv::parse(outer.value)?;
    let data = Tlv::parse(&outer.value[alg.len..])?;
    let oid = Tlv::parse(alg.value)?;
    if oid.tag != 0x06 || oid.value != PBE_SHA1_3DES {
        return None;
    }
    let params = Tlv::parse(&alg.value[oid.len..])?;
    let salt = Tlv::parse(params.value)?;
    let iter = Tlv::parse(&params.value[salt.len..])?;
    let iterations = iter.value.iter().try_fold(0i32, |acc, b| {
        acc.checked_mul(256).map(|a| a + i32::from(*b))
    })?;
    Some(PbeParams {
        salt: salt.value.to_vec(),
        iterations,
        ciphertext: data.value.to_vec(),
    })
}

fn pbe_sha1_3des(p: &PbeParams, password: &str) -> Result<Vec<u8>, LoadError> {
    use pkcs12::kdf::{derive_key_utf8, Pkcs12KeyType};
    let bad = |_| LoadError::Malformed("invalid PKCS#12 PBE parameters".to_owned());
    let key = derive_key_utf8::<sha1::Sha1>(
        password,
        &p.salt,
        Pkcs12KeyType::EncryptionKey,
        p.iterations,
        24,
    )
    .map_err(bad)?;
    let iv = derive_key_utf8::<sha1::Sha1>(password, &p.salt, Pkcs12KeyType::Iv, p.iterations, 8)
        .map_err(bad)?;
    cbc_decrypt::<des::TdesEde3>(&key, &iv, &p.ciphertext)
}

fn cbc_decrypt<C>(key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>, LoadError>
where
    C: cbc::cipher::BlockCipherDecrypt + cbc::cipher::KeyInit,
{
    let dec = cbc::Decryptor::<C>::new_from_slices(key, iv)
        .map_err(|_| LoadError::Malformed("bad key or IV length".to_owned()))?;
    dec.decrypt_padded_vec::<cbc::cipher::block_padding::Pkcs7>(data)
        .map_err(|_| LoadError::WrongPassword)
}

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
    let iv = hex_decode(iv_hex.trim())
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
    let plain = match cipher {
        "AES-128-CBC" => cbc_decrypt::<aes::Aes128>(&key, &iv, &block.der)?,
        "AES-192-CBC" => cbc_decrypt::<aes::Aes192>(&key, &iv, &block.der)?,
        "AES-256-CBC" => cbc_decrypt::<aes::Aes256>(&key, &iv, &block.der)?,
        _ => cbc_decrypt::<des::TdesEde3>(&key, &iv, &block.der)?,
    };
    if !tlv::is_single_sequence(&plain) {
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

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A key as PKCS#8 DER, converting PKCS#1 and SEC1 forms.
pub fn to_pkcs8(key: &PrivateKeyDer<'_>) -> Result<Vec<u8>, LoadError> {
    match key {
        PrivateKeyDer::Pkcs8(k) => Ok(k.secret_pkcs8_der().to_vec()),
        PrivateKeyDer::Pkcs1(k) => {
            // rsaEncryption with NULL parameters.
            let alg = [
                0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05,
                0x00,
            ];
            Ok(wrap_pkcs8(&alg, k.secret_pkcs1_der()))
        }
        PrivateKeyDer::Sec1(k) => {
            let curve = sec1_curve(k.secret_sec1_der())
                .ok_or_else(|| LoadError::Malformed("SEC1 key without a named curve".to_owned()))?;
            // id-ecPublicKey with the curve OID.
            let mut inner = tlv::encode(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]);
            inner.extend(tlv::encode(0x06, &curve));
            Ok(wrap_pkcs8(&tlv::encode(0x30, &inner), k.secret_sec1_der()))
        }
        _ => Err(LoadError::Malformed("unknown private key form".to_owned())),
    }
}

fn wrap_pkcs8(alg: &[u8], key: &[u8]) -> Vec<u8> {
    let mut body = vec![0x02, 0x01, 0x00];
    body.extend_from_slice(alg);
    body.extend(tlv::encode(0x04, key));
    tlv::encode(0x30, &body)
}

/// The curve OID in the `[0]` parameters of a SEC1 ECPrivateKey.
fn sec1_curve(der: &[u8]) -> Option<Vec<u8>> {
    let outer = Tlv::parse(der)?;
    let mut rest = outer.value;
    while let Some(item) = Tlv::parse(rest) {
        if item.tag == 0xa0 {
            let oid = Tlv::parse(item.value)?;
            return (oid.tag == 0x06).then(|| oid.value.to_vec());
        }
        rest = &rest[item.len..];
    }
    None
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
    let fail = |e: pkcs5::Error| LoadError::Malformed(format!("cannot encrypt the key: {e}"));
    let params =
        pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(PBKDF2_ITERATIONS, &salt, iv)
            .map_err(fail)?;
    let ct = params.encrypt(password.as_bytes(), pkcs8).map_err(fail)?;
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

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn garbage_and_missing_password() {
        assert!(matches!(
            parse_private_key(b"nope", &Password::None),
            Err(LoadError::Malformed(_))
        ));
        let enc = encrypt_pkcs8(&wrap_pkcs8(&[0x30, 0x00], &[1, 2, 3]), "pw").unwrap();
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
