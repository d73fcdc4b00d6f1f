//! One context, many connections: the peer's name belongs to the connection, and the
//! blocking and async paths honour the same options.

use std::io::{BufRead, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use sslsock::x509::create::{CertSpec, Issued};
use sslsock::{Error, Options, SslContext, SslListener, SslSocket, VerifyError, VerifyMode};

use crate::util::*;

fn line<R: BufRead>(r: &mut R) -> String {
    let mut s = String::new();
    r.read_line(&mut s).unwrap();
    s
}

/// A STARTTLS server on the test PKI's `pair`: greets, upgrades, reports the SNI it saw.
fn starttls_server(pair: &str, n: usize) -> (SocketAddr, std::thread::JoinHandle<()>) {
    let opts = server_opts_with(pair).server(true);
    serve_tcp(n, move |tcp| {
        let mut s = SslSocket::new_plain(tcp, &opts).unwrap();
        write_line(&mut s, "220 ready\r\n");
        assert_eq!(line(&mut s), "STARTTLS\r\n");
        write_line(&mut s, "220 go\r\n");
        if s.accept_ssl().is_ok() {
            let sni = s.servername().unwrap_or("-").to_owned();
            write_line(&mut s, &format!("sni {sni}\r\n"));
        }
    })
}

/// Plain dialogue, then the client handshake toward `name`.
fn upgrade(addr: SocketAddr, ctx: &SslContext, name: &str) -> Result<String, Error> {
    let mut s = SslSocket::new_client(TcpStream::connect(addr).unwrap(), ctx, name)?;
    assert_eq!(line(&mut s), "220 ready\r\n");
    write_line(&mut s, "STARTTLS\r\n");
    assert_eq!(line(&mut s), "220 go\r\n");
    s.connect_ssl()?;
    Ok(line(&mut s))
}

#[test]
fn one_context_does_starttls_to_two_hosts_with_their_own_names() {
    let ctx = SslContext::new(&Options::new().ca_file(&pki().ca)).unwrap();
    let (a, ha) = starttls_server("srv-ec", 1);
    let (b, hb) = starttls_server("wrongname", 2);
    assert_eq!(upgrade(a, &ctx, "localhost").unwrap(), "sni localhost\r\n");
    assert_eq!(
        upgrade(b, &ctx, "other.example").unwrap(),
        "sni other.example\r\n"
    );
    // The name is the connection's: the same context toward b under a's name is refused.
    let e = upgrade(b, &ctx, "localhost").unwrap_err();
    assert!(
        matches!(&e, Error::Verify(VerifyError::NameMismatch { expected, .. }) if expected == "localhost"),
        "{e:?}"
    );
    ha.join().unwrap();
    hb.join().unwrap();
}

/// A certificate for the address 0.0.0.0, signed by the test CA.
fn zero_address_cert() -> Issued {
    let ca = Issued::from_parts(
        &std::fs::read(&pki().ca).unwrap(),
        &std::fs::read(pki().path("ca.key")).unwrap(),
        &sslsock::x509::Password::None,
    )
    .unwrap();
    CertSpec::new("zero").san("0.0.0.0").signed_by(&ca).unwrap()
}

#[test]
fn a_connection_to_0_0_0_0_is_verified_against_0_0_0_0() {
    let cert = zero_address_cert();
    let opts = Options::new().cert_pem(cert.cert_pem).key_pem(cert.key_pem);
    let listener = SslListener::bind("0.0.0.0:0", &opts).unwrap();
    let port = listener.local_addr().unwrap().port();
    let h = std::thread::spawn(move || listener.accept().map(|(s, _)| s.close()));
    // Not "no hostname known": 0.0.0.0 is a name like any other address.
    let c = SslSocket::connect_with(
        &format!("0.0.0.0:{port}"),
        &Options::new().ca_file(&pki().ca),
    )
    .unwrap();
    assert_eq!(
        c.peer_certificate(sslsock::CertField::CommonName)
            .as_deref(),
        Some("zero")
    );
    drop(c);
    h.join().unwrap().unwrap().ok();
}

#[cfg(feature = "tokio")]
mod async_paths {
    use super::*;
    use sslsock::socket::async_io::AsyncSslSocket;
    use sslsock::SessionCache;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// What a server saw of each client: the SNI name and the client's address.
    type Seen = Vec<(Option<String>, SocketAddr)>;

    fn recording_server(n: usize) -> (SocketAddr, std::thread::JoinHandle<Seen>) {
        let listener = SslListener::bind("127.0.0.1:0", &server_opts()).unwrap();
        let addr = listener.local_addr().unwrap();
        let h = std::thread::spawn(move || {
            (0..n)
                .map(|_| {
                    let (s, peer) = listener.accept().unwrap();
                    let sni = s.servername().map(str::to_owned);
                    let _ = s.close();
                    (sni, peer)
                })
                .collect()
        });
        (addr, h)
    }

    /// The same options and peer give the same outcome, word for word, blocking and async:
    /// a name that does not match, and a peer that stalls past the timeout.
    #[test]
    fn blocking_and_async_fail_alike() {
        let (addr, h) = serve(server_opts(), 2, |_| Ok(()));
        let opts = client_opts().hostname("other.example");
        let blocking = SslSocket::connect_with(&addr.to_string(), &opts)
            .unwrap_err()
            .to_string();
        let tokio = rt()
            .block_on(AsyncSslSocket::connect_with(&addr.to_string(), &opts))
            .unwrap_err()
            .to_string();
        assert_eq!(blocking, tokio);
        assert!(
            blocking.contains("\"other.example\" does not match"),
            "{blocking}"
        );
        let _ = h.join();
        // A server that accepts and never answers.
        let quiet = TcpListener::bind("127.0.0.1:0").unwrap();
        let target = quiet.local_addr().unwrap().to_string();
        let opts = client_opts().timeout(std::time::Duration::from_millis(300));
        let blocking = SslSocket::connect_with(&target, &opts)
            .unwrap_err()
            .to_string();
        let tokio = rt()
            .block_on(AsyncSslSocket::connect_with(&target, &opts))
            .unwrap_err()
            .to_string();
        assert_eq!(blocking, tokio);
        assert_eq!(
            blocking,
            "timed out while waiting for the peer during the TLS handshake"
        );
        drop(quiet);
    }

    /// What belongs to one connection is given per connection, through one context.
    #[test]
    fn per_connection_name_verify_name_session_key_and_timeout() {
        use sslsock::Peer;
        let cache = SessionCache::new(8);
        let ctx =
            SslContext::new(&Options::new().ca_file(&pki().ca).session_cache(&cache)).unwrap();
        let (addr, h) = recording_server(2);
        let ip = addr.to_string();
        // An address, with the service's name sent and checked.
        let peer = Peer::new().name("localhost").session_key("svc-a");
        // Read until the server closes: TLS 1.3 tickets come after the handshake.
        let mut blocking = SslSocket::connect_to(&ip, &ctx, &peer).unwrap();
        let _ = std::io::Read::read_to_end(&mut blocking, &mut Vec::new());
        assert!(
            cache.get("svc-a").is_some(),
            "filed under the connection's key"
        );
        rt().block_on(async {
            let mut s = AsyncSslSocket::connect_to(&ip, &ctx, &peer).await.unwrap();
            let _ = tokio::io::AsyncReadExt::read_to_end(&mut s, &mut Vec::new()).await;
        });
        assert!(
            cache.get("svc-a").is_some(),
            "async: filed under the connection's key"
        );
        let seen = h.join().unwrap();
        assert_eq!(seen[0].0.as_deref(), Some("localhost"));
        assert_eq!(seen[1].0.as_deref(), Some("localhost"));
        // Another name checked than sent: the certificate names other.example only.
        let (addr, h) = serve(server_opts_with("wrongname"), 2, |s| {
            let _ = s.close();
            Ok(())
        });
        let peer = Peer::new().name("sni.example").verify_name("other.example");
        drop(SslSocket::connect_to(&addr.to_string(), &ctx, &peer).unwrap());
        let e = SslSocket::connect_to(&addr.to_string(), &ctx, &Peer::new().name("sni.example"))
            .unwrap_err();
        assert!(
            e.to_string().contains("\"sni.example\" does not match"),
            "{e}"
        );
        let _ = h.join();
        // The connection's timeout, shorter than none at all.
        let quiet = TcpListener::bind("127.0.0.1:0").unwrap();
        let peer = Peer::new().timeout(std::time::Duration::from_millis(200));
        let target = quiet.local_addr().unwrap().to_string();
        let e = SslSocket::connect_to(&target, &ctx, &peer).unwrap_err();
        assert!(e.to_string().contains("timed out"), "{e}");
        let e = rt()
            .block_on(AsyncSslSocket::connect_to(&target, &ctx, &peer))
            .unwrap_err();
        assert!(e.to_string().contains("timed out"), "{e}");
    }

    #[test]
    fn blocking_and_async_send_the_same_sni_without_verification() {
        let ctx = SslContext::new(&Options::new().verify_mode(VerifyMode::NONE)).unwrap();
        let (addr, h) = recording_server(2);
        let target = format!("localhost:{}", addr.port());
        drop(SslSocket::connect_with(&target, &ctx).unwrap());
        drop(
            rt().block_on(AsyncSslSocket::connect_with(&target, &ctx))
                .unwrap(),
        );
        let seen = h.join().unwrap();
        assert_eq!(seen[0].0.as_deref(), Some("localhost"), "blocking");
        assert_eq!(seen[1].0.as_deref(), Some("localhost"), "async");
    }

    #[test]
    fn async_connect_honours_family_and_local_address() {
        let (addr, h) = recording_server(1);
        // 127.0.0.2 is ours too (all of 127/8 is loopback on Linux).
        let local: SocketAddr = "127.0.0.2:0".parse().unwrap();
        let ctx = SslContext::new(&client_opts().local_addr(local)).unwrap();
        let target = format!("localhost:{}", addr.port());
        drop(
            rt().block_on(AsyncSslSocket::connect_with(&target, &ctx))
                .unwrap(),
        );
        let seen = h.join().unwrap();
        assert_eq!(seen[0].1.ip().to_string(), "127.0.0.2");
        // IPv6 only, toward a server that has only an IPv4 address.
        let v6 = SslContext::new(&client_opts().family(sslsock::Family::V6)).unwrap();
        let e = rt()
            .block_on(AsyncSslSocket::connect_with(
                &format!("127.0.0.1:{}", addr.port()),
                &v6,
            ))
            .unwrap_err();
        assert!(matches!(e, Error::Resolve { .. }), "{e:?}");
    }

    #[test]
    fn async_sessions_are_filed_under_host_and_port() {
        let cache = SessionCache::new(8);
        let (addr, h) = recording_server(1);
        let ctx = SslContext::new(&client_opts().session_cache(&cache)).unwrap();
        let target = format!("localhost:{}", addr.port());
        let rt = rt();
        rt.block_on(async {
            let mut s = AsyncSslSocket::connect_with(&target, &ctx).await.unwrap();
            // TLS 1.3 tickets arrive after the handshake: read until the server closes.
            let _ = tokio::io::AsyncReadExt::read_to_end(&mut s, &mut Vec::new()).await;
        });
        h.join().unwrap();
        assert!(cache.get(&target).is_some(), "filed under {target}");
    }

    #[test]
    fn error_trap_sees_async_accept_and_client_failures() {
        let seen = Arc::new(Mutex::new(Vec::<String>::new()));
        let log = seen.clone();
        let sctx = SslContext::new(&server_opts().server(true).error_trap(move |stream, err| {
            log.lock().unwrap().push(format!("server: {err}"));
            let _ = stream.write_all(b"HTTP/1.0 400 Bad Request\r\n\r\n");
        }))
        .unwrap();
        let rt = rt();
        let reply = rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = tokio::spawn(async move {
                let (tcp, _) = listener.accept().await.unwrap();
                AsyncSslSocket::accept_with(tcp, &sctx).await.map(drop)
            });
            let mut plain = tokio::net::TcpStream::connect(addr).await.unwrap();
            tokio::io::AsyncWriteExt::write_all(&mut plain, b"GET / HTTP/1.0\r\n\r\n")
                .await
                .unwrap();
            let mut reply = Vec::new();
            let _ = tokio::io::AsyncReadExt::read_to_end(&mut plain, &mut reply).await;
            assert!(server.await.unwrap().is_err());
            String::from_utf8_lossy(&reply).into_owned()
        });
        assert!(reply.starts_with("HTTP/1.0 400"), "{reply}");
        // A client whose server does not speak TLS: blocking and async call the trap.
        let log = seen.clone();
        let cctx = SslContext::new(&client_opts().error_trap(move |_, err| {
            log.lock().unwrap().push(format!("client: {err}"));
        }))
        .unwrap();
        let plain = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = plain.local_addr().unwrap().port();
        let h = std::thread::spawn(move || {
            for _ in 0..2 {
                let (mut tcp, _) = plain.accept().unwrap();
                let _ = tcp.write_all(b"220 plain smtp\r\n");
            }
        });
        let target = format!("127.0.0.1:{port}");
        assert!(SslSocket::connect_with(&target, &cctx).is_err());
        assert!(rt
            .block_on(AsyncSslSocket::connect_with(&target, &cctx))
            .is_err());
        h.join().unwrap();
        let seen = seen.lock().unwrap();
        assert!(
            seen[0].starts_with("server: peer does not speak TLS"),
            "{seen:?}"
        );
        assert_eq!(
            seen.iter().filter(|s| s.starts_with("client: ")).count(),
            2,
            "{seen:?}"
        );
    }
}

#[test]
fn names_the_engine_lacks_are_dropped_and_said() {
    let ctx = SslContext::new(
        &Options::new()
            .ecdh_curve("X448:ffdhe2048:P-256")
            .cipher_list("DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256")
            .ciphersuites("TLS_AES_128_CCM_SHA256:TLS_AES_128_GCM_SHA256"),
    )
    .unwrap();
    assert_eq!(
        ctx.unavailable_names(),
        [
            "TLS_AES_128_CCM_SHA256",
            "DHE-RSA-AES128-GCM-SHA256",
            "X448",
            "ffdhe2048"
        ]
    );
    assert!(SslContext::new(&client_opts())
        .unwrap()
        .unavailable_names()
        .is_empty());
    // Nothing left: an error, not an empty list.
    assert!(SslContext::new(&Options::new().ecdh_curve("X448:ffdhe2048")).is_err());
}

#[test]
fn a_server_goes_on_without_alpn_when_the_offer_misses_unless_strict() {
    for strict in [false, true] {
        let (addr, h) = serve(
            server_opts().alpn_protocols(["foo"]).alpn_strict(strict),
            1,
            |s| {
                let selected = s.alpn_selected();
                // The client may be gone already; its view is checked on its side.
                let _ = s.close();
                match selected {
                    None => Ok(()),
                    Some(p) => Err(format!("selected {p}")),
                }
            },
        );
        let client = client_opts().alpn_protocols(["h2", "http/1.1"]);
        let result = SslSocket::connect_with(&addr.to_string(), &client);
        if strict {
            let e = result.unwrap_err();
            assert!(e.to_string().contains("no_application_protocol"), "{e}");
            assert!(h.join().unwrap()[0].is_err());
        } else {
            let c = result.unwrap();
            assert_eq!(c.alpn_selected(), None);
            drop(c);
            h.join().unwrap()[0].clone().unwrap();
        }
    }
    // An offer that matches still selects.
    let (addr, h) = serve(server_opts().alpn_protocols(["foo", "h2"]), 1, echo_once);
    let mut c =
        SslSocket::connect_with(&addr.to_string(), &client_opts().alpn_protocols(["h2"])).unwrap();
    assert_eq!(c.alpn_selected().as_deref(), Some("h2"));
    write_line(&mut c, "x\n");
    assert_eq!(line(&mut c), "x\n");
    h.join().unwrap()[0].clone().unwrap();
}

#[test]
fn a_close_without_close_notify_is_an_error_unless_asked_to_read_it_as_eof() {
    for lenient in [false, true] {
        let (addr, h) = serve(server_opts(), 1, |mut s| {
            s.write_all(b"data\n").map_err(|e| e.to_string())?;
            // Gone without close_notify.
            drop(s.close_no_shutdown());
            Ok(())
        });
        let opts = client_opts().treat_unclean_close_as_eof(lenient);
        let mut c = SslSocket::connect_with(&addr.to_string(), &opts).unwrap();
        assert_eq!(line(&mut c), "data\n");
        let next = std::io::Read::read(&mut c, &mut [0u8; 16]);
        if lenient {
            assert_eq!(next.unwrap(), 0);
        } else {
            let e = next.unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
            assert!(
                e.to_string().contains("without sending close_notify"),
                "{e}"
            );
        }
        h.join().unwrap()[0].clone().unwrap();
    }
}

#[test]
fn options_of_the_other_side_are_refused_by_name() {
    let e = SslContext::new(&server_opts().server(true).hostname("x.example")).unwrap_err();
    assert!(
        e.to_string()
            .contains("hostname (SSL_hostname) is an option only for a client context; this is a server context"),
        "{e}"
    );
    let e = SslContext::new(
        &server_opts()
            .server(true)
            .verifycn_name("a")
            .session_key("k"),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("verifycn_name, session_key are options only for a client"),
        "{e}"
    );
    let e = SslContext::new(&client_opts().honor_cipher_order(true)).unwrap_err();
    assert!(
        e.to_string().contains(
            "honor_cipher_order is an option only for a server context; this is a client context"
        ),
        "{e}"
    );
    let e = SslContext::new(
        &client_opts().verify_mode(VerifyMode::PEER | VerifyMode::FAIL_IF_NO_PEER_CERT),
    )
    .unwrap_err();
    assert!(e.to_string().contains("FAIL_IF_NO_PEER_CERT"), "{e}");
    // Revocation: the client checks, the server staples.
    let e = SslContext::new(
        &server_opts()
            .server(true)
            .ocsp_mode(sslsock::ocsp::OcspMode::MUST_STAPLE)
            .crl_fetch(true),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("ocsp_mode, crl_fetch are options only for a client"),
        "{e}"
    );
    let e =
        SslContext::new(&client_opts().ocsp_staple(sslsock::ocsp::StapleSource::Auto)).unwrap_err();
    assert!(
        e.to_string()
            .contains("ocsp_staple is an option only for a server context"),
        "{e}"
    );
}

#[test]
fn sock_certificate_is_the_one_sni_chose() {
    let other = pki().pair("wrongname");
    let opts = server_opts().sni_cert("other.example", &other.cert, Some(other.key.clone()));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let (addr, h) = serve(opts, 2, move |s| {
        let subject = s.sock_certificate_info().map(|c| c.subject_line);
        log.lock().unwrap().push(subject.unwrap_or_default());
        let _ = s.close();
        Ok(())
    });
    for name in ["other.example", "localhost"] {
        let opts = client_opts().hostname(name).verify_mode(VerifyMode::NONE);
        drop(SslSocket::connect_with(&addr.to_string(), &opts).unwrap());
    }
    h.join().unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        ["/CN=other.example", "/CN=localhost"]
    );
}

/// The peer learns what was wrong from the alert; the detail stays in our error.
#[test]
fn a_refused_certificate_sends_the_alert_that_says_why() {
    for (pair, host, alert, ours) in [
        (
            "unknown-ca",
            "localhost",
            "unknown_ca",
            "is not a trusted CA",
        ),
        ("expired", "localhost", "certificate_expired", "has expired"),
        (
            "wrongname",
            "localhost",
            "bad_certificate",
            "does not match certificate names",
        ),
        (
            "clientonly",
            "localhost",
            "unsupported_certificate",
            "bad key usage",
        ),
    ] {
        let (addr, h) = serve(server_opts_with(pair), 1, |_| Ok(()));
        let e =
            SslSocket::connect_with(&addr.to_string(), &client_opts().hostname(host)).unwrap_err();
        assert!(e.to_string().contains(ours), "{pair}: {e}");
        let theirs = h.join().unwrap().remove(0).unwrap_err();
        assert!(
            theirs.contains(&format!("peer sent fatal alert {alert}")),
            "{pair}: {theirs}"
        );
    }
}

#[test]
fn protocol_failures_are_typed() {
    let (addr, h) = serve(server_opts().ecdh_curve("X25519"), 1, |_| Ok(()));
    let e =
        SslSocket::connect_with(&addr.to_string(), &client_opts().ecdh_curve("P-384")).unwrap_err();
    assert!(
        matches!(&e, Error::Tls(sslsock::TlsError::AlertReceived(a)) if *a == sslsock::Alert::HANDSHAKE_FAILURE),
        "{e:?}"
    );
    let server = h.join().unwrap().remove(0).unwrap_err();
    assert!(server.contains("no common key exchange group"), "{server}");
}

#[test]
fn would_block_and_bind_errors_say_what_they_are() {
    // A server that accepts and says nothing: a non-blocking handshake must wait.
    let quiet = TcpListener::bind("127.0.0.1:0").unwrap();
    let tcp = TcpStream::connect(quiet.local_addr().unwrap()).unwrap();
    let mut c = SslSocket::new_plain(tcp, &client_opts()).unwrap();
    c.set_blocking(false).unwrap();
    let e = c.connect_ssl().unwrap_err();
    assert!(e.is_would_block(), "{e:?}");
    assert_eq!(c.want(), sslsock::Want::Read);
    // Binding where someone listens already is not "cannot connect".
    let taken = quiet.local_addr().unwrap().to_string();
    let e = SslListener::bind(&taken, &server_opts()).unwrap_err();
    assert!(matches!(e, Error::Bind { .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with(&format!("cannot listen on {taken}: ")),
        "{e}"
    );
    // The I/O error is in the message once, and not again as a source.
    assert!(std::error::Error::source(&e).is_none());
}

#[test]
fn a_dropped_socket_says_goodbye_with_close_notify() {
    let (addr, h) = serve(server_opts(), 1, |mut s| {
        s.write_all(b"hi\n").map_err(|e| e.to_string())?;
        // No close(): dropped, as Perl's DESTROY would be.
        drop(s);
        Ok(())
    });
    let mut c = SslSocket::connect_with(&addr.to_string(), &client_opts()).unwrap();
    assert_eq!(line(&mut c), "hi\n");
    assert_eq!(
        std::io::Read::read(&mut c, &mut [0u8; 8]).unwrap(),
        0,
        "close_notify, not a cut"
    );
    h.join().unwrap()[0].clone().unwrap();
}

#[test]
fn into_parts_after_stop_ssl_loses_nothing() {
    let (addr, h) = serve_tcp(1, |tcp| {
        let mut s = SslSocket::new_plain(tcp, &server_opts().server(true)).unwrap();
        assert_eq!(line(&mut s), "STARTTLS\r\n");
        write_line(&mut s, "220 go\r\n");
        s.accept_ssl().unwrap();
        // Data the client has not read yet, then close_notify, then plain bytes at once.
        write_line(&mut s, "late\n");
        s.stop_ssl().unwrap();
        write_line(&mut s, "plain\n");
    });
    let ctx = SslContext::new(&client_opts()).unwrap();
    let mut c =
        SslSocket::new_client(TcpStream::connect(addr).unwrap(), &ctx, "localhost").unwrap();
    write_line(&mut c, "STARTTLS\r\n");
    assert_eq!(line(&mut c), "220 go\r\n");
    c.connect_ssl().unwrap();
    c.stop_ssl().unwrap();
    let (mut tcp, buffered) = c.into_parts().unwrap();
    let mut rest = Vec::new();
    std::io::Read::read_to_end(&mut tcp, &mut rest).unwrap();
    let all = [buffered, rest].concat();
    assert_eq!(String::from_utf8(all).unwrap(), "late\nplain\n");
    h.join().unwrap();
    // With TLS on, the socket comes back whole.
    let (addr, h) = serve(server_opts(), 1, echo_once);
    let c = SslSocket::connect_with(&addr.to_string(), &client_opts()).unwrap();
    let mut c = c.into_parts().unwrap_err();
    write_line(&mut c, "still tls\n");
    assert_eq!(line(&mut c), "still tls\n");
    h.join().unwrap()[0].clone().unwrap();
}

#[test]
fn per_name_cipher_lists_read_files_once_and_prefer_the_exact_name() {
    // An encrypted key: its password callback is asked once, however many names have lists.
    let dir = pki().dir.join("per-name");
    std::fs::create_dir_all(&dir).unwrap();
    let pair = pki().pair("srv-ec");
    let key = sslsock::x509::parse_private_key(
        &std::fs::read(&pair.key).unwrap(),
        &sslsock::x509::Password::None,
    )
    .unwrap();
    let encrypted = dir.join("srv-ec.enc.key");
    std::fs::write(
        &encrypted,
        sslsock::x509::save::key_to_pem(&key, Some("pw")).unwrap(),
    )
    .unwrap();
    let asked = Arc::new(Mutex::new(0));
    let count = asked.clone();
    let opts = Options::new()
        .cert_file(&pair.cert)
        .key_file(&encrypted)
        .passwd_cb(move || {
            *count.lock().unwrap() += 1;
            "pw".to_owned()
        })
        .ciphers_for("*.example.org", None, Some("TLS_AES_128_GCM_SHA256"))
        .ciphers_for(
            "www.example.org",
            None,
            Some("TLS_CHACHA20_POLY1305_SHA256"),
        );
    let (addr, h) = serve(opts, 2, |s| {
        let _ = s.close();
        Ok(())
    });
    assert_eq!(*asked.lock().unwrap(), 1, "the password callback");
    // The exact name's list wins over a wildcard configured before it (as for certificates).
    for (name, suite) in [
        ("www.example.org", "TLS_CHACHA20_POLY1305_SHA256"),
        ("mail.example.org", "TLS_AES_128_GCM_SHA256"),
    ] {
        let opts = client_opts().hostname(name).verify_mode(VerifyMode::NONE);
        let c = SslSocket::connect_with(&addr.to_string(), &opts).unwrap();
        assert_eq!(c.cipher_iana(), Some(suite), "{name}");
    }
    h.join().unwrap();
}

#[test]
fn the_socket_says_where_it_stands() {
    use sslsock::SocketState;
    let (addr, h) = serve_tcp(1, |tcp| {
        let mut s = SslSocket::new_plain(tcp, &server_opts().server(true)).unwrap();
        s.accept_ssl().unwrap();
        let _ = s.stop_ssl();
    });
    let mut c = SslSocket::new_client(
        TcpStream::connect(addr).unwrap(),
        &client_opts(),
        "localhost",
    )
    .unwrap();
    assert_eq!(c.state(), SocketState::Plain);
    c.connect_ssl().unwrap();
    assert_eq!(c.state(), SocketState::Tls);
    c.shutdown_tls().unwrap();
    assert_eq!(c.state(), SocketState::ShuttingDown);
    c.stop_ssl().unwrap();
    assert_eq!(c.state(), SocketState::Plain);
    h.join().unwrap();
    // A failed handshake.
    let (addr, h) = serve(server_opts_with("wrongname"), 1, |_| Ok(()));
    let mut c = SslSocket::new_client(
        TcpStream::connect(addr).unwrap(),
        &client_opts(),
        "localhost",
    )
    .unwrap();
    assert!(c.connect_ssl().is_err());
    assert_eq!(c.state(), SocketState::Failed);
    assert_eq!(c.opened(), sslsock::socket::Opened::HandshakeFailed);
    assert_eq!(c.opened().as_perl(), -1);
    let _ = h.join();
}
