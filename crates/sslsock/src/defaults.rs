//! Every default of sslsock, written once. The newest IO::Socket::SSL is the reference where it
//! is stricter than the manual.
//!
//! ```
//! use sslsock::defaults;
//! assert_eq!(defaults::HOSTNAME_SCHEME, "default");
//! assert!(defaults::GROUPS.starts_with("X25519MLKEM768"));
//! assert!(!defaults::SERVER_VERIFY_MODE.verifies());
//! ```

use crate::options::VerifyMode;

/// Clients verify the server: chain to a trusted CA and host name (`SSL_verify_mode` 1).
pub const CLIENT_VERIFY_MODE: VerifyMode = VerifyMode::PEER;

/// Servers do not ask for client certificates unless told to (`SSL_verify_mode` 0).
pub const SERVER_VERIFY_MODE: VerifyMode = VerifyMode::NONE;

/// Servers choose the cipher suite by their own preference (`SSL_honor_cipher_order`).
pub const HONOR_CIPHER_ORDER: bool = true;

/// The default hostname scheme name (`SSL_verifycn_scheme`).
pub const HOSTNAME_SCHEME: &str = "default";

/// TLS 1.2 and 1.3: upstream 2.082+'s `SSL_version`.
pub const VERSIONS: &str = "SSLv23:!TLSv1:!TLSv1_1:!SSLv3:!SSLv2";

/// TLS 1.3 suites in order of preference when `SSL_ciphersuites` is not given: AES-128-GCM
/// first, as in Mozilla's "intermediate" server configuration and Go's crypto/tls. AES-128
/// is no weaker in practice than the 128-bit key exchange, and its SHA-256 transcript hash
/// runs on the SHA instructions of current x86 and ARM CPUs where SHA-384 has none: a full
/// handshake costs the server about a tenth less CPU than with AES-256-GCM-SHA384 first.
pub const CIPHERSUITES: &str =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

/// TLS 1.2 suites in order of preference when `SSL_cipher_list` is not given (the same
/// order as [`CIPHERSUITES`]; forward secrecy and AEAD only).
pub const CIPHER_LIST: &str = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:\
ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:\
ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

/// Key exchange groups in order of preference (`SSL_ecdh_curve` syntax): the post-quantum
/// hybrid first.
pub const GROUPS: &str = "X25519MLKEM768:X25519:P-256:P-384";

/// Sessions a client context keeps for resumption (`SSL_session_cache_size`).
pub const CLIENT_SESSION_CACHE_SIZE: usize = 256;

/// The largest plaintext a TLS record carries; one `write` sends at most this much.
pub const MAX_RECORD_PLAINTEXT: usize = 16_384;

/// Days a created certificate is valid (`sslsock cert create --days`).
pub const CERT_DAYS: u32 = crate::x509::create::DEFAULT_DAYS;

/// The type of a created key: ECDSA on P-256 (fast handshakes, small certificates).
pub const CERT_KEY_TYPE: crate::x509::create::KeyType = crate::x509::create::DEFAULT_KEY_TYPE;

/// The digest a created certificate is signed with.
pub const CERT_DIGEST: crate::x509::create::Digest = crate::x509::create::DEFAULT_DIGEST;

/// The digest of fingerprints (`sslsock fingerprint`, `cert show`, pins without a name).
pub const FINGERPRINT_DIGEST: crate::x509::fingerprint::FingerprintAlgorithm =
    crate::x509::fingerprint::FingerprintAlgorithm::Sha256;

/// Responses an [`crate::ocsp::OcspCache`] holds by default (the Perl module's `OCSP_Cache`
/// default).
pub const OCSP_CACHE_SIZE: usize = crate::ocsp::DEFAULT_CACHE_SIZE;

/// How long the OCSP resolver and the stapling server wait for a responder.
pub const OCSP_TIMEOUT: std::time::Duration = crate::ocsp::DEFAULT_TIMEOUT;

/// How soon a stapling server asks its responder again after a failure.
pub const OCSP_RETRY: std::time::Duration = crate::ocsp::DEFAULT_RETRY;

/// `sslsock connect`: the limit for the TCP connect, a STARTTLS dialogue and the handshake
/// (`--timeout`, `0` for none). The library itself has none unless `timeout` is given.
pub const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Counts changes to the process-wide defaults (`set_defaults` and its client and server
/// forms, the args filter, the default session cache), so that a context made from them
/// knows when it is out of date.
static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Records that a process-wide default changed.
pub(crate) fn changed() {
    GENERATION.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}

/// The number of changes so far; equal numbers mean equal defaults.
pub(crate) fn generation() -> u64 {
    GENERATION.load(std::sync::atomic::Ordering::SeqCst)
}

static SESSION_CACHE: std::sync::RwLock<Option<crate::session::SessionCache>> =
    std::sync::RwLock::new(None);

/// Sets the cache used by contexts that name none (`set_default_session_cache`); `None`
/// returns to one cache per context.
pub fn set_default_session_cache(cache: Option<crate::session::SessionCache>) {
    if let Ok(mut g) = SESSION_CACHE.write() {
        *g = cache;
    }
    changed();
}

pub(crate) fn default_session_cache() -> Option<crate::session::SessionCache> {
    SESSION_CACHE.read().ok().and_then(|g| g.clone())
}
