//! The TLS engines behind one contract: `Options` -> engine configuration, and the sans-IO
//! [`Session`] the socket drives one record at a time. The default engine (rustls) is built
//! here and in `session.rs`, `verifier.rs`, `sni.rs`, `tickets.rs`; the openssl engine
//! (feature `openssl`) in `ossl.rs`, `ossl_verify.rs` and `ossl_ffi.rs`.
//!
//! # What an engine provides
//!
//! - **A build**, `Options` (after the default layers and the args filter) -> [`Built`]: an
//!   [`EngineConfig`], the context's own chain, the chain policy peers are verified with,
//!   and the names it dropped. Every option is applied, or refused with a
//!   [`ConfigError`] naming it and the engine that has it; never ignored.
//! - **Sessions**: `Session::client(&config, &Target)` takes the connection's identity as
//!   one value ([`crate::plan::Target`]: the name sent, the name checked, the session key);
//!   `Session::server(&config)`. A client offers a cached session only from the slot
//!   (session key, name checked) and only under the verification that accepted it.
//! - **Record-exact I/O**: `feed_record` takes one whole TLS record, `plaintext`/`consume`
//!   hand out what it decrypted, `write_plaintext`/`write_tls` and `wants_write` move
//!   output; `feed_eof` reports the transport's end. An engine never reads ahead of the
//!   record it was fed, so the socket can stop TLS with the following plain bytes intact.
//! - **Verification by sslsock's policy**: the chain, name, pins, CRLs and OCSP are decided
//!   by `verify/` and `ocsp/`; a refusal reaches the peer as the alert of
//!   [`VerifyError::alert`](crate::error::VerifyError::alert) (OpenSSL's exception noted
//!   there).
//! - **Facts**: version, cipher, group, ALPN/NPN, SNI, resumption, peer chain and what the
//!   verification learnt (`peer_outcome`), ECH status, in the socket's words.

mod interned;
#[cfg(feature = "openssl")]
mod ossl;
#[cfg(feature = "openssl")]
mod ossl_ffi;
#[cfg(feature = "openssl")]
mod ossl_verify;
pub(crate) mod session;
mod session_cache;
mod sni;
pub(crate) mod suites;
mod tickets;
mod verifier;

#[cfg(feature = "unstable-engine-config")]
pub use rustls::{ClientConfig, ServerConfig};
#[cfg(not(feature = "unstable-engine-config"))]
use rustls::{ClientConfig, ServerConfig};
pub use session_cache::{set_default_session_cache, CachedSession, SessionCache, SessionStore};
pub use tickets::{TicketKey, TicketKeyCallback};

#[cfg(feature = "unstable-engine-config")]
impl Options {
    /// Advanced (`SSL_create_ctx_callback`): change the engine configuration before it is
    /// frozen. This ties the caller to the engine's types ([`crate::advanced`]); everything
    /// sslsock set (verification included) can be undone here, so use it with care.
    pub fn engine_callback(
        mut self,
        hook: impl Fn(EngineConfigMut<'_>) + Send + Sync + 'static,
    ) -> Self {
        let hook: EngineHook = Arc::new(hook);
        self.engine_hook = Some(Arc::new(hook));
        self
    }

    /// The hook [`Options::engine_callback`] set, if any.
    fn engine_hook(&self) -> Option<&EngineHook> {
        self.engine_hook
            .as_ref()
            .and_then(|h| h.downcast_ref::<EngineHook>())
    }
}

/// The engine configuration handed to an [`EngineHook`].
#[cfg(feature = "unstable-engine-config")]
pub type EngineHook = Arc<dyn Fn(EngineConfigMut<'_>) + Send + Sync>;

#[cfg(feature = "unstable-engine-config")]
/// The engine configuration of a context, mutable before it is frozen (advanced).
#[non_exhaustive]
pub enum EngineConfigMut<'a> {
    /// A client context.
    Client(&'a mut ClientConfig),
    /// A server context.
    Server(&'a mut ServerConfig),
}

#[cfg(feature = "unstable-engine-config")]
impl std::fmt::Debug for EngineConfigMut<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineConfigMut::Client(c) => f.debug_tuple("Client").field(c).finish(),
            EngineConfigMut::Server(c) => f.debug_tuple("Server").field(c).finish(),
        }
    }
}

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::defaults;
use crate::error::{Alert, ConfigError, Error, Parameter, TlsError, VerifyError};
use crate::options::{Options, VerifyMode};
use crate::verify::chain::ChainPolicy;
use crate::verify::crl::CrlSet;
use crate::verify::fingerprint::Pin;
use crate::verify::hostname::Scheme;
use crate::verify::roots;
use crate::x509;

pub(crate) use session::Session;
use verifier::ClientVerifier;

/// Compiled engine configuration for one side.
#[derive(Debug, Clone)]
pub(crate) enum EngineConfig {
    /// A client context.
    Client {
        /// For handshakes toward a named peer.
        config: Arc<ClientConfig>,
        /// The same, for a peer without a name (nothing verified, scheme `none`, or a pin): its
        /// verifier knows that no name was given, so no address stands for "no name".
        nameless: Arc<ClientConfig>,
        /// The session store it resumes from (none: resumption off).
        store: Option<Arc<session_cache::ClientStore>>,
        /// The verifier's settings, for connections that check another name than they send.
        verifier: verifier::ServerVerifier,
        /// The protocol versions (part of a verifier's identity).
        versions: Vec<&'static rustls::SupportedProtocolVersion>,
    },
    /// A server context.
    Server {
        /// The default configuration.
        config: Arc<ServerConfig>,
        /// Those for SNI names with their own cipher lists.
        by_name: PerName,
        /// Whether a ClientHello whose ALPN offer misses ours goes on without ALPN.
        alpn_fallback: AlpnFallback,
        /// The certificates by SNI name, when there are several: the ClientHello is read
        /// first, so that the socket knows which one it presents.
        certs: Option<Arc<sni::SniResolver>>,
    },
    /// A context on the OpenSSL engine.
    #[cfg(feature = "openssl")]
    OpenSsl(Arc<ossl::Config>),
}

impl EngineConfig {
    /// Client: how OCSP is checked; `None` on a server.
    pub(crate) fn ocsp_policy(&self) -> Option<&crate::ocsp::StaplePolicy> {
        match self {
            EngineConfig::Client { verifier, .. } => Some(&verifier.ocsp),
            EngineConfig::Server { .. } => None,
            #[cfg(feature = "openssl")]
            EngineConfig::OpenSsl(c) => c.ocsp_policy(),
        }
    }
}

/// Server: go on without ALPN when the client's offer shares nothing with ours (`true`), or
/// refuse (`alpn_strict`).
pub(crate) type AlpnFallback = bool;

/// Server configurations chosen by the SNI name in the ClientHello.
pub(crate) type PerName = Arc<Vec<(String, Arc<ServerConfig>)>>;

/// What `build` produces besides the engine config.
pub(crate) struct Built {
    pub(crate) config: EngineConfig,
    pub(crate) own_chain: Vec<CertificateDer<'static>>,
    /// The policy peers are verified with; `None` when they are not.
    pub(crate) chain_policy: Option<Arc<ChainPolicy>>,
    /// Cipher, suite and group names OpenSSL knows that the engine lacks, dropped.
    pub(crate) unavailable: Vec<String>,
}

fn provider_for(
    opts: &Options,
    tls12: bool,
    tls13: bool,
    unavailable: &mut Vec<String>,
) -> Result<CryptoProvider, ConfigError> {
    let base = rustls::crypto::aws_lc_rs::default_provider();
    let mut suites: Vec<rustls::SupportedCipherSuite> = Vec::new();
    if tls13 {
        match &opts.ciphersuites {
            Some(spec) => suites.extend(
                suites::parse_ciphersuites(spec, unavailable)?
                    .iter()
                    .map(|s| s.suite),
            ),
            None => suites.extend(
                suites::parse_ciphersuites(defaults::CIPHERSUITES, unavailable)?
                    .iter()
                    .map(|s| s.suite),
            ),
        }
    }
    if let Some(spec) = &opts.cipher_list {
        // Validated even when TLS 1.2 is off, so a bad string never passes silently.
        let list = suites::parse_cipher_list(spec, unavailable)?;
        if tls12 {
            suites.extend(list.iter().map(|s| s.suite));
        }
    } else if tls12 {
        suites.extend(
            suites::parse_cipher_list(defaults::CIPHER_LIST, unavailable)?
                .iter()
                .map(|s| s.suite),
        );
    }
    if suites.is_empty() {
        let spec = opts.ciphersuites.clone().unwrap_or_default();
        return Err(ConfigError::Cipher {
            spec,
            reason: "no cipher suite left for the enabled protocol versions".to_owned(),
        });
    }
    let kx_groups = match &opts.ecdh_curve {
        Some(spec) => suites::parse_groups(spec, unavailable)?,
        None => suites::parse_groups(defaults::GROUPS, unavailable)?,
    };
    Ok(CryptoProvider {
        cipher_suites: suites,
        kx_groups,
        ..base
    })
}

/// The chain policy of `opts`: trusted CAs, pins, CRLs, callback.
fn chain_policy(opts: &Options) -> Result<ChainPolicy, ConfigError> {
    let certs: Arc<Vec<CertificateDer<'static>>> = if opts.no_ca {
        Arc::new(Vec::new())
    } else if opts.ca_files.is_empty() && opts.ca_paths.is_empty() && opts.ca_certs.is_empty() {
        roots::default_ca().certs.clone()
    } else {
        Arc::new(roots::load_ca(
            &opts.ca_files,
            &opts.ca_paths,
            &opts.ca_certs,
        )?)
    };
    let pins = opts
        .fingerprints
        .iter()
        .map(|p| Pin::parse(p))
        .collect::<Result<Vec<_>, _>>()?;
    let mut policy = ChainPolicy::new(&certs).with_pins(pins, opts.force_fingerprint);
    if opts.check_crl || !opts.crl_files.is_empty() {
        policy = policy.with_crls(CrlSet::load(
            &opts.crl_files,
            &opts.ca_files,
            &opts.ca_paths,
        )?);
    }
    if let Some(cb) = &opts.verify_callback {
        policy = policy.with_callback(cb.clone());
    }
    Ok(policy)
}

/// Everything a client's verification policy consists of (`versions`: the protocol versions
/// it allows, described), for telling sessions accepted under one policy from another's;
/// `None` when the policy cannot be told apart (it is then never shared).
pub(crate) fn policy_key(
    v: &verifier::ServerVerifier,
    versions: &str,
) -> Option<interned::PolicyKey> {
    let parts = v.policy.identity_parts()?;
    let mut key = interned::PolicyKey::default();
    for p in &parts {
        key.part(p);
    }
    key.part(&v.mode.bits().to_be_bytes())
        .part(&v.scheme.identity_part())
        .part(v.identity.as_deref().unwrap_or("\0").as_bytes())
        .part(&[u8::from(v.nameless)])
        .part(versions.as_bytes())
        .part(&v.ocsp.mode.bits().to_be_bytes())
        .part(&[u8::from(v.ocsp.crl_fetch)])
        .part(&v.ocsp.cache.identity().to_be_bytes())
        .part(v.ech_public_names.join("\0").as_bytes());
    if let Some(cb) = &v.ocsp.callback {
        // The same callback object, as for the verify callback.
        key.part(format!("staple callback {:p}", Arc::as_ptr(cb)).as_bytes());
    }
    Some(key)
}

/// The verifier of a client context, shared with every context of the same verification
/// policy (see [`interned`]); a policy that cannot be told by value gets its own.
pub(crate) fn shared_verifier(
    v: verifier::ServerVerifier,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<dyn rustls::client::danger::ServerCertVerifier> {
    let made: Arc<dyn rustls::client::danger::ServerCertVerifier> = Arc::new(v.clone());
    let Some(key) = policy_key(&v, &format!("{versions:?}")) else {
        return made;
    };
    interned::verifier(&key, made)
}

/// The OCSP settings of a client context.
fn staple_policy(opts: &Options, mode: VerifyMode) -> crate::ocsp::StaplePolicy {
    let ocsp_mode = opts.ocsp_mode.unwrap_or_default();
    if mode.verifies() && ocsp_mode.contains(crate::ocsp::OcspMode::NO_CHECK) {
        log::warn!("dangerous: OCSP revocation checks are off (OcspMode::NO_CHECK); must-staple certificates are accepted without a staple");
    }
    crate::ocsp::StaplePolicy {
        mode: ocsp_mode,
        callback: opts.ocsp_staple_callback.clone(),
        cache: opts
            .ocsp_cache
            .clone()
            .unwrap_or_else(crate::ocsp::OcspCache::process_default),
        crl_fetch: opts.crl_fetch,
    }
}

/// The hostname scheme of `opts`, with its public suffix setting.
fn scheme(opts: &Options) -> Scheme {
    let scheme = opts
        .verifycn_scheme
        .clone()
        .unwrap_or_else(|| Scheme::named(defaults::HOSTNAME_SCHEME).unwrap_or_default());
    match &opts.public_suffix {
        None => scheme,
        Some(None) => scheme.without_public_suffix(),
        Some(Some(list)) => scheme.with_public_suffix(list.clone()),
    }
}

fn own_identity(
    opts: &Options,
) -> Result<Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>, ConfigError> {
    let Some(cert) = &opts.cert else {
        if let Some(crate::options::Source::File(p)) = &opts.key {
            return Err(ConfigError::File {
                path: p.clone(),
                reason: "a key file was given without a certificate file".to_owned(),
            });
        }
        return Ok(None);
    };
    let chain = x509::load_chain(cert, &opts.password)?;
    let key = x509::load_key(opts.key.as_ref(), cert, &opts.password)?;
    Ok(Some((chain, key)))
}

fn mismatch(opts: &Options, e: rustls::Error) -> ConfigError {
    let name = |s: Option<&crate::options::Source>| match s {
        Some(crate::options::Source::File(p)) => p.display().to_string(),
        Some(crate::options::Source::Memory(_)) => "in-memory data".to_owned(),
        None => "(none)".to_owned(),
    };
    let key = opts.key.as_ref().or(opts.cert.as_ref());
    match e {
        rustls::Error::InconsistentKeys(_) => ConfigError::Certificate(format!(
            "private key {} does not match certificate {}",
            name(key),
            name(opts.cert.as_ref())
        )),
        other => ConfigError::Certificate(format!(
            "certificate {} / key {} unusable: {other}",
            name(opts.cert.as_ref()),
            name(key)
        )),
    }
}

/// ECH needs TLS 1.3: the versions of a client context with ECH, or why there are none.
fn ech_versions(opts: &Options, v: suites::Versions) -> Result<suites::Versions, ConfigError> {
    use crate::ech::{EchError, EchMode};
    let kind = match &opts.ech {
        None | Some(EchMode::Off) => return Ok(v),
        Some(EchMode::Grease) => "GREASE ECH",
        Some(_) => "ECH",
    };
    if !v.tls13 {
        return Err(EchError::new(format!(
            "{kind} needs TLS 1.3, but the versions \"{}\" allow only TLS 1.2 (a TLS 1.2 handshake would send the server name in the clear)",
            opts.version.as_deref().unwrap_or(defaults::VERSIONS)
        ))
        .into());
    }
    if v.tls12 && opts.version.is_some() {
        log::warn!(
            "{kind} needs TLS 1.3: TLS 1.2, allowed by the versions \"{}\", is off for this context",
            opts.version.as_deref().unwrap_or_default()
        );
    }
    Ok(suites::Versions {
        tls12: false,
        tls13: true,
    })
}

/// The engine's ECH mode for a client context.
fn ech_mode(opts: &Options) -> Result<Option<rustls::client::EchMode>, ConfigError> {
    use crate::ech::{EchError, EchMode};
    use rustls::crypto::aws_lc_rs::hpke;
    match &opts.ech {
        None | Some(EchMode::Off) => Ok(None),
        Some(EchMode::Config(list)) => {
            let bytes = rustls_pki_types::EchConfigListBytes::from(list.as_bytes().to_vec());
            let config = rustls::client::EchConfig::new(bytes, hpke::ALL_SUPPORTED_SUITES)
                .map_err(|e| {
                    EchError::new(format!(
                        "no configuration in the list can be used (public names {}): {}",
                        list.public_names().join(", "),
                        crate::text::words_of_debug(&format!("{e:?}"))
                    ))
                })?;
            Ok(Some(rustls::client::EchMode::Enable(config)))
        }
        Some(EchMode::Grease) => {
            // X25519 with AES-128-GCM: what real ECH configurations and other clients'
            // GREASE use most, so the extension does not stand out by its sizes.
            let suite: &'static dyn rustls::crypto::hpke::Hpke =
                hpke::DH_KEM_X25519_HKDF_SHA256_AES_128;
            let (placeholder, _) = suite
                .generate_key_pair()
                .map_err(|e| EchError::new(format!("cannot make a GREASE key: {e}")))?;
            Ok(Some(rustls::client::EchMode::Grease(
                rustls::client::EchGreaseConfig::new(suite, placeholder),
            )))
        }
    }
}

/// Compiles options into an engine configuration.
pub(crate) fn build(opts: &Options) -> Result<Built, ConfigError> {
    if opts.engine == Some(crate::options::Engine::OpenSsl) {
        #[cfg(feature = "openssl")]
        return ossl::build(opts);
        #[cfg(not(feature = "openssl"))]
        return Err(ConfigError::Invalid(
            "the openssl engine is not built in: build sslsock with the `openssl` feature".into(),
        ));
    }
    opts.check_side()?;
    // What only the openssl engine has is refused by name, never handed to it silently.
    let only_openssl = [
        (opts.psk.is_some(), "PSK (psk, psk_server)"),
        (
            opts.dh_params.is_some(),
            "DH parameters (SSL_dh_file, SSL_dh)",
        ),
    ];
    if let Some((_, what)) = only_openssl.iter().find(|(set, _)| *set) {
        return Err(ConfigError::Invalid(format!(
            "{what}: not available on the default engine; the openssl engine has it (the `openssl` feature, Options::engine(Engine::OpenSsl), --engine openssl)"
        )));
    }
    let versions = match &opts.version {
        Some(spec) => suites::parse_versions(spec)?,
        None => suites::parse_versions(defaults::VERSIONS)?,
    };
    let versions = ech_versions(opts, versions)?;
    let mut unavailable = Vec::new();
    let provider = Arc::new(provider_for(
        opts,
        versions.tls12,
        versions.tls13,
        &mut unavailable,
    )?);
    let engine_versions = versions.engine_versions();
    let identity = own_identity(opts)?;
    let own_chain = identity
        .as_ref()
        .map(|(c, _)| c.clone())
        .unwrap_or_default();
    let mode = opts.verify_mode.unwrap_or(if opts.server {
        defaults::SERVER_VERIFY_MODE
    } else {
        defaults::CLIENT_VERIFY_MODE
    });
    let alpn = opts.alpn_protocols.clone();
    if alpn.iter().any(|p| p.is_empty() || p.len() > 255) {
        return Err(ConfigError::Invalid(
            "ALPN protocol names must be 1 to 255 bytes long".to_owned(),
        ));
    }

    if !opts.npn_protocols.is_empty() {
        return Err(ConfigError::Invalid(
            "NPN (next protocol negotiation) is obsolete and not available on the default engine; use ALPN (alpn_protocols), or the openssl engine (the `openssl` feature, Options::engine(Engine::OpenSsl), --engine openssl)"
                .to_owned(),
        ));
    }
    let common = Common {
        opts,
        versions,
        engine_versions,
        provider,
        mode,
        alpn,
    };
    let (config, chain_policy) = if opts.server {
        build_server(&common, identity, &mut unavailable)?
    } else {
        build_client(&common, identity)?
    };
    Ok(Built {
        config,
        own_chain,
        chain_policy,
        unavailable,
    })
}

/// The policy peers are verified with, when they are.
type PolicyUsed = Option<Arc<ChainPolicy>>;

/// What the server and client parts of [`build`] share: the options and what is read from
/// them for both sides.
struct Common<'a> {
    opts: &'a Options,
    versions: suites::Versions,
    engine_versions: Vec<&'static rustls::SupportedProtocolVersion>,
    provider: Arc<CryptoProvider>,
    mode: VerifyMode,
    alpn: Vec<Vec<u8>>,
}

/// The server configuration, and the policy clients are verified with (when they are).
fn build_server(
    common: &Common<'_>,
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    unavailable: &mut Vec<String>,
) -> Result<(EngineConfig, PolicyUsed), ConfigError> {
    let Common {
        opts,
        versions,
        engine_versions,
        provider,
        mode,
        alpn,
    } = common;
    let (opts, versions, mode) = (*opts, *versions, *mode);
    let mut sni_certs = None;
    if identity.is_none() && opts.sni_certs.is_empty() {
        return Err(ConfigError::Invalid(
            "a server needs a certificate and key (cert_file/key_file or cert_pem/key_pem)"
                .to_owned(),
        ));
    }
    // Everything but the cipher suites is made once, and shared by the configurations of
    // the SNI names with cipher lists of their own: files are read (and passwords asked)
    // once.
    let (client_verifier, chain_policy_used) = client_verifier(opts, mode, provider)?;
    let resolver = Arc::new(sni_resolver(opts, identity, provider)?);
    if let Some(source) = &opts.ocsp_staple {
        staple(source, &resolver)?;
    }
    if !opts.sni_certs.is_empty() {
        sni_certs = Some(resolver.clone());
    }
    let server_config = |provider: Arc<CryptoProvider>| -> Result<ServerConfig, ConfigError> {
        let builder = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(engine_versions)
            .map_err(|e| ConfigError::Invalid(format!("inconsistent versions and suites: {e}")))?;
        let builder = match &client_verifier {
            Some(v) => builder.with_client_cert_verifier(v.clone()),
            None => builder.with_no_client_auth(),
        };
        let mut cfg = builder.with_cert_resolver(resolver.clone());
        cfg.alpn_protocols = alpn.clone();
        cfg.ignore_client_order = opts
            .honor_cipher_order
            .unwrap_or(defaults::HONOR_CIPHER_ORDER);
        Ok(cfg)
    };
    let mut cfg = server_config(provider.clone())?;
    if let Some(n) = opts.session_cache_size {
        cfg.session_storage = if n == 0 {
            Arc::new(rustls::server::NoServerSessionStorage {})
        } else {
            rustls::server::ServerSessionMemoryCache::new(n)
        };
    }
    if let Some(cb) = &opts.ticket_keycb {
        cfg.ticketer = Arc::new(tickets::KeyCallbackTicketer {
            callback: cb.clone(),
        });
    }
    if keylog_wanted() {
        cfg.key_log = Arc::new(rustls::KeyLogFile::new());
    }
    #[cfg(feature = "unstable-engine-config")]
    if let Some(hook) = opts.engine_hook() {
        hook(EngineConfigMut::Server(&mut cfg));
    }
    let mut by_name = Vec::new();
    for named_ciphers in &opts.per_name_ciphers {
        let mut o = opts.clone();
        if named_ciphers.cipher_list.is_some() {
            o.cipher_list = named_ciphers.cipher_list.clone();
        }
        if named_ciphers.ciphersuites.is_some() {
            o.ciphersuites = named_ciphers.ciphersuites.clone();
        }
        let name = &named_ciphers.name;
        let named_provider = Arc::new(provider_for(
            &o,
            versions.tls12,
            versions.tls13,
            unavailable,
        )?);
        let mut named = server_config(named_provider)?;
        // One session cache, ticket key set and key log for all names, so resumption
        // works across them.
        named.session_storage = cfg.session_storage.clone();
        named.ticketer = cfg.ticketer.clone();
        named.key_log = cfg.key_log.clone();
        #[cfg(feature = "unstable-engine-config")]
        if let Some(hook) = opts.engine_hook() {
            hook(EngineConfigMut::Server(&mut named));
        }
        by_name.push((
            name.trim_end_matches('.').to_ascii_lowercase(),
            Arc::new(named),
        ));
    }
    let config = EngineConfig::Server {
        alpn_fallback: !opts.alpn_strict && !cfg.alpn_protocols.is_empty(),
        config: Arc::new(cfg),
        by_name: Arc::new(by_name),
        certs: sni_certs,
    };
    Ok((config, chain_policy_used))
}

/// A server's verifier of client certificates and its policy, when clients are verified.
fn client_verifier(
    opts: &Options,
    mode: VerifyMode,
    provider: &Arc<CryptoProvider>,
) -> Result<(Option<Arc<ClientVerifier>>, PolicyUsed), ConfigError> {
    if !mode.verifies() {
        return Ok((None, None));
    }
    let policy = chain_policy(opts)?;
    if policy.trusts_nothing() {
        return Err(ConfigError::Invalid(
            "verify_mode asks to verify clients but no CA (ca_file/ca_path) or fingerprint is configured"
                .to_owned(),
        ));
    }
    let hints = if opts.client_ca_files.is_empty() && opts.client_ca_certs.is_empty() {
        ClientVerifier::hints_from(policy.anchor_subjects())
    } else {
        let listed = roots::load_ca(&opts.client_ca_files, &[], &opts.client_ca_certs)?;
        let subjects = listed
            .iter()
            .map(|c| {
                x509::subject_der(c)
                    .map_err(|e| ConfigError::Certificate(format!("client CA: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        ClientVerifier::hints_from(subjects.iter().map(Vec::as_slice))
    };
    let policy = Arc::new(policy);
    let verifier = Arc::new(ClientVerifier {
        policy: policy.clone(),
        mandatory: mode.contains(VerifyMode::FAIL_IF_NO_PEER_CERT),
        hints,
        provider: provider.clone(),
    });
    Ok((Some(verifier), Some(policy)))
}

/// The client configuration, and the policy servers are verified with (when they are).
fn build_client(
    common: &Common<'_>,
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
) -> Result<(EngineConfig, PolicyUsed), ConfigError> {
    let Common {
        opts,
        engine_versions,
        provider,
        mode,
        alpn,
        ..
    } = common;
    let (opts, mode) = (*opts, *mode);
    let mut chain_policy_used = None;
    let policy = if mode.verifies() {
        chain_policy(opts)?
    } else {
        log::warn!("dangerous: peer verification is off (VerifyMode::NONE); the server is not authenticated");
        ChainPolicy::default()
    };
    let policy = Arc::new(policy);
    if mode.verifies() {
        chain_policy_used = Some(policy.clone());
    }
    let verifier = verifier::ServerVerifier {
        policy,
        mode,
        scheme: scheme(opts),
        identity: opts.verifycn_name.clone(),
        provider: provider.clone(),
        nameless: false,
        ocsp: staple_policy(opts, mode),
        ech_public_names: match &opts.ech {
            Some(crate::ech::EchMode::Config(list)) => list.public_names().into(),
            _ => Arc::from([]),
        },
    };
    let base_verifier = verifier.clone();
    let nameless_verifier = shared_verifier(
        verifier::ServerVerifier {
            nameless: true,
            ..verifier.clone()
        },
        engine_versions,
    );
    let builder = ClientConfig::builder_with_provider(provider.clone());
    let builder = match ech_mode(opts)? {
        Some(mode) => builder.with_ech(mode),
        None => builder.with_protocol_versions(engine_versions),
    }
    .map_err(|e| ConfigError::Invalid(format!("inconsistent versions and suites: {e}")))?
    .dangerous()
    .with_custom_certificate_verifier(shared_verifier(verifier, engine_versions));
    let send_cert = opts.use_cert.unwrap_or(true);
    let mut identity_key = interned::PolicyKey::default();
    let mut cfg = match identity {
        Some((chain, key)) if send_cert => {
            for c in &chain {
                identity_key.part(c);
            }
            identity_key.part(key.secret_der());
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| mismatch(opts, e))?
        }
        _ => builder.with_no_client_auth(),
    };
    cfg.client_auth_cert_resolver =
        interned::client_identity(&identity_key, cfg.client_auth_cert_resolver.clone());
    cfg.alpn_protocols = alpn.clone();
    cfg.enable_sni = opts.hostname.as_deref() != Some("");
    let shared = opts
        .session_cache
        .clone()
        .or_else(session_cache::default_session_cache);
    let store = match (shared, opts.session_cache_size) {
        (Some(cache), _) => Some(cache.memory()),
        (None, Some(0)) => None,
        (None, n) => Some(Arc::new(session_cache::ClientStore::new(
            n.unwrap_or(defaults::CLIENT_SESSION_CACHE_SIZE),
        ))),
    };
    // Each connection files its sessions in its own slot (`RustlsSession::client`).
    cfg.resumption = rustls::client::Resumption::disabled();
    if keylog_wanted() {
        cfg.key_log = Arc::new(rustls::KeyLogFile::new());
    }
    #[cfg(feature = "unstable-engine-config")]
    if let Some(hook) = opts.engine_hook() {
        hook(EngineConfigMut::Client(&mut cfg));
    }
    let mut nameless = cfg.clone();
    nameless
        .dangerous()
        .set_certificate_verifier(nameless_verifier);
    let config = EngineConfig::Client {
        config: Arc::new(cfg),
        nameless: Arc::new(nameless),
        store,
        verifier: base_verifier,
        versions: engine_versions.to_vec(),
    };
    Ok((config, chain_policy_used))
}

/// SSLKEYLOGFILE names a file to log session secrets to (for Wireshark); off when unset.
fn keylog_wanted() -> bool {
    std::env::var_os("SSLKEYLOGFILE").is_some_and(|v| !v.is_empty())
}

/// The per-name certificates, with the main certificate (if any) as the default.
fn sni_resolver(
    opts: &Options,
    main: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    provider: &CryptoProvider,
) -> Result<sni::SniResolver, ConfigError> {
    let certified =
        |chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>, what: String| {
            let signing = provider.key_provider.load_private_key(key).map_err(|e| {
                ConfigError::Certificate(format!("{what}: unusable private key: {e}"))
            })?;
            let ck = rustls::sign::CertifiedKey::new(chain, signing);
            ck.keys_match().map_err(|_| {
                ConfigError::Certificate(format!(
                    "{what}: the private key does not match the certificate"
                ))
            })?;
            Ok::<_, ConfigError>(Arc::new(ck))
        };
    let mut resolver = sni::SniResolver::default();
    if let Some((chain, key)) = main {
        let file = |s: Option<&crate::options::Source>| match s {
            Some(crate::options::Source::File(p)) => p.display().to_string(),
            _ => "in-memory data".to_owned(),
        };
        let what = format!(
            "certificate {} with key {}",
            file(opts.cert.as_ref()),
            file(opts.key.as_ref().or(opts.cert.as_ref()))
        );
        resolver.add("", certified(chain, key, what)?);
    }
    for crate::options::SniCert { name, cert, key } in &opts.sni_certs {
        let chain = x509::load_chain(cert, &opts.password)?;
        let key = x509::load_key(key.as_ref(), cert, &opts.password)?;
        let what = match cert {
            crate::options::Source::File(p) => {
                format!("certificate for \"{name}\" ({})", p.display())
            }
            crate::options::Source::Memory(_) => format!("certificate for \"{name}\""),
        };
        resolver.add(name, certified(chain, key, what)?);
    }
    Ok(resolver)
}

/// Staples OCSP responses to the server's certificates: a file to the default certificate
/// (refused when it does not fit it), fetched responses to each certificate; a thread per
/// certificate keeps them current.
fn staple(
    source: &crate::ocsp::StapleSource,
    resolver: &Arc<sni::SniResolver>,
) -> Result<(), ConfigError> {
    use crate::ocsp::StapleSource;
    let targets: Vec<&Arc<sni::Stapled>> = match source {
        StapleSource::File(_) => resolver.defaults().iter().take(1).collect(),
        _ => resolver.all().collect(),
    };
    if targets.is_empty() {
        return Err(ConfigError::Invalid(
            "ocsp_staple: a staple file is for the default certificate, and there is none"
                .to_owned(),
        ));
    }
    for target in targets {
        let chain: Vec<Vec<u8>> = target.current().cert.iter().map(|c| c.to_vec()).collect();
        keep_stapled(source, chain, target.clone())?;
    }
    Ok(())
}

/// Server, on either engine: puts a staple for `chain` (its certificate first) into `slot` and
/// keeps it current on a stapler thread while the slot lives. A staple file that does not fit
/// is a configuration error; a responder that does not answer yet is retried.
pub(crate) fn keep_stapled(
    source: &crate::ocsp::StapleSource,
    chain: Vec<Vec<u8>>,
    slot: Arc<dyn crate::ocsp::StapleSlot>,
) -> Result<(), ConfigError> {
    use crate::ocsp::StapleSource;
    let current = match crate::ocsp::obtain(source, &chain, defaults::OCSP_TIMEOUT) {
        Ok((der, status)) => {
            slot.set_staple(Some(der));
            Some(status)
        }
        Err(e) if matches!(source, StapleSource::File(_)) => {
            return Err(ConfigError::Invalid(format!("ocsp_staple: {e}")));
        }
        Err(e) => {
            log::warn!("OCSP stapling: no staple for now ({e}); retrying in the background");
            None
        }
    };
    crate::ocsp::keep_current(
        source.clone(),
        chain,
        current,
        defaults::OCSP_RETRY,
        Arc::downgrade(&slot),
    );
    Ok(())
}

/// Turns an engine error into ours, keeping typed verification failures.
pub(crate) fn map_error(e: rustls::Error) -> Error {
    use rustls::Error as R;
    if let R::InvalidCertificate(c) = &e {
        // Our verifier's refusal, in its own words.
        if let Some(v) = verifier::take_detail(c) {
            return Error::Verify(v);
        }
    }
    match e {
        R::InvalidCertificate(rustls::CertificateError::Other(other)) => {
            match other.0.downcast_ref::<VerifyError>() {
                Some(v) => Error::Verify(v.clone()),
                None => Error::Verify(VerifyError::Other(other.to_string())),
            }
        }
        R::InvalidCertificate(c) => Error::Verify(match c {
            rustls::CertificateError::Expired | rustls::CertificateError::ExpiredContext { .. } => {
                VerifyError::Other("certificate has expired".to_owned())
            }
            rustls::CertificateError::UnknownIssuer => VerifyError::UnknownIssuer {
                issuer: "?".to_owned(),
            },
            rustls::CertificateError::BadSignature => VerifyError::BadSignature,
            rustls::CertificateError::Revoked => {
                VerifyError::Other("certificate is revoked".to_owned())
            }
            rustls::CertificateError::InvalidPurpose
            | rustls::CertificateError::InvalidPurposeContext { .. } => VerifyError::BadPurpose,
            other => VerifyError::Other(crate::text::words_of_debug(&format!("{other:?}"))),
        }),
        R::NoCertificatesPresented => Error::Verify(VerifyError::NoPeerCertificate),
        R::AlertReceived(alert) => {
            let alert = Alert(u8::from(alert));
            if alert == Alert::PROTOCOL_VERSION {
                Error::Tls(TlsError::NoCommonVersion(format!(
                    "peer sent alert {alert}: it supports none of the versions we offered"
                )))
            } else {
                Error::Tls(TlsError::AlertReceived(alert))
            }
        }
        R::PeerIncompatible(p) => incompatible(&p),
        R::NoApplicationProtocol => Error::Tls(TlsError::NoCommonParameters {
            parameter: Parameter::ApplicationProtocol,
            detail: "the client offered none the server accepts (alpn_strict)".to_owned(),
        }),
        R::InvalidMessage(m) => Error::Tls(TlsError::BadMessage(format!(
            "the peer sent a malformed message ({})",
            crate::text::words_of_debug(&format!("{m:?}"))
        ))),
        R::PeerMisbehaved(m) => Error::Tls(TlsError::BadMessage(format!(
            "the peer broke the protocol ({})",
            crate::text::words_of_debug(&format!("{m:?}"))
        ))),
        other => Error::Tls(TlsError::Other(other.to_string())),
    }
}

/// What the peer and we could not agree on, by the engine's reason.
fn incompatible(p: &rustls::PeerIncompatible) -> Error {
    use rustls::PeerIncompatible as P;
    if let P::ServerRejectedEncryptedClientHello(retry) = p {
        // The engine hands the retry configs over parsed; they are put back into the wire
        // form (with its codec, the only way it offers) for the user to keep.
        let retry_configs = retry.as_ref().and_then(|configs| {
            let mut body = Vec::new();
            for c in configs {
                rustls::internal::msgs::codec::Codec::encode(c, &mut body);
            }
            let mut wire = u16::try_from(body.len()).ok()?.to_be_bytes().to_vec();
            wire.extend(body);
            crate::ech::EchConfigList::from_bytes(wire).ok()
        });
        return Error::Tls(TlsError::EchRejected { retry_configs });
    }
    let detail = match p {
        P::ServerDoesNotSupportTls12Or13 => {
            "the server supports neither TLS 1.2 nor TLS 1.3".to_owned()
        }
        other => crate::text::words_of_debug(&format!("{other:?}")),
    };
    let parameter = match p {
        P::ServerDoesNotSupportTls12Or13
        | P::ServerTlsVersionIsDisabledByOurConfig
        | P::SupportedVersionsExtensionRequired
        | P::Tls12NotOffered
        | P::Tls12NotOfferedOrEnabled
        | P::Tls13RequiredForQuic => return Error::Tls(TlsError::NoCommonVersion(detail)),
        P::NoCipherSuitesInCommon => Parameter::CipherSuite,
        P::NoKxGroupsInCommon | P::NoEcPointFormatsInCommon => Parameter::Group,
        P::NoSignatureSchemesInCommon | P::NoCertificateRequestSignatureSchemesInCommon => {
            Parameter::SignatureScheme
        }
        _ => Parameter::Extension,
    };
    Error::Tls(TlsError::NoCommonParameters { parameter, detail })
}
