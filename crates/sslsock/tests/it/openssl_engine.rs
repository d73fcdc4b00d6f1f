//! The openssl engine against `openssl s_server`/`s_client` 3.0: the legacy rows (TLS 1.0 and
//! 1.1 both ways, PSK both ways, DHE with our own group, a CBC suite by name), and the shared
//! assertions (verification outcomes, non-blocking handshakes) run on both engines.

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use sslsock::{Engine, Error, Options, SslContext, SslSocket};
use sslsock_test_support::{
    client_opts, require, run_with_input, s_server, scratch_dir, serve, server_opts,
    server_opts_with,
};

const LEGACY: &str = "DEFAULT:@SECLEVEL=0";
const PSK_HEX: &str = "0123456789abcdef0123456789abcdef";

fn psk_key() -> Vec<u8> {
    (0..PSK_HEX.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&PSK_HEX[i..i + 2], 16).unwrap())
        .collect()
}

fn ossl_client() -> Options {
    client_opts().engine(Engine::OpenSsl)
}

type Served = std::thread::JoinHandle<Vec<Result<(), String>>>;

/// Serves one connection with `opts`: writes `reply(socket)` and a newline, and closes.
fn serve_reply(opts: Options, reply: fn(&SslSocket) -> String) -> (std::net::SocketAddr, Served) {
    serve(opts, 1, move |mut s| {
        let line = format!("{}\n", reply(&s));
        s.write_all(line.as_bytes()).map_err(|e| e.to_string())?;
        let _ = s.close();
        Ok(())
    })
}

/// `openssl s_client` to `addr` with `args` and `input`; what it printed.
fn s_client_to(addr: std::net::SocketAddr, args: &[&str], input: &[u8]) -> String {
    require("openssl");
    let out = run_with_input(
        Command::new("openssl")
            .args(["s_client", "-connect", &addr.to_string(), "-ign_eof"])
            .args(args)
            .stderr(Stdio::null()),
        input,
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn tls10_and_tls11_as_client_against_s_server() {
    for (ours, flag, want) in [
        ("TLSv1", "-tls1", "TLSv1"),
        ("TLSv1_1", "-tls1_1", "TLSv1_1"),
    ] {
        let (_peer, port) = s_server("srv-ec", &["-www", flag, "-cipher", LEGACY]);
        let mut s =
            SslSocket::connect_with(&format!("127.0.0.1:{port}"), &ossl_client().version(ours))
                .unwrap();
        assert_eq!(s.version(), Some(want));
        s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
        let mut page = String::new();
        let _ = s.read_to_string(&mut page);
        assert!(
            page.contains(&format!("Protocol  : {}", want.replace('_', "."))),
            "{page}"
        );
        // The default engine refuses the version, naming the way to get it.
        let err = SslContext::new(&client_opts().engine(Engine::Rustls).version(ours))
            .unwrap_err()
            .to_string();
        assert!(err.contains("openssl engine"), "{err}");
    }
}

#[test]
fn tls10_and_tls11_as_server_for_s_client() {
    require("openssl");
    for (ours, flag, want) in [
        ("TLSv1", "-tls1", "TLSv1"),
        ("TLSv1_1", "-tls1_1", "TLSv1.1"),
    ] {
        let opts = server_opts()
            .server(true)
            .engine(Engine::OpenSsl)
            .version(ours);
        let (addr, h) = serve_reply(opts, |s| s.version().unwrap_or("?").to_owned());
        let out = s_client_to(
            addr,
            &[flag, "-cipher", LEGACY, "-servername", "localhost"],
            b"",
        );
        assert!(out.contains(&format!("Protocol  : {want}")), "{out}");
        assert!(out.contains(ours), "the server saw its version: {out}");
        h.join().unwrap().into_iter().for_each(|r| r.unwrap());
    }
}

#[test]
fn psk_both_ways() {
    require("openssl");
    // Our client, s_server with only a PSK (no certificate), TLS 1.2 and 1.3.
    for version in ["-tls1_2", "-tls1_3"] {
        let (_peer, port) = s_server(
            "srv-ec",
            &[
                "-www",
                "-nocert",
                "-psk",
                PSK_HEX,
                "-psk_identity",
                "client1",
                version,
            ],
        );
        let opts = Options::new()
            .engine(Engine::OpenSsl)
            .psk("client1", psk_key());
        let s = SslSocket::connect_with(&format!("127.0.0.1:{port}"), &opts).unwrap();
        assert!(s.peer_certificates().is_empty(), "no certificate with PSK");
        if version == "-tls1_2" {
            let cipher = s.cipher().unwrap_or_default();
            assert!(cipher.contains("PSK"), "{cipher}");
        } else {
            assert_eq!(s.version(), Some("TLSv1_3"));
        }
        // s_server serves one connection at a time.
        drop(s);
        // A wrong key fails.
        let wrong = Options::new()
            .engine(Engine::OpenSsl)
            .psk("client1", vec![0u8; 16]);
        assert!(SslSocket::connect_with(&format!("127.0.0.1:{port}"), &wrong).is_err());
    }
    // Our server with keys by identity and a hint, s_client with a PSK.
    let opts = Options::new()
        .server(true)
        .engine(Engine::OpenSsl)
        .version("TLSv1_2")
        .psk_server([("client1", psk_key())])
        .psk_identity_hint("sslsock hint");
    let (addr, h) = serve_reply(opts, |s| s.cipher().unwrap_or("?").to_owned());
    let text = s_client_to(
        addr,
        &["-tls1_2", "-psk", PSK_HEX, "-psk_identity", "client1"],
        b"",
    );
    assert!(
        text.lines()
            .any(|l| l.contains("Cipher is") && l.contains("PSK")),
        "{text}"
    );
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
    // PSK on the default engine: refused, naming the openssl engine.
    let err = SslContext::new(&Options::new().psk("client1", psk_key()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("openssl engine"), "{err}");
}

#[test]
fn dhe_with_our_own_group_seen_by_s_client() {
    require("openssl");
    let dir = scratch_dir("dhe");
    let dh = dir.join("dh.pem");
    // -dsaparam: a custom 2048-bit group in a second rather than minutes.
    let made = Command::new("openssl")
        .args(["dhparam", "-dsaparam", "-out"])
        .arg(&dh)
        .arg("2048")
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(made.success());
    let opts = server_opts_with("srv-rsa")
        .server(true)
        .engine(Engine::OpenSsl)
        .version("TLSv1_2")
        .cipher_list("DHE-RSA-AES128-GCM-SHA256")
        .dh_file(&dh);
    let (addr, h) = serve_reply(opts, |s| s.cipher().unwrap_or("?").to_owned());
    let text = s_client_to(
        addr,
        &["-tls1_2", "-cipher", "DHE-RSA-AES128-GCM-SHA256"],
        b"",
    );
    assert!(text.contains("Server Temp Key: DH, 2048 bits"), "{text}");
    assert!(text.contains("DHE-RSA-AES128-GCM-SHA256"), "{text}");
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
    let err = SslContext::new(
        &server_opts()
            .server(true)
            .engine(Engine::Rustls)
            .dh_file(&dh),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("openssl engine"), "{err}");
}

#[test]
fn a_cbc_suite_by_name() {
    let (_peer, port) = s_server("srv-ec", &["-www"]);
    let s = SslSocket::connect_with(
        &format!("127.0.0.1:{port}"),
        &ossl_client()
            .version("TLSv1_2")
            .cipher_list("ECDHE-ECDSA-AES128-SHA"),
    )
    .unwrap();
    assert_eq!(s.cipher(), Some("ECDHE-ECDSA-AES128-SHA"));
}

/// The verification outcomes, the same on both engines: the same error text for the same
/// peer.
#[test]
fn verification_is_the_same_on_both_engines() {
    let cases: [(&str, Options, Option<&str>); 5] = [
        ("srv-ec", client_opts(), None),
        ("wrongname", client_opts(), Some("does not match")),
        ("unknown-ca", client_opts(), Some("")),
        (
            "srv-ec",
            client_opts()
                .fingerprint(format!("sha256${}", "00".repeat(32)))
                .force_fingerprint(true),
            Some(""),
        ),
        ("expired", client_opts(), Some("")),
    ];
    for (pair, opts, want) in cases {
        let (_peer, port) = s_server(pair, &["-www"]);
        let addr = format!("127.0.0.1:{port}");
        // s_server serves one connection at a time: each is closed before the next.
        let chain = |s: SslSocket| s.peer_certificates();
        let opts = opts.timeout(std::time::Duration::from_secs(10));
        let ours = SslSocket::connect_with(&addr, &opts.clone().engine(Engine::Rustls)).map(chain);
        let theirs =
            SslSocket::connect_with(&addr, &opts.clone().engine(Engine::OpenSsl)).map(chain);
        match (ours, theirs, want) {
            (Ok(a), Ok(b), None) => {
                assert_eq!(a, b, "{pair}");
                assert!(!a.is_empty(), "{pair}");
            }
            (Err(a), Err(b), Some(needle)) => {
                assert!(matches!(a, Error::Verify(_)), "{pair}: {a:?}");
                assert_eq!(a.to_string(), b.to_string(), "{pair}");
                assert!(a.to_string().contains(needle), "{pair}: {a}");
            }
            (a, b, want) => panic!("{pair}: {a:?} / {b:?}, wanted {want:?}"),
        }
    }
}

/// A non-blocking handshake and echo with both sides on the openssl engine; the server
/// answers late, so the client's handshake must wait for it.
#[test]
fn non_blocking_handshake_on_the_openssl_engine() {
    let (addr, h) = sslsock_test_support::serve_tcp(1, |tcp| {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let opts = server_opts().server(true).engine(Engine::OpenSsl);
        let mut s = SslSocket::new_plain(tcp, &opts).unwrap();
        s.accept_ssl().unwrap();
        sslsock_test_support::echo_once(s).unwrap();
    });
    let tcp = std::net::TcpStream::connect(addr).unwrap();
    tcp.set_nonblocking(true).unwrap();
    let mut s = SslSocket::new_client(tcp, &ossl_client(), "localhost").unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut waits = 0;
    loop {
        match s.connect_ssl() {
            Ok(()) => break,
            Err(e) if e.is_would_block() => {
                waits += 1;
                assert!(std::time::Instant::now() < deadline, "handshake stalled");
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(
        waits > 0,
        "the server answered late: the handshake had to wait"
    );
    s.set_blocking(true).unwrap();
    s.write_all(b"ping\n").unwrap();
    let mut buf = [0u8; 5];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping\n");
    drop(s);
    h.join().unwrap();
}

#[test]
fn npn_both_ways_with_openssl_3() {
    require("openssl");
    // Our client picks as OpenSSL (and so Perl) does: the first of the server's list that it
    // has too.
    let (_peer, port) = s_server("srv-ec", &["-www", "-tls1_2", "-nextprotoneg", "foo,bar"]);
    let s = SslSocket::connect_with(
        &format!("127.0.0.1:{port}"),
        &ossl_client()
            .version("TLSv1_2")
            .npn_protocols(["bar", "foo"]),
    )
    .unwrap();
    assert_eq!(s.next_proto_negotiated().as_deref(), Some("foo"));
    assert_eq!(s.alpn_selected(), None);
    drop(s);
    // Our server advertises; s_client picks.
    let opts = server_opts()
        .server(true)
        .engine(Engine::OpenSsl)
        .version("TLSv1_2")
        .npn_protocols(["spdy/2", "http/1.1"]);
    let (addr, h) = serve_reply(opts, |s| {
        format!("npn={}", s.next_proto_negotiated().unwrap_or_default())
    });
    let text = s_client_to(addr, &["-tls1_2", "-nextprotoneg", "http/1.1"], b"");
    assert!(text.contains("Next protocol: (1) http/1.1"), "{text}");
    assert!(text.contains("npn=http/1.1"), "{text}");
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
    // The default engine refuses NPN, naming the openssl engine.
    let err = SslContext::new(&client_opts().engine(Engine::Rustls).npn_protocols(["foo"]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("openssl engine"), "{err}");
}

#[test]
fn sessions_resume_on_the_openssl_engine() {
    for flag in ["-tls1_2", "-tls1_3"] {
        let (_peer, port) = s_server("srv-ec", &["-www", flag]);
        let addr = format!("127.0.0.1:{port}");
        let connect_twice = |ctx: &SslContext| -> Vec<bool> {
            (0..2)
                .map(|_| {
                    let mut s = SslSocket::connect_with(&addr, ctx).unwrap();
                    // Reading the page takes in a TLS 1.3 ticket; s_server serves one
                    // connection at a time, so each ends before the next.
                    s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
                    let mut page = String::new();
                    let _ = s.read_to_string(&mut page);
                    s.session_reused()
                })
                .collect()
        };
        let ctx = SslContext::new(&ossl_client()).unwrap();
        assert_eq!(connect_twice(&ctx), [false, true], "{flag}");
        let none = SslContext::new(&ossl_client().session_cache_size(0)).unwrap();
        assert_eq!(connect_twice(&none), [false, false], "{flag}");
    }
}

#[test]
fn a_server_without_a_session_cache_does_not_resume_on_the_openssl_engine() {
    for (size, want) in [(None, [false, true]), (Some(0), [false, false])] {
        let mut opts = server_opts().server(true).engine(Engine::OpenSsl);
        if let Some(n) = size {
            opts = opts.session_cache_size(n);
        }
        let (addr, h) = serve(opts, 2, sslsock_test_support::echo_once);
        let ctx = SslContext::new(&ossl_client()).unwrap();
        let got: Vec<bool> = (0..2)
            .map(|_| {
                let mut s = SslSocket::connect_with(&addr.to_string(), &ctx).unwrap();
                // The echo takes in a TLS 1.3 ticket before the next connection.
                s.write_all(b"r\n").unwrap();
                let mut line = [0u8; 2];
                s.read_exact(&mut line).unwrap();
                s.session_reused()
            })
            .collect();
        assert_eq!(got, want, "{size:?}");
        h.join().unwrap().into_iter().for_each(|r| r.unwrap());
    }
}

/// What the openssl engine does not do is refused by name, never ignored: ECH (OpenSSL 3.0
/// has none).
#[test]
fn options_the_openssl_engine_lacks_are_refused_by_name() {
    let opts = ossl_client().ech(sslsock::ech::EchMode::Grease);
    let e = SslContext::new(&opts).unwrap_err().to_string();
    assert!(e.contains("ECH") && e.contains("engine"), "{e}");
}

/// A session cache shared by contexts on both engines: each engine resumes its own sessions
/// and never the other's.
#[test]
fn a_shared_session_cache_keeps_each_engines_sessions() {
    let cache = sslsock::SessionCache::new(8);
    let (addr, h) = serve(server_opts().engine(Engine::Rustls), 4, |mut s| {
        s.write_all(b"hi\n").map_err(|e| e.to_string())?;
        let _ = s.close();
        Ok(())
    });
    let ours =
        SslContext::new(&client_opts().engine(Engine::Rustls).session_cache(&cache)).unwrap();
    let theirs =
        SslContext::new(&client_opts().engine(Engine::OpenSsl).session_cache(&cache)).unwrap();
    let resumed = |ctx: &SslContext| {
        let mut s = SslSocket::connect_with(&addr.to_string(), ctx).unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(&mut s, &mut line).unwrap();
        assert_eq!(line, "hi\n");
        s.session_reused()
    };
    assert_eq!(
        [
            resumed(&ours),
            resumed(&theirs),
            resumed(&theirs),
            resumed(&ours)
        ],
        [false, false, true, true]
    );
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

/// Tickets under the application's keys on the openssl engine, in TLS 1.2 as well: a ticket
/// resumes while its key is handed out, and not once the key is retired.
#[test]
fn ticket_keys_rotate_on_the_openssl_engine_in_tls12() {
    use std::sync::atomic::{AtomicU8, Ordering};
    let current = std::sync::Arc::new(AtomicU8::new(1));
    let k = current.clone();
    let opts = server_opts()
        .engine(Engine::OpenSsl)
        .session_cache_size(0)
        .ticket_keycb(move |name| {
            let now = k.load(Ordering::SeqCst);
            let key = sslsock::TicketKey {
                name: [now; 16],
                key: [now; 32],
            };
            match name {
                None => Some(key),
                Some(n) if *n == key.name => Some(key),
                Some(_) => None,
            }
        });
    // Three connections: new, resumed, and new again after the rotation.
    let (addr, h) = serve(opts, 3, |mut s| {
        let line = format!("reused={}\n", s.session_reused());
        s.write_all(line.as_bytes()).map_err(|e| e.to_string())?;
        let _ = s.close();
        Ok(())
    });
    let sess = scratch_dir("ossl-tickets").join("tls12.sess");
    let sess = sess.to_str().unwrap();
    let run = |args: &[&str]| s_client_to(addr, &[&["-tls1_2"], args].concat(), b"");
    let out = run(&["-sess_out", sess]);
    assert!(
        out.contains("reused=false") && out.contains("New, TLSv1.2"),
        "{out}"
    );
    let out = run(&["-sess_in", sess]);
    assert!(
        out.contains("reused=true") && out.contains("Reused, TLSv1.2"),
        "{out}"
    );
    current.store(2, Ordering::SeqCst);
    let out = run(&["-sess_in", sess]);
    assert!(
        out.contains("reused=false") && out.contains("New, TLSv1.2"),
        "{out}"
    );
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}
