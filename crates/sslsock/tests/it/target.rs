//! One connection's identity (the SNI name, the name checked, the session key, the deadline)
//! is resolved once, the same way by every constructor: for the same options, each path
//! reports the same `Target`, the server sees the same SNI name, and the session is filed
//! under the same key with the same verified name.

use std::io::{BufRead, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use sslsock::{Options, SessionCache, SslListener, SslSocket, Target};

use crate::util::*;

/// The deadline every path must carry.
const TIMEOUT: Duration = Duration::from_secs(7);

/// A server for `n` connections; each is greeted with a line, and its SNI name returned.
fn sni_server(n: usize) -> (SocketAddr, std::thread::JoinHandle<Vec<Option<String>>>) {
    let listener = SslListener::bind("127.0.0.1:0", &server_opts()).unwrap();
    let addr = listener.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        (0..n)
            .map(|_| {
                let (mut s, _) = listener.accept().unwrap();
                s.write_all(b"hello\n").unwrap();
                let name = s.servername().map(str::to_owned);
                let _ = s.close();
                name
            })
            .collect()
    });
    (addr, h)
}

/// The same inputs for every path: the peer by `PeerAddr` only, a deadline, a cache.
fn inputs(port: u16, cache: &SessionCache) -> Options {
    Options::new()
        .ca_file(&pki().ca)
        .engine(test_engine())
        .peer(format!("localhost:{port}"))
        .timeout(TIMEOUT)
        .session_cache(cache)
}

/// What every path must resolve for those inputs.
fn assert_expected(t: &Target, port: u16, how: &str) {
    let key = format!("localhost:{port}");
    assert_eq!(t.sni(), Some("localhost"), "{how}: SNI");
    assert_eq!(t.verify_name(), Some("localhost"), "{how}: verify name");
    assert_eq!(t.session_key(), Some(key.as_str()), "{how}: session key");
    assert_eq!(t.timeout(), Some(TIMEOUT), "{how}: deadline");
    assert_eq!(t.address(), Some(("localhost", port)), "{how}: address");
}

/// Reads the greeting (so that TLS 1.3 tickets arrive), then checks what the server saw
/// and what the cache holds.
fn finish(
    mut read_greeting: impl FnMut() -> String,
    h: std::thread::JoinHandle<Vec<Option<String>>>,
    cache: &SessionCache,
    port: u16,
    how: &str,
) {
    assert_eq!(read_greeting(), "hello\n", "{how}");
    assert_eq!(
        h.join().unwrap(),
        [Some("localhost".to_owned())],
        "{how}: SNI seen"
    );
    let kept = cache
        .get(&format!("localhost:{port}"))
        .unwrap_or_else(|| panic!("{how}: no session under localhost:{port}"));
    assert_eq!(kept.verified_name(), "localhost", "{how}");
}

fn blocking_path(how: &str, make: impl FnOnce(&Options, SocketAddr) -> SslSocket) {
    let (addr, h) = sni_server(1);
    let cache = SessionCache::new(4);
    let opts = inputs(addr.port(), &cache);
    finish_blocking(make(&opts, addr), addr, h, &cache, how);
}

/// The checks of every blocking path, on its connected socket.
fn finish_blocking(
    mut s: SslSocket,
    addr: SocketAddr,
    h: std::thread::JoinHandle<Vec<Option<String>>>,
    cache: &SessionCache,
    how: &str,
) {
    assert!(s.is_tls(), "{how}");
    assert_expected(s.target(), addr.port(), how);
    let mut line = String::new();
    finish(
        || {
            s.read_line(&mut line).unwrap();
            line.clone()
        },
        h,
        cache,
        addr.port(),
        how,
    );
}

#[test]
fn blocking_connect_by_peer_addr() {
    blocking_path("connect_with(\"\")", |o, _| {
        SslSocket::connect_with("", o).unwrap()
    });
    blocking_path("connect_with(the same address)", |o, a| {
        SslSocket::connect_with(&format!("localhost:{}", a.port()), o).unwrap()
    });
}

#[test]
fn starttls_paths() {
    blocking_path("start_ssl", |o, a| {
        SslSocket::start_ssl(TcpStream::connect(a).unwrap(), o)
            .map_err(|e| e.error)
            .unwrap()
    });
    blocking_path("new_plain + connect_ssl", |o, a| {
        let mut s = SslSocket::new_plain(TcpStream::connect(a).unwrap(), o).unwrap();
        s.connect_ssl().unwrap();
        s
    });
    blocking_path("new_client + connect_ssl", |o, a| {
        let mut s = SslSocket::new_client(TcpStream::connect(a).unwrap(), o, "localhost").unwrap();
        s.connect_ssl().unwrap();
        s
    });
}

/// Perl's `PeerAddr => "localhost", PeerPort => N` (as arguments or setters) connects to that
/// port with the host as the name; a port written in `PeerAddr` wins over `PeerPort`.
#[test]
fn peer_addr_with_peer_port() {
    for how in ["setters", "perl arguments", "PeerAddr's own port wins"] {
        let (addr, h) = sni_server(1);
        let cache = SessionCache::new(4);
        let port = addr.port().to_string();
        let base = Options::new()
            .ca_file(&pki().ca)
            .engine(test_engine())
            .timeout(TIMEOUT)
            .session_cache(&cache);
        let opts = match how {
            "setters" => base.peer("localhost").peer_port(&port),
            "perl arguments" => sslsock::args::apply_args(
                base,
                [("PeerPort", port.as_str()), ("PeerAddr", "localhost")],
            )
            .unwrap(),
            _ => base.peer(format!("localhost:{port}")).peer_port("1"),
        };
        let s = SslSocket::connect_with("", &opts).unwrap();
        finish_blocking(s, addr, h, &cache, how);
    }
}

/// An address given to the constructor and another in `PeerAddr` is a contradiction.
#[test]
fn two_different_addresses_are_refused() {
    let cache = SessionCache::new(4);
    let e = SslSocket::connect_with("127.0.0.1:1", &inputs(2, &cache)).unwrap_err();
    assert!(
        e.to_string().contains("PeerAddr \"localhost:2\" differ"),
        "{e}"
    );
}

#[cfg(feature = "tokio")]
#[test]
fn async_paths() {
    use sslsock::AsyncSslSocket;
    use tokio::io::AsyncReadExt;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for how in ["async connect_with(\"\")", "async new_plain + connect_ssl"] {
        let (addr, h) = sni_server(1);
        let cache = SessionCache::new(4);
        let opts = inputs(addr.port(), &cache);
        let greeting = rt.block_on(async {
            let mut s = if how.contains("new_plain") {
                let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
                let mut s = AsyncSslSocket::new_plain(tcp, &opts).unwrap();
                s.connect_ssl().await.unwrap();
                s
            } else {
                AsyncSslSocket::connect_with("", &opts).await.unwrap()
            };
            assert_expected(s.socket().target(), addr.port(), how);
            let mut buf = [0u8; 6];
            s.read_exact(&mut buf).await.unwrap();
            String::from_utf8_lossy(&buf).into_owned()
        });
        finish(|| greeting.clone(), h, &cache, addr.port(), how);
    }
}

#[cfg(feature = "mio")]
#[test]
fn mio_path() {
    use std::io::Read;
    let how = "mio new_plain + connect_ssl";
    let (addr, h) = sni_server(1);
    let cache = SessionCache::new(4);
    let opts = inputs(addr.port(), &cache);
    let std_tcp = TcpStream::connect(addr).unwrap();
    std_tcp.set_nonblocking(true).unwrap();
    let tcp = mio::net::TcpStream::from_std(std_tcp);
    let mut s = SslSocket::new_plain(tcp, &opts).unwrap();
    assert_expected(s.target(), addr.port(), how);
    let mut poll = mio::Poll::new().unwrap();
    poll.registry()
        .register(
            &mut s,
            mio::Token(0),
            mio::Interest::READABLE | mio::Interest::WRITABLE,
        )
        .unwrap();
    let mut events = mio::Events::with_capacity(8);
    let mut got = Vec::new();
    let mut rounds = 0;
    while !got.ends_with(b"\n") {
        rounds += 1;
        assert!(rounds < 200, "{how}: no progress");
        poll.poll(&mut events, Some(Duration::from_millis(100)))
            .unwrap();
        if !s.is_tls() {
            match s.connect_ssl() {
                Ok(()) => {}
                Err(sslsock::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    continue
                }
                Err(e) => panic!("{how}: {e}"),
            }
        }
        let mut buf = [0u8; 64];
        match s.read(&mut buf) {
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("{how}: {e}"),
        }
    }
    finish(
        || String::from_utf8_lossy(&got).into_owned(),
        h,
        &cache,
        addr.port(),
        how,
    );
}

/// The name checked is the target's on both engines: a connection's own verify name wins
/// over the context's `verifycn_name` (as `Target::verify_name` says), and the session it
/// files is for that name.
#[test]
fn a_connections_verify_name_wins_over_the_contexts() {
    let listener = SslListener::bind("127.0.0.1:0", &server_opts()).unwrap();
    let addr = listener.local_addr().unwrap();
    // Two connections: the first is served, the second refused by the client.
    let h = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.write_all(b"hello\n").unwrap();
        let _ = s.close();
        listener.accept().is_err()
    });
    let cache = SessionCache::new(4);
    let opts = Options::new()
        .ca_file(&pki().ca)
        .engine(test_engine())
        .verifycn_name("wrong.example")
        .session_cache(&cache);
    let ctx = sslsock::SslContext::new(&opts).unwrap();
    let to = format!("localhost:{}", addr.port());
    // The connection's own name is checked, not the context's.
    let peer = sslsock::Peer::new().verify_name("localhost");
    let mut s = SslSocket::connect_to(&to, &ctx, &peer)
        .unwrap_or_else(|e| panic!("the connection's verify name was not the one checked: {e}"));
    assert_eq!(s.target().verify_name(), Some("localhost"));
    let mut line = String::new();
    s.read_line(&mut line).unwrap();
    assert_eq!(line, "hello\n");
    drop(s);
    let kept = cache.get(&to).expect("a session under localhost:PORT");
    assert_eq!(kept.verified_name(), "localhost");
    // Without its own name, the context's is checked, and refused.
    let e = SslSocket::connect_with(&to, &ctx).unwrap_err();
    assert!(
        e.to_string().contains("\"wrong.example\" does not match"),
        "{e}"
    );
    assert!(
        h.join().unwrap(),
        "the server accepted the refused connection"
    );
}
