//! `SslContext`: options compiled once, immutable, shared by every connection made with them.
//!
//! Making a context reads the files (certificates, keys, CAs, CRLs), checks every option
//! against the others and builds the engine's configuration; what cannot be honoured is an
//! error here, before a byte is sent. A context is cheap to clone and to share between
//! threads, and it carries the session cache, so connections made with one context resume
//! each other's sessions (when their verified names match):
//!
//! ```
//! use sslsock::x509::create::CertSpec;
//! use sslsock::{Options, SslContext, SslListener, SslSocket};
//!
//! let ca = CertSpec::new("Example CA").ca().self_signed()?;
//! let leaf = CertSpec::new("localhost").san("localhost").signed_by(&ca)?;
//! let server = SslContext::new(&Options::new().server(true).cert_pem(leaf.cert_pem).key_pem(leaf.key_pem))?;
//! let listener = SslListener::bind("127.0.0.1:0", &server)?;
//! let addr = listener.local_addr()?.to_string();
//! std::thread::spawn(move || while listener.accept().is_ok() {});
//!
//! let client = SslContext::new(&Options::new().ca_cert(ca.cert_pem).hostname("localhost"))?;
//! for _ in 0..2 {
//!     let sock = SslSocket::connect_with(&addr, &client)?;
//!     println!("{} {}", sock.version().unwrap_or("-"), sock.cipher().unwrap_or("-"));
//! }
//! // A bad option is refused when the context is made, with the reason.
//! assert!(SslContext::new(&Options::new().cipher_list("NO-SUCH-CIPHER")).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::Arc;

use pki_types::CertificateDer;

use crate::engine::{self, EngineConfig};
use crate::error::Error;
use crate::options::Options;
use crate::plan::roots::DefaultCa;
use crate::plan::{Plan, SocketPlan, Target};
use crate::verify::chain::ChainPolicy;

/// A compiled, immutable TLS configuration (the Perl module's `SSL_Context`), cheap to clone.
///
/// Build it once and reuse it for every connection (`SSL_reuse_ctx`):
///
/// ```no_run
/// use sslsock::{Options, SslContext, SslSocket};
/// let ctx = SslContext::new(&Options::new().ca_file("ca.pem"))?;
/// let a = SslSocket::connect_with("a.example:443", &ctx)?;
/// let b = SslSocket::connect_with("b.example:443", &ctx)?;
/// # Ok::<(), sslsock::Error>(())
/// ```
#[derive(Clone)]
pub struct SslContext {
    inner: Arc<Inner>,
}

struct Inner {
    engine: EngineConfig,
    /// What its sockets do beyond the handshake, read once from `options`.
    socket: SocketPlan,
    /// Client: how the server is checked (OCSP included).
    server_check: Option<crate::peer::ServerCheck>,
    options: Options,
    own_chain: Vec<CertificateDer<'static>>,
    chain_policy: Option<Arc<ChainPolicy>>,
    unavailable: Vec<String>,
}

impl std::fmt::Debug for SslContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SslContext")
            .field("server", &self.inner.options.server)
            .finish_non_exhaustive()
    }
}

static DEFAULT_CONTEXT: std::sync::RwLock<Option<SslContext>> = std::sync::RwLock::new(None);

/// Makes `ctx` the context of [`crate::SslSocket::connect`] (`set_default_context`); `None`
/// returns to a fresh context with the defaults for each call.
pub fn set_default_context(ctx: Option<SslContext>) {
    if let Ok(mut g) = DEFAULT_CONTEXT.write() {
        *g = ctx;
    }
}

pub(crate) fn default_context() -> Option<SslContext> {
    DEFAULT_CONTEXT.read().ok().and_then(|g| g.clone())
}

/// The context of the one-line [`crate::SslSocket::connect`] when no default context is set:
/// one for the process (so that its connections resume each other's sessions), made again
/// when the default CA or any other process-wide default changes. With an args filter
/// callback installed it is made for each connection, as the filter's documentation says.
static IMPLICIT_CONTEXT: std::sync::Mutex<Option<(Arc<DefaultCa>, u64, SslContext)>> =
    std::sync::Mutex::new(None);

pub(crate) fn implicit_context() -> Result<SslContext, Error> {
    if crate::args::has_filter_callback() {
        return SslContext::new(&Options::new());
    }
    let ca = crate::plan::roots::default_ca();
    let generation = crate::defaults::generation();
    let mut slot = IMPLICIT_CONTEXT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((made_with, made_at, ctx)) = &*slot {
        if Arc::ptr_eq(made_with, &ca) && *made_at == generation {
            return Ok(ctx.clone());
        }
    }
    let ctx = SslContext::new(&Options::new())?;
    *slot = Some((ca, generation, ctx.clone()));
    Ok(ctx)
}

impl SslContext {
    /// Compiles `options`. Every file is read and every string parsed here, so a bad option
    /// fails before any connection is made.
    ///
    /// The process-wide defaults ([`crate::args::set_defaults`], and the client or server
    /// ones) fill what `options` leaves unset, and the args filter
    /// ([`crate::args::set_args_filter`]) has the last word.
    pub fn new(options: &Options) -> Result<SslContext, Error> {
        let options = crate::args::effective(options)?;
        let plan = Plan::new(&options)?;
        let built = engine::build(&plan)?;
        Ok(SslContext {
            inner: Arc::new(Inner {
                engine: built.config,
                server_check: plan.client().map(|c| c.check.clone()),
                socket: SocketPlan::new(&options),
                options,
                own_chain: plan
                    .identity
                    .as_ref()
                    .map(|i| i.chain.clone())
                    .unwrap_or_default(),
                chain_policy: plan.chain_policy.clone(),
                unavailable: built.unavailable,
            }),
        })
    }

    /// Server: this context, choosing the context of each connection from its ClientHello
    /// (SNI name, ALPN protocols, signature schemes), for servers that host many names: `cb`
    /// returns the server context to use (its certificate and chain, client verification,
    /// ALPN protocols, ciphers), or `None` for this one. A context that is not a server's on
    /// the default engine fails that handshake, with the reason. The openssl engine refuses
    /// the callback, by name (it chooses certificates by SNI name with `sni_cert`).
    ///
    /// ```no_run
    /// use sslsock::{Options, SslContext, SslListener};
    /// let server = |cert: &str, key: &str| {
    ///     SslContext::new(&Options::new().server(true).cert_file(cert).key_file(key))
    /// };
    /// let shop = server("shop.pem", "shop.key")?;
    /// let rsa_only = server("legacy-rsa.pem", "legacy-rsa.key")?;
    /// let ctx = server("default.pem", "default.key")?.with_client_hello_callback(move |hello| {
    ///     if hello.server_name() == Some("shop.example") {
    ///         Some(shop.clone())
    ///     } else if !hello.accepts_ecdsa() {
    ///         Some(rsa_only.clone())
    ///     } else {
    ///         None
    ///     }
    /// })?;
    /// let listener = SslListener::bind("0.0.0.0:443", &ctx)?;
    /// # let _ = listener;
    /// # Ok::<(), sslsock::Error>(())
    /// ```
    pub fn with_client_hello_callback(
        &self,
        cb: impl Fn(&crate::hello::ClientHello) -> Option<SslContext> + Send + Sync + 'static,
    ) -> Result<SslContext, Error> {
        let invalid = |why: String| Error::Config(crate::error::ConfigError::Invalid(why));
        if !self.is_server() {
            return Err(invalid(
                "with_client_hello_callback is for a server context".to_owned(),
            ));
        }
        let pick: engine::Pick = Arc::new(move |hello| {
            cb(hello).map(|ctx| {
                (
                    ctx.is_server(),
                    ctx.inner.engine.clone(),
                    ctx.inner.own_chain.clone(),
                )
            })
        });
        let engine = engine::choosing_by_client_hello(&self.inner.engine, pick).map_err(invalid)?;
        let i = &self.inner;
        Ok(SslContext {
            inner: Arc::new(Inner {
                engine,
                socket: i.socket.clone(),
                server_check: i.server_check.clone(),
                options: i.options.clone(),
                own_chain: i.own_chain.clone(),
                chain_policy: i.chain_policy.clone(),
                unavailable: i.unavailable.clone(),
            }),
        })
    }

    /// True when this context is for the server side.
    pub fn is_server(&self) -> bool {
        self.inner.options.server
    }

    /// The names of the cipher, TLS 1.3 suite and group lists that OpenSSL knows and this
    /// engine lacks (`X448`, `ffdhe2048`, `DHE-RSA-AES128-GCM-SHA256`, ...). They are dropped
    /// from the lists, as OpenSSL drops what it lacks, with a warning through `log`; a list
    /// left empty is a configuration error.
    ///
    /// ```
    /// use sslsock::{Options, SslContext};
    /// let ctx = SslContext::new(&Options::new().ecdh_curve("X448:P-256"))?;
    /// assert_eq!(ctx.unavailable_names(), ["X448"]);
    /// # Ok::<(), sslsock::Error>(())
    /// ```
    pub fn unavailable_names(&self) -> &[String] {
        &self.inner.unavailable
    }

    /// The options this context was built from.
    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    pub(crate) fn engine(&self) -> &EngineConfig {
        &self.inner.engine
    }

    /// What its sockets do beyond the handshake.
    pub(crate) fn socket_plan(&self) -> &SocketPlan {
        &self.inner.socket
    }

    /// The target of a connection made with this context toward `peer` (`dialed`: the
    /// address given to the constructor, if any).
    pub(crate) fn target(
        &self,
        peer: &crate::options::Peer,
        dialed: Option<&str>,
    ) -> Result<Target, Error> {
        Target::resolve(&self.inner.options, peer, dialed)
    }

    /// The target of a connection toward `name`, for constructors that take only a name.
    pub(crate) fn named_target(&self, name: &str) -> Result<Target, Error> {
        Target::named(&self.inner.options, name)
    }

    pub(crate) fn own_chain(&self) -> &[CertificateDer<'static>] {
        &self.inner.own_chain
    }

    /// Client: how OCSP is checked; `None` on a server.
    pub(crate) fn ocsp_policy(&self) -> Option<&crate::ocsp::StaplePolicy> {
        self.inner.server_check.as_ref().map(|c| &c.ocsp)
    }

    /// Client contexts that verify: checks a server's `chain` (leaf first, as sent) for
    /// `name` as a handshake with this context would: the path to a trusted root, pins, the
    /// hostname scheme, name constraints and CRLs (OCSP staples are a handshake's, and are not
    /// part of it). For a report of what verification would have said about a connection
    /// made without it.
    ///
    /// ```
    /// use sslsock::x509::create::CertSpec;
    /// use sslsock::{Options, SslContext, VerifyError};
    ///
    /// let ca = CertSpec::new("Example CA").ca().self_signed()?;
    /// let leaf = CertSpec::new("www.example").san("www.example").signed_by(&ca)?;
    /// let ctx = SslContext::new(&Options::new().ca_cert(ca.cert_pem))?;
    /// let chain = [leaf.cert_der.into()];
    /// ctx.verify_server_chain(&chain, "www.example")?;
    /// let e = ctx.verify_server_chain(&chain, "other.example").unwrap_err();
    /// assert!(matches!(e, sslsock::Error::Verify(VerifyError::NameMismatch { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verify_server_chain(
        &self,
        chain: &[CertificateDer<'_>],
        name: &str,
    ) -> Result<(), Error> {
        let check = self
            .inner
            .server_check
            .as_ref()
            .filter(|c| c.mode.verifies())
            .ok_or(Error::State(
                "verify_server_chain needs a client context that verifies servers",
            ))?;
        let (leaf, rest) = chain
            .split_first()
            .ok_or(Error::Verify(crate::VerifyError::NoPeerCertificate))?;
        check
            .check_identity(leaf, rest, Some(name), crate::peer::now())
            .map(|_| ())
            .map_err(Error::Verify)
    }

    /// The policy peers are verified with; `None` when they are not.
    pub(crate) fn chain_policy(&self) -> Option<&ChainPolicy> {
        self.inner.chain_policy.as_deref()
    }
}

/// What a constructor takes: a compiled context (shared, cheap to clone), or options compiled
/// on the spot. Every socket constructor takes either, so there is one constructor per
/// purpose:
///
/// ```no_run
/// use sslsock::{Options, SslContext, SslSocket};
/// let opts = Options::new().ca_file("ca.pem");
/// let a = SslSocket::connect_with("a.example:443", &opts)?; // compiles the options
/// let ctx = SslContext::new(&opts)?;
/// let b = SslSocket::connect_with("b.example:443", &ctx)?; // reuses the context
/// # Ok::<(), sslsock::Error>(())
/// ```
pub trait ContextSource {
    /// The context to use.
    fn context(self) -> Result<SslContext, Error>;

    /// The context to use for accepting: options are compiled with `server(true)` implied.
    fn server_context(self) -> Result<SslContext, Error>
    where
        Self: Sized,
    {
        self.context()
    }

    /// Whether a failed `start_ssl` hands the stream back (`SSL_keepSocketOnError`).
    fn keeps_socket_on_error(&self) -> bool;
}

impl ContextSource for &SslContext {
    fn context(self) -> Result<SslContext, Error> {
        Ok(self.clone())
    }

    fn keeps_socket_on_error(&self) -> bool {
        self.socket_plan().keep_socket_on_error
    }
}

impl ContextSource for &Options {
    fn context(self) -> Result<SslContext, Error> {
        SslContext::new(self)
    }

    fn server_context(self) -> Result<SslContext, Error> {
        SslContext::new(&self.clone().server(true))
    }

    fn keeps_socket_on_error(&self) -> bool {
        self.keep_socket_on_error
    }
}
