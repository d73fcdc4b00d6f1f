//! The OpenSSL engine (feature `openssl`, chosen per context with
//! [`Engine::OpenSsl`](crate::options::Engine)): the system's libssl behind the same sans-IO
//! session contract as the default engine, for legacy peers: TLS 1.0 and 1.1, OpenSSL cipher
//! strings as they are (CBC suites included), PSK, and finite-field DHE with the server's own
//! parameters.
//!
//! OpenSSL runs over memory: the socket feeds it one record at a time and takes what it wants
//! to send from a buffer, so bytes after a close_notify stay with the socket (`stop_ssl`), and
//! non-blocking and async sockets work unchanged. Certificates are not verified by OpenSSL:
//! inside its handshake, from its verify callback, the chain the peer sent goes through
//! sslsock's own checks (`crate::peer`: trust anchors, pins, name constraints, CRLs, the
//! verify callback, the hostname scheme), so the policy is the same on both engines and a
//! refused peer gets the alert that says why, as on the default engine (`unknown_ca`,
//! `certificate_expired`, `bad_certificate`, `unsupported_certificate`,
//! `certificate_revoked`, `decrypt_error`; a refusal by pin or by the application's callback
//! is OpenSSL's "application verification" and sends `handshake_failure` where the default
//! engine sends `access_denied`). A client checks the server's OCSP staple as soon as it has
//! it: with the certificate in TLS 1.3, from OpenSSL's status callback in TLS 1.2 (whose
//! refusals all send `bad_certificate_status_response`); those callbacks are in `verify.rs`,
//! the FFI OpenSSL's crate lacks in `ffi.rs`.
//!
//! The default engine's server features work here too, through OpenSSL's callbacks:
//! certificates and cipher lists per SNI name (a context per name, chosen in the ClientHello
//! callback), ticket key callbacks, OCSP stapling, and client session caches shared between
//! contexts (sessions kept in DER, per verification policy). ECH is refused (OpenSSL 3.0
//! has none).

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex, OnceLock};

use openssl::ex_data::Index;

use openssl::ssl::{
    self as ossl, ErrorCode, NameType, Ssl, SslContextBuilder, SslMethod, SslStream, SslVerifyMode,
    SslVersion,
};
use pki_types::CertificateDer;

use super::resumption::Slot;
use super::suites::CipherNames;
use crate::defaults;
use crate::error::{Alert, ConfigError, Error, TlsError, VerifyError};
use crate::peer::{now, ClientCheck, PeerOutcome, ServerCheck};
use crate::plan::{ClientPlan, Identity, NamedIdentity, Plan, ServerPlan, Side, Target};
use verify::{
    check_staple, decide_client, decide_server, lock, verify_in_handshake, Verdict, VerdictSlot,
};

mod ffi;
mod verify;

/// What a context on the OpenSSL engine holds.
pub(crate) struct Config {
    ctx: ossl::SslContext,
    server: bool,
    /// Client: how the server's chain is checked (for the name each connection checks).
    server_check: Option<ServerCheck>,
    /// Server: how client certificates are checked, when they are asked for.
    client_check: Option<Arc<ClientCheck>>,
    /// PSK keys are configured: a peer without a certificate authenticated with one.
    psk: bool,
    /// Client: sessions to resume, by session key (none when the cache size is 0).
    sessions: Option<Arc<Sessions>>,
    /// Client: where a connection keeps its session key for the new-session callback.
    key_index: Index<Ssl, Slot>,
    /// Where a connection keeps what its verification decided, for the status callback.
    verdict_index: Index<Ssl, VerdictSlot>,
    /// Server: how client certificates are asked for (`None`: they are not).
    client_verify_mode: Option<SslVerifyMode>,
    /// Server: every chain it may present (its own, alternates, the SNI names').
    chains: Vec<Vec<CertificateDer<'static>>>,
    /// The NPN list OpenSSL's callbacks read; after `ctx`, so it is dropped after it.
    _npn: Option<Box<ffi::NpnList>>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenSslConfig")
            .field("server", &self.server)
            .finish()
    }
}

/// The versions an `SSL_version` string selects on this engine.
fn versions(plan: &Plan) -> Result<super::suites::AllVersions, ConfigError> {
    let spec = plan.versions.as_str();
    let v = super::suites::parse_all_versions(spec)?;
    // OpenSSL offers one range of versions: with a gap it would offer those below the gap
    // only ("TLSv1:TLSv1_2" would be TLS 1.0 alone).
    let on = [v.tls10, v.tls11, v.tls12, v.tls13];
    let first = on.iter().position(|o| *o);
    let last = on.iter().rposition(|o| *o);
    if let (Some(first), Some(last)) = (first, last) {
        if on[first..=last].iter().any(|o| !o) {
            return Err(ConfigError::Version {
                spec: spec.to_owned(),
                reason: "the versions leave a gap, and OpenSSL offers one range of versions only (it would offer those below the gap); name the versions between too".into(),
            });
        }
    }
    Ok(v)
}

/// `list` without anonymous and unencrypted suites, which are never offered or accepted:
/// they authenticate nobody, or protect nothing.
fn without_anonymous(list: &str) -> String {
    format!("{list}:!aNULL:!eNULL")
}

/// Signature algorithms of TLS 1.2 handshakes: no SHA-1, whatever the security level (TLS
/// 1.0 and 1.1 do not negotiate them).
const SIGALGS_WITHOUT_SHA1: &str = "ECDSA+SHA256:ECDSA+SHA384:ECDSA+SHA512:ed25519:ed448:\
rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:rsa_pss_rsae_sha512:\
rsa_pss_pss_sha256:rsa_pss_pss_sha384:rsa_pss_pss_sha512:RSA+SHA256:RSA+SHA384:RSA+SHA512";

fn ossl_err(what: &str) -> impl Fn(openssl::error::ErrorStack) -> ConfigError + '_ {
    move |e| ConfigError::Invalid(format!("{what} (OpenSSL: {e})"))
}

/// Versions, renegotiation, cipher lists, groups and the server's cipher order.
fn protocols(
    plan: &Plan,
    b: &mut SslContextBuilder,
    v: super::suites::AllVersions,
) -> Result<(), ConfigError> {
    let lowest = [
        (v.tls10, SslVersion::TLS1),
        (v.tls11, SslVersion::TLS1_1),
        (v.tls12, SslVersion::TLS1_2),
        (v.tls13, SslVersion::TLS1_3),
    ];
    let min = lowest.iter().find(|(on, _)| *on).map(|(_, v)| *v);
    let max = lowest.iter().rev().find(|(on, _)| *on).map(|(_, v)| *v);
    b.set_min_proto_version(min)
        .map_err(ossl_err("cannot set the lowest version"))?;
    b.set_max_proto_version(max)
        .map_err(ossl_err("cannot set the highest version"))?;
    // No renegotiation, either side: the default engine has none, and a later handshake's
    // certificate would go unchecked by a verification that runs once per connection.
    b.set_options(ossl::SslOptions::NO_RENEGOTIATION);
    if v.tls10 || v.tls11 {
        // TLS 1.0 and 1.1 sign with SHA-1 and MD5, which security level 1 forbids in
        // OpenSSL 3: lowered to 0, and only because an old version was asked for by name.
        // TLS 1.2 handshakes of the context keep a signature list without SHA-1.
        b.set_security_level(0);
        b.set_sigalgs_list(SIGALGS_WITHOUT_SHA1)
            .map_err(ossl_err("OpenSSL refused the signature algorithm list"))?;
        log::warn!(
            "dangerous: TLS 1.0/1.1 enabled on the openssl engine; OpenSSL's security level is lowered to 0 for this context (SHA-1 and MD5 handshake signatures in TLS 1.0/1.1, short keys and weak suites; TLS 1.2 handshakes still refuse SHA-1 signatures)"
        );
    }
    // Without lists of its own the context takes sslsock's order, the same on both engines;
    // with TLS 1.0/1.1 named or PSK keys, OpenSSL's defaults (which hold the CBC and PSK
    // suites those need).
    if plan.cipher_list.is_none() && !(v.tls10 || v.tls11) && plan.psk.is_none() {
        b.set_cipher_list(&without_anonymous(defaults::CIPHER_LIST))
            .map_err(ossl_err("OpenSSL refused the default cipher list"))?;
    }
    if plan.ciphersuites.is_none() {
        b.set_ciphersuites(defaults::CIPHERSUITES)
            .map_err(ossl_err("OpenSSL refused the default TLS 1.3 suites"))?;
    }
    cipher_lists(
        b,
        plan.cipher_list.as_deref(),
        plan.ciphersuites.as_deref(),
        "",
    )?;
    if let Some(groups) = &plan.groups {
        b.set_groups_list(groups).map_err(|e| ConfigError::Groups {
            spec: groups.clone(),
            reason: format!("OpenSSL refused it: {e}"),
        })?;
    }
    if plan.server().is_some_and(|s| s.honor_cipher_order) {
        b.set_options(ossl::SslOptions::CIPHER_SERVER_PREFERENCE);
    }
    Ok(())
}

/// What OpenSSL is told to ask of the peer; sslsock's checks run inside its callbacks
/// (a client's staple check from its status callback).
fn peer_checks(
    plan: &Plan,
    b: &mut SslContextBuilder,
    verdict_index: Index<Ssl, VerdictSlot>,
) -> Result<Option<SslVerifyMode>, ConfigError> {
    b.set_verify(SslVerifyMode::NONE);
    match &plan.side {
        Side::Server(ServerPlan {
            client_check: Some(check),
            ..
        }) => {
            // OpenSSL only asks for the certificate; sslsock verifies it, from the callback
            // each connection sets.
            let mut m = SslVerifyMode::PEER;
            if check.mandatory {
                m |= SslVerifyMode::FAIL_IF_NO_PEER_CERT;
            }
            b.set_verify(m);
            Ok(Some(m))
        }
        Side::Server(_) => Ok(None),
        Side::Client(client) => {
            let staple_checker = client.check.clone();
            b.set_status_callback(move |ssl| Ok(check_staple(&staple_checker, ssl, verdict_index)))
                .map_err(ossl_err("cannot set the OCSP status callback"))?;
            Ok(None)
        }
    }
}

/// `SSL_dh_file` / `SSL_dh`: finite-field DH parameters for a server's DHE suites.
fn dh_params(server: &ServerPlan, b: &mut SslContextBuilder) -> Result<(), ConfigError> {
    let Some(dh) = &server.dh_params else {
        return Ok(());
    };
    {
        let pem = match dh {
            crate::options::DhParams::Pem(p) => p.clone(),
            crate::options::DhParams::File(path) => {
                crate::x509::read_capped(path).map_err(|e| ConfigError::File {
                    path: path.clone(),
                    reason: format!("cannot read the DH parameters: {e}"),
                })?
            }
        };
        let params = openssl::dh::Dh::params_from_pem(&pem).map_err(ossl_err(
            "the DH parameters are not a PEM \"DH PARAMETERS\" block",
        ))?;
        b.set_tmp_dh(&params)
            .map_err(ossl_err("OpenSSL refused the DH parameters"))?;
    }
    Ok(())
}

/// A server's CA name list for certificate requests and its own session cache.
fn server_settings(server: &ServerPlan, b: &mut SslContextBuilder) -> Result<(), ConfigError> {
    if let Some(listed) = &server.client_cas {
        // The CA names sent with a certificate request (`SSL_client_ca`).
        let mut names = openssl::stack::Stack::new().map_err(ossl_err("no CA name list"))?;
        for c in listed {
            let cert = openssl::x509::X509::from_der(c)
                .map_err(ossl_err("OpenSSL cannot read a client CA"))?;
            names
                .push(
                    cert.subject_name()
                        .to_owned()
                        .map_err(ossl_err("a client CA name"))?,
                )
                .map_err(ossl_err("a client CA name"))?;
        }
        b.set_client_ca_list(names);
    }
    // Sessions and tickets carry the server's client policy as their session id context:
    // OpenSSL resumes one only where the context is the same (a server that checks clients
    // otherwise, though it shares ticket keys, does a full handshake), and a server that
    // verifies clients needs one to resume at all.
    let scope = super::interned::server_session_scope(server.client_check.as_ref());
    b.set_session_id_context(&scope[..scope.len().min(32)])
        .map_err(ossl_err("cannot set the session id context"))?;
    {
        // The server's own cache and tickets (OpenSSL's); size 0 turns resumption off, as on
        // the default engine, but for tickets under the application's keys.
        match server.session_cache_size {
            Some(0) => {
                b.set_session_cache_mode(ossl::SslSessionCacheMode::OFF);
                if server.ticket_keycb.is_none() {
                    b.set_options(ossl::SslOptions::NO_TICKET);
                }
            }
            Some(n) => {
                b.set_session_cache_size(i32::try_from(n).unwrap_or(i32::MAX));
            }
            None => {}
        }
    }
    Ok(())
}

/// A certificate chain, leaf first.
type Chain = Vec<CertificateDer<'static>>;

/// The context's own certificates and keys (a server's alternates and per-name ones too),
/// and every chain it may send.
fn identities(plan: &Plan, b: &mut SslContextBuilder) -> Result<Vec<Chain>, ConfigError> {
    let server = plan.server();
    if server.is_some() && plan.identity.is_none() && plan.psk.is_none() {
        return Err(ConfigError::Certificate(
            "a server needs a certificate and key (cert_file, key_file) or PSK keys (psk_server)"
                .into(),
        ));
    }
    let mut chains = Vec::new();
    if let Some(identity) = &plan.identity {
        if plan.client().is_none_or(|c| c.send_cert) {
            use_identity(b, identity)?;
            chains.push(identity.chain.clone());
        }
    }
    if let Some(server) = server {
        // `sni_cert("", ...)`: alternates of the default certificate (another key type).
        for alt in server.sni_certs.iter().filter(|c| c.name.is_empty()) {
            use_identity(b, &alt.identity)?;
            chains.push(alt.identity.chain.clone());
        }
        // Stapled: this context's own certificates (its SNI names' contexts staple theirs).
        if let Some(source) = &server.ocsp_staple {
            staple(source, server.ocsp_staple_store.as_ref(), &chains, b)?;
        }
        chains.extend(per_name(plan, server, b)?);
    }
    Ok(chains)
}

/// Builds an OpenSSL context from `plan`.
pub(crate) fn build(plan: &Plan) -> Result<super::Built, ConfigError> {
    let v = versions(plan)?;
    let method = if plan.is_server() {
        SslMethod::tls_server()
    } else {
        SslMethod::tls_client()
    };
    let mut b = SslContextBuilder::new(method).map_err(ossl_err("cannot make a context"))?;
    protocols(plan, &mut b, v)?;
    let chains = identities(plan, &mut b)?;
    psk(plan, &mut b)?;
    alpn(plan, &mut b)?;
    static KEY_INDEX: OnceLock<Index<Ssl, Slot>> = OnceLock::new();
    static VERDICT_INDEX: OnceLock<Index<Ssl, VerdictSlot>> = OnceLock::new();
    let key_index =
        process_index(&KEY_INDEX).map_err(ossl_err("cannot make a session key slot"))?;
    let verdict_index =
        process_index(&VERDICT_INDEX).map_err(ossl_err("cannot make a verification slot"))?;
    if let Some(server) = plan.server() {
        dh_params(server, &mut b)?;
        server_settings(server, &mut b)?;
        if let Some(callback) = &server.ticket_keycb {
            ffi::set_ticket_keys(&mut b, callback.clone())
                .map_err(ossl_err("cannot set the ticket key callback"))?;
        }
    }
    if let Some(log) = super::keylog_wanted().then(KeyLogFile::open).flatten() {
        b.set_keylog_callback(move |_, line| log.write(line));
    }
    if plan.release_buffers {
        // Frees OpenSSL's own record buffers while a connection is idle, as sslsock's input
        // buffer is freed (`SSL_mode_release_buffers`).
        b.set_mode(ossl::SslMode::RELEASE_BUFFERS);
    }
    let npn = npn(plan, &mut b)?;
    let client_verify_mode = peer_checks(plan, &mut b, verdict_index)?;
    let sessions = match plan.client() {
        Some(client) => client_sessions(plan, client, &mut b, key_index),
        None => None,
    };
    let config = Config {
        ctx: b.build(),
        server: plan.is_server(),
        server_check: plan.client().map(|c| c.check.clone()),
        client_check: plan
            .server()
            .and_then(|s| s.client_check.clone())
            .map(Arc::new),
        psk: plan.psk.is_some(),
        sessions,
        key_index,
        verdict_index,
        client_verify_mode,
        chains,
        _npn: npn,
    };
    Ok(super::Built {
        config: super::EngineConfig::OpenSsl(Arc::new(config)),
        unavailable: Vec::new(),
    })
}

/// NPN: the list a server advertises or a client selects from.
fn npn(plan: &Plan, b: &mut SslContextBuilder) -> Result<Option<Box<ffi::NpnList>>, ConfigError> {
    if plan.npn.is_empty() {
        return Ok(None);
    }
    let list = ffi::NpnList::new(&plan.npn).ok_or_else(|| {
        ConfigError::Invalid("NPN protocol names must be 1 to 255 bytes long".into())
    })?;
    if plan.is_server() {
        ffi::advertise(b, &list);
    } else {
        ffi::select(b, &list);
    }
    Ok(Some(list))
}

/// The verification policy, and the client certificate, that a shared session is for;
/// `None` when the policy cannot be told from another's.
fn session_policy(plan: &Plan, client: &ClientPlan) -> Option<Vec<u8>> {
    let versions = format!("openssl {:?}", versions(plan).ok());
    let mut policy = super::interned::policy_key(&client.check, false, &versions)?;
    if let Some(identity) = plan.identity.as_ref().filter(|_| client.send_cert) {
        for c in &identity.chain {
            policy.part(c);
        }
        policy.part(identity.key.secret_der());
    }
    Some(policy.digest())
}

/// Sets a TLS 1.2 cipher string and TLS 1.3 suites as given; a string OpenSSL refuses is a
/// configuration error (`whose` says for which name, when per name).
fn cipher_lists(
    b: &mut SslContextBuilder,
    list: Option<&str>,
    suites: Option<&str>,
    whose: &str,
) -> Result<(), ConfigError> {
    let refused = |spec: &str, e: openssl::error::ErrorStack| ConfigError::Cipher {
        spec: spec.to_owned(),
        reason: format!("{whose}OpenSSL refused it: {e}"),
    };
    if let Some(list) = list {
        if let Some(word) = super::suites::unknown_suite_name(list) {
            return Err(ConfigError::Cipher {
                spec: list.to_owned(),
                reason: format!(
                    "{whose}unknown cipher \"{word}\" (no engine has a suite of that name)"
                ),
            });
        }
        b.set_cipher_list(&without_anonymous(list))
            .map_err(|e| refused(list, e))?;
    }
    if let Some(suites) = suites {
        b.set_ciphersuites(suites).map_err(|e| refused(suites, e))?;
    }
    Ok(())
}

/// One certificate's OCSP staple, kept current by a stapler thread while the context lives.
#[derive(Default)]
struct StapleHolder(std::sync::RwLock<Option<Vec<u8>>>);

impl crate::ocsp::StapleSlot for StapleHolder {
    fn set_staple(&self, staple: Option<Vec<u8>>) {
        *self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = staple;
    }
}

/// Server: staples OCSP responses (`ocsp_staple`) to the certificates of `chains`, as on the
/// default engine: a file to the first (the default certificate), refused when it does not
/// fit it; fetched responses to each, renewed in the background. OpenSSL's status callback
/// sends the staple of the certificate a handshake presents.
fn staple(
    source: &crate::ocsp::StapleSource,
    store: Option<&Arc<dyn crate::ocsp::StapleStore>>,
    chains: &[Vec<CertificateDer<'static>>],
    b: &mut SslContextBuilder,
) -> Result<(), ConfigError> {
    use crate::ocsp::StapleSource;
    let targets = match source {
        StapleSource::File(_) => &chains[..chains.len().min(1)],
        _ => chains,
    };
    if targets.is_empty() {
        return Err(ConfigError::Invalid(
            "ocsp_staple: a staple file is for the default certificate, and there is none"
                .to_owned(),
        ));
    }
    let mut holders: Vec<(CertificateDer<'static>, Arc<StapleHolder>)> = Vec::new();
    for target in targets {
        let holder = Arc::new(StapleHolder::default());
        let chain = target.iter().map(|c| c.to_vec()).collect();
        super::keep_stapled(source, store, chain, holder.clone())?;
        if let Some(leaf) = target.first() {
            holders.push((leaf.clone(), holder));
        }
    }
    b.set_status_callback(move |ssl| {
        let Some(leaf) = ssl.certificate().and_then(|c| c.to_der().ok()) else {
            return Ok(false);
        };
        let staple = holders
            .iter()
            .find(|(l, _)| l.as_ref() == leaf.as_slice())
            .and_then(|(_, h)| {
                h.0.read()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .clone()
            });
        match staple {
            Some(der) => ssl.set_ocsp_status(&der).map(|()| true),
            None => Ok(false),
        }
    })
    .map_err(ossl_err("cannot set the OCSP status callback"))
}

/// Adds a certificate chain and its key to the context (one per key type: OpenSSL picks by the
/// client's signature algorithms).
fn use_identity(b: &mut SslContextBuilder, identity: &Identity) -> Result<(), ConfigError> {
    let Identity { chain, key, what } = identity;
    let Some((leaf, rest)) = chain.split_first() else {
        return Err(ConfigError::Certificate(
            "the certificate file holds no certificate".into(),
        ));
    };
    let leaf = openssl::x509::X509::from_der(leaf)
        .map_err(ossl_err("OpenSSL cannot read the certificate"))?;
    b.set_certificate(&leaf)
        .map_err(ossl_err("OpenSSL refused the certificate"))?;
    for c in rest {
        let c = openssl::x509::X509::from_der(c)
            .map_err(ossl_err("OpenSSL cannot read a chain certificate"))?;
        b.add_extra_chain_cert(c)
            .map_err(ossl_err("OpenSSL refused a chain certificate"))?;
    }
    let pkey = openssl::pkey::PKey::private_key_from_der(key.secret_der())
        .map_err(ossl_err("OpenSSL cannot read the private key"))?;
    b.set_private_key(&pkey)
        .map_err(ossl_err("OpenSSL refused the private key"))?;
    b.check_private_key().map_err(|_| {
        ConfigError::Certificate(format!(
            "{what}: the private key does not match the certificate"
        ))
    })
}

/// Server: the ClientHello callback, which refuses a TLS 1.2 ClientHello without
/// uncompressed points, then applies certificates and cipher lists per SNI name
/// (`sni_cert`, `ciphers_for`). Each name with certificates gets a context of its own, built
/// from the same options, that the callback switches to; a name's cipher lists are set on
/// the connection there (OpenSSL keeps a connection's lists when its context changes).
fn per_name(
    plan: &Plan,
    server: &ServerPlan,
    b: &mut SslContextBuilder,
) -> Result<Vec<Vec<CertificateDer<'static>>>, ConfigError> {
    let mut chains = Vec::new();
    let mut contexts: Vec<(String, ossl::SslContext)> = Vec::new();
    for named in server.sni_certs.iter().filter(|c| !c.name.is_empty()) {
        let name = named.name.to_ascii_lowercase();
        if contexts.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let mut alternates = server
            .sni_certs
            .iter()
            .filter(|c| c.name.eq_ignore_ascii_case(&name))
            .cloned();
        let Some(first) = alternates.next() else {
            continue;
        };
        let mut own = server.clone();
        own.sni_certs = alternates
            .map(|c| NamedIdentity {
                name: String::new(),
                ..c
            })
            .collect();
        own.per_name_ciphers = Vec::new();
        if matches!(own.ocsp_staple, Some(crate::ocsp::StapleSource::File(_))) {
            // A staple file is for the default certificate.
            own.ocsp_staple = None;
        }
        let own = Plan {
            identity: Some(first.identity),
            side: Side::Server(own),
            ..plan.clone()
        };
        let super::EngineConfig::OpenSsl(c) = build(&own)?.config else {
            return Err(ConfigError::Invalid(
                "a per-name context on another engine".into(),
            ));
        };
        chains.extend(c.chains.iter().cloned());
        contexts.push((name, c.ctx.clone()));
    }
    let mut ciphers = Vec::new();
    for named in &server.per_name_ciphers {
        // Refused now, not at the first handshake that names it.
        let mut probe =
            SslContextBuilder::new(SslMethod::tls_server()).map_err(ossl_err("no context"))?;
        let whose = format!("for \"{}\", ", named.name);
        cipher_lists(
            &mut probe,
            named.cipher_list.as_deref(),
            named.ciphersuites.as_deref(),
            &whose,
        )?;
        ciphers.push((named.name.to_ascii_lowercase(), named.clone()));
    }
    // Before OpenSSL chooses a TLS 1.3 suite, which it does ahead of its servername callback.
    b.set_client_hello_callback(move |ssl, alert| {
        if !point_formats_acceptable(ssl) {
            *alert = ossl::SslAlert::ILLEGAL_PARAMETER;
            return Err(openssl::error::ErrorStack::get());
        }
        if contexts.is_empty() && ciphers.is_empty() {
            return Ok(ossl::ClientHelloResponse::SUCCESS);
        }
        let Some(host) = ffi::client_hello_server_name(ssl) else {
            return Ok(ossl::ClientHelloResponse::SUCCESS);
        };
        if let Some(ctx) = crate::plan::sni::find_for_host(&contexts, &host) {
            ssl.set_ssl_context(ctx)?;
        }
        if let Some(named) = crate::plan::sni::find_for_host(&ciphers, &host) {
            if let Some(list) = &named.cipher_list {
                ssl.set_cipher_list(&without_anonymous(list))?;
            }
            if let Some(suites) = &named.ciphersuites {
                ssl.set_ciphersuites(suites)?;
            }
        }
        Ok(ossl::ClientHelloResponse::SUCCESS)
    });
    Ok(chains)
}

/// RFC 8422, section 5.1.2: a TLS 1.2 ClientHello whose ec_point_formats lacks
/// "uncompressed" is refused with illegal_parameter (OpenSSL would go on, or fail with
/// handshake_failure). TLS 1.3 does not use the extension.
fn point_formats_acceptable(ssl: &ossl::SslRef) -> bool {
    let Some(formats) = ffi::client_hello_ext(ssl, 11) else {
        return true;
    };
    let offers_tls13 = ffi::client_hello_ext(ssl, 43).is_some_and(|v| {
        v.get(1..)
            .unwrap_or_default()
            .chunks_exact(2)
            .any(|c| c == [3, 4])
    });
    // A malformed or empty list is OpenSSL's to refuse (decode_error).
    let list = match formats.split_first() {
        Some((&len, list)) if len > 0 && usize::from(len) == list.len() => list,
        _ => return true,
    };
    offers_tls13 || list.contains(&0)
}

/// Whether the pre-shared key authenticated the peer of this handshake: any TLS 1.3
/// handshake without certificates, a TLS 1.2 one by a PSK suite.
fn authenticated_by_psk(ssl: &ossl::SslRef) -> bool {
    ssl.version2() == Some(SslVersion::TLS1_3)
        || ssl
            .current_cipher()
            .is_some_and(|c| c.description().contains(" Au=PSK "))
}

/// A connection's ex data index for `T`, one for the process: OpenSSL never frees an
/// index, and every connection's ex data grows to the highest index made, so an index per
/// context would make each later connection larger and slower.
fn process_index<T: Send + Sync + 'static>(
    cell: &'static OnceLock<Index<Ssl, T>>,
) -> Result<Index<Ssl, T>, openssl::error::ErrorStack> {
    if let Some(i) = cell.get() {
        return Ok(*i);
    }
    let made = Ssl::new_ex_index::<T>()?;
    // Two threads may race here: one index is then left unused, once per process.
    Ok(*cell.get_or_init(|| made))
}

/// Client: where the sessions to resume are kept.
enum Sessions {
    /// The context's own, by slot.
    Own(Mutex<HashMap<String, ossl::SslSession>>),
    /// A cache shared with other contexts (`session_cache`, or the process-wide one), in
    /// DER, for connections verified by `policy` only.
    Shared {
        cache: crate::session::SessionCache,
        policy: Vec<u8>,
    },
}

impl Sessions {
    /// The session to offer to the server filed in `slot`, if any.
    fn offer(&self, ssl: &mut ossl::SslRef, slot: &Slot) -> Result<(), openssl::error::ErrorStack> {
        match self {
            Sessions::Own(map) => {
                let saved = map
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .get(slot.as_str())
                    .cloned();
                match saved {
                    Some(session) => ffi::set_session(ssl, &session),
                    None => Ok(()),
                }
            }
            Sessions::Shared { cache, policy } => match cache.encoded(slot, policy) {
                Some(der) => {
                    let session = ossl::SslSession::from_der(&der)?;
                    ffi::set_decoded_session(ssl, session)
                }
                None => Ok(()),
            },
        }
    }

    /// Files a session the server handed out in `slot`.
    fn keep(&self, slot: &Slot, session: ossl::SslSession, limit: usize) {
        match self {
            Sessions::Own(map) => {
                let mut map = map
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if map.len() >= limit && !map.contains_key(slot.as_str()) {
                    // Full: one other entry makes room (the store is a bound, not an LRU).
                    if let Some(old) = map.keys().next().cloned() {
                        map.remove(&old);
                    }
                }
                map.insert(slot.as_str().to_owned(), session);
            }
            Sessions::Shared { cache, policy } => {
                let Ok(der) = session.to_der() else {
                    log::debug!("OpenSSL could not encode a session; it is not kept");
                    return;
                };
                let single_use = session.protocol_version() == SslVersion::TLS1_3;
                cache.add_encoded(slot, (policy.clone(), der, single_use));
            }
        }
    }
}

/// Client: a bounded store of the sessions the server hands out (TLS 1.2 sessions, TLS 1.3
/// tickets), filed under each connection's session key: the context's own, or the shared
/// cache when one is set and the verification policy can be told (`policy`); `None` with
/// `session_cache_size(0)` and no shared cache.
fn client_sessions(
    plan: &Plan,
    client: &ClientPlan,
    b: &mut SslContextBuilder,
    key_index: Index<Ssl, Slot>,
) -> Option<Arc<Sessions>> {
    let limit = client
        .session_cache_size
        .unwrap_or(defaults::CLIENT_SESSION_CACHE_SIZE);
    let store = match (client.shared_sessions.clone(), session_policy(plan, client)) {
        (Some(cache), Some(policy)) => Sessions::Shared { cache, policy },
        (Some(_), None) => {
            log::debug!("this context's verification cannot be told apart from another's: its sessions stay its own");
            Sessions::Own(Mutex::new(HashMap::new()))
        }
        (None, _) if limit == 0 => return None,
        (None, _) => Sessions::Own(Mutex::new(HashMap::new())),
    };
    let store = Arc::new(store);
    b.set_session_cache_mode(ossl::SslSessionCacheMode::CLIENT);
    let kept = store.clone();
    b.set_new_session_callback(move |ssl, session| {
        if let Some(key) = ssl.ex_data(key_index) {
            kept.keep(key, session, limit.max(1));
        }
    });
    Some(store)
}

/// PSK: a client's identity and key, a server's keys by identity and its hint.
fn psk(plan: &Plan, b: &mut SslContextBuilder) -> Result<(), ConfigError> {
    let Some(psk) = &plan.psk else {
        return Ok(());
    };
    if plan.is_server() {
        let keys = psk.keys.clone();
        if let Some(hint) = &psk.identity_hint {
            let hint = std::ffi::CString::new(hint.as_str()).map_err(|_| {
                ConfigError::Invalid("the PSK identity hint contains a NUL byte".into())
            })?;
            ffi::set_psk_identity_hint(b, &hint)
                .map_err(ossl_err("OpenSSL refused the PSK identity hint"))?;
        }
        b.set_psk_server_callback(move |_, identity, out| {
            let identity = identity.unwrap_or_default();
            match keys.iter().find(|(id, _)| id.as_bytes() == identity) {
                Some((_, key)) if key.len() <= out.len() => {
                    out[..key.len()].copy_from_slice(key);
                    Ok(key.len())
                }
                _ => {
                    log::debug!(
                        "PSK: unknown identity {:?}",
                        String::from_utf8_lossy(identity)
                    );
                    Ok(0)
                }
            }
        });
    } else {
        let Some((identity, key)) = psk.keys.first().cloned() else {
            return Err(ConfigError::Invalid(
                "psk: a client needs one identity and key".into(),
            ));
        };
        b.set_psk_client_callback(move |_, hint, id_out, key_out| {
            if let Some(h) = hint {
                log::debug!(
                    "PSK: server's identity hint {:?}",
                    String::from_utf8_lossy(h)
                );
            }
            let id = identity.as_bytes();
            if id.len() + 1 > id_out.len() || key.len() > key_out.len() {
                return Ok(0);
            }
            id_out[..id.len()].copy_from_slice(id);
            id_out[id.len()] = 0;
            key_out[..key.len()].copy_from_slice(&key);
            Ok(key.len())
        });
    }
    Ok(())
}

/// ALPN: a client's offer, a server's choice by its own order of preference.
fn alpn(plan: &Plan, b: &mut SslContextBuilder) -> Result<(), ConfigError> {
    if plan.alpn.is_empty() {
        return Ok(());
    }
    if let Some(server) = plan.server() {
        let ours = plan.alpn.clone();
        let strict = server.alpn_strict;
        b.set_alpn_select_callback(move |_, client| {
            let offered = parse_alpn(client);
            match ours.iter().find(|p| offered.contains(&p.as_slice())) {
                Some(p) => offered
                    .into_iter()
                    .find(|o| *o == p.as_slice())
                    .ok_or(ossl::AlpnError::NOACK),
                None if strict => Err(ossl::AlpnError::ALERT_FATAL),
                None => Err(ossl::AlpnError::NOACK),
            }
        });
        return Ok(());
    }
    // The names were held to 1 to 255 bytes when the plan was made.
    let mut wire = Vec::new();
    for p in &plan.alpn {
        wire.push(u8::try_from(p.len()).unwrap_or(u8::MAX));
        wire.extend_from_slice(p);
    }
    b.set_alpn_protos(&wire)
        .map_err(ossl_err("OpenSSL refused the ALPN list"))
}

/// The protocol names of an ALPN list in wire form.
fn parse_alpn(mut wire: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while let Some((&n, rest)) = wire.split_first() {
        let n = usize::from(n);
        if n == 0 || n > rest.len() {
            break;
        }
        out.push(&rest[..n]);
        wire = &rest[n..];
    }
    out
}

/// The transport as OpenSSL sees it: the records fed in, the bytes it wants sent.
#[derive(Debug, Default)]
struct Pipe {
    inbox: Vec<u8>,
    read_at: usize,
    outbox: Vec<u8>,
    eof: bool,
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let waiting = &self.inbox[self.read_at..];
        if waiting.is_empty() {
            return if self.eof {
                Ok(0)
            } else {
                Err(io::ErrorKind::WouldBlock.into())
            };
        }
        let n = waiting.len().min(buf.len());
        buf[..n].copy_from_slice(&waiting[..n]);
        self.read_at += n;
        if self.read_at == self.inbox.len() {
            self.inbox.clear();
            self.read_at = 0;
        }
        Ok(n)
    }
}

impl Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.outbox.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// How the peer ended the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Closed {
    Open,
    /// close_notify received.
    Clean,
    /// The transport ended without close_notify.
    Unclean,
}

/// One TLS session on the OpenSSL engine.
pub(crate) struct OsslSession {
    stream: SslStream<Pipe>,
    config: Arc<Config>,
    /// Client: the name the server's certificate is checked against (`None`: no name).
    verify_name: Option<String>,
    handshaking: bool,
    plain: Vec<u8>,
    plain_at: usize,
    closed: Closed,
    peer: Option<Vec<CertificateDer<'static>>>,
    outcome: Option<PeerOutcome>,
    /// What the verify callbacks decided during the handshake.
    verdict: VerdictSlot,
    /// Server: the certificate chain presented (the SNI name's when it has its own).
    own_chain: Option<Vec<CertificateDer<'static>>>,
}

impl std::fmt::Debug for OsslSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OsslSession")
            .field("handshaking", &self.handshaking)
            .field("pending", &(self.plain.len() - self.plain_at))
            .finish()
    }
}

/// The name a client connection checks, refused when it is neither a host name nor an
/// address (`None`: a peer without a name, whose check fails where a name is due).
fn checked_name(verify_name: Option<&str>) -> Result<Option<String>, Error> {
    match verify_name {
        Some(n) if pki_types::ServerName::try_from(n).is_err() => {
            Err(ConfigError::Name(format!("\"{n}\" is not a valid host name or IP address")).into())
        }
        other => Ok(other.map(str::to_owned)),
    }
}

fn start(
    config: &Arc<Config>,
    mut ssl: Ssl,
    verify_name: Option<String>,
) -> Result<OsslSession, Error> {
    let verdict = VerdictSlot::default();
    ssl.set_ex_data(config.verdict_index, verdict.clone());
    if let Some(v) = &config.server_check {
        let v = v.clone();
        let name = checked_name(verify_name.as_deref())?;
        let slot = verdict.clone();
        ssl.set_verify_callback(SslVerifyMode::PEER, move |_, ctx| {
            verify_in_handshake(&slot, ctx, |ctx, leaf, rest| {
                decide_server(&v, name.as_deref(), ctx, leaf, rest)
            })
        });
    }
    if let (Some(v), Some(mode)) = (&config.client_check, config.client_verify_mode) {
        let v = v.clone();
        let slot = verdict.clone();
        ssl.set_verify_callback(mode, move |_, ctx| {
            verify_in_handshake(&slot, ctx, |_, leaf, rest| decide_client(&v, leaf, rest))
        });
    }
    let stream = SslStream::new(ssl, Pipe::default())
        .map_err(|e| Error::Tls(TlsError::Other(format!("OpenSSL: {e}"))))?;
    let mut s = OsslSession {
        stream,
        config: config.clone(),
        verify_name,
        handshaking: true,
        plain: Vec::new(),
        plain_at: 0,
        closed: Closed::Open,
        peer: None,
        outcome: None,
        verdict,
        own_chain: None,
    };
    s.advance()?;
    Ok(s)
}

impl OsslSession {
    pub(crate) fn client(config: &Arc<Config>, target: &Target) -> Result<OsslSession, Error> {
        if config.server {
            return Err(Error::State(
                "a server context cannot start a client handshake",
            ));
        }
        let mut ssl = Ssl::new(&config.ctx)
            .map_err(|e| Error::Tls(TlsError::Other(format!("OpenSSL: {e}"))))?;
        // SNI carries DNS names only (the target says which).
        if let Some(n) = target.sni() {
            ssl.set_hostname(n).map_err(|_| {
                ConfigError::Name(format!("\"{n}\" is not a valid host name or IP address"))
            })?;
        }
        // Sessions are filed under the session key and the name checked: a session is
        // offered only to a connection checking the name it was verified for.
        if let Some(store) = &config.sessions {
            let slot = Slot::new(
                target.session_key().unwrap_or(""),
                target.verify_name().unwrap_or(""),
            );
            store
                .offer(&mut ssl, &slot)
                .map_err(|e| Error::Tls(TlsError::Other(format!("OpenSSL: {e}"))))?;
            ssl.set_ex_data(config.key_index, slot);
        }
        // Ask for a staple: sslsock's OCSP policy checks it as on the default engine.
        ssl.set_status_type(ossl::StatusType::OCSP)
            .map_err(|e| Error::Tls(TlsError::Other(format!("OpenSSL: {e}"))))?;
        ssl.set_connect_state();
        // The target's verify name is the one checked (no ECH here, so the context's
        // `verifycn_name` is already in it, behind the connection's own).
        start(config, ssl, target.verify_name().map(str::to_owned))
    }

    pub(crate) fn server(config: &Arc<Config>) -> Result<OsslSession, Error> {
        if !config.server {
            return Err(Error::State("a client context cannot accept a handshake"));
        }
        let mut ssl = Ssl::new(&config.ctx)
            .map_err(|e| Error::Tls(TlsError::Other(format!("OpenSSL: {e}"))))?;
        ssl.set_accept_state();
        start(config, ssl, None)
    }

    /// Runs the handshake and reads what the fed bytes hold.
    fn advance(&mut self) -> Result<(), Error> {
        if self.handshaking {
            match self.stream.do_handshake() {
                Ok(()) => {
                    self.handshaking = false;
                    if self.config.server {
                        self.own_chain = presented(self.stream.ssl(), &self.config.chains);
                    }
                    if let Err(e) = self.verify_peer() {
                        // No application data for a refused peer.
                        let _ = self.stream.shutdown();
                        return Err(e);
                    }
                }
                Err(e) if wants_io(&e) => return Ok(()),
                Err(e) => {
                    // Our verifier's refusal, in its words (the peer has the alert).
                    return Err(match std::mem::take(&mut *lock(&self.verdict)) {
                        Verdict::Refused { error, .. } | Verdict::StapleRefused(error) => error,
                        _ => map_error(&e, self.stream.get_ref().eof),
                    });
                }
            }
        }
        let mut buf = [0u8; defaults::MAX_RECORD_PLAINTEXT];
        loop {
            match self.stream.ssl_read(&mut buf) {
                Ok(0) => {
                    self.closed = Closed::Clean;
                    break;
                }
                Ok(n) => self.plain.extend_from_slice(&buf[..n]),
                Err(e) if e.code() == ErrorCode::ZERO_RETURN => {
                    self.closed = Closed::Clean;
                    break;
                }
                Err(e) if wants_io(&e) => break,
                Err(_) if self.stream.get_ref().eof => {
                    self.closed = Closed::Unclean;
                    break;
                }
                Err(e) => return Err(map_error(&e, false)),
            }
        }
        Ok(())
    }

    /// After the handshake: what the verify callbacks decided or, when they did not run (a
    /// resumed session, PSK, a suite without certificates), sslsock's verification of the
    /// chain OpenSSL kept.
    fn verify_peer(&mut self) -> Result<(), Error> {
        let ssl = self.stream.ssl();
        let mut chain: Vec<CertificateDer<'static>> = Vec::new();
        // A client's chain holds the leaf, a server's does not; a session resumed from a
        // shared cache (decoded from DER) keeps the leaf only.
        let sent = ssl.peer_cert_chain().filter(|c| !c.is_empty());
        if self.config.server || sent.is_none() {
            if let Some(leaf) = ssl.peer_certificate() {
                chain.push(der(&leaf)?);
            }
        }
        for c in sent.into_iter().flatten() {
            chain.push(der(c)?);
        }
        self.peer = (!chain.is_empty()).then(|| chain.clone());
        match std::mem::take(&mut *lock(&self.verdict)) {
            // A resumed session was verified when it was made, under this verification
            // policy (sessions are kept per context or per policy), as on the default engine.
            Verdict::Pending if ssl.session_reused() => return Ok(()),
            Verdict::Pending => {}
            Verdict::Accepted(outcome) => {
                self.outcome = outcome;
                return Ok(());
            }
            Verdict::Identified(identity) => {
                // The status callback did not run: the staple is checked here.
                let Some(v) = &self.config.server_check else {
                    return Err(Error::State("a server checked a server's certificate"));
                };
                let staple = self.stream.ssl().ocsp_status().unwrap_or_default();
                let outcome = v.check_revocation(identity, staple, now())?;
                self.outcome = Some(outcome);
                return Ok(());
            }
            Verdict::Refused { error, .. } | Verdict::StapleRefused(error) => return Err(error),
        }
        if chain.is_empty() && self.config.psk && authenticated_by_psk(ssl) {
            // The pre-shared key authenticated the peer; no certificate was exchanged.
            return Ok(());
        }
        if let Some(v) = &self.config.client_check {
            let Some((leaf, rest)) = chain.split_first() else {
                return if v.mandatory {
                    Err(Error::Verify(VerifyError::NoPeerCertificate))
                } else {
                    Ok(())
                };
            };
            v.check(leaf, rest, now())?;
        }
        if let Some(v) = &self.config.server_check {
            let Some((leaf, rest)) = chain.split_first() else {
                return Err(Error::Verify(VerifyError::NoPeerCertificate));
            };
            let name = checked_name(self.verify_name.as_deref())?;
            let staple = self.stream.ssl().ocsp_status().unwrap_or_default().to_vec();
            let identity = v.check_identity(leaf, rest, name.as_deref(), now())?;
            self.outcome = Some(v.check_revocation(identity, &staple, now())?);
        }
        Ok(())
    }

    pub(crate) fn feed_record(&mut self, record: &[u8]) -> Result<(), Error> {
        self.stream.get_mut().inbox.extend_from_slice(record);
        self.advance()
    }

    pub(crate) fn feed_eof(&mut self) {
        self.stream.get_mut().eof = true;
        if self.advance().is_err() && self.closed == Closed::Open {
            self.closed = Closed::Unclean;
        }
        if self.closed == Closed::Open && !self.handshaking {
            self.closed = Closed::Unclean;
        }
    }

    pub(crate) fn plaintext(&mut self) -> io::Result<&[u8]> {
        if self.plain_at < self.plain.len() {
            return Ok(&self.plain[self.plain_at..]);
        }
        match self.closed {
            Closed::Clean => Ok(&[]),
            Closed::Unclean => Err(io::ErrorKind::UnexpectedEof.into()),
            Closed::Open => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    pub(crate) fn consume(&mut self, n: usize) {
        self.plain_at = (self.plain_at + n).min(self.plain.len());
        if self.plain_at == self.plain.len() {
            self.plain.clear();
            self.plain_at = 0;
        }
    }

    pub(crate) fn pending(&self) -> usize {
        self.plain.len() - self.plain_at
    }

    pub(crate) fn write_plaintext(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.handshaking {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = data.len().min(defaults::MAX_RECORD_PLAINTEXT);
        if n == 0 {
            return Ok(0);
        }
        self.stream
            .ssl_write(&data[..n])
            .map_err(|e| io::Error::other(format!("OpenSSL: {e}")))
    }

    pub(crate) fn wants_write(&self) -> bool {
        !self.stream.get_ref().outbox.is_empty()
    }

    pub(crate) fn write_tls(&mut self, w: &mut dyn Write) -> io::Result<usize> {
        let out = &mut self.stream.get_mut().outbox;
        let n = w.write(out)?;
        out.drain(..n);
        Ok(n)
    }

    pub(crate) fn is_handshaking(&self) -> bool {
        self.handshaking
    }

    pub(crate) fn send_close_notify(&mut self) {
        let _ = self.stream.shutdown();
    }

    pub(crate) fn cipher(&self) -> Option<CipherNames> {
        let c = self.stream.ssl().current_cipher()?;
        Some(CipherNames {
            openssl: c.name(),
            iana: c.standard_name().unwrap_or(c.name()),
        })
    }

    pub(crate) fn version(&self) -> Option<u16> {
        if self.handshaking {
            return None;
        }
        Some(match self.stream.ssl().version2()? {
            SslVersion::TLS1 => 0x0301,
            SslVersion::TLS1_1 => 0x0302,
            SslVersion::TLS1_2 => 0x0303,
            SslVersion::TLS1_3 => 0x0304,
            _ => 0x0300,
        })
    }

    pub(crate) fn version_name(&self) -> Option<&'static str> {
        Some(match self.version()? {
            0x0301 => "TLSv1",
            0x0302 => "TLSv1_1",
            0x0303 => "TLSv1_2",
            0x0304 => "TLSv1_3",
            _ => "SSLv3",
        })
    }

    pub(crate) fn alpn(&self) -> Option<&[u8]> {
        self.stream.ssl().selected_alpn_protocol()
    }

    pub(crate) fn npn(&self) -> Option<&[u8]> {
        ffi::negotiated(self.stream.ssl())
    }

    pub(crate) fn own_chain(&self) -> Option<&[CertificateDer<'static>]> {
        self.own_chain.as_deref()
    }

    pub(crate) fn group(&self) -> Option<String> {
        if self.handshaking {
            return None;
        }
        ffi::negotiated_group(self.stream.ssl())
    }

    pub(crate) fn server_name(&self) -> Option<&str> {
        if !self.config.server {
            return None;
        }
        self.stream.ssl().servername(NameType::HOST_NAME)
    }

    pub(crate) fn resumed(&self) -> bool {
        self.stream.ssl().session_reused()
    }

    /// RFC 5705 / RFC 8446 7.5 keying material into `out` (`SSL_export_keying_material`).
    pub(crate) fn export_keying_material(
        &self,
        out: &mut [u8],
        label: &str,
        context: Option<&[u8]>,
    ) -> Result<(), Error> {
        if self.handshaking {
            return Err(Error::State(
                "keying material comes from a finished handshake",
            ));
        }
        self.stream
            .ssl()
            .export_keying_material(out, label, context)
            .map_err(|e| {
                Error::Tls(TlsError::Other(format!(
                    "cannot export keying material: {e}"
                )))
            })
    }

    pub(crate) fn peer_outcome(&self) -> Option<&PeerOutcome> {
        self.outcome.as_ref()
    }

    pub(crate) fn peer_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        self.peer.as_deref()
    }
}

/// Server: the chain a connection presented, from the context its SNI name chose.
fn presented(
    ssl: &ossl::SslRef,
    chains: &[Vec<CertificateDer<'static>>],
) -> Option<Vec<CertificateDer<'static>>> {
    let leaf = der(ssl.certificate()?).ok()?;
    chains.iter().find(|c| c.first() == Some(&leaf)).cloned()
}

pub(super) fn der(c: &openssl::x509::X509Ref) -> Result<CertificateDer<'static>, Error> {
    c.to_der().map(CertificateDer::from).map_err(|e| {
        Error::Tls(TlsError::Other(format!(
            "OpenSSL cannot encode a certificate: {e}"
        )))
    })
}

/// The alert named in an OpenSSL reason such as "tlsv1 alert unknown ca".
fn peer_alert(reason: &str) -> Option<Alert> {
    let (_, name) = reason.split_once(" alert ")?;
    let name = name.trim().replace(' ', "_");
    (0..=u8::MAX)
        .map(Alert)
        .find(|a| a.name() == Some(name.as_str()))
}

fn wants_io(e: &ossl::Error) -> bool {
    matches!(e.code(), ErrorCode::WANT_READ | ErrorCode::WANT_WRITE)
}

/// OpenSSL's failure in sslsock's terms: the version and "not TLS" cases typed, the rest in
/// OpenSSL's words.
fn map_error(e: &ossl::Error, eof: bool) -> Error {
    let text = e
        .ssl_error()
        .map(|s| s.to_string())
        .unwrap_or_else(|| e.to_string());
    if eof && e.ssl_error().is_none() {
        return Error::HandshakeEof;
    }
    let reasons: Vec<String> = e
        .ssl_error()
        .map(|s| {
            s.errors()
                .iter()
                .filter_map(|r| r.reason().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let has = |needle: &str| reasons.iter().any(|r| r.contains(needle));
    if has("unexpected eof") {
        return Error::HandshakeEof;
    }
    // "sslv3 alert handshake failure", "tlsv1 alert unknown ca": the peer's alert, typed as
    // on the default engine.
    if let Some(alert) = reasons.iter().find_map(|r| peer_alert(r)) {
        return if alert == Alert::PROTOCOL_VERSION {
            Error::Tls(TlsError::NoCommonVersion(format!(
                "peer sent alert {alert}: it supports none of the versions we offered"
            )))
        } else {
            Error::Tls(TlsError::AlertReceived(alert))
        };
    }
    if has("unsupported protocol")
        || has("protocol version")
        || has("no protocols available")
        || has("version too low")
    {
        return Error::Tls(TlsError::NoCommonVersion(format!(
            "OpenSSL: {}",
            reasons.join("; ")
        )));
    }
    // Nothing in common: typed as on the default engine.
    let none_in_common = [
        ("no suitable key share", crate::error::Parameter::Group),
        ("no shared groups", crate::error::Parameter::Group),
        ("no shared cipher", crate::error::Parameter::CipherSuite),
        (
            "no shared signature algorithms",
            crate::error::Parameter::SignatureScheme,
        ),
        (
            "no suitable signature algorithm",
            crate::error::Parameter::SignatureScheme,
        ),
        (
            "no application protocol",
            crate::error::Parameter::ApplicationProtocol,
        ),
    ];
    if let Some((_, parameter)) = none_in_common.iter().find(|(r, _)| has(r)) {
        return Error::Tls(TlsError::NoCommonParameters {
            parameter: *parameter,
            detail: format!("OpenSSL: {}", reasons.join("; ")),
        });
    }
    if has("peer did not return a certificate") {
        // FAIL_IF_NO_PEER_CERT: OpenSSL's server refused a client without a certificate.
        return Error::Verify(VerifyError::NoPeerCertificate);
    }
    if has("wrong version number") || has("packet length too long") || has("http request") {
        return Error::Tls(TlsError::BadMessage(format!(
            "the peer does not speak TLS (OpenSSL: {})",
            reasons.join("; ")
        )));
    }
    if reasons.is_empty() {
        Error::Tls(TlsError::Other(format!("OpenSSL: {text}")))
    } else {
        Error::Tls(TlsError::Other(format!("OpenSSL: {}", reasons.join("; "))))
    }
}

/// The file named by SSLKEYLOGFILE, appended to in the NSS key log format (for Wireshark),
/// as the default engine writes it.
struct KeyLogFile {
    file: Mutex<std::fs::File>,
}

impl KeyLogFile {
    /// Opens the file for appending; a file that cannot be opened is warned about and skipped,
    /// as a missing log must not fail connections.
    fn open() -> Option<KeyLogFile> {
        let path = std::env::var_os("SSLKEYLOGFILE")?;
        match std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
        {
            Ok(file) => Some(KeyLogFile {
                file: Mutex::new(file),
            }),
            Err(e) => {
                log::warn!(
                    "SSLKEYLOGFILE {}: cannot open it: {e}",
                    std::path::Path::new(&path).display()
                );
                None
            }
        }
    }

    fn write(&self, line: &str) {
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        // One write per line, so that lines of concurrent connections never interleave.
        let entry = format!("{line}\n");
        if let Err(e) = file.write_all(entry.as_bytes()) {
            log::warn!("SSLKEYLOGFILE: cannot write: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::options::Options;

    fn mode_of(opts: &Options) -> std::ffi::c_long {
        let plan = Plan::new(&opts.clone().engine(crate::options::Engine::OpenSsl)).unwrap();
        let built = build(&plan).unwrap();
        let super::super::EngineConfig::OpenSsl(config) = built.config else {
            panic!("not the openssl engine");
        };
        ffi::context_mode(&config.ctx)
    }

    /// `SSL_mode_release_buffers` reaches OpenSSL's context, and only when asked for.
    #[test]
    fn release_buffers_sets_the_openssl_mode() {
        let release = openssl_sys::SSL_MODE_RELEASE_BUFFERS;
        assert_eq!(mode_of(&Options::new()) & release, 0);
        assert_eq!(
            mode_of(&Options::new().release_buffers(true)) & release,
            release
        );
    }
}
