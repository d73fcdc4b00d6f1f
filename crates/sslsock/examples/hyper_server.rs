//! An HTTPS server on hyper: HTTP/2 or HTTP/1.1 by the protocol ALPN agreed, and with a
//! client CA, client certificates required and each answer naming the client. Every
//! connection is an `AsyncSslSocket` in hyper-util's `TokioIo`, served by its `auto` builder.
//!
//! Run: `cargo run -p sslsock --features hyper --example hyper_server -- 127.0.0.1:8443
//! srv.pem srv.key [clients-ca.pem]`, then `curl --http2 --cacert ca.pem
//! [--cert client.pem --key client.key] https://localhost:8443/`.

use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use sslsock::{AsyncSslSocket, CertField, Options, SslContext, VerifyMode};

/// The server's context from `opts` (its certificate): ALPN `h2` and `http/1.1`, and with
/// `client_ca` a client certificate signed by it required.
pub fn context(opts: Options, client_ca: Option<&str>) -> Result<SslContext, sslsock::Error> {
    let mut opts = opts.server(true).alpn_protocols(["h2", "http/1.1"]);
    if let Some(ca) = client_ca {
        opts = opts
            .client_ca_file(ca)
            .ca_file(ca)
            .verify_mode(VerifyMode::PEER | VerifyMode::FAIL_IF_NO_PEER_CERT);
    }
    SslContext::new(&opts)
}

/// Answers every request on `listener` with its HTTP version and the client's subject, one
/// task per connection; a failed handshake ends only its own task.
pub async fn serve(listener: tokio::net::TcpListener, ctx: SslContext) -> std::io::Result<()> {
    loop {
        let (tcp, _) = listener.accept().await?;
        let ctx = ctx.clone();
        tokio::spawn(async move {
            let tls = match AsyncSslSocket::accept_with(tcp, &ctx).await {
                Ok(tls) => tls,
                Err(e) => return eprintln!("handshake: {e}"),
            };
            let who = tls
                .socket()
                .peer_certificate(CertField::Subject)
                .unwrap_or_else(|| "an anonymous client".to_owned());
            let service = hyper::service::service_fn(move |r: Request<Incoming>| {
                let text = format!("{:?} for {who}\n", r.version());
                async move { Ok::<_, std::convert::Infallible>(Response::new(text)) }
            });
            if let Err(e) = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), service)
                .await
            {
                eprintln!("connection: {e}");
            }
        });
    }
}

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [listen, cert, key, rest @ ..] = &args[..] else {
        return Err("usage: hyper_server LISTEN CERT KEY [CLIENT_CA]".into());
    };
    let opts = Options::new().cert_file(cert).key_file(key);
    let ctx = context(opts, rest.first().map(String::as_str))?;
    tokio::runtime::Runtime::new()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        println!("https on {}", listener.local_addr()?);
        serve(listener, ctx).await
    })?;
    Ok(())
}
