//! What the options decide, read once. [`Plan::new`] reads `Options` (after the default
//! layers and the args filter) into engine-neutral values: versions, suite and group names,
//! the context's identities (files read and passwords asked once), how peers are checked
//! (`verify::peer`), sessions, ALPN/NPN, and the refusals by side and by engine. The engines
//! build from a `Plan`; the sockets read its [`SocketPlan`]. [`Target`] is one connection's
//! identity (the name sent, the name checked, the session identity, the deadline, where to
//! connect from and to), and `roots` the trust anchors (CA files, directories, the system's
//! store).

pub(crate) mod address;
mod identity;
mod policy;
pub(crate) mod refusals;
pub(crate) mod roots;
pub(crate) mod sni;
mod target;

use std::sync::Arc;
use std::time::Duration;

pub(crate) use identity::{Identity, NamedIdentity};
pub use target::Target;

use crate::defaults;
use crate::error::ConfigError;
use crate::options::{DhParams, Engine, ErrorTrap, NamedCiphers, Options, Psk};
use crate::peer::{ClientCheck, ServerCheck};
use crate::verify::chain::ChainPolicy;

/// One context's decisions, for the engine that builds it.
#[derive(Clone)]
pub(crate) struct Plan {
    pub(crate) engine: Engine,
    /// The `SSL_version` string in force, and whether the user gave it (a warning names it).
    pub(crate) versions: String,
    pub(crate) versions_given: bool,
    /// TLS 1.2 cipher string, TLS 1.3 suites and groups as given (`None`: the defaults).
    pub(crate) cipher_list: Option<String>,
    pub(crate) ciphersuites: Option<String>,
    pub(crate) groups: Option<String>,
    /// ALPN names in preference order, each 1 to 255 bytes.
    pub(crate) alpn: Vec<Vec<u8>>,
    // Read by the openssl engine only (the default engine refuses these options).
    #[cfg_attr(not(feature = "openssl"), allow(dead_code))]
    pub(crate) npn: Vec<Vec<u8>>,
    /// The context's own certificate chain and key.
    pub(crate) identity: Option<Identity>,
    /// The policy peers are verified with; `None` when they are not.
    pub(crate) chain_policy: Option<Arc<ChainPolicy>>,
    // Read by the openssl engine only (the default engine refuses these options).
    #[cfg_attr(not(feature = "openssl"), allow(dead_code))]
    pub(crate) psk: Option<Psk>,
    /// `SSL_mode_release_buffers` (the socket frees its own buffers; the openssl engine
    /// OpenSSL's too).
    #[cfg_attr(not(feature = "openssl"), allow(dead_code))]
    pub(crate) release_buffers: bool,
    /// The engine's configuration hook (`engine_callback`, made and read by the engine).
    #[cfg(feature = "unstable-engine-config")]
    pub(crate) engine_hook: Option<Arc<dyn std::any::Any + Send + Sync>>,
    pub(crate) side: Side,
}

/// What only one side has.
#[derive(Clone)]
pub(crate) enum Side {
    Client(ClientPlan),
    Server(ServerPlan),
}

/// A client context's decisions.
#[derive(Clone)]
pub(crate) struct ClientPlan {
    /// How the server is checked.
    pub(crate) check: ServerCheck,
    /// Whether the identity is offered when a server asks for one (`use_cert`).
    pub(crate) send_cert: bool,
    /// Whether SNI is sent (`SSL_hostname` set to `""` turns it off).
    pub(crate) sni: bool,
    pub(crate) ech: Option<crate::ech::EchMode>,
    /// The session cache shared with other contexts (the context's own or the process's).
    pub(crate) shared_sessions: Option<crate::session::SessionCache>,
    /// The size of a cache of its own (`Some(0)`: no resumption).
    pub(crate) session_cache_size: Option<usize>,
}

/// A server context's decisions.
#[derive(Clone)]
pub(crate) struct ServerPlan {
    /// How client certificates are checked, when they are asked for.
    pub(crate) client_check: Option<ClientCheck>,
    /// `SSL_client_ca`: the CAs whose names a certificate request lists (`None`: the trusted
    /// CAs' on the default engine, none on OpenSSL).
    pub(crate) client_cas: Option<Vec<pki_types::CertificateDer<'static>>>,
    /// Certificates by SNI name (`""`: alternates of the default certificate).
    pub(crate) sni_certs: Vec<NamedIdentity>,
    pub(crate) per_name_ciphers: Vec<NamedCiphers>,
    pub(crate) ocsp_staple: Option<crate::ocsp::StapleSource>,
    /// Where a fleet shares fetched staples.
    pub(crate) ocsp_staple_store: Option<Arc<dyn crate::ocsp::StapleStore>>,
    pub(crate) session_cache_size: Option<usize>,
    pub(crate) ticket_keycb: Option<crate::session::TicketKeyCallback>,
    /// Resumable sessions kept outside the context (shared by servers).
    pub(crate) session_store: Option<Arc<dyn crate::session::ServerSessionStore>>,
    pub(crate) honor_cipher_order: bool,
    /// A ClientHello whose ALPN offer misses ours is refused (else: no ALPN).
    pub(crate) alpn_strict: bool,
    // Read by the openssl engine only (the default engine refuses these options).
    #[cfg_attr(not(feature = "openssl"), allow(dead_code))]
    pub(crate) dh_params: Option<DhParams>,
}

/// What a socket of the context does beyond the handshake.
#[derive(Clone, Default)]
pub(crate) struct SocketPlan {
    /// `SSL_startHandshake => 0`: connect plain, the handshake on request.
    pub(crate) lazy: bool,
    pub(crate) error_trap: Option<ErrorTrap>,
    pub(crate) keep_socket_on_error: bool,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) release_buffers: bool,
    /// A close without close_notify reads as end of file.
    pub(crate) unclean_close_is_eof: bool,
}

impl Plan {
    /// Reads `opts` once: refusals first (by side, then by engine), then every file.
    pub(crate) fn new(opts: &Options) -> Result<Plan, ConfigError> {
        let engine = opts.engine.unwrap_or_default();
        refusals::side(opts)?;
        refusals::engine(opts, engine)?;
        refusals::companions(opts)?;
        if opts
            .alpn_protocols
            .iter()
            .any(|p| p.is_empty() || p.len() > 255)
        {
            return Err(ConfigError::Invalid(
                "ALPN protocol names must be 1 to 255 bytes long".to_owned(),
            ));
        }
        let mode = opts.verify_mode.unwrap_or(if opts.server {
            defaults::SERVER_VERIFY_MODE
        } else {
            defaults::CLIENT_VERIFY_MODE
        });
        let identity = identity::own(opts)?;
        let (side, chain_policy) = if opts.server {
            let (client_check, policy) = policy::client_check(opts, mode)?;
            (Side::Server(server_plan(opts, client_check)?), policy)
        } else {
            let (check, policy) = policy::server_check(opts, mode)?;
            (Side::Client(client_plan(opts, check)), policy)
        };
        Ok(Plan {
            engine,
            versions: opts
                .version
                .clone()
                .unwrap_or_else(|| defaults::VERSIONS.to_owned()),
            versions_given: opts.version.is_some(),
            cipher_list: opts.cipher_list.clone(),
            ciphersuites: opts.ciphersuites.clone(),
            groups: opts.ecdh_curve.clone(),
            alpn: opts.alpn_protocols.clone(),
            npn: opts.npn_protocols.clone(),
            identity,
            chain_policy,
            psk: opts.psk.clone(),
            release_buffers: opts.release_buffers,
            #[cfg(feature = "unstable-engine-config")]
            engine_hook: opts.engine_hook.clone(),
            side,
        })
    }

    /// True for a server context.
    #[cfg_attr(not(feature = "openssl"), allow(dead_code))]
    pub(crate) fn is_server(&self) -> bool {
        matches!(self.side, Side::Server(_))
    }

    /// The client part; `None` on a server.
    pub(crate) fn client(&self) -> Option<&ClientPlan> {
        match &self.side {
            Side::Client(c) => Some(c),
            Side::Server(_) => None,
        }
    }

    /// The server part; `None` on a client.
    pub(crate) fn server(&self) -> Option<&ServerPlan> {
        match &self.side {
            Side::Server(s) => Some(s),
            Side::Client(_) => None,
        }
    }
}

impl SocketPlan {
    pub(crate) fn new(opts: &Options) -> SocketPlan {
        SocketPlan {
            lazy: opts.is_lazy(),
            error_trap: opts.error_trap.clone(),
            keep_socket_on_error: opts.keep_socket_on_error,
            idle_timeout: opts.idle_timeout,
            release_buffers: opts.release_buffers,
            unclean_close_is_eof: opts.unclean_close_is_eof,
        }
    }
}

fn client_plan(opts: &Options, check: ServerCheck) -> ClientPlan {
    ClientPlan {
        check,
        send_cert: opts.use_cert.unwrap_or(true),
        sni: opts.hostname.as_deref() != Some(""),
        ech: opts.ech.clone(),
        shared_sessions: opts
            .session_cache
            .clone()
            .or_else(defaults::default_session_cache),
        session_cache_size: opts.session_cache_size,
    }
}

fn server_plan(
    opts: &Options,
    client_check: Option<ClientCheck>,
) -> Result<ServerPlan, ConfigError> {
    let client_cas = if opts.client_ca_files.is_empty() && opts.client_ca_certs.is_empty() {
        None
    } else {
        Some(roots::load_ca(
            &opts.client_ca_files,
            &[],
            &opts.client_ca_certs,
        )?)
    };
    Ok(ServerPlan {
        client_check,
        client_cas,
        sni_certs: identity::by_name(opts)?,
        per_name_ciphers: opts.per_name_ciphers.clone(),
        ocsp_staple: opts.ocsp_staple.clone(),
        ocsp_staple_store: opts.ocsp_staple_store.clone(),
        session_cache_size: opts.session_cache_size,
        ticket_keycb: opts.ticket_keycb.clone(),
        session_store: opts.server_session_store.clone(),
        honor_cipher_order: opts
            .honor_cipher_order
            .unwrap_or(defaults::HONOR_CIPHER_ORDER),
        alpn_strict: opts.alpn_strict,
        dh_params: opts.dh_params.clone(),
    })
}
