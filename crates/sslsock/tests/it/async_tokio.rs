//! The tokio stream: the same verification and errors as the blocking socket, 1,000
//! concurrent clients, bulk transfer, and STARTTLS up and down against Perl.

use std::sync::Arc;

use sslsock::socket::async_io::AsyncSslSocket;
use sslsock::{Error, SslContext, VerifyError};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::tokio_echo;
use crate::util::*;

#[test]
fn tokio_server_serves_1000_concurrent_clients() {
    serves_1000_concurrent_clients(sslsock::Engine::Rustls);
}

/// The same, both sides on the openssl engine.
#[cfg(feature = "openssl")]
#[test]
fn tokio_server_serves_1000_concurrent_clients_on_openssl() {
    serves_1000_concurrent_clients(sslsock::Engine::OpenSsl);
}

fn serves_1000_concurrent_clients(engine: sslsock::Engine) {
    const CLIENTS: usize = 1000;
    runtime().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let sctx = SslContext::new(&server_opts().server(true).engine(engine)).unwrap();
        let server = tokio::spawn(tokio_echo::serve(listener, sctx, Some(CLIENTS)));
        let cctx = SslContext::new(&client_opts().engine(engine)).unwrap();
        let barrier = Arc::new(tokio::sync::Barrier::new(CLIENTS));
        let mut clients = tokio::task::JoinSet::new();
        for i in 0..CLIENTS {
            let (addr, cctx, barrier) = (addr.clone(), cctx.clone(), barrier.clone());
            clients.spawn(async move {
                let mut tls = AsyncSslSocket::connect_with(&addr, &cctx).await.unwrap();
                // Every client holds its connection until all are connected.
                barrier.wait().await;
                let msg = format!("client {i}\n");
                tls.write_all(msg.as_bytes()).await.unwrap();
                tls.flush().await.unwrap();
                let mut back = vec![0u8; msg.len()];
                tls.read_exact(&mut back).await.unwrap();
                assert_eq!(back, msg.as_bytes());
                tls.shutdown().await.unwrap();
            });
        }
        while let Some(r) = clients.join_next().await {
            r.unwrap();
        }
        let most = server.await.unwrap().unwrap();
        println!("tokio server: {CLIENTS} clients served, {most} connections open at once");
        assert_eq!(most, CLIENTS);
    });
}

#[test]
fn async_verification_errors_are_the_blocking_ones() {
    runtime().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let sctx = SslContext::new(&server_opts().server(true)).unwrap();
        tokio::spawn(async move {
            for _ in 0..3 {
                let (tcp, _) = listener.accept().await.unwrap();
                let _ = AsyncSslSocket::accept_with(tcp, &sctx).await;
            }
        });
        let wrong = SslContext::new(&client_opts().verifycn_name("elsewhere.example")).unwrap();
        let err = AsyncSslSocket::connect_with(&addr, &wrong)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Verify(VerifyError::NameMismatch { .. })),
            "{err:?}"
        );
        let pinned = SslContext::new(
            &client_opts()
                .fingerprint(format!("sha256${}", "00".repeat(32)))
                .force_fingerprint(true),
        )
        .unwrap();
        let err = AsyncSslSocket::connect_with(&addr, &pinned)
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Verify(VerifyError::PinMismatch { .. })),
            "{err:?}"
        );
        let ok = AsyncSslSocket::connect_with(&addr, &SslContext::new(&client_opts()).unwrap())
            .await
            .unwrap();
        assert_eq!(ok.socket().version(), Some("TLSv1_3"));
    });
}

async fn bulk<S: AsyncRead + AsyncWrite + Unpin>(tls: &mut AsyncSslSocket<S>, total: usize) -> u64 {
    let chunk: Vec<u8> = (0..65_536u32).map(|i| (i * 31 % 253) as u8).collect();
    let mut sent = 0;
    let mut sum = 0u64;
    while sent < total {
        let n = (total - sent).min(chunk.len());
        tls.write_all(&chunk[..n]).await.unwrap();
        sum += chunk[..n].iter().map(|&b| u64::from(b)).sum::<u64>();
        sent += n;
    }
    tls.flush().await.unwrap();
    sum
}

#[test]
fn async_64_mib_checksum_matches() {
    const TOTAL: usize = 64 << 20;
    runtime().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let sctx = SslContext::new(&server_opts().server(true)).unwrap();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut tls = AsyncSslSocket::accept_with(tcp, &sctx).await.unwrap();
            let mut buf = vec![0u8; 65_536];
            let (mut got, mut sum) = (0usize, 0u64);
            while got < TOTAL {
                let n = tls.read(&mut buf).await.unwrap();
                assert!(n > 0 && n <= 16_384);
                sum += buf[..n].iter().map(|&b| u64::from(b)).sum::<u64>();
                got += n;
            }
            tls.write_all(format!("{sum}\n").as_bytes()).await.unwrap();
            tls.flush().await.unwrap();
            sum
        });
        let mut tls =
            AsyncSslSocket::connect_with(&addr, &SslContext::new(&client_opts()).unwrap())
                .await
                .unwrap();
        let sent = bulk(&mut tls, TOTAL).await;
        let mut reply = String::new();
        loop {
            let mut b = [0u8; 1];
            tls.read_exact(&mut b).await.unwrap();
            if b[0] == b'\n' {
                break;
            }
            reply.push(char::from(b[0]));
        }
        assert_eq!(reply, sent.to_string());
        assert_eq!(server.await.unwrap(), sent);
    });
}

/// `fill_buf`/`consume` (tokio's `AsyncBufRead`) lend the decrypted records in place, at
/// most one record at a time, and end with an empty chunk at close_notify; a silent peer
/// meets `idle_timeout` there as in `read`.
fn fill_buf_reads_records_in_place(engine: sslsock::Engine) {
    use tokio::io::AsyncBufReadExt;
    const TOTAL: usize = 8 << 20;
    runtime().block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let idle = std::time::Duration::from_millis(500);
        let sctx =
            SslContext::new(&server_opts().server(true).engine(engine).idle_timeout(idle)).unwrap();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut tls = AsyncSslSocket::accept_with(tcp, &sctx).await.unwrap();
            let (mut got, mut sum) = (0usize, 0u64);
            loop {
                let chunk = tls.fill_buf().await.unwrap();
                if chunk.is_empty() {
                    break;
                }
                assert!(chunk.len() <= 16_384, "{}", chunk.len());
                // Half of each chunk first: the rest stays lent until consumed.
                let half = chunk.len().div_ceil(2);
                sum += chunk[..half].iter().map(|&b| u64::from(b)).sum::<u64>();
                tls.consume(half);
                let rest = tls.fill_buf().await.unwrap();
                sum += rest.iter().map(|&b| u64::from(b)).sum::<u64>();
                let n = rest.len();
                tls.consume(n);
                got += half + n;
            }
            assert_eq!(got, TOTAL);
            // A silent peer on a second connection.
            let (tcp, _) = listener.accept().await.unwrap();
            let mut quiet = AsyncSslSocket::accept_with(tcp, &sctx).await.unwrap();
            let e = quiet.fill_buf().await.unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::TimedOut, "{e}");
            sum
        });
        let cctx = SslContext::new(&client_opts().engine(engine)).unwrap();
        let mut tls = AsyncSslSocket::connect_with(&addr, &cctx).await.unwrap();
        let sent = bulk(&mut tls, TOTAL).await;
        tls.shutdown().await.unwrap();
        let quiet = AsyncSslSocket::connect_with(&addr, &cctx).await.unwrap();
        assert_eq!(server.await.unwrap(), sent);
        drop(quiet);
    });
}

#[test]
fn fill_buf_reads_records_in_place_to_close_notify() {
    fill_buf_reads_records_in_place(sslsock::Engine::Rustls);
}

#[cfg(feature = "openssl")]
#[test]
fn fill_buf_reads_records_in_place_on_openssl() {
    fill_buf_reads_records_in_place(sslsock::Engine::OpenSsl);
}

/// Reads one line byte by byte, so nothing beyond it is taken from the stream.
async fn line<S: AsyncRead + AsyncWrite + Unpin>(s: &mut AsyncSslSocket<S>) -> String {
    let mut out = Vec::new();
    loop {
        let mut b = [0u8; 1];
        if s.read(&mut b).await.unwrap() == 0 {
            break;
        }
        out.push(b[0]);
        if b[0] == b'\n' {
            break;
        }
    }
    String::from_utf8(out).unwrap()
}

async fn send<S: AsyncRead + AsyncWrite + Unpin>(s: &mut AsyncSslSocket<S>, text: &str) {
    s.write_all(text.as_bytes()).await.unwrap();
    s.flush().await.unwrap();
}

#[test]
fn async_starttls_up_and_down_with_perl() {
    require_perl_ssl();
    let p = pki().pair("srv-ec");
    let mut perl = Peer::spawn(
        std::process::Command::new("perl")
            .args(["-e", crate::starttls::PERL_SERVER])
            .arg(&p.cert)
            .arg(&p.key)
            .arg("SSLv23")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped()),
    );
    let mut out = std::io::BufReader::new(perl.child.stdout.take().unwrap());
    let mut port = String::new();
    std::io::BufRead::read_line(&mut out, &mut port).unwrap();
    let port: u16 = port.trim().parse().unwrap();
    runtime().block_on(async {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let ctx = SslContext::new(&client_opts()).unwrap();
        let mut s = AsyncSslSocket::new_plain(tcp, &ctx).unwrap();
        assert_eq!(line(&mut s).await, "220 ready\r\n");
        send(&mut s, "STARTTLS\r\n").await;
        assert_eq!(line(&mut s).await, "220 go\r\n");
        s.connect_ssl().await.unwrap();
        assert!(s.socket().is_tls());
        send(&mut s, "secret\r\n").await;
        assert_eq!(line(&mut s).await, "tls:secret\r\n");
        send(&mut s, "STOPTLS\r\n").await;
        assert_eq!(line(&mut s).await, "ok\r\n");
        s.stop_ssl().await.unwrap();
        assert!(!s.socket().is_tls());
        assert_eq!(line(&mut s).await, "plain after\r\n");
        send(&mut s, "plain again\r\n").await;
        assert_eq!(line(&mut s).await, "echo:plain again\r\n");
    });
    perl.child.stdout = Some(out.into_inner());
    let (_, stderr, ok) = perl.finish(20);
    assert!(ok, "perl: {stderr}");
}

#[test]
fn idle_timeout_ends_a_silent_peer_blocking_and_async() {
    let idle = std::time::Duration::from_millis(500);
    // Blocking server.
    let (addr, h) = serve(server_opts().server(true).idle_timeout(idle), 1, |mut s| {
        let start = std::time::Instant::now();
        let mut buf = [0u8; 8];
        match std::io::Read::read(&mut s, &mut buf) {
            Err(e) => Err(format!("{e} after {:?}", start.elapsed())),
            Ok(n) => Err(format!("read {n} bytes from a silent peer")),
        }
    });
    let silent =
        sslsock::SslSocket::connect_with(&addr.to_string(), &client_opts().hostname("localhost"))
            .unwrap();
    let outcome = h.join().unwrap().remove(0).unwrap_err();
    assert!(
        outcome.contains("it was idle past idle_timeout"),
        "{outcome}"
    );
    drop(silent);

    // Async server.
    let rt = runtime();
    rt.block_on(async {
        let ctx = SslContext::new(&server_opts().server(true).idle_timeout(idle)).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = tokio::task::spawn_blocking(move || {
            let s = sslsock::SslSocket::connect_with(
                &addr.to_string(),
                &client_opts().hostname("localhost"),
            )
            .unwrap();
            std::thread::sleep(std::time::Duration::from_secs(3));
            drop(s);
        });
        let (tcp, _) = listener.accept().await.unwrap();
        let mut s = AsyncSslSocket::accept_with(tcp, &ctx).await.unwrap();
        let start = std::time::Instant::now();
        let mut buf = [0u8; 8];
        let e = s.read(&mut buf).await.unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::TimedOut);
        assert!(e.to_string().contains("idle past idle_timeout"), "{e}");
        assert!(
            start.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
        client.await.unwrap();
    });
}
