//! An async TLS echo server on tokio: one task per connection, handshakes included, so slow
//! clients cost a task each and never a thread. The pattern for every core: one `SslContext`
//! (cheap to clone, shared), one listener, and per core a thread with a current-thread runtime
//! that accepts from its own handle on the listener and keeps each connection's task to
//! itself. `sslsock serve --threads N` is built the same way: measured with parallel clients,
//! it handshakes about a tenth faster and cheaper than one multi-thread runtime
//! (`#[tokio::main]`), whose work stealing moves tasks and wakes threads; both work.
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
fn main() -> Result<(), Box<dyn std::error::Error>> {
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
    let listener = std::net::TcpListener::bind(&addr)?;
    listener.set_nonblocking(true)?;
    println!("tokio echo server on {}", listener.local_addr()?);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let threads: Vec<_> = (0..cores)
        .map(|i| {
            let (listener, ctx) = (listener.try_clone(), ctx.clone());
            std::thread::spawn(move || -> std::io::Result<usize> {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                // Each thread ends after its share of `max` connections; the shares add up
                // to `max`, and the shared accept queue hands each thread what it waits for.
                let share = max.map(|m: usize| m / cores + usize::from(i < m % cores));
                rt.block_on(async { serve(TcpListener::from_std(listener?)?, ctx, share).await })
            })
        })
        .collect();
    for t in threads {
        let most = t.join().expect("a server thread panicked")?;
        println!("at most {most} connections at once on one thread");
    }
    Ok(())
}
