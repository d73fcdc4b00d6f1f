//! An async TLS echo server on tokio: one task per connection, handshakes included, so slow
//! clients cost a task each and never a thread. The pattern for every core: one `SslContext`
//! (cheap to clone, shared), one task per connection, a multi-thread runtime with a worker per
//! core (`#[tokio::main]`); `sslsock serve --threads N` is built the same way.
//!
//! Run: `cargo run -p sslsock --features tokio --example tokio_echo -- 127.0.0.1:8443 [CONNECTIONS]`

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use sslsock::socket::async_io::AsyncSslSocket;
use sslsock::SslContext;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves until `max` connections have ended (or forever with `None`); returns how many
/// were open at the same time at most.
pub async fn serve(
    listener: TcpListener,
    ctx: SslContext,
    max: Option<usize>,
) -> std::io::Result<usize> {
    let open = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    let mut accepted = 0usize;
    while max.is_none_or(|m| accepted < m) {
        let (tcp, _) = listener.accept().await?;
        accepted += 1;
        let (ctx, open, most) = (ctx.clone(), open.clone(), most.clone());
        tasks.spawn(async move {
            let now = open.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            if let Ok(mut tls) = AsyncSslSocket::accept_with(tcp, &ctx).await {
                let mut buf = vec![0u8; 16_384];
                while let Ok(n) = tls.read(&mut buf).await {
                    if n == 0
                        || tls.write_all(&buf[..n]).await.is_err()
                        || tls.flush().await.is_err()
                    {
                        break;
                    }
                }
                let _ = tls.shutdown().await;
            }
            open.fetch_sub(1, Ordering::SeqCst);
        });
    }
    while tasks.join_next().await.is_some() {}
    Ok(most.load(Ordering::SeqCst))
}

#[allow(dead_code)]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8443".to_owned());
    let max = std::env::args().nth(2).map(|n| n.parse()).transpose()?;
    let cert = sslsock::x509::create::CertSpec::new("localhost")
        .san("localhost")
        .san("127.0.0.1")
        .self_signed()?;
    let ctx = SslContext::new(
        &sslsock::Options::new()
            .server(true)
            .cert_pem(cert.cert_pem)
            .key_pem(cert.key_pem),
    )?;
    let listener = TcpListener::bind(&addr).await?;
    println!("tokio echo server on {}", listener.local_addr()?);
    let most = serve(listener, ctx, max).await?;
    println!("at most {most} connections at once");
    Ok(())
}
