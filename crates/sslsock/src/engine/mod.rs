//! The TLS engines behind one contract: a [`Plan`] -> engine configuration, and the sans-IO
//! [`Session`] the socket drives one record at a time. The default engine (rustls) lives in
//! `rustls_engine/`, the openssl engine (feature `openssl`) in `openssl_engine/`; what both
//! share is here: the session the socket sees (`session.rs`), the client session cache
//! (`resumption.rs`), suite and version names (`suites.rs`), verifiers shared between
//! contexts (`interned.rs`), OCSP stapling threads and the key log switch.
//!
//! # What an engine provides
//!
//! - **A build**, `build(&Plan) -> Built`: an [`EngineConfig`] and the suite and group
//!   names it dropped. The plan was read from
//!   the options once (`crate::plan`), refusals by side and engine included; an engine
//!   applies every decision in it, or refuses it with a [`ConfigError`] naming the option
//!   and the engine that has it; never ignores it. No engine reads `Options`.
//! - **Sessions**: `Session::client(&config, &Target)` takes the connection's identity as
//!   one value ([`crate::plan::Target`]: the name sent, the name checked, the session key);
//!   `Session::server(&config)`. A client offers a cached session only from the slot
//!   (session key, name checked) and only under the verification that accepted it.
//! - **Record-exact I/O**: `feed_record` takes one whole TLS record, `plaintext`/`consume`
//!   hand out what it decrypted, `write_plaintext`/`write_tls` and `wants_write` move
//!   output; `feed_eof` reports the transport's end. An engine never reads ahead of the
//!   record it was fed, so the socket can stop TLS with the following plain bytes intact.
//! - **Verification by sslsock's policy**: the chain, name, pins, CRLs and OCSP are decided
//!   by `verify::peer` and `ocsp/` on DER; a refusal reaches the peer as the alert of
//!   [`VerifyError::alert`](crate::error::VerifyError::alert) (OpenSSL's exception noted
//!   there).
//! - **Facts**: version, cipher, group, ALPN/NPN, SNI, resumption, peer chain and what the
//!   verification learnt (`peer_outcome`), ECH status, in the socket's words.

mod interned;
#[cfg(feature = "openssl")]
mod openssl_engine;
mod resumption;
mod rustls_engine;
pub(crate) mod session;
pub(crate) mod suites;

pub use resumption::{CachedSession, SessionStore};
#[cfg(feature = "unstable-engine-config")]
#[cfg_attr(docsrs, doc(cfg(feature = "unstable-engine-config")))]
pub use rustls::{ClientConfig, ServerConfig};
pub(crate) use session::Session;

/// The engine configuration handed to an [`EngineHook`].
#[cfg(feature = "unstable-engine-config")]
#[cfg_attr(docsrs, doc(cfg(feature = "unstable-engine-config")))]
pub type EngineHook = Arc<dyn Fn(EngineConfigMut<'_>) + Send + Sync>;

#[cfg(feature = "unstable-engine-config")]
#[cfg_attr(docsrs, doc(cfg(feature = "unstable-engine-config")))]
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

use crate::defaults;
use crate::error::ConfigError;
use crate::options::Engine;
use crate::plan::Plan;

/// A context's configuration on its engine.
#[derive(Debug, Clone)]
// One per context, inside the context's `Arc`: the default engine's stays inline.
#[allow(clippy::large_enum_variant)]
pub(crate) enum EngineConfig {
    /// On the default engine.
    Rustls(rustls_engine::Config),
    /// On the OpenSSL engine.
    #[cfg(feature = "openssl")]
    OpenSsl(Arc<openssl_engine::Config>),
}

/// A server's ClientHello callback as contexts hand it to the engine: whether the chosen
/// context is a server's, its engine configuration and its chain (`None`: keep this one).
pub(crate) type Pick = Arc<
    dyn Fn(
            &crate::hello::ClientHello,
        ) -> Option<(bool, EngineConfig, Vec<pki_types::CertificateDer<'static>>)>
        + Send
        + Sync,
>;

/// `config` with `pick` consulted for each ClientHello: the default engine's server
/// configurations only.
pub(crate) fn choosing_by_client_hello(
    config: &EngineConfig,
    pick: Pick,
) -> Result<EngineConfig, String> {
    match config {
        EngineConfig::Rustls(c) => {
            let chooser = rustls_engine::Chooser(Arc::new(move |hello| {
                let (server, engine, chain) = pick(hello)?;
                Some(match engine {
                    EngineConfig::Rustls(c @ rustls_engine::Config::Server { .. }) if server => {
                        Ok((c, chain))
                    }
                    _ => Err("client_hello_callback chose a context that is not a server's on the default engine".to_owned()),
                })
            }));
            c.with_chooser(chooser)
                .map(EngineConfig::Rustls)
                .ok_or_else(|| "a ClientHello callback is for a server context".to_owned())
        }
        #[cfg(feature = "openssl")]
        EngineConfig::OpenSsl(_) => Err(
            "with_client_hello_callback: the openssl engine chooses certificates by SNI name only (sni_cert); the callback is the default engine's"
                .to_owned(),
        ),
    }
}

/// What `build` produces: the engine config, and what the engine dropped.
pub(crate) struct Built {
    pub(crate) config: EngineConfig,
    /// Cipher, suite and group names OpenSSL knows that the engine lacks, dropped.
    pub(crate) unavailable: Vec<String>,
}

/// Builds the plan's configuration on the engine it names.
pub(crate) fn build(plan: &Plan) -> Result<Built, ConfigError> {
    match plan.engine {
        #[cfg(feature = "openssl")]
        Engine::OpenSsl => openssl_engine::build(plan),
        #[cfg(not(feature = "openssl"))]
        Engine::OpenSsl => Err(ConfigError::Invalid(
            "the openssl engine is not built in: build sslsock with the `openssl` feature".into(),
        )),
        Engine::Rustls => rustls_engine::build(plan),
    }
}

/// SSLKEYLOGFILE names a file to log session secrets to (for Wireshark); off when unset.
fn keylog_wanted() -> bool {
    std::env::var_os("SSLKEYLOGFILE").is_some_and(|v| !v.is_empty())
}

/// Server, on either engine: puts a staple for `chain` (its certificate first) into `slot` and
/// keeps it current on a stapler thread while the slot lives. A staple file that does not fit
/// is a configuration error; a responder that does not answer yet is retried.
pub(crate) fn keep_stapled(
    source: &crate::ocsp::StapleSource,
    store: Option<&Arc<dyn crate::ocsp::StapleStore>>,
    chain: Vec<Vec<u8>>,
    slot: Arc<dyn crate::ocsp::StapleSlot>,
) -> Result<(), ConfigError> {
    use crate::ocsp::{Renewal, StapleSource};
    let first = match store {
        Some(store) => {
            crate::ocsp::renew_shared(&**store, &chain, None, defaults::OCSP_TIMEOUT).and_then(
                |renewal| match renewal {
                    Renewal::Staple(der, status) => Ok((der, status)),
                    // Without a current staple renew_shared asks the responder itself rather
                    // than wait; should that change, a starting server still does not wait.
                    Renewal::Pending => crate::ocsp::obtain(source, &chain, defaults::OCSP_TIMEOUT),
                },
            )
        }
        None => crate::ocsp::obtain(source, &chain, defaults::OCSP_TIMEOUT),
    };
    let current = match first {
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
        store.cloned(),
        chain,
        current,
        defaults::OCSP_RETRY,
        Arc::downgrade(&slot),
    );
    Ok(())
}
