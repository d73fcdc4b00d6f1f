//! The process-wide defaults (`set_default_ca`, `set_default_context`). They live in their own
//! test binary, checked one after the other in one test: changing them while other tests
//! build contexts would change those tests.

use std::io::{BufRead, Write};

use sslsock::{Options, SslContext, SslSocket};
use sslsock_test_support::*;

#[test]
fn process_wide_defaults() {
    default_ca_override_is_used_and_inspectable();
    default_context_serves_the_one_line_connect();
    one_line_connects_resume_each_other();
    defaults_layers_and_their_precedence();
    one_line_connects_follow_defaults_set_later();
}

/// One connection through a fresh server built from `server` and a client from `client`
/// (connect, STARTTLS or async): the negotiated version and ALPN protocol.
fn negotiate(server: Options, client: &Options, how: &str) -> (String, String) {
    let (addr, h) = serve(server, 1, echo_once);
    let mut c = match how {
        "connect" => SslSocket::connect_with(&addr.to_string(), client).unwrap(),
        "starttls" => {
            let tcp = std::net::TcpStream::connect(addr).unwrap();
            SslSocket::start_ssl(tcp, client)
                .map_err(|e| e.error)
                .unwrap()
        }
        #[cfg(feature = "tokio")]
        "async" => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let facts = rt.block_on(async {
                let s = sslsock::AsyncSslSocket::connect_with(&addr.to_string(), client)
                    .await
                    .unwrap();
                let sock = s.socket();
                (
                    sock.version().unwrap_or("?").to_owned(),
                    sock.alpn_selected().unwrap_or_default(),
                )
            });
            let _ = h.join();
            return facts;
        }
        other => panic!("no way to connect called {other}"),
    };
    c.write_all(b"x\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    let facts = (
        c.version().unwrap_or("?").to_owned(),
        c.alpn_selected().unwrap_or_default(),
    );
    drop(c);
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
    facts
}

/// explicit > client/server defaults > global defaults > built-in, for connect, STARTTLS
/// and async; the args filter, and its use_defaults form.
fn defaults_layers_and_their_precedence() {
    use sslsock::args::{set_args_filter, set_client_defaults, set_defaults, set_server_defaults};
    let client = || client_opts().hostname("localhost");
    // Built-in: TLS 1.3, no ALPN.
    assert_eq!(
        negotiate(server_opts(), &client(), "connect"),
        ("TLSv1_3".into(), String::new())
    );

    set_defaults([("SSL_alpn_protocols", "http/1.1")]).unwrap();
    set_server_defaults([("SSL_alpn_protocols", "h2,http/1.1")]).unwrap();
    set_client_defaults([("SSL_version", "TLSv1_2")]).unwrap();
    let ways: &[&str] = if cfg!(feature = "tokio") {
        &["connect", "starttls", "async"]
    } else {
        &["connect", "starttls"]
    };
    for &how in ways {
        // Client: version from the client defaults, ALPN from the global ones; the server's
        // list comes from the server defaults (it would offer h2 first if the client did).
        assert_eq!(
            negotiate(server_opts(), &client(), how),
            ("TLSv1_2".into(), "http/1.1".into()),
            "{how}"
        );
        // Explicit options win over both layers.
        assert_eq!(
            negotiate(
                server_opts(),
                &client().version("TLSv1_3").alpn_protocols(["h2"]),
                how
            ),
            ("TLSv1_3".into(), "h2".into()),
            "{how}"
        );
    }
    // The server's explicit list wins over its defaults.
    assert_eq!(
        negotiate(
            server_opts().alpn_protocols(["http/1.1"]),
            &client().alpn_protocols(["h2", "http/1.1"]),
            "connect"
        ),
        ("TLSv1_2".into(), "http/1.1".into())
    );
    // use_defaults: the defaults win over explicit options.
    set_args_filter(Some(sslsock::args::ArgsFilter::UseDefaults));
    assert_eq!(
        negotiate(server_opts(), &client().version("TLSv1_3"), "connect"),
        ("TLSv1_2".into(), "http/1.1".into())
    );
    // A filter callback has the last word.
    set_args_filter(Some(sslsock::args::ArgsFilter::Callback(
        std::sync::Arc::new(|is_server, opts: &mut Options| {
            if !is_server {
                *opts = std::mem::take(opts).alpn_protocols(["h2"]);
            }
        }),
    )));
    assert_eq!(
        negotiate(
            server_opts(),
            &client().alpn_protocols(["http/1.1"]),
            "connect"
        ),
        ("TLSv1_2".into(), "h2".into())
    );
    // Bad defaults are refused when set, naming the key.
    let e = set_defaults([("SSL_version", "SSLv3")]).unwrap_err();
    assert!(e.to_string().starts_with("SSL_version: "), "{e}");
    // Removed, the built-in defaults are back.
    set_args_filter(None);
    set_defaults([]).unwrap();
    set_client_defaults([]).unwrap();
    set_server_defaults([]).unwrap();
    assert_eq!(
        negotiate(server_opts(), &client(), "connect"),
        ("TLSv1_3".into(), String::new())
    );
}

/// Without a default context the one-line connect uses one context for the process, so the
/// second connection resumes the first one's session.
fn one_line_connects_resume_each_other() {
    sslsock::set_default_ca(Some(&[pki().ca.clone()])).unwrap();
    let (addr, h) = serve(server_opts(), 2, echo_once);
    let target = format!("localhost:{}", addr.port());
    let resumed: Vec<bool> = (0..2)
        .map(|_| {
            let mut c = SslSocket::connect(&target).unwrap();
            c.write_all(b"again\n").unwrap();
            let mut line = String::new();
            c.read_line(&mut line).unwrap();
            c.session_reused()
        })
        .collect();
    sslsock::set_default_ca(None).unwrap();
    assert_eq!(resumed, [false, true]);
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

fn default_ca_override_is_used_and_inspectable() {
    sslsock::set_default_ca(Some(&[pki().ca.clone()])).unwrap();
    let ca = sslsock::default_ca();
    assert_eq!(ca.origin, sslsock::CaOrigin::Override);
    assert_eq!(ca.certs.len(), 1);
    assert_eq!(ca.ca_file.as_deref(), Some(pki().ca.as_path()));
    let (addr, h) = serve(server_opts(), 1, echo_once);
    // No CA option at all: the default store, now the override, is used.
    let result = SslSocket::connect_with(&addr.to_string(), &Options::new().hostname("localhost"));
    sslsock::set_default_ca(None).unwrap();
    assert_ne!(
        sslsock::default_ca().origin,
        sslsock::CaOrigin::Override,
        "None forgets the override"
    );
    let mut c = result.unwrap();
    c.write_all(b"default ca\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

fn default_context_serves_the_one_line_connect() {
    let (addr, h) = serve(server_opts(), 1, echo_once);
    sslsock::set_default_context(Some(SslContext::new(&client_opts()).unwrap()));
    let r = SslSocket::connect(&addr.to_string());
    sslsock::set_default_context(None);
    let mut c = r.unwrap();
    c.write_all(b"default\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    assert_eq!(line, "default\n");
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

/// The one-line connects (blocking and async) keep one context for the process, yet a
/// default set after their first use applies to the next one: client defaults, the args
/// filter (run for each connection) and the default session cache.
fn one_line_connects_follow_defaults_set_later() {
    use sslsock::args::{set_args_filter, set_client_defaults, ArgsFilter};
    sslsock::set_default_ca(Some(&[pki().ca.clone()])).unwrap();
    let one_line = |server: Options, how: &str| -> (String, String) {
        let (addr, h) = serve(server, 1, echo_once);
        let target = format!("localhost:{}", addr.port());
        let facts = match how {
            "blocking" => {
                let mut c = SslSocket::connect(&target).unwrap();
                c.write_all(b"x\n").unwrap();
                let mut line = String::new();
                c.read_line(&mut line).unwrap();
                (
                    c.version().unwrap_or("?").to_owned(),
                    c.alpn_selected().unwrap_or_default(),
                )
            }
            #[cfg(feature = "tokio")]
            "async" => {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    let mut c = sslsock::AsyncSslSocket::connect(&target).await.unwrap();
                    c.write_all(b"x\n").await.unwrap();
                    let mut back = [0u8; 2];
                    c.read_exact(&mut back).await.unwrap();
                    let sock = c.socket();
                    (
                        sock.version().unwrap_or("?").to_owned(),
                        sock.alpn_selected().unwrap_or_default(),
                    )
                })
            }
            other => panic!("no way to connect called {other}"),
        };
        h.join().unwrap().into_iter().for_each(|r| r.unwrap());
        facts
    };
    let ways: &[&str] = if cfg!(feature = "tokio") {
        &["blocking", "async"]
    } else {
        &["blocking"]
    };
    for &how in ways {
        let alpn_server = || server_opts().alpn_protocols(["h2", "http/1.1"]);
        assert_eq!(one_line(alpn_server(), how).0, "TLSv1_3", "{how}: built-in");
        set_client_defaults([("SSL_version", "TLSv1_2")]).unwrap();
        assert_eq!(
            one_line(alpn_server(), how).0,
            "TLSv1_2",
            "{how}: client defaults set after the first one-line connect"
        );
        set_client_defaults([]).unwrap();
        let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = seen.clone();
        set_args_filter(Some(ArgsFilter::Callback(std::sync::Arc::new(
            move |is_server, opts: &mut Options| {
                if !is_server {
                    counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    *opts = std::mem::take(opts).alpn_protocols(["h2"]);
                }
            },
        ))));
        for round in 0..2 {
            assert_eq!(
                one_line(alpn_server(), how).1,
                "h2",
                "{how}: filter, {round}"
            );
        }
        assert_eq!(
            seen.load(std::sync::atomic::Ordering::SeqCst),
            2,
            "{how}: the filter sees each one-line connection"
        );
        set_args_filter(None);
        let cache = sslsock::SessionCache::new(8);
        sslsock::set_default_session_cache(Some(cache.clone()));
        let (addr, h) = serve(server_opts(), 1, echo_once);
        let target = format!("localhost:{}", addr.port());
        let mut c = SslSocket::connect(&target).unwrap();
        c.write_all(b"x\n").unwrap();
        let mut line = String::new();
        c.read_line(&mut line).unwrap();
        drop(c);
        h.join().unwrap().into_iter().for_each(|r| r.unwrap());
        sslsock::set_default_session_cache(None);
        assert!(
            cache.get(&target).is_some(),
            "{how}: the default session cache set later holds the session of {target}"
        );
    }
    sslsock::set_default_ca(None).unwrap();
}
