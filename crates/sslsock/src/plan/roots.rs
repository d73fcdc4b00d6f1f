//! Trusted CA sources: `default_ca()` detection and loading of CA files and directories.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use pki_types::CertificateDer;

use crate::error::ConfigError;
use crate::x509;

/// Where the default CA certificates were found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CaOrigin {
    /// Set with [`set_default_ca`].
    Override,
    /// The `SSL_CERT_FILE` / `SSL_CERT_DIR` environment variables.
    Environment,
    /// The operating system's trust store.
    System,
    /// The Mozilla root list built into sslsock (the Mozilla::CA equivalent).
    Bundled,
}

/// The default CA store: where it came from and what it holds. See [`default_ca`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DefaultCa {
    /// Where the certificates came from.
    pub origin: CaOrigin,
    /// The CA file, when one was used.
    pub ca_file: Option<PathBuf>,
    /// The CA directories, when used.
    pub ca_path: Vec<PathBuf>,
    /// The certificates (DER).
    pub certs: Arc<Vec<CertificateDer<'static>>>,
}

static DEFAULT_CA: RwLock<Option<Arc<DefaultCa>>> = RwLock::new(None);

/// The default CA store, detected once like the Perl module does: `SSL_CERT_FILE` /
/// `SSL_CERT_DIR`, then the system store, then the bundled Mozilla roots.
///
/// ```no_run
/// let ca = sslsock::default_ca();
/// println!("{} roots from {:?}", ca.certs.len(), ca.origin);
/// ```
pub fn default_ca() -> Arc<DefaultCa> {
    if let Some(ca) = DEFAULT_CA.read().ok().and_then(|g| g.clone()) {
        return ca;
    }
    let detected = Arc::new(detect());
    log::debug!(
        "default CA: {} certificates from {:?}",
        detected.certs.len(),
        detected.origin
    );
    if let Ok(mut g) = DEFAULT_CA.write() {
        g.get_or_insert_with(|| detected.clone()).clone()
    } else {
        detected
    }
}

/// Sets the default CA from files and directories (`default_ca(SSL_ca_file => ..)`), or with
/// `None` forgets any stored value so that the next [`default_ca`] detects again.
pub fn set_default_ca(files_and_dirs: Option<&[PathBuf]>) -> Result<(), ConfigError> {
    let value = match files_and_dirs {
        None => None,
        Some(paths) => {
            let (files, dirs): (Vec<PathBuf>, Vec<PathBuf>) =
                paths.iter().cloned().partition(|p| !p.is_dir());
            let certs = load_ca(&files, &dirs, &[])?;
            Some(Arc::new(DefaultCa {
                origin: CaOrigin::Override,
                ca_file: files.first().cloned(),
                ca_path: dirs,
                certs: Arc::new(certs),
            }))
        }
    };
    if let Ok(mut g) = DEFAULT_CA.write() {
        *g = value;
    }
    Ok(())
}

fn detect() -> DefaultCa {
    let env_file = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from);
    let env_dirs: Vec<PathBuf> = std::env::var("SSL_CERT_DIR")
        .map(|v| {
            v.split(':')
                .filter(|s| !s.is_empty())
                .map(PathBuf::from)
                .collect()
        })
        .unwrap_or_default();
    if env_file.is_some() || !env_dirs.is_empty() {
        let files: Vec<PathBuf> = env_file.iter().cloned().collect();
        match load_ca(&files, &env_dirs, &[]) {
            Ok(certs) if !certs.is_empty() => {
                return DefaultCa {
                    origin: CaOrigin::Environment,
                    ca_file: env_file,
                    ca_path: env_dirs,
                    certs: Arc::new(certs),
                }
            }
            Ok(_) => log::warn!(
                "SSL_CERT_FILE/SSL_CERT_DIR hold no certificates; trying the system store"
            ),
            Err(e) => {
                log::warn!("SSL_CERT_FILE/SSL_CERT_DIR unusable ({e}); trying the system store")
            }
        }
    }
    let native = rustls_native_certs::load_native_certs();
    if !native.certs.is_empty() {
        return DefaultCa {
            origin: CaOrigin::System,
            ca_file: None,
            ca_path: Vec::new(),
            certs: Arc::new(native.certs),
        };
    }
    DefaultCa {
        origin: CaOrigin::Bundled,
        ca_file: None,
        ca_path: Vec::new(),
        certs: Arc::new(webpki_root_certs::TLS_SERVER_ROOT_CERTS.to_vec()),
    }
}

/// Loads CA certificates from files (PEM bundles or DER), directories (every file that holds
/// PEM certificates) and in-memory PEM/DER blobs.
pub(crate) fn load_ca(
    files: &[PathBuf],
    dirs: &[PathBuf],
    blobs: &[Vec<u8>],
) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let mut out = Vec::new();
    for f in files {
        let bytes = x509::read_file(f, "CA file")?;
        let certs = x509::parse_certificates(&bytes).map_err(|reason| ConfigError::File {
            path: f.clone(),
            reason: format!("CA file: {reason}"),
        })?;
        out.extend(certs);
    }
    // The manual: of several directories at least one must be readable; the others are
    // said and passed over.
    let mut unreadable = Vec::new();
    for d in dirs {
        match load_dir(d) {
            Ok(certs) => out.extend(certs),
            Err(e) => unreadable.push(e),
        }
    }
    if !dirs.is_empty() && unreadable.len() == dirs.len() {
        return Err(if unreadable.len() == 1 {
            unreadable.remove(0)
        } else {
            ConfigError::Invalid(format!(
                "no CA directory can be read: {}",
                unreadable
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ))
        });
    }
    for e in &unreadable {
        log::warn!("{e}; the other CA directories are used");
    }
    for b in blobs {
        let certs = x509::parse_certificates(b).map_err(|reason| {
            ConfigError::Certificate(format!("in-memory CA certificate: {reason}"))
        })?;
        out.extend(certs);
    }
    Ok(out)
}

fn load_dir(dir: &Path) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let entries = std::fs::read_dir(dir).map_err(|e| ConfigError::File {
        path: dir.to_owned(),
        reason: format!("cannot read CA directory: {e}"),
    })?;
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_file() {
            continue;
        }
        // A CA directory holds other files too (hash links, READMEs): take what parses.
        if let Ok(bytes) = x509::read_capped(&path) {
            if let Ok(certs) = x509::parse_certificates(&bytes) {
                out.extend(certs);
            }
        }
    }
    Ok(out)
}
