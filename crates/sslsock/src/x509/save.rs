//! Writing certificates and keys: PEM, DER, PKCS#12 (the `PEM_cert2string` family).

use std::path::Path;

use pki_types::{CertificateDer, PrivateKeyDer};

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

/// Writes `data` to `path`. A file holding a secret (`secret`: a private key, a PKCS#12
/// file) is always a new file readable by its owner only, written beside `path` and renamed
/// over it: an existing file's mode and owner (or a link at `path`) never carry over.
pub fn write_file(path: &Path, data: &[u8], secret: bool) -> Result<(), ConfigError> {
    let fail = |e: std::io::Error| ConfigError::File {
        path: path.to_owned(),
        reason: format!("cannot write: {e}"),
    };
    use std::io::Write;
    if !secret {
        return std::fs::write(path, data).map_err(fail);
    }
    let temp = temp_beside(path);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let written = opts
        .open(&temp)
        .and_then(|mut f| f.write_all(data).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&temp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written.map_err(fail)
}

/// A file name in `path`'s directory that no one else uses: `.<name>.<pid>.<n>.tmp`.
fn temp_beside(path: &Path) -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = path
        .file_name()
        .map_or_else(|| "key".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}
