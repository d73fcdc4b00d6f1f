//! A resumed session counts only for the identity it was verified for: a session made while
//! checking one name is never offered to a connection checking another, whatever key (the
//! address, `session_key`) the two share. The server is `openssl s_server`, which resumes a
//! session whatever name the client sends (TLS 1.2 and 1.3), so only the client stands
//! between a session and a name it was not verified for.

use std::io::Write;
use std::net::TcpStream;

use sslsock::{Error, Options, Peer, SessionCache, SslContext, SslSocket, VerifyError};

use crate::util::*;

/// `openssl s_server -www` with a certificate for other.example only.
fn other_example_server(version: &str) -> (Peer_, u16) {
    s_server("wrongname", &["-www", version])
}
type Peer_ = sslsock_test_support::Peer;

/// One request; reads to the end so that TLS 1.3 tickets arrive.
fn fetch(mut s: SslSocket) -> bool {
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let _ = read_all(&mut s);
    s.session_reused()
}

fn assert_name_refused(r: Result<SslSocket, Error>, name: &str, how: &str) {
    match r {
        Err(Error::Verify(VerifyError::NameMismatch { .. })) => {}
        Err(e) => panic!("{how}: refused, but not for the name: {e}"),
        Ok(s) => panic!(
            "{how}: a connection checking {name} was accepted (resumed: {})",
            s.session_reused()
        ),
    }
}

fn client() -> Options {
    Options::new().ca_file(&pki().ca).engine(test_engine())
}

#[test]
fn one_context_one_address_two_names() {
    for version in ["-tls1_2", "-tls1_3"] {
        let (_server, port) = other_example_server(version);
        let addr = format!("127.0.0.1:{port}");
        let cache = SessionCache::new(8);
        let ctx = SslContext::new(&client().session_cache(&cache)).unwrap();
        let good = Peer::new().name("other.example");
        assert!(!fetch(SslSocket::connect_to(&addr, &ctx, &good).unwrap()));
        let kept = cache.get(&addr).expect("no session was kept");
        assert_eq!(kept.verified_name(), "other.example");
        cache.add(&addr, kept);
        assert!(fetch(SslSocket::connect_to(&addr, &ctx, &good).unwrap()));
        // b.example at the same address: a full handshake, refused for the name.
        let bad = Peer::new().name("b.example");
        assert_name_refused(
            SslSocket::connect_to(&addr, &ctx, &bad),
            "b.example",
            version,
        );
        // The same with a key shared between addresses (SSL_session_key).
        let bad_keyed = Peer::new().name("b.example").session_key(addr.clone());
        assert_name_refused(
            SslSocket::connect_to(&addr, &ctx, &bad_keyed),
            "b.example",
            version,
        );
        // other.example's session is still there for other.example.
        assert!(
            fetch(SslSocket::connect_to(&addr, &ctx, &good).unwrap()),
            "{version}: other.example no longer resumes"
        );
    }
}

#[test]
fn two_contexts_sharing_a_cache_with_different_hostnames() {
    for version in ["-tls1_2", "-tls1_3"] {
        let (_server, port) = other_example_server(version);
        let addr = format!("127.0.0.1:{port}");
        let cache = SessionCache::new(8);
        let a = client().session_cache(&cache).hostname("other.example");
        let b = client().session_cache(&cache).hostname("b.example");
        let a_ctx = SslContext::new(&a).unwrap();
        let b_ctx = SslContext::new(&b).unwrap();
        assert!(!fetch(SslSocket::connect_with(&addr, &a_ctx).unwrap()));
        assert_name_refused(
            SslSocket::connect_with(&addr, &b_ctx),
            "b.example",
            &format!("{version}, two contexts"),
        );
        // The one-line connect, its context compiled on the spot.
        assert!(fetch(SslSocket::connect_with(&addr, &a).unwrap()));
        assert_name_refused(
            SslSocket::connect_with(&addr, &b),
            "b.example",
            &format!("{version}, one-line connect"),
        );
        // A session handed over by hand keeps the name it was verified for.
        let session = cache.get(&addr).expect("a session for other.example");
        cache.add("moved", session);
        let moved = Peer::new().name("b.example").session_key("moved");
        assert_name_refused(
            SslSocket::connect_to(&addr, &a_ctx, &moved),
            "b.example",
            &format!("{version}, get/add"),
        );
    }
}

#[test]
fn starttls_with_a_shared_session_key() {
    for version in ["-tls1_2", "-tls1_3"] {
        let (_server, port) = other_example_server(version);
        let addr = format!("127.0.0.1:{port}");
        let ctx = SslContext::new(&client().session_key("mail")).unwrap();
        let upgrade = |name: &str| {
            let tcp = TcpStream::connect(&addr).unwrap();
            let mut s = SslSocket::new_client(tcp, &ctx, name).unwrap();
            s.connect_ssl().map(|()| s)
        };
        assert!(!fetch(upgrade("other.example").unwrap()));
        assert_name_refused(upgrade("b.example"), "b.example", version);
        assert!(fetch(upgrade("other.example").unwrap()), "{version}");
    }
}

#[cfg(feature = "tokio")]
#[test]
fn tokio_one_context_two_names() {
    use sslsock::AsyncSslSocket;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for version in ["-tls1_2", "-tls1_3"] {
        let (_server, port) = other_example_server(version);
        let addr = format!("127.0.0.1:{port}");
        let ctx = SslContext::new(&client()).unwrap();
        rt.block_on(async {
            let fetch = |peer: Peer| {
                let ctx = ctx.clone();
                let addr = addr.clone();
                async move {
                    let mut s = AsyncSslSocket::connect_to(&addr, &ctx, &peer).await?;
                    s.write_all(b"GET / HTTP/1.0\r\n\r\n").await.unwrap();
                    let _ = s.read_to_end(&mut Vec::new()).await;
                    Ok::<bool, Error>(s.socket().session_reused())
                }
            };
            assert!(!fetch(Peer::new().name("other.example")).await.unwrap());
            match fetch(Peer::new().name("b.example")).await {
                Err(Error::Verify(VerifyError::NameMismatch { .. })) => {}
                other => panic!("{version}: tokio, b.example: {other:?}"),
            }
            assert!(fetch(Peer::new().name("other.example")).await.unwrap());
        });
    }
}

/// An application's session store (`SSL_session_cache` as an object with get_session,
/// add_session, del_session) that counts its calls.
#[derive(Default)]
struct CountingStore {
    sessions: std::sync::Mutex<std::collections::HashMap<String, sslsock::CachedSession>>,
    calls: std::sync::Mutex<Vec<String>>,
}

impl sslsock::SessionStore for CountingStore {
    fn get_session(&self, key: &str) -> Option<sslsock::CachedSession> {
        self.calls.lock().unwrap().push(format!("get {key}"));
        self.sessions.lock().unwrap().remove(key)
    }
    fn add_session(&self, key: &str, session: sslsock::CachedSession) {
        self.calls.lock().unwrap().push(format!("add {key}"));
        self.sessions
            .lock()
            .unwrap()
            .insert(key.to_owned(), session);
    }
    fn del_session(&self, key: &str) {
        self.calls.lock().unwrap().push(format!("del {key}"));
        self.sessions.lock().unwrap().remove(key);
    }
}

/// The application's store holds the sessions: connections add theirs and resume from it
/// (TLS 1.2 and 1.3, on both engines), a session it holds for one name is not used by a
/// connection checking another, and `del` reaches it.
#[test]
fn an_application_session_store_is_used() {
    for version in ["-tls1_2", "-tls1_3"] {
        let (_server, port) = s_server("srv-ec", &["-www", version]);
        let addr = format!("127.0.0.1:{port}");
        let store = std::sync::Arc::new(CountingStore::default());
        let cache = SessionCache::with_store(store.clone());
        let ctx = SslContext::new(&client().session_cache(&cache)).unwrap();
        let localhost = Peer::new().name("localhost");
        assert!(!fetch(
            SslSocket::connect_to(&addr, &ctx, &localhost).unwrap()
        ));
        assert!(
            store.calls.lock().unwrap().contains(&format!("add {addr}")),
            "{version}: {:?}",
            store.calls.lock().unwrap()
        );
        let held = store
            .sessions
            .lock()
            .unwrap()
            .get(&addr)
            .map(|s| s.verified_name().to_owned());
        assert_eq!(held.as_deref(), Some("localhost"), "{version}");
        assert!(
            fetch(SslSocket::connect_to(&addr, &ctx, &localhost).unwrap()),
            "{version}: not resumed from the application's store"
        );
        // A connection checking another name at the same key: no resumption, refused for
        // the name, and the store keeps the session of localhost.
        let before = store.sessions.lock().unwrap().contains_key(&addr);
        assert!(before, "{version}: the store holds a session again");
        assert_name_refused(
            SslSocket::connect_to(&addr, &ctx, &Peer::new().name("b.example")),
            "b.example",
            version,
        );
        assert_eq!(
            store
                .sessions
                .lock()
                .unwrap()
                .get(&addr)
                .map(|s| s.verified_name().to_owned())
                .as_deref(),
            Some("localhost"),
            "{version}: the session went back to the store"
        );
        cache.del(&addr);
        assert!(store.calls.lock().unwrap().contains(&format!("del {addr}")));
        assert!(!store.sessions.lock().unwrap().contains_key(&addr));
    }
}
