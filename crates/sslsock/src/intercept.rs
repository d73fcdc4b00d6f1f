//! `IO::Socket::SSL::Intercept`: a local CA forges, on the fly, a certificate that looks like an
//! upstream server's, for proxies and test harnesses that inspect TLS of clients trusting that
//! CA.
//!
//! ```no_run
//! use sslsock::intercept::Interceptor;
//! let proxy = Interceptor::from_files("proxy-ca.pem", "proxy-ca.key", None)?;
//! # let upstream_leaf_der: Vec<u8> = Vec::new();
//! let forged = proxy.clone_cert(&upstream_leaf_der)?;
//! // Serve `forged.cert_pem` + `forged.key_pem` (and the proxy CA) to the client.
//! # Ok::<(), sslsock::ConfigError>(())
//! ```

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::ConfigError;
use crate::x509::create::{CertSpec, Issued, KeyType};
use crate::x509::{self, Password};

/// How a clone's serial number is chosen (the manual's `serial` option).
#[derive(Clone)]
#[non_exhaustive]
pub enum Serial {
    /// A random 128-bit serial for each forged certificate (the name is kept for
    /// compatibility): no two clones share issuer and serial, even for the same original
    /// after a restart or an eviction. The default.
    FromOriginal,
    /// From this value on, one more for each new clone.
    Counter(Arc<std::sync::atomic::AtomicU64>),
    /// Chosen by the callback, given the original certificate (DER).
    Callback(SerialCallback),
}

/// Chooses a clone's serial number from the original certificate (DER).
pub type SerialCallback = Arc<dyn Fn(&[u8]) -> u64 + Send + Sync>;

impl fmt::Debug for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Serial::FromOriginal => f.write_str("Serial::FromOriginal"),
            Serial::Counter(n) => write!(f, "Serial::Counter({n:?})"),
            Serial::Callback(_) => f.write_str("Serial::Callback"),
        }
    }
}

/// A forged certificate with its key.
pub type Forged = Issued;

/// The number of clones a cache holds by default.
pub const DEFAULT_CACHE_SIZE: usize = 1000;

/// Clones certificates under a proxy CA, with a bounded cache keyed by the original's
/// fingerprint and the key used (so that two clones with different keys never collide).
///
/// ```
/// use sslsock::intercept::Interceptor;
/// use sslsock::x509::create::CertSpec;
/// use sslsock::x509::info::CertInfo;
/// use sslsock::x509::Password;
/// use sslsock::FingerprintAlgorithm;
///
/// // The proxy's own CA, which the intercepted clients trust.
/// let proxy_ca = CertSpec::new("Proxy CA").ca().self_signed()?;
/// let proxy = Interceptor::new(
///     proxy_ca.cert_pem.as_bytes(),
///     proxy_ca.key_pem.as_bytes(),
///     &Password::None,
/// )?;
/// // The upstream server's certificate, as the proxy received it (DER).
/// let real_ca = CertSpec::new("Real CA").ca().self_signed()?;
/// let upstream = CertSpec::new("www.example").san("www.example").signed_by(&real_ca)?;
///
/// let forged = proxy.clone_cert(&upstream.cert_der)?;
/// let info = CertInfo::from_der(&forged.cert_der, FingerprintAlgorithm::Sha256)?;
/// let original = CertInfo::from_der(&upstream.cert_der, FingerprintAlgorithm::Sha256)?;
/// assert_eq!(info.subject, original.subject);
/// assert!(info.issuer_line.contains("Proxy CA"), "{}", info.issuer_line);
/// // Serve forged.cert_pem and forged.key_pem to the client; the same original gives the
/// // cached clone again.
/// assert_eq!(proxy.clone_cert(&upstream.cert_der)?.cert_der, forged.cert_der);
/// # Ok::<(), sslsock::ConfigError>(())
/// ```
pub struct Interceptor {
    ca: Issued,
    ca_not_before: SystemTime,
    ca_not_after: SystemTime,
    /// One key for every clone (PEM), or a fresh key of the original's type per clone.
    clone_key: Option<String>,
    serial: Serial,
    cache: Mutex<Cache>,
    /// The application's store ([`Interceptor::with_store`]), which then holds the clones.
    store: Option<Arc<dyn CloneStore>>,
}

/// A store for clones the application provides (Intercept's `cache` object with `get` and
/// `put`), for example one shared between proxy processes. Keys name the original
/// certificate and the key setting; a clone it returns is used only when this proxy CA
/// signed it.
pub trait CloneStore: Send + Sync {
    /// The clone kept under `key`, if any.
    fn get(&self, key: &str) -> Option<Forged>;
    /// Keeps `clone` under `key`.
    fn put(&self, key: &str, clone: Forged);
}

struct Cache {
    capacity: usize,
    order: VecDeque<String>,
    entries: HashMap<String, Forged>,
}

impl fmt::Debug for Interceptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interceptor")
            .field("single_key", &self.clone_key.is_some())
            .field("serial", &self.serial)
            .field("cached", &self.cached())
            .finish_non_exhaustive()
    }
}

fn bad(what: &str, e: impl fmt::Display) -> ConfigError {
    ConfigError::Certificate(format!("{what}: {e}"))
}

impl Interceptor {
    /// A proxy CA from its certificate (PEM or DER) and key (any form
    /// [`crate::x509::parse_private_key`] reads, decrypted with `password`). The certificate
    /// must be a CA and the key its own.
    pub fn new(
        ca_cert: &[u8],
        ca_key: &[u8],
        password: &Password,
    ) -> Result<Interceptor, ConfigError> {
        let ca = Issued::from_parts(ca_cert, ca_key, password)?;
        let (_, cert) = X509Certificate::from_der(&ca.cert_der).map_err(|e| bad("proxy CA", e))?;
        if !cert.is_ca() {
            return Err(ConfigError::Certificate(
                "proxy CA: the certificate is not a CA (basicConstraints CA:TRUE)".to_owned(),
            ));
        }
        // The key must be the certificate's: signing a clone proves it.
        CertSpec::new("key check").signed_by(&ca)?;
        Ok(Interceptor {
            ca_not_before: x509::asn1_time(cert.validity().not_before),
            ca_not_after: x509::asn1_time(cert.validity().not_after),
            ca,
            clone_key: None,
            serial: Serial::FromOriginal,
            cache: Mutex::new(Cache {
                capacity: DEFAULT_CACHE_SIZE,
                order: VecDeque::new(),
                entries: HashMap::new(),
            }),
            store: None,
        })
    }

    /// Keeps clones in `store`, the application's, instead of this proxy's own cache.
    pub fn with_store(mut self, store: Arc<dyn CloneStore>) -> Interceptor {
        self.store = Some(store);
        self
    }

    /// [`new`](Self::new) from files; `password` for an encrypted key.
    pub fn from_files(
        ca_cert: impl AsRef<Path>,
        ca_key: impl AsRef<Path>,
        password: Option<&str>,
    ) -> Result<Interceptor, ConfigError> {
        let cert = x509::read_file(ca_cert.as_ref(), "proxy CA certificate")?;
        let key = x509::read_file(ca_key.as_ref(), "proxy CA key")?;
        let password = password.map_or(Password::None, Password::from);
        Interceptor::new(&cert, &key, &password)
    }

    /// One key (PEM) for every clone, instead of a fresh key per clone.
    pub fn with_clone_key(mut self, key_pem: &str) -> Result<Interceptor, ConfigError> {
        x509::parse_private_key(key_pem.as_bytes(), &Password::None)
            .map_err(|e| bad("clone key", e))?;
        self.clone_key = Some(key_pem.to_owned());
        Ok(self)
    }

    /// How serial numbers are chosen; see [`Serial`].
    pub fn with_serial(mut self, serial: Serial) -> Interceptor {
        self.serial = serial;
        self
    }

    /// At most `n` clones kept (at least one); the oldest go first.
    pub fn with_cache_size(self, n: usize) -> Interceptor {
        if let Ok(mut c) = self.cache.lock() {
            c.capacity = n.max(1);
        }
        self
    }

    /// The proxy CA certificate (PEM), for the clients to trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca.cert_pem
    }

    /// How many clones the proxy's own cache holds (0 when an application store set with
    /// [`with_store`](Self::with_store) holds them).
    pub fn cached(&self) -> usize {
        self.cache.lock().map_or(0, |c| c.entries.len())
    }

    /// A certificate like `original` (DER) signed by the proxy CA, with its key: the
    /// original's subject, subjectAltNames, validity (within the CA's), key usage and
    /// extended key usage; never its AIA, CRL or OCSP URLs nor its signature. Cached: the
    /// same original (with the same key setting) gets the same clone.
    pub fn clone_cert(&self, original: &[u8]) -> Result<Forged, ConfigError> {
        if let Some(hit) = self.cached_clone(original) {
            return Ok(hit);
        }
        let cache_key = self.cache_key(original);
        let forged = self.forge(original)?;
        match &self.store {
            Some(store) => store.put(&cache_key, forged.clone()),
            None => {
                if let Ok(mut c) = self.cache.lock() {
                    c.insert(cache_key, forged.clone());
                }
            }
        }
        Ok(forged)
    }

    /// The cached clone of `original`, if there is one: [`clone_cert`](Self::clone_cert)
    /// without making one (which may take a key generation, a second for RSA-4096).
    pub fn cached_clone(&self, original: &[u8]) -> Option<Forged> {
        let key = self.cache_key(original);
        if let Some(store) = &self.store {
            let hit = store.get(&key)?;
            if let Err(e) = self.check_signed(&hit.cert_der) {
                log::warn!("intercept: the clone store's clone under {key} is not used: {e}");
                return None;
            }
            return Some(hit);
        }
        self.cache
            .lock()
            .ok()
            .and_then(|c| c.entries.get(&key).cloned())
    }

    /// The original's fingerprint and the key setting.
    fn cache_key(&self, original: &[u8]) -> String {
        let key_id = match &self.clone_key {
            Some(k) => sha256_hex(k.as_bytes()),
            None => "fresh".to_owned(),
        };
        format!("{}/{key_id}", sha256_hex(original))
    }

    fn forge(&self, original: &[u8]) -> Result<Forged, ConfigError> {
        let (_, cert) =
            X509Certificate::from_der(original).map_err(|e| bad("upstream certificate", e))?;
        let sans = x509::subject_alt_names(&cert);
        // The subject as the original has it (any attribute, repeated ones, their string
        // types), but a common name only when a subjectAltName proves it: a client matching
        // the CN must not accept the clone for a name the upstream chain never vouched for.
        let mut spec =
            CertSpec::with_subject(&[]).subject_der(subject_proved_by_sans(original, &sans)?);
        // The subjectAltNames as they are, each of its own type.
        let raw = |oid: &str| {
            cert.extensions()
                .iter()
                .find(|e| e.oid.to_id_string() == oid)
                .map(|e| (e.value.to_vec(), e.critical))
        };
        if let Some((value, critical)) = raw("2.5.29.17") {
            spec = spec.extension("2.5.29.17", value, critical);
        }
        let not_before = x509::asn1_time(cert.validity().not_before).max(self.ca_not_before);
        let not_after = x509::asn1_time(cert.validity().not_after).min(self.ca_not_after);
        spec = spec.validity(not_before, not_after.max(not_before));
        spec = spec.usages_as_extensions(raw("2.5.29.15"), raw("2.5.29.37"));
        spec = match &self.serial {
            // Random: no two forged certificates share issuer and serial, also across
            // restarts and evictions.
            Serial::FromOriginal => spec.serial_bytes(&random_serial()?),
            Serial::Counter(n) => spec.serial(n.fetch_add(1, std::sync::atomic::Ordering::SeqCst)),
            Serial::Callback(cb) => spec.serial(cb(original)),
        };
        spec = match &self.clone_key {
            Some(k) => spec.with_key(k),
            None => spec.key_type(key_type_of(&cert)),
        };
        spec.signed_by(&self.ca)
    }

    /// The cache as text (JSON, one clone per line), for [`restore`](Self::restore) in
    /// another process (the manual's `serialize`). It holds the clones' private keys: keep it
    /// as secret as the proxy CA key.
    pub fn serialize(&self) -> String {
        let Ok(c) = self.cache.lock() else {
            return String::new();
        };
        c.order
            .iter()
            .filter_map(|k| c.entries.get(k).map(|f| (k, f)))
            .map(|(k, f)| {
                serde_json::json!({"key": k, "cert_pem": f.cert_pem, "key_pem": f.key_pem})
                    .to_string()
                    + "\n"
            })
            .collect()
    }

    /// Takes back clones written by [`serialize`](Self::serialize); clones not signed by this
    /// proxy CA are refused.
    pub fn restore(&self, text: &str) -> Result<usize, ConfigError> {
        let mut n = 0;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value =
                serde_json::from_str(line).map_err(|e| bad("intercept cache", e))?;
            let field = |k: &str| {
                v.get(k)
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| bad("intercept cache", format!("a line without \"{k}\"")))
            };
            let (key, cert_pem, key_pem) = (field("key")?, field("cert_pem")?, field("key_pem")?);
            let forged =
                Issued::from_parts(cert_pem.as_bytes(), key_pem.as_bytes(), &Password::None)?;
            self.check_signed(&forged.cert_der)?;
            if let Ok(mut cache) = self.cache.lock() {
                cache.insert(key, forged);
            }
            n += 1;
        }
        Ok(n)
    }
}

impl Interceptor {
    /// Refuses a clone that this proxy CA did not sign.
    fn check_signed(&self, clone_der: &[u8]) -> Result<(), ConfigError> {
        let (_, c) = X509Certificate::from_der(clone_der).map_err(|e| bad("intercept cache", e))?;
        let (_, ca) =
            X509Certificate::from_der(&self.ca.cert_der).map_err(|e| bad("proxy CA", e))?;
        if c.issuer().as_raw() != ca.subject().as_raw()
            || c.verify_signature(Some(ca.public_key())).is_err()
        {
            return Err(ConfigError::Certificate(
                "intercept cache: a clone not signed by this proxy CA".to_owned(),
            ));
        }
        Ok(())
    }
}

impl Cache {
    fn insert(&mut self, key: String, forged: Forged) {
        if self.entries.insert(key.clone(), forged).is_none() {
            self.order.push_back(key);
        }
        while self.entries.len() > self.capacity {
            match self.order.pop_front() {
                Some(old) => {
                    self.entries.remove(&old);
                }
                None => break,
            }
        }
    }
}

/// A serial number of 16 random bytes, positive and not starting with a zero byte.
fn random_serial() -> Result<[u8; 16], ConfigError> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| ConfigError::Certificate("no random bytes for a serial number".into()))?;
    bytes[0] = (bytes[0] & 0x7f) | 0x01;
    Ok(bytes)
}

/// The subject (DER Name) of the certificate `original`, without the common names that none
/// of its DNS or IP subjectAltNames proves.
fn subject_proved_by_sans(
    original: &[u8],
    sans: &[x509::SubjectAltName],
) -> Result<Vec<u8>, ConfigError> {
    use der::asn1::SetOfVec;
    use der::{Decode, Encode};
    const COMMON_NAME: der::asn1::ObjectIdentifier =
        der::asn1::ObjectIdentifier::new_unwrap("2.5.4.3");
    let cert =
        x509_cert::Certificate::from_der(original).map_err(|e| bad("upstream certificate", e))?;
    let proved = |value: &der::asn1::Any| {
        let Some(text) = directory_string(value) else {
            return false;
        };
        let text = text.trim_end_matches('.');
        sans.iter().any(|san| match san {
            x509::SubjectAltName::Dns(d) => d.trim_end_matches('.').eq_ignore_ascii_case(text),
            x509::SubjectAltName::Ip(ip) => {
                text.parse::<std::net::IpAddr>().is_ok_and(|t| t == *ip)
            }
            _ => false,
        })
    };
    // A Name is a SEQUENCE OF RelativeDistinguishedName (a SET OF attributes).
    let mut rdns: Vec<SetOfVec<x509_cert::attr::AttributeTypeAndValue>> = Vec::new();
    for rdn in cert.tbs_certificate().subject().iter_rdn() {
        let kept: Vec<_> = rdn
            .iter()
            .filter(|atv| {
                let keep = atv.oid != COMMON_NAME || proved(&atv.value);
                if !keep {
                    log::info!("intercept: the upstream common name is no subjectAltName of it: left out of the clone");
                }
                keep
            })
            .cloned()
            .collect();
        if !kept.is_empty() {
            rdns.push(SetOfVec::try_from(kept).map_err(|e| bad("upstream subject", e))?);
        }
    }
    rdns.to_der().map_err(|e| bad("upstream subject", e))
}

/// A name attribute's value as text, when it is one of the string types names use for text.
fn directory_string(value: &der::asn1::Any) -> Option<String> {
    use der::asn1::{Ia5StringRef, PrintableStringRef, Utf8StringRef};
    use der::{Tag, Tagged};
    match value.tag() {
        Tag::Utf8String => Utf8StringRef::try_from(value)
            .ok()
            .map(|s| s.as_str().to_owned()),
        Tag::PrintableString => PrintableStringRef::try_from(value)
            .ok()
            .map(|s| s.as_str().to_owned()),
        Tag::Ia5String => Ia5StringRef::try_from(value)
            .ok()
            .map(|s| s.as_str().to_owned()),
        _ => None,
    }
}

/// A key type like the upstream certificate's: the same curve, or RSA of the nearest size.
fn key_type_of(cert: &X509Certificate<'_>) -> KeyType {
    use x509_parser::public_key::PublicKey;
    match cert.public_key().parsed() {
        Ok(PublicKey::RSA(rsa)) => match rsa.key_size() {
            0..=2048 => KeyType::Rsa2048,
            2049..=3072 => KeyType::Rsa3072,
            _ => KeyType::Rsa4096,
        },
        Ok(PublicKey::EC(ec)) if ec.key_size() > 256 => KeyType::EcP384,
        Ok(PublicKey::EC(_)) => KeyType::EcP256,
        _ if cert.public_key().algorithm.algorithm.to_id_string() == "1.3.101.112" => {
            KeyType::Ed25519
        }
        _ => KeyType::EcP256,
    }
}

fn sha256_hex(data: &[u8]) -> String {
    crate::text::hex::encode(&x509::fingerprint::FingerprintAlgorithm::Sha256.hash(data))
}
