//! The default engine: rustls, built from a [`Plan`]. `build` turns the plan into a client
//! or server configuration; `session` drives one connection; `verifier` puts the checks of
//! `verify::peer` behind rustls's verifier traits; `sni` chooses a server's certificate by
//! SNI name; `tickets` seals tickets under the application's keys.

pub(crate) mod session;
mod sni;
pub(crate) mod tickets;
mod verifier;

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, ServerConfig};

use super::{interned, resumption, suites, Built, EngineConfig};
use crate::defaults;
use crate::error::{Alert, ConfigError, Error, Parameter, TlsError, VerifyError};
use crate::plan::{ClientPlan, Identity, Plan, ServerPlan};
use crate::x509;
use verifier::ClientVerifier;

/// What a server's ClientHello callback chose: another server configuration and the chain
/// it presents; `Err` with the reason when the choice cannot be used.
pub(crate) type Choice = Result<(Config, Vec<pki_types::CertificateDer<'static>>), String>;

/// The callback inside a [`Chooser`].
pub(crate) type ChooseFn = dyn Fn(&crate::hello::ClientHello) -> Option<Choice> + Send + Sync;

/// A server's ClientHello callback, as the engine calls it (`None`: this configuration).
#[derive(Clone)]
pub(crate) struct Chooser(pub(crate) Arc<ChooseFn>);

impl std::fmt::Debug for Chooser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Chooser")
    }
}

impl Config {
    /// This server configuration with `chooser` consulted for each ClientHello; `None` for
    /// a client's.
    pub(crate) fn with_chooser(&self, chooser: Chooser) -> Option<Config> {
        let mut config = self.clone();
        match &mut config {
            Config::Server { chooser: slot, .. } => *slot = Some(chooser),
            Config::Client { .. } => return None,
        }
        Some(config)
    }
}

/// A context on the default engine.
#[derive(Debug, Clone)]
pub(crate) enum Config {
    /// A client context.
    Client {
        /// For handshakes toward a named peer.
        config: Arc<ClientConfig>,
        /// The same, for a peer without a name (nothing verified, scheme `none`, or a pin): its
        /// verifier knows that no name was given, so no address stands for "no name".
        nameless: Arc<ClientConfig>,
        /// The session store it resumes from (none: resumption off).
        store: Option<Arc<resumption::ClientStore>>,
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
        /// Chooses another server context by the ClientHello.
        chooser: Option<Chooser>,
    },
}

/// Server: go on without ALPN when the client's offer shares nothing with ours (`true`), or
/// refuse (`alpn_strict`).
pub(crate) type AlpnFallback = bool;

/// Server configurations chosen by the SNI name in the ClientHello.
pub(crate) type PerName = Arc<Vec<(String, Arc<ServerConfig>)>>;

/// The cipher suites and groups of `plan` (a name's own lists when given) for the enabled
/// versions; names OpenSSL knows and this engine lacks go to `unavailable`.
fn provider_for(
    plan: &Plan,
    cipher_list: Option<&str>,
    ciphersuites: Option<&str>,
    versions: suites::Versions,
    unavailable: &mut Vec<String>,
) -> Result<CryptoProvider, ConfigError> {
    let base = rustls::crypto::aws_lc_rs::default_provider();
    let mut suites: Vec<rustls::SupportedCipherSuite> = Vec::new();
    if versions.tls13 {
        let spec = ciphersuites.unwrap_or(defaults::CIPHERSUITES);
        suites.extend(
            suites::parse_ciphersuites(spec, unavailable)?
                .iter()
                .map(|s| s.suite),
        );
    }
    // A list given is validated even when TLS 1.2 is off, so a bad string never passes.
    if cipher_list.is_some() || versions.tls12 {
        let list =
            suites::parse_cipher_list(cipher_list.unwrap_or(defaults::CIPHER_LIST), unavailable)?;
        if versions.tls12 {
            suites.extend(list.iter().map(|s| s.suite));
        }
    }
    if suites.is_empty() {
        return Err(ConfigError::Cipher {
            spec: ciphersuites.unwrap_or_default().to_owned(),
            reason: "no cipher suite left for the enabled protocol versions".to_owned(),
        });
    }
    let kx_groups = suites::parse_groups(
        plan.groups.as_deref().unwrap_or(defaults::GROUPS),
        unavailable,
    )?;
    Ok(CryptoProvider {
        cipher_suites: suites,
        kx_groups,
        ..base
    })
}

/// The verifier of a client context, shared with every context of the same verification
/// policy (see [`interned`]); a policy that cannot be told by value gets its own.
pub(crate) fn shared_verifier(
    v: verifier::ServerVerifier,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<dyn rustls::client::danger::ServerCertVerifier> {
    let made: Arc<dyn rustls::client::danger::ServerCertVerifier> = Arc::new(v.clone());
    let Some(key) = interned::policy_key(&v.check, v.nameless, &format!("{versions:?}")) else {
        return made;
    };
    interned::verifier(&key, made)
}

/// The engine's configuration hook (`engine_callback`), if the plan has one.
#[cfg(feature = "unstable-engine-config")]
fn engine_hook(plan: &Plan) -> Option<&super::EngineHook> {
    plan.engine_hook
        .as_ref()
        .and_then(|h| h.downcast_ref::<super::EngineHook>())
}

/// Builds a rustls configuration from `plan`.
pub(crate) fn build(plan: &Plan) -> Result<Built, ConfigError> {
    let versions = suites::parse_versions(&plan.versions)?;
    let mut unavailable = Vec::new();
    let config = match plan.client() {
        Some(client) => {
            let versions = ech_versions(plan, client, versions)?;
            let provider = provider_for(
                plan,
                plan.cipher_list.as_deref(),
                plan.ciphersuites.as_deref(),
                versions,
                &mut unavailable,
            )?;
            build_client(plan, client, versions, Arc::new(provider))?
        }
        None => build_server(plan, versions, &mut unavailable)?,
    };
    Ok(Built {
        config: EngineConfig::Rustls(config),
        unavailable,
    })
}

/// ECH needs TLS 1.3: the versions of a client context with ECH, or why there are none.
fn ech_versions(
    plan: &Plan,
    client: &ClientPlan,
    v: suites::Versions,
) -> Result<suites::Versions, ConfigError> {
    use crate::ech::{EchError, EchMode};
    let (kind, why) = match &client.ech {
        None | Some(EchMode::Off) => return Ok(v),
        // GREASE hides nothing: it only keeps ECH's extension in use, and that extension
        // exists only in a TLS 1.3 ClientHello.
        Some(EchMode::Grease) => (
            "GREASE ECH",
            "it is a TLS 1.3 extension; drop the GREASE or allow TLS 1.3",
        ),
        Some(_) => (
            "ECH",
            "a TLS 1.2 handshake would send the server name in the clear",
        ),
    };
    if !v.tls13 {
        return Err(EchError::new(format!(
            "{kind} needs TLS 1.3, but the versions \"{}\" allow only TLS 1.2 ({why})",
            plan.versions
        ))
        .into());
    }
    if v.tls12 && plan.versions_given {
        log::warn!(
            "{kind} needs TLS 1.3: TLS 1.2, allowed by the versions \"{}\", is off for this context",
            plan.versions
        );
    }
    Ok(suites::Versions {
        tls12: false,
        tls13: true,
    })
}

/// The engine's ECH mode for a client context.
fn ech_mode(client: &ClientPlan) -> Result<Option<rustls::client::EchMode>, ConfigError> {
    use crate::ech::{EchError, EchMode};
    use rustls::crypto::aws_lc_rs::hpke;
    match &client.ech {
        None | Some(EchMode::Off) => Ok(None),
        Some(EchMode::Config(list)) => {
            let bytes = pki_types::EchConfigListBytes::from(list.as_bytes().to_vec());
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

/// The server configuration (and those of the SNI names with cipher lists of their own).
fn build_server(
    plan: &Plan,
    versions: suites::Versions,
    unavailable: &mut Vec<String>,
) -> Result<Config, ConfigError> {
    let server = plan.server().ok_or(ConfigError::Invalid(
        "a server configuration from a client plan".to_owned(),
    ))?;
    if plan.identity.is_none() && server.sni_certs.is_empty() {
        return Err(ConfigError::Invalid(
            "a server needs a certificate and key (cert_file/key_file or cert_pem/key_pem)"
                .to_owned(),
        ));
    }
    let provider = Arc::new(provider_for(
        plan,
        plan.cipher_list.as_deref(),
        plan.ciphersuites.as_deref(),
        versions,
        unavailable,
    )?);
    // Everything but the cipher suites is made once and shared by the configurations of the
    // SNI names with cipher lists of their own.
    let client_verifier = client_verifier(server, &provider)?;
    let resolver = Arc::new(sni_resolver(plan.identity.as_ref(), server, &provider)?);
    if let Some(source) = &server.ocsp_staple {
        staple(source, server.ocsp_staple_store.as_ref(), &resolver)?;
    }
    let engine_versions = versions.engine_versions();
    let server_config = |provider: Arc<CryptoProvider>| -> Result<ServerConfig, ConfigError> {
        let builder = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&engine_versions)
            .map_err(|e| ConfigError::Invalid(format!("inconsistent versions and suites: {e}")))?;
        let builder = match &client_verifier {
            Some(v) => builder.with_client_cert_verifier(v.clone()),
            None => builder.with_no_client_auth(),
        };
        let mut cfg = builder.with_cert_resolver(resolver.clone());
        cfg.alpn_protocols = plan.alpn.clone();
        cfg.ignore_client_order = server.honor_cipher_order;
        Ok(cfg)
    };
    let mut cfg = server_config(provider)?;
    if let Some(n) = server.session_cache_size {
        cfg.session_storage = if n == 0 {
            Arc::new(rustls::server::NoServerSessionStorage {})
        } else {
            rustls::server::ServerSessionMemoryCache::new(n)
        };
    }
    if let Some(store) = &server.session_store {
        if server.session_cache_size == Some(0) {
            return Err(ConfigError::Invalid(
                "server_session_store and session_cache_size 0 contradict: a store keeps sessions, size 0 keeps none".to_owned(),
            ));
        }
        cfg.session_storage = Arc::new(tickets::SharedSessions {
            store: store.clone(),
            scope: interned::server_session_scope(server.client_check.as_ref()),
        });
    }
    if let Some(cb) = &server.ticket_keycb {
        cfg.ticketer = Arc::new(tickets::KeyCallbackTicketer {
            callback: cb.clone(),
            scope: interned::server_session_scope(server.client_check.as_ref()),
        });
    }
    if super::keylog_wanted() {
        cfg.key_log = Arc::new(rustls::KeyLogFile::new());
    }
    #[cfg(feature = "unstable-engine-config")]
    if let Some(hook) = engine_hook(plan) {
        hook(super::EngineConfigMut::Server(&mut cfg));
    }
    let mut by_name = Vec::new();
    for named in &server.per_name_ciphers {
        let provider = Arc::new(provider_for(
            plan,
            named.cipher_list.as_deref().or(plan.cipher_list.as_deref()),
            named
                .ciphersuites
                .as_deref()
                .or(plan.ciphersuites.as_deref()),
            versions,
            unavailable,
        )?);
        let mut own = server_config(provider)?;
        // One session cache, ticket key set and key log for all names, so resumption
        // works across them.
        own.session_storage = cfg.session_storage.clone();
        own.ticketer = cfg.ticketer.clone();
        own.key_log = cfg.key_log.clone();
        #[cfg(feature = "unstable-engine-config")]
        if let Some(hook) = engine_hook(plan) {
            hook(super::EngineConfigMut::Server(&mut own));
        }
        by_name.push((
            named.name.trim_end_matches('.').to_ascii_lowercase(),
            Arc::new(own),
        ));
    }
    Ok(Config::Server {
        alpn_fallback: !server.alpn_strict && !cfg.alpn_protocols.is_empty(),
        config: Arc::new(cfg),
        by_name: Arc::new(by_name),
        certs: (!server.sni_certs.is_empty()).then_some(resolver),
        chooser: None,
    })
}

/// A server's verifier of client certificates, when clients are verified; the CAs a
/// certificate request lists are `SSL_client_ca`'s, else the trusted ones.
fn client_verifier(
    server: &ServerPlan,
    provider: &Arc<CryptoProvider>,
) -> Result<Option<Arc<ClientVerifier>>, ConfigError> {
    let Some(check) = &server.client_check else {
        return Ok(None);
    };
    let verifier = match &server.client_cas {
        None => ClientVerifier::new(
            check.clone(),
            check.policy.anchor_subjects(),
            provider.clone(),
        ),
        Some(listed) => {
            let subjects = listed
                .iter()
                .map(|c| {
                    x509::subject_der(c)
                        .map_err(|e| ConfigError::Certificate(format!("client CA: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            ClientVerifier::new(
                check.clone(),
                subjects.iter().map(Vec::as_slice),
                provider.clone(),
            )
        }
    };
    Ok(Some(Arc::new(verifier)))
}

/// The client configuration: one for named peers, one for a peer without a name.
fn build_client(
    plan: &Plan,
    client: &ClientPlan,
    versions: suites::Versions,
    provider: Arc<CryptoProvider>,
) -> Result<Config, ConfigError> {
    let engine_versions = versions.engine_versions();
    let verifier = verifier::ServerVerifier {
        check: client.check.clone(),
        provider: provider.clone(),
        nameless: false,
    };
    let nameless_verifier = shared_verifier(
        verifier::ServerVerifier {
            nameless: true,
            ..verifier.clone()
        },
        &engine_versions,
    );
    let builder = ClientConfig::builder_with_provider(provider);
    let builder = match ech_mode(client)? {
        Some(mode) => builder.with_ech(mode),
        None => builder.with_protocol_versions(&engine_versions),
    }
    .map_err(|e| ConfigError::Invalid(format!("inconsistent versions and suites: {e}")))?
    .dangerous()
    .with_custom_certificate_verifier(shared_verifier(verifier.clone(), &engine_versions));
    let mut identity_key = interned::PolicyKey::default();
    let mut cfg = match plan.identity.clone().filter(|_| client.send_cert) {
        Some(Identity { chain, key, what }) => {
            for c in &chain {
                identity_key.part(c);
            }
            identity_key.part(key.secret_der());
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| mismatch(&what, e))?
        }
        None => builder.with_no_client_auth(),
    };
    cfg.client_auth_cert_resolver =
        interned::client_identity(&identity_key, cfg.client_auth_cert_resolver.clone());
    cfg.alpn_protocols = plan.alpn.clone();
    cfg.enable_sni = client.sni;
    let store = match (&client.shared_sessions, client.session_cache_size) {
        (Some(cache), _) => Some(cache.memory()),
        (None, Some(0)) => None,
        (None, n) => Some(Arc::new(resumption::ClientStore::new(
            n.unwrap_or(defaults::CLIENT_SESSION_CACHE_SIZE),
        ))),
    };
    // Each connection files its sessions in its own slot (`RustlsSession::client`).
    cfg.resumption = rustls::client::Resumption::disabled();
    if super::keylog_wanted() {
        cfg.key_log = Arc::new(rustls::KeyLogFile::new());
    }
    #[cfg(feature = "unstable-engine-config")]
    if let Some(hook) = engine_hook(plan) {
        hook(super::EngineConfigMut::Client(&mut cfg));
    }
    let mut nameless = cfg.clone();
    nameless
        .dangerous()
        .set_certificate_verifier(nameless_verifier);
    Ok(Config::Client {
        config: Arc::new(cfg),
        nameless: Arc::new(nameless),
        store,
        verifier,
        versions: engine_versions,
    })
}

/// A client identity the engine refuses, in words that name its files.
fn mismatch(what: &str, e: rustls::Error) -> ConfigError {
    match e {
        rustls::Error::InconsistentKeys(_) => ConfigError::Certificate(format!(
            "{what}: the private key does not match the certificate"
        )),
        other => ConfigError::Certificate(format!("{what}: unusable: {other}")),
    }
}

/// Whether the leaf's SubjectPublicKeyInfo is the key's, compared as written; `None` when
/// either cannot be read.
fn same_public_key(ck: &rustls::sign::CertifiedKey) -> Option<bool> {
    let spki = ck.key.public_key()?;
    let (_, leaf) = x509_parser::parse_x509_certificate(ck.end_entity_cert().ok()?).ok()?;
    Some(leaf.tbs_certificate.subject_pki.raw == spki.as_ref())
}

/// The server's certificates: the default (if any) and those by SNI name.
fn sni_resolver(
    main: Option<&Identity>,
    server: &ServerPlan,
    provider: &CryptoProvider,
) -> Result<sni::SniResolver, ConfigError> {
    let certified = |identity: &Identity| {
        let Identity { chain, key, what } = identity.clone();
        let signing = provider
            .key_provider
            .load_private_key(key)
            .map_err(|e| ConfigError::Certificate(format!("{what}: unusable private key: {e}")))?;
        let ck = rustls::sign::CertifiedKey::new(chain, signing);
        let mismatch = || {
            ConfigError::Certificate(format!(
                "{what}: the private key does not match the certificate"
            ))
        };
        match ck.keys_match() {
            Ok(()) => {}
            Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
                return Err(mismatch());
            }
            // webpki reads certificates as a verifier does and refuses some a server may
            // still present (a TLS-ALPN-01 challenge's, with its critical acmeIdentifier):
            // then the public keys are compared as they are written.
            Err(other) => match same_public_key(&ck) {
                Some(true) => {}
                Some(false) => return Err(mismatch()),
                None => {
                    return Err(ConfigError::Certificate(format!(
                        "{what}: the key cannot be checked against the certificate: {other}"
                    )))
                }
            },
        }
        Ok::<_, ConfigError>(Arc::new(ck))
    };
    let mut resolver = sni::SniResolver::default();
    if let Some(identity) = main {
        resolver.add("", certified(identity)?);
    }
    for named in &server.sni_certs {
        resolver.add(&named.name, certified(&named.identity)?);
    }
    Ok(resolver)
}

/// Staples OCSP responses to the server's certificates: a file to the default certificate
/// (refused when it does not fit it), fetched responses to each certificate; a thread per
/// certificate keeps them current.
fn staple(
    source: &crate::ocsp::StapleSource,
    store: Option<&Arc<dyn crate::ocsp::StapleStore>>,
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
        super::keep_stapled(source, store, chain, target.clone())?;
    }
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
