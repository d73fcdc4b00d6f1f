//! Async TLS over tokio: the same socket (record-exact input, STARTTLS both ways, the same
//! verification and errors) driven by `poll_*` instead of blocking calls.
//!
//! ```no_run
//! # async fn run() -> Result<(), sslsock::Error> {
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! use sslsock::{AsyncSslSocket, Options, SslContext};
//! // The defaults, as SslSocket::connect:
//! let mut tls = AsyncSslSocket::connect("www.example.org:443").await?;
//! // Or a shared context (or options) for many connections:
//! let ctx = SslContext::new(&Options::new().alpn_protocols(["http/1.1"]))?;
//! let mut other = AsyncSslSocket::connect_with("www.example.org:443", &ctx).await?;
//! tls.write_all(b"HEAD / HTTP/1.0\r\n\r\n").await?;
//! tls.flush().await?;
//! let mut reply = Vec::new();
//! let _ = tls.read_to_end(&mut reply).await;
//! # Ok(()) }
//! ```

use std::future::Future;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::{connect, SslSocket};
use crate::context::{ContextSource, SslContext};
use crate::error::Error;
use crate::options::Peer;

/// A tokio stream seen through `Read`/`Write`: `Pending` becomes `WouldBlock`, and the waker
/// of the current poll is the one the stream registers.
#[derive(Debug)]
pub struct AsyncIo<S> {
    inner: S,
    waker: Option<Waker>,
}

/// The async adapter is non-blocking: deadlines are the async code's (`tokio::time`).
impl<S: AsyncRead + AsyncWrite + Unpin> super::Transport for AsyncIo<S> {}

impl<S> AsyncIo<S> {
    fn context(&self) -> io::Result<Context<'_>> {
        match &self.waker {
            Some(w) => Ok(Context::from_waker(w)),
            None => Err(io::Error::new(io::ErrorKind::WouldBlock, "not polled yet")),
        }
    }

    /// The tokio stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

fn ready<T>(p: Poll<io::Result<T>>) -> io::Result<T> {
    match p {
        Poll::Ready(r) => r,
        Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
    }
}

impl<S: AsyncRead + Unpin> Read for AsyncIo<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let waker = self.waker.clone();
        let mut cx = match &waker {
            Some(w) => Context::from_waker(w),
            None => return Err(io::ErrorKind::WouldBlock.into()),
        };
        let mut rb = ReadBuf::new(buf);
        ready(Pin::new(&mut self.inner).poll_read(&mut cx, &mut rb))?;
        Ok(rb.filled().len())
    }
}

impl<S: AsyncWrite + Unpin> Write for AsyncIo<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let waker = self.waker.clone();
        let mut cx = match &waker {
            Some(w) => Context::from_waker(w),
            None => return Err(io::ErrorKind::WouldBlock.into()),
        };
        ready(Pin::new(&mut self.inner).poll_write(&mut cx, buf))
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let waker = self.waker.clone();
        let mut cx = match &waker {
            Some(w) => Context::from_waker(w),
            None => return Err(io::ErrorKind::WouldBlock.into()),
        };
        ready(Pin::new(&mut self.inner).poll_write_vectored(&mut cx, bufs))
    }

    fn flush(&mut self) -> io::Result<()> {
        let _ = self.context()?;
        let waker = self.waker.clone();
        let mut cx = match &waker {
            Some(w) => Context::from_waker(w),
            None => return Err(io::ErrorKind::WouldBlock.into()),
        };
        ready(Pin::new(&mut self.inner).poll_flush(&mut cx))
    }
}

/// An async TLS stream over a tokio byte stream (a `TcpStream` by default).
///
/// Writes are encrypted one record per call; call `flush` (`AsyncWriteExt::flush`) to be
/// sure the last record left. Reads return one record's data at most.
///
/// A server with tokio, one task per connection:
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use tokio::io::AsyncWriteExt;
/// use sslsock::{AsyncSslSocket, Options, SslContext};
///
/// let server = Options::new().server(true).cert_file("srv.pem").key_file("srv.key");
/// let ctx = SslContext::new(&server)?;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8443").await?;
/// loop {
///     let (tcp, _) = listener.accept().await?;
///     let ctx = ctx.clone();
///     tokio::spawn(async move {
///         let mut tls = AsyncSslSocket::accept_with(tcp, &ctx).await?;
///         tls.write_all(b"hello\n").await?;
///         tls.shutdown().await?;
///         Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
///     });
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct AsyncSslSocket<S: AsyncRead + AsyncWrite + Unpin = TcpStream> {
    sock: SslSocket<AsyncIo<S>>,
    /// The context's `idle_timeout` as a timer, reset by every read that returns data.
    idle: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl AsyncSslSocket<TcpStream> {
    /// Connects to `host:port` with verification and the secure defaults, as
    /// [`SslSocket::connect`] does (the same process-wide context).
    pub async fn connect(addr: &str) -> Result<Self, Error> {
        let ctx = match crate::context::default_context() {
            Some(ctx) => ctx,
            None => crate::context::implicit_context()?,
        };
        Self::connect_with(addr, &ctx).await
    }

    /// Connects and runs the client handshake with the given options or context, within the
    /// context's timeout when it has one: the same name, SNI, address family, local address,
    /// session key (`host:port`) and `error_trap` as [`SslSocket::connect_with`].
    pub async fn connect_with(addr: &str, config: impl ContextSource) -> Result<Self, Error> {
        Self::connect_to(addr, config, &Peer::new()).await
    }

    /// [`connect_with`](Self::connect_with) with what belongs to this connection alone in
    /// `peer`, as [`SslSocket::connect_to`].
    pub async fn connect_to(
        addr: &str,
        config: impl ContextSource,
        peer: &Peer,
    ) -> Result<Self, Error> {
        let ctx = config.context().map_err(crate::error::noted)?;
        Self::connect_inner(addr, &ctx, peer)
            .await
            .map_err(crate::error::noted)
    }

    async fn connect_inner(addr: &str, ctx: &SslContext, peer: &Peer) -> Result<Self, Error> {
        let plan = ctx.socket_plan();
        let target = ctx.target(peer, Some(addr))?;
        let (host, port) = target
            .address()
            .ok_or(Error::State("no address to connect to"))?;
        let tcp = with_deadline(
            target.timeout(),
            "connecting",
            tcp_connect(host, port, target.family(), target.local_addr()),
        )
        .await?;
        let _ = tcp.set_nodelay(true);
        let io = AsyncIo {
            inner: tcp,
            waker: None,
        };
        let mut s = AsyncSslSocket::wrap(SslSocket::plain(io, ctx.clone(), target));
        if plan.lazy {
            return Ok(s);
        }
        // The handshake's deadline is the connection's, applied by connect_ssl.
        let result = s.connect_ssl().await;
        s.trap_on_error(result)
    }

    /// Runs the server handshake on an accepted connection, within the context's timeout,
    /// calling the context's `error_trap` when it fails.
    pub async fn accept_with(tcp: TcpStream, config: impl ContextSource) -> Result<Self, Error> {
        let ctx = config.context().map_err(crate::error::noted)?;
        // The handshake's state (a second socket-sized value and a timer) lives on the heap
        // while it runs: a server task awaiting this keeps only a pointer in its own state,
        // and that state is what each idle connection costs for its whole life.
        Box::pin(async move {
            let mut s = AsyncSslSocket::new_plain(tcp, &ctx)?;
            // Within the context's timeout, applied by accept_ssl.
            let result = s.accept_ssl().await;
            s.trap_on_error(result).map_err(crate::error::noted)
        })
        .await
    }

    /// On a failed handshake, hands the plain stream to the context's `error_trap`.
    fn trap_on_error(mut self, result: Result<(), Error>) -> Result<Self, Error> {
        match result {
            Ok(()) => Ok(self),
            Err(e) => {
                if let Some(trap) = &self.sock.context().socket_plan().error_trap.clone() {
                    trap(self.sock.get_mut(), &e);
                }
                Err(e)
            }
        }
    }
}

/// Resolves `host`, keeps the addresses of `family`, and connects to the first that answers,
/// from `local` when given.
async fn tcp_connect(
    host: &str,
    port: u16,
    family: crate::options::Family,
    local: Option<std::net::SocketAddr>,
) -> Result<TcpStream, Error> {
    let resolved = tokio::net::lookup_host((host, port)).await;
    let addrs = connect::usable_addresses(host, family, resolved)?;
    let mut last = None;
    for addr in addrs {
        let attempt = async {
            let socket = if addr.is_ipv4() {
                tokio::net::TcpSocket::new_v4()?
            } else {
                tokio::net::TcpSocket::new_v6()?
            };
            if let Some(local) = local {
                socket.bind(local)?;
            }
            socket.connect(addr).await
        };
        match attempt.await {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(Error::Connect {
        addr: format!("{host}:{port}"),
        source: last.unwrap_or_else(|| io::Error::other("no address tried")),
    })
}

async fn with_deadline<T>(
    t: Option<Duration>,
    what: &'static str,
    f: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    match t {
        Some(t) => tokio::time::timeout(t, f)
            .await
            .map_err(|_| Error::Timeout(what))?,
        None => f.await,
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncSslSocket<S> {
    /// Wraps a connected stream without starting TLS: talk plain, then
    /// [`connect_ssl`](Self::connect_ssl) or [`accept_ssl`](Self::accept_ssl) (STARTTLS).
    pub fn new_plain(stream: S, config: impl ContextSource) -> Result<Self, Error> {
        Ok(AsyncSslSocket::wrap(SslSocket::new_plain(
            AsyncIo {
                inner: stream,
                waker: None,
            },
            config,
        )?))
    }

    /// Wraps a connected stream as the client side toward `name`, without starting TLS (see
    /// [`SslSocket::new_client`]): one context, many peers, each with its own name.
    pub fn new_client(stream: S, config: impl ContextSource, name: &str) -> Result<Self, Error> {
        Ok(AsyncSslSocket::wrap(SslSocket::new_client(
            AsyncIo {
                inner: stream,
                waker: None,
            },
            config,
            name,
        )?))
    }

    /// The adapter around `sock`: the idle timeout is its timer's, not a read timeout.
    fn wrap(mut sock: SslSocket<AsyncIo<S>>) -> Self {
        sock.idle_by_timer = true;
        AsyncSslSocket { sock, idle: None }
    }

    /// Runs `op` on the socket with the waker of `cx`; `WouldBlock` becomes `Pending`.
    fn poll_op<T>(
        &mut self,
        cx: &mut Context<'_>,
        op: impl FnOnce(&mut SslSocket<AsyncIo<S>>) -> Result<T, Error>,
    ) -> Poll<Result<T, Error>> {
        let io = self.sock.get_mut();
        if !io.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            io.waker = Some(cx.waker().clone());
        }
        match op(&mut self.sock) {
            Err(Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => Poll::Pending,
            other => Poll::Ready(other),
        }
    }

    /// The client handshake (`connect_SSL`), e.g. after a plain STARTTLS exchange, within
    /// the connection's timeout (the context's `timeout`, or the `Peer`'s).
    pub async fn connect_ssl(&mut self) -> Result<(), Error> {
        let timeout = self.sock.target.timeout();
        with_deadline(
            timeout,
            "waiting for the peer during the TLS handshake",
            std::future::poll_fn(|cx| self.poll_op(cx, |s| s.connect_ssl())),
        )
        .await
    }

    /// The server handshake (`accept_SSL`), within the context's timeout.
    pub async fn accept_ssl(&mut self) -> Result<(), Error> {
        let timeout = self.sock.target.timeout();
        with_deadline(
            timeout,
            "waiting for the peer during the TLS handshake",
            std::future::poll_fn(|cx| self.poll_op(cx, |s| s.accept_ssl())),
        )
        .await
    }

    /// Ends TLS and returns to plain (`stop_SSL`): the bytes the peer sends after its
    /// close_notify are read in plain next.
    pub async fn stop_ssl(&mut self) -> Result<(), Error> {
        std::future::poll_fn(|cx| self.poll_op(cx, |s| s.stop_ssl())).await
    }

    /// The socket, for what it tells: version, cipher, certificates, `pending`, ...
    pub fn socket(&self) -> &SslSocket<AsyncIo<S>> {
        &self.sock
    }

    /// The tokio stream.
    pub fn get_ref(&self) -> &S {
        &self.sock.get_ref().inner
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncSslSocket<S> {
    /// A read's outcome under `idle_timeout` (after the handshake only, as on a blocking
    /// socket: a plain STARTTLS dialogue keeps whatever time its protocol gives it): a read
    /// still pending when the peer has been silent that long fails with `TimedOut`.
    fn idle_timeout<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        let Some(after) = self
            .sock
            .context()
            .socket_plan()
            .idle_timeout
            .filter(|_| self.sock.is_tls())
        else {
            return polled;
        };
        let Some(deadline) = tokio::time::Instant::now().checked_add(after) else {
            return polled;
        };
        match polled {
            Poll::Pending => {
                let timer = self
                    .idle
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if timer.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the peer was idle past idle_timeout",
                    )));
                }
                Poll::Pending
            }
            ready => {
                if let Some(timer) = &mut self.idle {
                    timer.as_mut().reset(deadline);
                }
                ready
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for AsyncSslSocket<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = this
            .poll_op(cx, |s| {
                let chunk = s.fill_buf_inner()?;
                let n = chunk.len().min(buf.remaining());
                // Where the copy lands: just after the filled part (only compared, never read).
                let dst = buf.filled().as_ptr_range().end;
                for piece in crate::copy::pieces(dst, &chunk[..n]) {
                    buf.put_slice(piece);
                }
                s.consume_inner(n);
                Ok(())
            })
            .map_err(Error::into_io);
        this.idle_timeout(cx, polled)
    }
}

/// Decrypted data in place, without a copy into the caller's buffer: at most one record's
/// worth per call, empty at the end of the stream.
///
/// ```no_run
/// # async fn f(mut tls: sslsock::AsyncSslSocket) -> std::io::Result<()> {
/// use tokio::io::AsyncBufReadExt;
/// loop {
///     let chunk = tls.fill_buf().await?;
///     if chunk.is_empty() {
///         break; // close_notify
///     }
///     let n = chunk.len();
///     tls.consume(n);
/// }
/// # Ok(())
/// # }
/// ```
impl<S: AsyncRead + AsyncWrite + Unpin> AsyncBufRead for AsyncSslSocket<S> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        // Two steps: the first may do I/O (and be pending), the second only lends the chunk
        // the first made ready.
        let polled = this
            .poll_op(cx, |s| s.fill_buf_inner().map(<[u8]>::len))
            .map_err(Error::into_io);
        match this.idle_timeout(cx, polled) {
            Poll::Ready(Ok(_)) => Poll::Ready(this.sock.fill_buf_inner().map_err(Error::into_io)),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_mut().sock.consume_inner(amt);
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for AsyncSslSocket<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .poll_op(cx, |s| s.write_inner(buf))
            .map_err(Error::into_io)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut()
            .poll_op(cx, |s| {
                s.flush_tls()?;
                Ok(s.get_mut().flush()?)
            })
            .map_err(Error::into_io)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.poll_op(cx, |s| s.shutdown_tls()) {
            Poll::Ready(Ok(())) => Pin::new(&mut this.sock.get_mut().inner).poll_shutdown(cx),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e.into_io())),
            Poll::Pending => Poll::Pending,
        }
    }
}
