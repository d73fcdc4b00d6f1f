//! HTTP over sslsock with hyper (feature `hyper`).
//!
//! **Client:** [`HttpsConnector`] is a connector for hyper-util's client. It connects with an
//! [`SslContext`] made from any [`Options`] (pins, OCSP modes, must-staple, name schemes,
//! client certificates), sends the URI's host as SNI and checks the certificate for it, offers
//! ALPN `h2` and `http/1.1` unless the options name protocols, and hands each response the
//! connection's facts as a [`TlsInfo`] extension.
//!
//! ```no_run
//! use http_body_util::{BodyExt, Empty};
//! use hyper::body::Bytes;
//! use hyper_util::client::legacy::Client;
//! use hyper_util::rt::TokioExecutor;
//! use sslsock::http::{HttpsConnector, TlsInfo};
//! use sslsock::ocsp::OcspMode;
//! use sslsock::Options;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let connector = HttpsConnector::new(&Options::new().ocsp_mode(OcspMode::MUST_STAPLE))?;
//! let client = Client::builder(TokioExecutor::new()).build::<_, Empty<Bytes>>(connector);
//! let response = client.get("https://example.org/".parse()?).await?;
//! let tls = response.extensions().get::<TlsInfo>().expect("sslsock's connection");
//! println!("{:?} over {} {}: {}", response.version(), tls.version, tls.cipher, tls.revocation);
//! let body = response.into_body().collect().await?.to_bytes();
//! # let _ = body;
//! # Ok(())
//! # }
//! ```
//!
//! **Server:** an [`AsyncSslSocket`] is a tokio stream: wrap it in hyper-util's `TokioIo` and
//! serve it with hyper-util's `auto` builder (HTTP/1.1 and HTTP/2, by the ALPN protocol the
//! socket agreed).
//!
//! ```no_run
//! use hyper::{body::Incoming, Request, Response};
//! use hyper_util::rt::{TokioExecutor, TokioIo};
//! use hyper_util::server::conn::auto;
//! use sslsock::{AsyncSslSocket, Options, SslContext, VerifyMode};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let ctx = SslContext::new(
//!     &Options::new()
//!         .server(true)
//!         .cert_file("srv.pem")
//!         .key_file("srv.key")
//!         .alpn_protocols(["h2", "http/1.1"])
//!         .client_ca_file("clients-ca.pem")
//!         .ca_file("clients-ca.pem")
//!         .verify_mode(VerifyMode::PEER | VerifyMode::FAIL_IF_NO_PEER_CERT),
//! )?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8443").await?;
//! loop {
//!     let (tcp, _) = listener.accept().await?;
//!     let ctx = ctx.clone();
//!     tokio::spawn(async move {
//!         let Ok(tls) = AsyncSslSocket::accept_with(tcp, &ctx).await else { return };
//!         let who = tls.socket().peer_certificate(sslsock::CertField::Subject).unwrap_or_default();
//!         let service = hyper::service::service_fn(move |_: Request<Incoming>| {
//!             let who = who.clone();
//!             async move { Ok::<_, std::convert::Infallible>(Response::new(who)) }
//!         });
//!         let _ = auto::Builder::new(TokioExecutor::new())
//!             .serve_connection(TokioIo::new(tls), service)
//!             .await;
//!     });
//! }
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use pki_types::CertificateDer;

use crate::ocsp::Revocation;
use crate::{AsyncSslSocket, ContextSource, Error, Options, SslContext};

/// A connector for hyper-util's client: `https://` URIs only, each connection through
/// sslsock with the connector's context. See the [module](self) docs.
#[derive(Clone, Debug)]
pub struct HttpsConnector {
    ctx: SslContext,
}

impl HttpsConnector {
    /// A connector with the given client options; ALPN `h2` and `http/1.1` unless they name
    /// protocols of their own.
    pub fn new(opts: &Options) -> Result<HttpsConnector, Error> {
        let mut opts = opts.clone();
        if opts.alpn_protocols.is_empty() {
            opts = opts.alpn_protocols(["h2", "http/1.1"]);
        }
        Ok(HttpsConnector {
            ctx: SslContext::new(&opts)?,
        })
    }

    /// A connector with a context made elsewhere (its ALPN protocols as they are: without
    /// any, HTTP/1.1 is spoken).
    pub fn from_context(ctx: impl ContextSource) -> Result<HttpsConnector, Error> {
        Ok(HttpsConnector {
            ctx: ctx.context()?,
        })
    }
}

/// What a response's connection was: put in each response's extensions by
/// [`HttpsConnector`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TlsInfo {
    /// The protocol version, as `TLSv1_3`.
    pub version: &'static str,
    /// The cipher suite (OpenSSL's name).
    pub cipher: &'static str,
    /// The ALPN protocol agreed, if any (`h2`, `http/1.1`).
    pub alpn: Option<String>,
    /// The server's certificates, leaf first.
    pub peer_certificates: Vec<CertificateDer<'static>>,
    /// What is known of the revocation of the server's certificate.
    pub revocation: Revocation,
    /// True when the TLS session was resumed.
    pub session_reused: bool,
}

/// A connection made by [`HttpsConnector`]: hyper's I/O over an [`AsyncSslSocket`].
#[derive(Debug)]
pub struct HttpsStream {
    io: TokioIo<AsyncSslSocket>,
    info: TlsInfo,
}

impl HttpsStream {
    /// The TLS socket underneath.
    pub fn socket(&self) -> &AsyncSslSocket {
        self.io.inner()
    }

    /// The connection's facts.
    pub fn info(&self) -> &TlsInfo {
        &self.info
    }
}

impl Connection for HttpsStream {
    fn connected(&self) -> Connected {
        let connected = Connected::new().extra(self.info.clone());
        match self.info.alpn.as_deref() {
            Some("h2") => connected.negotiated_h2(),
            _ => connected,
        }
    }
}

impl hyper::rt::Read for HttpsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for HttpsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// The future of a connection being made.
type Connecting = Pin<Box<dyn Future<Output = Result<HttpsStream, Error>> + Send>>;

impl tower_service::Service<http::Uri> for HttpsConnector {
    type Response = HttpsStream;
    type Error = Error;
    type Future = Connecting;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: http::Uri) -> Connecting {
        let ctx = self.ctx.clone();
        Box::pin(async move {
            if uri.scheme_str() != Some("https") {
                return Err(Error::State(
                    "HttpsConnector connects https:// URIs only (TLS is what it is for)",
                ));
            }
            let host = uri
                .host()
                .ok_or(Error::State("the URI names no host"))?
                .trim_start_matches('[')
                .trim_end_matches(']');
            let port = uri.port_u16().unwrap_or(443);
            let addr = if host.contains(':') {
                format!("[{host}]:{port}")
            } else {
                format!("{host}:{port}")
            };
            let tls = AsyncSslSocket::connect_with(&addr, &ctx).await?;
            let sock = tls.socket();
            let info = TlsInfo {
                version: sock.version().unwrap_or("?"),
                cipher: sock.cipher().unwrap_or("?"),
                alpn: sock.alpn_selected(),
                peer_certificates: sock.peer_certificates(),
                revocation: sock.revocation(),
                session_reused: sock.session_reused(),
            };
            Ok(HttpsStream {
                io: TokioIo::new(tls),
                info,
            })
        })
    }
}
