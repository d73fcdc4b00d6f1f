//! `SslListener`: a TCP listener whose `accept` returns TLS sockets.
//!
//! `accept` handshakes before it returns (within the context's timeout); a client that fails
//! the handshake is an error of that `accept` only, and the listener goes on. Per-name
//! certificates ([`Options::sni_cert`](crate::Options::sni_cert)), client certificates
//! ([`Options::client_ca_file`](crate::Options::client_ca_file)) and OCSP stapling are
//! options of its context.
//!
//! ```no_run
//! use std::io::{BufRead, Write};
//! use sslsock::{Options, SslListener};
//!
//! let opts = Options::new().cert_file("srv.pem").key_file("srv.key");
//! let listener = SslListener::bind("[::]:8443", &opts)?;
//! loop {
//!     let (mut tls, peer) = match listener.accept() {
//!         Ok(conn) => conn,
//!         Err(e) => { eprintln!("handshake failed: {e}"); continue; }
//!     };
//!     let mut line = String::new();
//!     tls.read_line(&mut line)?;
//!     tls.write_all(line.as_bytes())?;
//!     println!("{peer}: {}", line.trim_end());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::RwLock;

use crate::context::{ContextSource, SslContext};
use crate::error::{ConfigError, Error};
use crate::socket::SslSocket;

/// A listening TLS server socket (`IO::Socket::SSL->new(Listen => ..)`).
///
/// `accept` does the TCP accept and the handshake in the calling thread. A server that must
/// not let one slow client hold the accept loop accepts plain and hands the handshake to a
/// worker, as the manual advises:
///
/// ```no_run
/// use sslsock::{Options, SslListener, SslSocket};
/// let listener = SslListener::bind("127.0.0.1:8443", &Options::new().cert_file("srv.pem").key_file("srv.key"))?;
/// loop {
///     let (tcp, _peer) = listener.accept_tcp()?;
///     let ctx = listener.context();
///     std::thread::spawn(move || {
///         if let Ok(mut tls) = SslSocket::start_ssl(tcp, &ctx) {
///             let _ = std::io::copy(&mut std::io::empty(), &mut tls);
///         }
///     });
/// }
/// # Ok::<(), sslsock::Error>(())
/// ```
#[derive(Debug)]
pub struct SslListener {
    tcp: TcpListener,
    /// Replaced whole by `set_context`; each accept takes the one current then.
    ctx: RwLock<SslContext>,
}

impl SslListener {
    /// Binds `addr` (`host:port`, `[v6]:port`) with server options (`server(true)` is implied)
    /// or a prebuilt server context.
    pub fn bind(addr: &str, config: impl ContextSource) -> Result<SslListener, Error> {
        let ctx = config.server_context()?;
        if !ctx.is_server() {
            return Err(Error::Config(ConfigError::Invalid(
                "SslListener needs a server context".to_owned(),
            )));
        }
        let addrs: Vec<SocketAddr> = addr
            .to_socket_addrs()
            .map_err(|e| Error::Resolve {
                host: addr.to_owned(),
                reason: e.to_string(),
            })?
            .collect();
        let tcp = TcpListener::bind(&addrs[..]).map_err(|source| Error::Bind {
            addr: addr.to_owned(),
            source,
        })?;
        Ok(SslListener {
            tcp,
            ctx: RwLock::new(ctx),
        })
    }

    /// Accepts a connection and runs the TLS handshake (unless `start_handshake(false)`).
    /// A failed handshake calls the `error_trap` with the plain stream and returns the error;
    /// the listener stays usable.
    pub fn accept(&self) -> Result<(SslSocket<TcpStream>, SocketAddr), Error> {
        let (tcp, peer) = self.accept_tcp()?;
        let ctx = self.context();
        if ctx.options().is_lazy() {
            return Ok((SslSocket::new_plain(tcp, &ctx)?, peer));
        }
        Ok((SslSocket::accept_with(tcp, &ctx)?, peer))
    }

    /// Accepts a plain TCP connection only; run the handshake with
    /// [`SslSocket::accept_with`] and [`context`](Self::context), e.g. in a worker thread, or
    /// non-blocking with [`SslSocket::new_plain`] and `accept_ssl`.
    pub fn accept_tcp(&self) -> Result<(TcpStream, SocketAddr), Error> {
        let (tcp, peer) = self.tcp.accept()?;
        let _ = tcp.set_nodelay(true);
        Ok((tcp, peer))
    }

    /// Switches the listening socket to non-blocking accepts.
    pub fn set_nonblocking(&self, yes: bool) -> Result<(), Error> {
        Ok(self.tcp.set_nonblocking(yes)?)
    }

    /// The local address (useful after binding port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, Error> {
        Ok(self.tcp.local_addr()?)
    }

    /// The server context new connections get now (a handle: cheap to clone and to keep).
    pub fn context(&self) -> SslContext {
        match self.ctx.read() {
            Ok(ctx) => ctx.clone(),
            // A writer cannot panic while it holds the lock (it only assigns).
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the context of the connections accepted from now on, for example with a
    /// renewed certificate; connections already accepted keep theirs. A context that is not a
    /// server's is refused and the current one stays.
    ///
    /// ```no_run
    /// use sslsock::{Options, SslListener};
    /// let opts = |cert: &str| Options::new().cert_file(cert).key_file("srv.key");
    /// let listener = SslListener::bind("127.0.0.1:8443", &opts("srv.pem"))?;
    /// // ... later, the certificate was renewed (a context that fails to build changes nothing):
    /// listener.set_context(&opts("renewed.pem"))?;
    /// # Ok::<(), sslsock::Error>(())
    /// ```
    pub fn set_context(&self, config: impl ContextSource) -> Result<(), Error> {
        let ctx = config.server_context()?;
        if !ctx.is_server() {
            return Err(Error::Config(ConfigError::Invalid(
                "SslListener needs a server context".to_owned(),
            )));
        }
        match self.ctx.write() {
            Ok(mut current) => *current = ctx,
            Err(poisoned) => *poisoned.into_inner() = ctx,
        }
        Ok(())
    }

    /// The TCP listener.
    pub fn get_ref(&self) -> &TcpListener {
        &self.tcp
    }
}
