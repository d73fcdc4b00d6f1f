//! Writing certificates and keys: PEM, DER, PKCS#12 (the `PEM_cert2string` family).

use std::path::Path;

use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::keys::{self, LoadError};
use super::pem;
use super::pkcs12::{self, Pkcs12Encryption};
use crate::error::ConfigError;

/// Certificates as PEM, in the order given.
pub fn certs_to_pem(certs: &[CertificateDer<'_>]) -> String {
    certs
        .iter()
        .map(|c| pem::encode("CERTIFICATE", c))
        .collect()
}

/// A private key as PKCS#8 PEM; encrypted (PBES2, AES-256-CBC) when `password` is given.
pub fn key_to_pem(key: &PrivateKeyDer<'_>, password: Option<&str>) -> Result<String, ConfigError> {
    keys::key_to_pem(key, password)
        .map_err(|e| ConfigError::Certificate(format!("private key: {e}")))
}

/// A private key as PKCS#8 DER.
pub fn key_to_der(key: &PrivateKeyDer<'_>) -> Result<Vec<u8>, ConfigError> {
    keys::to_pkcs8(key).map_err(|e| ConfigError::Certificate(format!("private key: {e}")))
}

/// Key and chain as a PKCS#12 file protected by `password`.
pub fn to_pkcs12(
    chain: &[CertificateDer<'_>],
    key: &PrivateKeyDer<'_>,
    password: &str,
    encryption: Pkcs12Encryption,
) -> Result<Vec<u8>, ConfigError> {
    pkcs12::to_pkcs12(chain, key, password, encryption)
        .map_err(|e: LoadError| ConfigError::Certificate(e.to_string()))
}

/// Writes `data` to `path`; a file holding a private key is created readable by its owner only.
pub fn write_file(path: &Path, data: &[u8], secret: bool) -> Result<(), ConfigError> {
    let fail = |e: std::io::Error| ConfigError::File {
        path: path.to_owned(),
        reason: format!("cannot write: {e}"),
    };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let _ = secret;
    use std::io::Write;
    opts.open(path)
        .and_then(|mut f| f.write_all(data))
        .map_err(fail)
}
