//! `SslSocket`: a stream that is plain or TLS, can switch both ways, and reads record-exact.
//!
//! One type for every way a TLS connection starts: [`SslSocket::connect`] and
//! [`SslListener::accept`](crate::SslListener::accept) handshake at once;
//! [`SslSocket::new_client`] and [`SslSocket::start_ssl`] wrap a stream that talked plain
//! first (STARTTLS), and [`SslSocket::stop_ssl`] goes back to plain. `Read` returns the data
//! of one record at most, so nothing of a following plain-text phase is swallowed. On a
//! non-blocking transport the same calls return `WouldBlock` and [`SslSocket::want`] says
//! what to wait for ([`Want`]).
//!
//! With the `mio` feature, an `SslSocket<mio::net::TcpStream>` is a `mio::event::Source`:
//!
//! ```no_run
//! # #[cfg(feature = "mio")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::io::{ErrorKind, Read};
//! use mio::{Events, Interest, Poll, Token};
//! use sslsock::{Options, SslSocket};
//!
//! let mut poll = Poll::new()?;
//! let tcp = mio::net::TcpStream::connect("93.184.215.14:443".parse()?)?;
//! let mut tls = SslSocket::new_client(tcp, &Options::new(), "example.org")?;
//! poll.registry().register(&mut tls, Token(0), Interest::READABLE | Interest::WRITABLE)?;
//! let mut events = Events::with_capacity(16);
//! let mut buf = [0u8; 4096];
//! loop {
//!     poll.poll(&mut events, None)?;
//!     if !tls.is_tls() {
//!         match tls.connect_ssl() {
//!             Ok(()) => {}
//!             Err(sslsock::Error::Io(e)) if e.kind() == ErrorKind::WouldBlock => continue,
//!             Err(e) => return Err(e.into()),
//!         }
//!     }
//!     // Data may already sit decrypted in the socket: read until WouldBlock.
//!     loop {
//!         match tls.read(&mut buf) {
//!             Ok(0) => return Ok(()),
//!             Ok(n) => println!("{} bytes", n),
//!             Err(e) if e.kind() == ErrorKind::WouldBlock => break,
//!             Err(e) => return Err(e.into()),
//!         }
//!     }
//! }
//! # }
//! # #[cfg(not(feature = "mio"))]
//! # fn main() {}
//! ```
//!
//! `examples/mio_echo.rs` is a whole single-threaded server on mio.

#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod async_io;
mod buffer;
pub(crate) mod connect;
mod info;
#[cfg(feature = "mio")]
mod mio_source;

use std::fmt;
use std::io::{self, BufRead, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::context::{ContextSource, SslContext};
use crate::defaults::MAX_RECORD_PLAINTEXT;
use crate::engine::Session;
use crate::error::{Error, Want};
use crate::options::Peer;
use crate::plan::Target;

use buffer::{record_len, record_missing, InputBuffer};

pub use info::CertField;

/// A TLS socket over any byte stream `S` (a `TcpStream` by default).
///
/// It is plain until a handshake runs and plain again after [`stop_ssl`](Self::stop_ssl).
/// Reads return data from one TLS record at most (the Perl `sysread` semantics) and never
/// consume bytes beyond the peer's close_notify.
///
/// ```no_run
/// use std::io::{BufRead, Write};
/// let mut sock = sslsock::SslSocket::connect("www.example.org:443")?;
/// sock.write_all(b"GET / HTTP/1.0\r\nHost: www.example.org\r\n\r\n")?;
/// let mut status = String::new();
/// sock.read_line(&mut status)?;
/// println!("{} {} {status}", sock.version().unwrap(), sock.cipher().unwrap());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SslSocket<S: Transport = TcpStream> {
    /// Always present: taken only by the methods that consume the socket.
    stream: Option<S>,
    input: InputBuffer,
    tls: Option<Session>,
    ctx: SslContext,
    /// This connection's names, session identity and deadline, resolved once.
    target: Target,
    /// Where the socket stands; `tls` holds the session in every phase but `Plain` and
    /// `Failed`.
    phase: SocketState,
    last_error: Option<String>,
    want: Want,
    /// When a timed blocking operation (connect, accept, handshake) must be over.
    deadline: Option<Instant>,
    /// Read/write timeouts are set on a blocking transport: WouldBlock means "timed out".
    io_timeouts: bool,
    /// The transport is in non-blocking mode.
    nonblocking: bool,
    /// An error met while decrypting ahead, reported by the next read.
    deferred: Option<Error>,
    /// Decrypted data that arrived while `stop_ssl` waited for close_notify.
    stop_kept: Vec<u8>,
    /// The read timeout armed after the handshake by the context's `idle_timeout`.
    idle: Option<Duration>,
    /// The async adapter applies `idle_timeout` with a timer of its own.
    pub(crate) idle_by_timer: bool,
}

/// Where a socket stands ([`SslSocket::state`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SocketState {
    /// Plain bytes: TLS not started, or stopped with `stop_ssl`.
    Plain,
    /// A handshake is under way (on a non-blocking transport, between calls).
    Handshaking,
    /// TLS is up.
    Tls,
    /// We sent close_notify; the peer's may still come (`shutdown_tls`).
    ShuttingDown,
    /// The last handshake failed; the plain stream is still there (Perl's `opened() == -1`).
    Failed,
}

/// What [`SslSocket::opened`] says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Opened {
    /// TLS is up (Perl: 1).
    Tls,
    /// The handshake failed; the plain stream is still open (Perl: -1).
    HandshakeFailed,
    /// No TLS (yet): a plain socket (Perl: 0, false).
    NotTls,
}

impl Opened {
    /// The number Perl's `opened()` returns.
    pub fn as_perl(self) -> i8 {
        match self {
            Opened::Tls => 1,
            Opened::HandshakeFailed => -1,
            Opened::NotTls => 0,
        }
    }
}

/// A failed [`SslSocket::start_ssl`]: the error, and the plain stream when
/// `keep_socket_on_error` was set.
pub struct StartError<S> {
    /// Why it failed.
    pub error: Error,
    /// The stream, if kept.
    pub stream: Option<S>,
}

impl<S> fmt::Debug for StartError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StartError")
            .field("error", &self.error)
            .field("stream_kept", &self.stream.is_some())
            .finish()
    }
}

impl<S> fmt::Display for StartError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl<S> std::error::Error for StartError<S> {}

impl<S> From<StartError<S>> for Error {
    fn from(e: StartError<S>) -> Error {
        e.error
    }
}

/// A byte stream TLS runs over.
///
/// Blocking streams that can time out a read or a write (TCP and Unix sockets) say so here;
/// on them the context's `timeout` is a deadline for every handshake, however the socket was
/// made (`connect`, `accept`, `start_ssl`, `connect_ssl`, `accept_ssl`). Other streams
/// (non-blocking, async adapters, in-memory pipes) leave time to the caller and need no code:
///
/// ```
/// use std::io::{Read, Write};
/// struct Pipe; // any Read + Write
/// # impl Read for Pipe { fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> { Ok(0) } }
/// # impl Write for Pipe { fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { Ok(b.len()) }
/// #     fn flush(&mut self) -> std::io::Result<()> { Ok(()) } }
/// impl sslsock::socket::Transport for Pipe {}
/// ```
pub trait Transport: Read + Write {
    /// The read and write timeouts now set, or `None` when this stream has no timeouts.
    fn timeouts(&self) -> io::Result<Option<(Option<Duration>, Option<Duration>)>> {
        Ok(None)
    }

    /// Sets the read and write timeouts (called only when [`timeouts`](Self::timeouts) says the
    /// stream has them).
    fn set_timeouts(&self, read: Option<Duration>, write: Option<Duration>) -> io::Result<()> {
        let _ = (read, write);
        Ok(())
    }
}

impl Transport for TcpStream {
    fn timeouts(&self) -> io::Result<Option<(Option<Duration>, Option<Duration>)>> {
        Ok(Some((self.read_timeout()?, self.write_timeout()?)))
    }

    fn set_timeouts(&self, read: Option<Duration>, write: Option<Duration>) -> io::Result<()> {
        self.set_read_timeout(read)?;
        self.set_write_timeout(write)
    }
}

#[cfg(unix)]
impl Transport for std::os::unix::net::UnixStream {
    fn timeouts(&self) -> io::Result<Option<(Option<Duration>, Option<Duration>)>> {
        Ok(Some((self.read_timeout()?, self.write_timeout()?)))
    }

    fn set_timeouts(&self, read: Option<Duration>, write: Option<Duration>) -> io::Result<()> {
        self.set_read_timeout(read)?;
        self.set_write_timeout(write)
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn timeouts(&self) -> io::Result<Option<(Option<Duration>, Option<Duration>)>> {
        (**self).timeouts()
    }

    fn set_timeouts(&self, read: Option<Duration>, write: Option<Duration>) -> io::Result<()> {
        (**self).set_timeouts(read, write)
    }
}

/// The transport of a live socket (present until a consuming method takes it).
fn transport<S>(stream: &mut Option<S>) -> &mut S {
    stream
        .as_mut()
        .expect("the stream is taken only by methods that consume the socket")
}

/// [`transport`], shared.
fn transport_ref<S>(stream: &Option<S>) -> &S {
    stream
        .as_ref()
        .expect("the stream is taken only by methods that consume the socket")
}

/// Perl's DESTROY: a socket dropped with TLS on sends close_notify, best effort (a blocking
/// transport gets a second to take it).
impl<S: Transport> Drop for SslSocket<S> {
    fn drop(&mut self) {
        let established = self.tls.as_ref().is_some_and(|s| !s.is_handshaking());
        if !established || self.phase != SocketState::Tls || self.stream.is_none() {
            return;
        }
        let previous = transport_ref(&self.stream).timeouts().ok().flatten();
        if let Some((r, _)) = previous {
            let _ = transport_ref(&self.stream).set_timeouts(r, Some(Duration::from_secs(1)));
        }
        let _ = self.shutdown_tls();
        if let Some((r, w)) = previous {
            let _ = transport_ref(&self.stream).set_timeouts(r, w);
        }
    }
}

impl<S: Transport> fmt::Debug for SslSocket<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SslSocket")
            .field("tls", &self.tls)
            .field("server", &self.ctx.is_server())
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl SslSocket<TcpStream> {
    /// `new_from_fd`: TLS on a connected socket given as an owned descriptor, as
    /// [`start_ssl`](Self::start_ssl) does on the stream (the Perl mode argument has no
    /// meaning here: the socket is read and written). A raw descriptor becomes an `OwnedFd`
    /// with `OwnedFd::from_raw_fd`, whose safety is the caller's.
    ///
    /// ```no_run
    /// use std::os::fd::OwnedFd;
    /// # let fd: OwnedFd = std::net::TcpStream::connect("example.org:443")?.into();
    /// let sock = sslsock::SslSocket::new_from_fd(fd, &sslsock::Options::new().hostname("example.org"))
    ///     .map_err(|e| e.error)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(unix)]
    pub fn new_from_fd(
        fd: std::os::fd::OwnedFd,
        config: impl ContextSource,
    ) -> Result<SslSocket<TcpStream>, StartError<TcpStream>> {
        SslSocket::start_ssl(TcpStream::from(fd), config)
    }

    /// Connects to `host:port` (port may be a service name such as `https`) with verification
    /// and the secure defaults: TLS 1.2+, CA from [`crate::default_ca`], hostname scheme
    /// `default`, SNI from the host name.
    pub fn connect(addr: &str) -> Result<Self, Error> {
        match crate::context::default_context() {
            Some(ctx) => Self::connect_with(addr, &ctx),
            None => Self::connect_with(addr, &crate::context::implicit_context()?),
        }
    }

    /// Connects with the given options or prebuilt context
    /// (`IO::Socket::SSL->new(PeerAddr => .., %args)`, `SSL_reuse_ctx`).
    pub fn connect_with(addr: &str, config: impl ContextSource) -> Result<Self, Error> {
        Self::connect_to(addr, config, &Peer::new())
    }

    /// Connects with the given options or context, and what belongs to this connection
    /// alone in `peer` (its name, verify name, session key, timeout, local address, family).
    pub fn connect_to(addr: &str, config: impl ContextSource, peer: &Peer) -> Result<Self, Error> {
        config
            .context()
            .and_then(|ctx| Self::connect_inner(addr, &ctx, peer))
            .map_err(crate::error::noted)
    }

    fn connect_inner(addr: &str, ctx: &SslContext, peer: &Peer) -> Result<Self, Error> {
        let plan = ctx.socket_plan();
        let target = ctx.target(peer, Some(addr))?;
        let (host, port) = target
            .address()
            .ok_or(Error::State("no address to connect to"))?;
        let stream = connect::tcp_connect(
            host,
            port,
            target.family(),
            target.local_addr(),
            target.timeout(),
        )?;
        let mut sock = SslSocket::plain(stream, ctx.clone(), target);
        if !plan.lazy {
            if let Err(e) = sock.connect_ssl() {
                if let Some(trap) = &plan.error_trap {
                    trap(sock.get_mut(), &e);
                }
                return Err(e);
            }
        }
        Ok(sock)
    }

    /// Runs the server handshake on an accepted connection under the context's timeout (a
    /// deadline for the whole handshake), calling its `error_trap` on failure. This is what
    /// [`crate::SslListener::accept`] does; a worker thread calls it after
    /// [`crate::SslListener::accept_tcp`].
    pub fn accept_with(tcp: TcpStream, config: impl ContextSource) -> Result<Self, Error> {
        let ctx = config.context().map_err(crate::error::noted)?;
        let plan = ctx.socket_plan();
        let mut sock = SslSocket::new_plain(tcp, &ctx)?;
        match sock.accept_ssl() {
            Ok(()) => Ok(sock),
            Err(e) => {
                let e = crate::error::noted(e);
                if let Some(trap) = &plan.error_trap {
                    trap(sock.get_mut(), &e);
                }
                Err(e)
            }
        }
    }

    /// Switches the transport between blocking and non-blocking mode. In non-blocking mode
    /// every operation may return `io::ErrorKind::WouldBlock`; [`want`](Self::want) then says
    /// what to wait for, and repeating the call continues where it stopped.
    pub fn set_blocking(&mut self, blocking: bool) -> Result<(), Error> {
        transport_ref(&self.stream).set_nonblocking(!blocking)?;
        self.nonblocking = !blocking;
        Ok(())
    }

    /// Read timeout for blocking reads; an expired one reads as `io::ErrorKind::TimedOut`.
    pub fn set_read_timeout(&mut self, t: Option<Duration>) -> Result<(), Error> {
        transport_ref(&self.stream).set_read_timeout(t)?;
        self.io_timeouts = t.is_some() || transport_ref(&self.stream).write_timeout()?.is_some();
        // The caller's read timeout replaces the idle timeout.
        self.idle = None;
        Ok(())
    }

    /// Write timeout for blocking writes; an expired one reads as `io::ErrorKind::TimedOut`.
    pub fn set_write_timeout(&mut self, t: Option<Duration>) -> Result<(), Error> {
        transport_ref(&self.stream).set_write_timeout(t)?;
        self.io_timeouts = t.is_some() || transport_ref(&self.stream).read_timeout()?.is_some();
        Ok(())
    }
}

impl<S: Transport> SslSocket<S> {
    fn plain(stream: S, ctx: SslContext, target: Target) -> Self {
        SslSocket {
            stream: Some(stream),
            input: InputBuffer::new(),
            tls: None,
            ctx,
            target,
            phase: SocketState::Plain,
            last_error: None,
            want: Want::Nothing,
            deadline: None,
            io_timeouts: false,
            nonblocking: false,
            deferred: None,
            stop_kept: Vec::new(),
            idle: None,
            idle_by_timer: false,
        }
    }

    /// This connection's identity: the name sent in SNI, the name checked, the key its
    /// session is filed under, its deadline and address.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Upgrades a connected plain stream to TLS (`IO::Socket::SSL->start_SSL`), as client or
    /// as server (`Options::server(true)`). With `start_handshake(false)` only wraps it; call
    /// [`connect_ssl`](Self::connect_ssl) / [`accept_ssl`](Self::accept_ssl) later.
    ///
    /// ```no_run
    /// use std::io::{BufRead, BufReader, Write};
    /// use std::net::TcpStream;
    /// use sslsock::{Options, SslSocket};
    /// let mut tcp = TcpStream::connect("mail.example.org:25")?;
    /// // ... plain SMTP: EHLO, STARTTLS, read the 220 reply byte-exact ...
    /// let tls = SslSocket::start_ssl(tcp, &Options::new().hostname("mail.example.org"))?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "start_SSL")]
    pub fn start_ssl(stream: S, config: impl ContextSource) -> Result<Self, StartError<S>> {
        let keep = config.keeps_socket_on_error();
        let ctx = match config.context() {
            Ok(ctx) => ctx,
            Err(error) => {
                return Err(StartError {
                    error: crate::error::noted(error),
                    stream: keep.then_some(stream),
                })
            }
        };
        let ctx = &ctx;
        let plan = ctx.socket_plan();
        let keep = plan.keep_socket_on_error;
        let target = match ctx.target(&Peer::new(), None) {
            Ok(t) => t,
            Err(error) => {
                return Err(StartError {
                    error,
                    stream: keep.then_some(stream),
                })
            }
        };
        let mut sock = SslSocket::plain(stream, ctx.clone(), target);
        if plan.lazy {
            return Ok(sock);
        }
        let result = if ctx.is_server() {
            sock.accept_ssl()
        } else {
            sock.connect_ssl()
        };
        match result {
            Ok(()) => Ok(sock),
            Err(error) => {
                if let Some(trap) = &plan.error_trap {
                    trap(sock.get_mut(), &error);
                }
                Err(StartError {
                    error,
                    stream: keep.then(|| sock.take_stream()),
                })
            }
        }
    }

    /// Runs the client handshake on this (plain) socket (`connect_SSL`).
    #[doc(alias = "connect_SSL")]
    pub fn connect_ssl(&mut self) -> Result<(), Error> {
        if self.ctx.is_server() {
            return Err(Error::State(
                "connect_ssl on a socket made with server options",
            ));
        }
        if self.tls.is_none() {
            self.tls = Some(Session::client(self.ctx.engine(), &self.target)?);
            self.phase = SocketState::Handshaking;
        }
        self.handshake()
    }

    /// Runs the server handshake on this (plain) socket (`accept_SSL`).
    #[doc(alias = "accept_SSL")]
    pub fn accept_ssl(&mut self) -> Result<(), Error> {
        if !self.ctx.is_server() {
            return Err(Error::State(
                "accept_ssl on a socket made with client options",
            ));
        }
        if self.tls.is_none() {
            self.tls = Some(Session::server(self.ctx.engine())?);
            self.phase = SocketState::Handshaking;
        }
        self.handshake()
    }

    /// Runs `f` under a deadline `t` from now, restoring the transport timeouts afterwards.
    /// The deadline holds for the whole operation, so a peer that trickles one byte at a time
    /// is cut off as surely as a silent one. Without `t`, on a non-blocking socket, on a
    /// stream without timeouts, or inside another deadline, `f` just runs.
    pub(crate) fn with_timeouts<T>(
        &mut self,
        t: Option<Duration>,
        f: impl FnOnce(&mut Self) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let Some(t) = t.filter(|_| !self.nonblocking && self.deadline.is_none()) else {
            return f(self);
        };
        // A deadline past what the clock can count is no deadline.
        let Some(deadline) = Instant::now().checked_add(t) else {
            return f(self);
        };
        let Some((r, w)) = transport_ref(&self.stream).timeouts()? else {
            return f(self);
        };
        transport_ref(&self.stream).set_timeouts(Some(t), Some(t))?;
        self.deadline = Some(deadline);
        let out = f(self);
        self.deadline = None;
        let _ = transport_ref(&self.stream).set_timeouts(r, w);
        out
    }

    fn handshake(&mut self) -> Result<(), Error> {
        self.with_timeouts(self.target.timeout(), Self::handshake_now)?;
        self.arm_idle();
        Ok(())
    }

    /// After the handshake, a blocking socket without a read timeout of the caller's gets
    /// the context's `idle_timeout` as one: a peer silent that long ends the read.
    fn arm_idle(&mut self) {
        let Some(idle) = self.ctx.socket_plan().idle_timeout else {
            return;
        };
        if self.idle_by_timer {
            return;
        }
        if self.io_timeouts {
            log::debug!("idle_timeout: the read timeout the caller set stays");
            return;
        }
        let timeouts = transport_ref(&self.stream).timeouts();
        let w = match timeouts {
            Ok(Some((None, w))) if !self.nonblocking => w,
            // A read timeout that came with the stream stays.
            Ok(Some(_)) if !self.nonblocking => return,
            _ => {
                // Said once, not dropped in silence: a non-blocking socket (mio) or a stream
                // without read timeouts has no read that could time out.
                static SAID: std::sync::atomic::AtomicBool =
                    std::sync::atomic::AtomicBool::new(false);
                if !SAID.swap(true, std::sync::atomic::Ordering::Relaxed) {
                    log::warn!("idle_timeout is not applied to non-blocking sockets or streams without read timeouts: their event loop decides when a peer is idle");
                }
                return;
            }
        };
        if transport_ref(&self.stream)
            .set_timeouts(Some(idle), w)
            .is_ok()
        {
            self.idle = Some(idle);
        }
    }

    fn handshake_now(&mut self) -> Result<(), Error> {
        if self.tls.as_ref().is_some_and(|t| t.is_handshaking()) {
            self.phase = SocketState::Handshaking;
        }
        let result = self.drive_handshake();
        let would_block =
            matches!(&result, Err(Error::Io(io)) if io.kind() == io::ErrorKind::WouldBlock);
        match &result {
            // A handshake that ran to its end; an established session stays as it was.
            Ok(()) if self.phase == SocketState::Handshaking => self.phase = SocketState::Tls,
            Ok(()) => {}
            Err(_) if would_block => {}
            Err(_) => self.phase = SocketState::Failed,
        }
        if result.is_ok() && self.phase == SocketState::Tls {
            self.log_handshake();
        }
        if let (Err(e), false) = (&result, would_block) {
            log::info!(target: "sslsock::handshake", "handshake failed: {e}");
            self.last_error = Some(e.to_string());
            // The session is unusable; the socket is plain (and most likely useless) again.
            self.tls = None;
        }
        result
    }

    /// DEBUG 1 and 2: what the handshake agreed on, and whether a session was reused.
    fn log_handshake(&self) {
        if !log::log_enabled!(target: "sslsock::handshake", log::Level::Info) {
            return;
        }
        let side = if self.ctx.is_server() {
            "server"
        } else {
            "client"
        };
        log::info!(
            target: "sslsock::handshake",
            "{side} handshake done with {}: {} {}",
            self.target.name().unwrap_or("the peer"),
            self.version().unwrap_or("?"),
            self.cipher().unwrap_or("?"),
        );
        log::debug!(
            target: "sslsock::session",
            "{}",
            if self.session_reused() {
                "session resumed"
            } else {
                "full handshake (no session resumed)"
            }
        );
    }

    fn drive_handshake(&mut self) -> Result<(), Error> {
        loop {
            self.flush_tls()?;
            match &self.tls {
                Some(s) if s.is_handshaking() => {}
                Some(_) => {
                    // Data the peer sent right behind its last handshake message is pending now.
                    self.decrypt_ahead();
                    if self.ctx.socket_plan().release_buffers {
                        self.input.release();
                    }
                    return Ok(());
                }
                None => return Err(Error::State("no TLS session")),
            }
            if !self.read_record()? {
                return Err(Error::HandshakeEof);
            }
        }
    }

    /// Reads and feeds one record. `Ok(false)`: the transport reached EOF.
    fn read_record(&mut self) -> Result<bool, Error> {
        loop {
            let Some(session) = self.tls.as_mut() else {
                return Err(Error::State("no TLS session"));
            };
            if let Some(n) = record_len(self.input.data())? {
                let fed = session.feed_record(&self.input.data()[..n]);
                self.input.consume(n);
                if let Err(e) = fed {
                    // Best effort: tell the peer why (the engine queued an alert).
                    let _ = self.flush_tls();
                    return Err(e);
                }
                return Ok(true);
            }
            // Once application data flows, read no further than this record: what follows
            // stays in the transport, so its readiness keeps telling the truth, a 16 KiB read
            // leaves nothing pending, and plain bytes after close_notify are never taken.
            // During the handshake every record is the engine's anyway.
            let handshaking = self.tls.as_ref().is_some_and(|s| s.is_handshaking());
            let max = if handshaking {
                usize::MAX
            } else {
                record_missing(self.input.data())
            };
            if self.fill(max)? == 0 {
                if !self.input.is_empty() {
                    return Err(Error::Tls(crate::error::TlsError::BadMessage(
                        "connection closed in the middle of a TLS record".to_owned(),
                    )));
                }
                if let Some(s) = self.tls.as_mut() {
                    s.feed_eof();
                }
                return Ok(false);
            }
        }
    }

    /// One read of at most `max` bytes from the transport into the input buffer.
    fn fill(&mut self, max: usize) -> Result<usize, Error> {
        match self.input.fill_from(transport(&mut self.stream), max) {
            Ok(n) => {
                self.want = Want::Nothing;
                if self.deadline.is_some_and(|d| Instant::now() > d) {
                    return Err(self.timeout_error());
                }
                Ok(n)
            }
            Err(e) => {
                // A connection waiting for its peer is idle: with release_buffers it waits
                // without an input buffer (an empty one goes back to the thread's spare).
                if e.kind() == io::ErrorKind::WouldBlock && self.ctx.socket_plan().release_buffers {
                    self.input.release();
                }
                Err(self.transport_error(e, Want::Read))
            }
        }
    }

    fn timeout_error(&self) -> Error {
        Error::Timeout(if self.phase == SocketState::Handshaking {
            "waiting for the peer during the TLS handshake"
        } else {
            "waiting for the peer"
        })
    }

    fn transport_error(&mut self, e: io::Error, want: Want) -> Error {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut if self.deadline.is_some() => {
                self.timeout_error()
            }
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                if self.idle.is_some() && !self.nonblocking && want == Want::Read =>
            {
                Error::Timeout("waiting for the peer (it was idle past idle_timeout)")
            }
            io::ErrorKind::WouldBlock if self.io_timeouts && !self.nonblocking => {
                Error::Io(io::Error::new(
                    io::ErrorKind::TimedOut,
                    match want {
                        Want::Write => "write timed out",
                        _ => "read timed out",
                    },
                ))
            }
            io::ErrorKind::WouldBlock => {
                self.want = want;
                Error::Io(e)
            }
            // A non-blocking TCP connect still in progress: wait for writable, as for WouldBlock.
            io::ErrorKind::NotConnected if want == Want::Write => {
                self.want = want;
                Error::Io(io::ErrorKind::WouldBlock.into())
            }
            _ => Error::Io(e),
        }
    }

    /// Writes every queued TLS byte to the transport.
    fn flush_tls(&mut self) -> Result<(), Error> {
        while let Some(s) = self.tls.as_mut() {
            if !s.wants_write() {
                break;
            }
            match s.write_tls(transport::<S>(&mut self.stream)) {
                Ok(0) => return Err(Error::Io(io::ErrorKind::WriteZero.into())),
                Ok(_) => {}
                Err(e) => return Err(self.transport_error(e, Want::Write)),
            }
        }
        Ok(())
    }

    fn read_inner(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = {
            let chunk = self.fill_buf_inner()?;
            let n = chunk.len().min(buf.len());
            crate::copy::copy_sliced(buf, &chunk[..n]);
            n
        };
        self.consume_inner(n);
        Ok(n)
    }

    /// The next bytes to read without consuming them: one record's data in TLS mode, the
    /// buffered or next transport bytes in plain mode. Empty at EOF / close_notify.
    fn fill_buf_inner(&mut self) -> Result<&[u8], Error> {
        if self.tls.is_none() {
            if self.input.is_empty() {
                self.fill(usize::MAX)?;
            }
            return Ok(self.input.data());
        }
        if let Some(e) = self.deferred.take() {
            return Err(e);
        }
        loop {
            let ready = match self.tls.as_mut().map(|s| s.plaintext().map(|c| c.len())) {
                Some(Ok(_)) => true,
                Some(Err(e)) if e.kind() == io::ErrorKind::WouldBlock => false,
                Some(Err(e))
                    if e.kind() == io::ErrorKind::UnexpectedEof
                        && self.ctx.socket_plan().unclean_close_is_eof =>
                {
                    log::debug!("peer closed without close_notify: read as end of stream");
                    return Ok(&[]);
                }
                Some(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return Err(Error::Io(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "peer closed the connection without sending close_notify (possible truncation)",
                    )))
                }
                Some(Err(e)) => return Err(Error::Io(e)),
                None => return Err(Error::State("no TLS session")),
            };
            if ready {
                break;
            }
            self.read_record()?;
            // Answer what the record asked for (key update, alerts); if the transport cannot
            // take it now it stays queued and goes out with the next write or flush.
            match self.flush_tls() {
                Err(Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {}
                other => other?,
            }
        }
        match self.tls.as_mut() {
            Some(s) => s.plaintext().map_err(Error::Io),
            None => Err(Error::State("no TLS session")),
        }
    }

    fn consume_inner(&mut self, n: usize) {
        match self.tls.as_mut() {
            Some(s) => {
                s.consume(n);
                if s.pending() == 0 {
                    self.decrypt_ahead();
                }
            }
            None => self.input.consume(n),
        }
        if self.ctx.socket_plan().release_buffers {
            self.input.release();
        }
    }

    /// Decrypts complete records already read from the transport, until one yields data, so
    /// that `pending()` tells the truth: data sitting in our buffer is data the transport
    /// will never signal again. Stops at the peer's close_notify; what follows stays raw.
    fn decrypt_ahead(&mut self) {
        while let Some(s) = self.tls.as_mut() {
            if s.pending() > 0 || s.is_handshaking() || matches!(s.plaintext(), Ok([])) {
                return;
            }
            match record_len(self.input.data()) {
                Ok(Some(n)) => {
                    let fed = s.feed_record(&self.input.data()[..n]);
                    self.input.consume(n);
                    if let Err(e) = fed {
                        let _ = self.flush_tls();
                        self.deferred = Some(e);
                        return;
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    self.deferred = Some(e);
                    return;
                }
            }
        }
    }

    fn write_inner(&mut self, data: &[u8]) -> Result<usize, Error> {
        if self.tls.is_none() {
            return transport(&mut self.stream)
                .write(data)
                .map_err(|e| self.transport_error(e, Want::Write));
        }
        // Finish anything an earlier (interrupted) call left queued; until that is out,
        // nothing new is taken, so a repeated call neither loses nor duplicates data.
        self.flush_tls()?;
        let chunk = &data[..data.len().min(MAX_RECORD_PLAINTEXT)];
        let n = match self.tls.as_mut() {
            Some(s) => s.write_plaintext(chunk).map_err(Error::Io)?,
            None => 0,
        };
        // The data is taken (encrypted and queued): report it written even if the transport
        // takes the record only later; `flush` or the next write sends the rest.
        match self.flush_tls() {
            Err(Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => Ok(n),
            Err(e) => Err(e),
            Ok(()) => Ok(n),
        }
    }

    fn record<T>(&mut self, r: Result<T, Error>) -> io::Result<T> {
        r.map_err(|e| {
            if !matches!(&e, Error::Io(io) if io.kind() == io::ErrorKind::WouldBlock) {
                self.last_error = Some(e.to_string());
            }
            e.into_io()
        })
    }

    /// Copies up to `buf.len()` bytes of the next record's data without consuming them (`peek`).
    pub fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let r = self.fill_buf_inner().map(|chunk| {
            let n = chunk.len().min(buf.len());
            crate::copy::copy_sliced(buf, &chunk[..n]);
            n
        });
        self.record(r)
    }

    /// Reads a line, ending with `\n`, into `line` (the Perl readline). On a non-blocking
    /// socket it returns what has arrived rather than waiting: `Ok(n)` with a partial line
    /// when the transport would block after some bytes, `WouldBlock` when none had arrived.
    /// Nothing is lost: the rest of the line comes with the next call. `Ok(0)` at EOF.
    pub fn readline(&mut self, line: &mut Vec<u8>) -> io::Result<usize> {
        let mut total = 0;
        loop {
            let r = self.fill_buf_inner().map(|chunk| {
                let newline = chunk.iter().position(|&b| b == b'\n');
                let take = newline.map_or(chunk.len(), |i| i + 1);
                line.extend_from_slice(&chunk[..take]);
                (take, newline.is_some())
            });
            match r {
                Ok((0, _)) => return Ok(total),
                Ok((n, done)) => {
                    self.consume_inner(n);
                    total += n;
                    if done {
                        return Ok(total);
                    }
                }
                Err(Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock && total > 0 => {
                    return Ok(total)
                }
                Err(e) => return self.record(Err(e)),
            }
        }
    }

    /// Bytes readable without touching the transport (`pending`): decrypted data in TLS mode,
    /// buffered bytes in plain mode.
    pub fn pending(&self) -> usize {
        match &self.tls {
            Some(s) => s.pending(),
            None => self.input.data().len(),
        }
    }

    /// Ends TLS and returns to plain (`stop_SSL`): sends close_notify, waits for the peer's,
    /// and keeps every byte the peer sent after it for the following plain reads. Decrypted
    /// data not read yet is kept too, in front.
    #[doc(alias = "stop_SSL")]
    pub fn stop_ssl(&mut self) -> Result<(), Error> {
        let r = self.stop_ssl_inner();
        if let Err(e) = &r {
            self.last_error = Some(e.to_string());
        }
        r
    }

    fn stop_ssl_inner(&mut self) -> Result<(), Error> {
        match &self.tls {
            None => return Err(Error::State("stop_ssl on a socket that is not in TLS mode")),
            Some(s) if s.is_handshaking() => {
                self.tls = None;
                self.phase = SocketState::Plain;
                return Err(Error::State(
                    "stop_ssl during the handshake; TLS state dropped",
                ));
            }
            Some(_) => {}
        }
        if self.phase != SocketState::ShuttingDown {
            if let Some(s) = self.tls.as_mut() {
                s.send_close_notify();
            }
            self.phase = SocketState::ShuttingDown;
        }
        self.flush_tls()?;
        // Kept in the socket, not on the stack: a non-blocking stop_ssl resumes here.
        while let Some(s) = self.tls.as_mut() {
            match s.plaintext() {
                Ok([]) => break,
                Ok(chunk) => {
                    let n = chunk.len();
                    self.stop_kept.extend_from_slice(chunk);
                    s.consume(n);
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(Error::Io(e)),
            }
            if !self.read_record()? {
                return Err(Error::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "peer closed the connection without answering close_notify",
                )));
            }
        }
        self.tls = None;
        self.phase = SocketState::Plain;
        self.deferred = None;
        let kept = std::mem::take(&mut self.stop_kept);
        self.input.unread(&kept);
        Ok(())
    }

    /// Closes TLS the fast way (`close` with `SSL_fast_shutdown`): sends close_notify without
    /// waiting for the peer's, then drops the transport.
    pub fn close(mut self) -> Result<(), Error> {
        let r = self.shutdown_tls();
        let _ = transport(&mut self.stream).flush();
        r
    }

    /// Sends close_notify (once) and pushes it out, keeping the socket: reads still see what
    /// the peer sends until its own close_notify. Resumable on a non-blocking transport.
    pub fn shutdown_tls(&mut self) -> Result<(), Error> {
        if let Some(s) = self.tls.as_mut() {
            if !s.is_handshaking() && self.phase != SocketState::ShuttingDown {
                s.send_close_notify();
                self.phase = SocketState::ShuttingDown;
            }
        }
        self.flush_tls()
    }

    /// Drops the TLS state without telling the peer (`SSL_no_shutdown`), e.g. in a forked
    /// parent whose child goes on with the connection. Returns the transport.
    #[doc(alias = "SSL_no_shutdown")]
    pub fn close_no_shutdown(mut self) -> S {
        self.take_stream()
    }

    /// The transport and the plain bytes already read from it but not yet by the caller, once
    /// TLS is off (after [`stop_ssl`](Self::stop_ssl), or never started): everything the peer
    /// sent after its close_notify is in the one or the other, so nothing is lost by taking the
    /// stream back. With TLS still on, the socket comes back unchanged as the error.
    ///
    /// ```no_run
    /// # fn f(mut sock: sslsock::SslSocket) -> Result<(), sslsock::Error> {
    /// sock.stop_ssl()?;
    /// let (tcp, already_read) = sock.into_parts().map_err(|_| sslsock::Error::State("TLS is on"))?;
    /// # Ok(()) }
    /// ```
    #[allow(clippy::result_large_err)]
    pub fn into_parts(mut self) -> Result<(S, Vec<u8>), Self> {
        if self.tls.is_some() {
            return Err(self);
        }
        let buffered = self.input.data().to_vec();
        Ok((self.take_stream(), buffered))
    }

    /// Takes the transport out of a socket that is being consumed; dropping it then sends
    /// nothing.
    fn take_stream(&mut self) -> S {
        self.phase = SocketState::Plain;
        self.tls = None;
        self.stream
            .take()
            .expect("the stream is taken only by methods that consume the socket")
    }

    /// The last error of this socket as text (`errstr`).
    pub fn errstr(&self) -> Option<&str> {
        self.last_error.as_deref()
    }

    /// What the last `WouldBlock` waited for (the Perl `$SSL_ERROR`).
    pub fn want(&self) -> Want {
        self.want
    }

    /// True when encrypted output is queued for the transport (after a `write` that could not
    /// send everything on a non-blocking transport): call `flush` when it is writable.
    pub fn wants_write(&self) -> bool {
        self.tls.as_ref().is_some_and(|s| s.wants_write())
    }

    /// Where the socket stands.
    pub fn state(&self) -> SocketState {
        self.phase
    }

    /// The Perl `opened()`, typed: TLS up (Perl's 1), the last handshake failed with the
    /// plain stream still there (-1), or no TLS yet (0); [`Opened::as_perl`] gives the number.
    pub fn opened(&self) -> Opened {
        if self.is_tls() {
            Opened::Tls
        } else if self.phase == SocketState::Failed {
            Opened::HandshakeFailed
        } else {
            Opened::NotTls
        }
    }

    /// True while TLS is active on the socket.
    pub fn is_tls(&self) -> bool {
        self.tls.as_ref().is_some_and(|s| !s.is_handshaking())
    }

    /// The transport.
    pub fn get_ref(&self) -> &S {
        transport_ref(&self.stream)
    }

    /// The transport, mutably. Writing to it directly while TLS is active corrupts the session.
    pub fn get_mut(&mut self) -> &mut S {
        transport(&mut self.stream)
    }

    /// The context this socket was made with.
    pub fn context(&self) -> &SslContext {
        &self.ctx
    }
}

impl<S: Transport> SslSocket<S> {
    /// Wraps a plain stream without starting TLS, for protocols that talk plain first:
    /// read and write in plain, then [`connect_ssl`](Self::connect_ssl) or
    /// [`accept_ssl`](Self::accept_ssl).
    pub fn new_plain(stream: S, config: impl ContextSource) -> Result<Self, Error> {
        let ctx = config.context()?;
        let target = ctx.target(&Peer::new(), None)?;
        Ok(SslSocket::plain(stream, ctx, target))
    }

    /// Wraps a connected plain stream as the client side toward `name` (sent in SNI unless the
    /// context turns SNI off, and checked against the certificate unless the context sets
    /// `verifycn_name`), without starting
    /// TLS: talk plain, then [`connect_ssl`](Self::connect_ssl). One context serves any number
    /// of peers this way, each with its own name (`SSL_reuse_ctx` for STARTTLS).
    ///
    /// ```no_run
    /// use std::net::TcpStream;
    /// use sslsock::{Options, SslContext, SslSocket};
    /// let ctx = SslContext::new(&Options::new())?;
    /// for host in ["mx1.example.org", "mx2.example.org"] {
    ///     let tcp = TcpStream::connect((host, 25))?;
    ///     let mut smtp = SslSocket::new_client(tcp, &ctx, host)?;
    ///     // ... EHLO, STARTTLS, 220 ...
    ///     smtp.connect_ssl()?;
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new_client(stream: S, config: impl ContextSource, name: &str) -> Result<Self, Error> {
        let ctx = &config.context()?;
        if ctx.is_server() {
            return Err(Error::State("new_client with a server context"));
        }
        // The connection's name wins over the context's `hostname`.
        let target = ctx.named_target(name)?;
        Ok(SslSocket::plain(stream, ctx.clone(), target))
    }
}

impl<S: Transport> Read for SslSocket<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let r = self.read_inner(buf);
        self.record(r)
    }
}

impl<S: Transport> BufRead for SslSocket<S> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        // Two steps so the error path can record the message before the buffer is borrowed.
        let r = self.fill_buf_inner().map(|c| c.len());
        self.record(r)?;
        self.fill_buf_inner().map_err(Error::into_io)
    }

    fn consume(&mut self, amt: usize) {
        self.consume_inner(amt);
    }
}

impl<S: Transport> Write for SslSocket<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let r = self.write_inner(buf);
        self.record(r)
    }

    fn flush(&mut self) -> io::Result<()> {
        let r = self.flush_tls();
        self.record(r)?;
        transport(&mut self.stream).flush()
    }
}

#[cfg(unix)]
impl<S: Transport + std::os::fd::AsFd> std::os::fd::AsFd for SslSocket<S> {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        transport_ref(&self.stream).as_fd()
    }
}

#[cfg(unix)]
impl<S: Transport + std::os::fd::AsRawFd> std::os::fd::AsRawFd for SslSocket<S> {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        transport_ref(&self.stream).as_raw_fd()
    }
}
