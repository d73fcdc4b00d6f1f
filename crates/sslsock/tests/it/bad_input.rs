//! Bad input: plain-text clients, garbage, early closes, bad files and option strings.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sslsock::{ConfigError, Error, Options, SslContext, SslListener, SslSocket};

use crate::util::*;

#[test]
fn http_client_on_tls_port_gets_error_trap_reply() {
    let seen = Arc::new(Mutex::new(None::<String>));
    let seen2 = seen.clone();
    let opts = server_opts().error_trap(move |stream, err| {
        *seen2.lock().unwrap() = Some(err.to_string());
        let _ = stream.write_all(b"HTTP/1.0 400 Bad Request\r\n\r\nThis port speaks TLS.\n");
    });
    let listener = SslListener::bind("127.0.0.1:0", &opts).unwrap();
    let addr = listener.local_addr().unwrap();
    let h = std::thread::spawn(move || listener.accept().map(|_| ()).unwrap_err());
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut reply = String::new();
    tcp.read_to_string(&mut reply).unwrap();
    let err = h.join().unwrap();
    assert!(matches!(err, Error::NotTls { .. }), "{err:?}");
    assert!(err.to_string().contains("GET / HTTP/1.1"), "{err}");
    assert!(reply.starts_with("HTTP/1.0 400"), "{reply}");
    assert!(seen
        .lock()
        .unwrap()
        .as_deref()
        .unwrap()
        .contains("does not speak TLS"));
}

#[test]
fn random_bytes_and_early_close_never_hang_or_panic() {
    let listener = SslListener::bind(
        "127.0.0.1:0",
        &server_opts().timeout(Duration::from_secs(5)),
    )
    .unwrap();
    let addr = listener.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        (0..4)
            .map(|_| listener.accept().map(|_| ()).unwrap_err())
            .collect::<Vec<_>>()
    });
    // 1: random bytes.
    let mut t = TcpStream::connect(addr).unwrap();
    let noise: Vec<u8> = (0..300u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let _ = t.write_all(&noise);
    drop(t);
    // 2: a valid record header announcing a handshake, then close.
    let mut t = TcpStream::connect(addr).unwrap();
    let _ = t.write_all(&[22, 3, 1, 0, 200, 1, 0]);
    drop(t);
    // 3: immediate close.
    drop(TcpStream::connect(addr).unwrap());
    // 4: a handshake record with a garbage body.
    let mut t = TcpStream::connect(addr).unwrap();
    let mut rec = vec![22, 3, 1, 0, 50];
    rec.extend([0xAB; 50]);
    let _ = t.write_all(&rec);
    let mut sink = Vec::new();
    let _ = t.read_to_end(&mut sink);
    let errs = h.join().unwrap();
    assert!(matches!(errs[0], Error::NotTls { .. }), "{:?}", errs[0]);
    assert!(
        matches!(errs[1], Error::Tls(_)),
        "truncated record: {:?}",
        errs[1]
    );
    assert!(matches!(errs[2], Error::HandshakeEof), "{:?}", errs[2]);
    assert!(matches!(errs[3], Error::Tls(_)), "{:?}", errs[3]);
}

#[test]
fn silent_client_is_cut_by_handshake_timeout() {
    let listener = SslListener::bind(
        "127.0.0.1:0",
        &server_opts().timeout(Duration::from_millis(300)),
    )
    .unwrap();
    let addr = listener.local_addr().unwrap();
    let h = std::thread::spawn(move || listener.accept().map(|_| ()).unwrap_err());
    let _t = TcpStream::connect(addr).unwrap();
    let err = h.join().unwrap();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
}

#[test]
fn server_closing_mid_handshake_is_reported() {
    let (addr, h) = serve_tcp(1, |mut tcp| {
        // Read the whole ClientHello record, so the close is a clean FIN and not a reset.
        let mut head = [0u8; 5];
        tcp.read_exact(&mut head).unwrap();
        let mut body = vec![0u8; usize::from(u16::from_be_bytes([head[3], head[4]]))];
        tcp.read_exact(&mut body).unwrap();
    });
    let err = SslSocket::connect_with(&addr.to_string(), &client_opts()).unwrap_err();
    assert!(matches!(err, Error::HandshakeEof), "{err:?}");
    assert_eq!(
        err.to_string(),
        "peer closed the connection during the TLS handshake"
    );
    h.join().unwrap();
}

fn config_err(opts: &Options) -> String {
    match SslContext::new(opts) {
        Err(Error::Config(e)) => e.to_string(),
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[test]
fn missing_and_unreadable_files_are_named() {
    let msg = config_err(
        &Options::new()
            .server(true)
            .cert_file("/nonexistent/cert.pem")
            .key_file("/nonexistent/key.pem"),
    );
    assert!(
        msg.contains("/nonexistent/cert.pem") && msg.contains("No such file"),
        "{msg}"
    );
    let dir = pki().path("unreadable");
    std::fs::create_dir_all(&dir).unwrap();
    // A directory where a file is expected cannot be read as one.
    let msg = config_err(&Options::new().server(true).cert_file(&dir));
    assert!(msg.contains(&dir.display().to_string()), "{msg}");
    let garbage = pki().path("garbage.pem");
    std::fs::write(&garbage, "this is not a certificate").unwrap();
    let msg = config_err(
        &Options::new()
            .server(true)
            .cert_file(&garbage)
            .key_file(pki().pair("srv-ec").key),
    );
    assert!(msg.contains("garbage.pem"), "{msg}");
    let msg = config_err(
        &Options::new()
            .server(true)
            .cert_file(pki().pair("srv-ec").cert)
            .key_file(&garbage),
    );
    assert!(
        msg.contains("garbage.pem") && msg.contains("private key"),
        "{msg}"
    );
    // The key of another certificate is refused, naming both files.
    let msg = config_err(
        &Options::new()
            .server(true)
            .cert_file(pki().pair("srv-ec").cert)
            .key_file(pki().pair("client").key),
    );
    assert!(
        msg.contains("does not match") && msg.contains("client.key") && msg.contains("srv-ec.pem"),
        "{msg}"
    );
    // Cert without key in it and no key file.
    let msg = config_err(
        &Options::new()
            .server(true)
            .cert_file(pki().pair("srv-ec").cert),
    );
    assert!(
        msg.contains("no private key") && msg.contains("srv-ec.pem"),
        "{msg}"
    );
    let msg = config_err(&Options::new().ca_file("/nonexistent/ca.pem"));
    assert!(msg.contains("/nonexistent/ca.pem"), "{msg}");
    let msg = config_err(&Options::new().server(true));
    assert!(msg.contains("needs a certificate"), "{msg}");
}

#[test]
fn malformed_option_strings() {
    let cases: &[(Options, &str)] = &[
        (Options::new().version("TLSv1"), "needs TLS older than 1.2"),
        (Options::new().version("SSLv3"), "needs TLS older than 1.2"),
        (
            Options::new().version("TLSv1_4"),
            "unknown protocol \"TLSv1_4\"",
        ),
        (
            Options::new().version("!TLSv1_2:!TLSv1_3"),
            "selects no protocol",
        ),
        (
            Options::new().cipher_list("NOPE"),
            "unknown cipher or keyword \"NOPE\"",
        ),
        (
            Options::new().cipher_list("RC4-MD5:DES-CBC3-SHA"),
            "selects no cipher suite",
        ),
        (
            Options::new().cipher_list("ALL:!ALL"),
            "selects no cipher suite",
        ),
        (
            Options::new().ciphersuites("TLS_FAKE_SHA256"),
            "unknown TLS 1.3 cipher suite",
        ),
        (
            Options::new().ecdh_curve("curve25519x"),
            "unknown group \"curve25519x\"",
        ),
        (Options::new().ecdh_curve(":"), "selects no group"),
        (Options::new().alpn_protocols([""]), "ALPN"),
    ];
    for (opts, want) in cases {
        let msg = config_err(opts);
        assert!(msg.contains(want), "{opts:?}: {msg}");
    }
    // The spec string itself is named.
    assert!(config_err(&Options::new().cipher_list("ALL:!ALL")).contains("\"ALL:!ALL\""));
    assert!(matches!(
        SslContext::new(&Options::new().version("TLSv1")),
        Err(Error::Config(ConfigError::Version { .. }))
    ));
}

#[test]
fn lazy_handshake_failure_leaves_a_plain_socket_marked_failed() {
    let (addr, h) = serve_tcp(1, |mut tcp| {
        let mut buf = [0u8; 2048];
        let _ = tcp.read(&mut buf);
        let _ = tcp.write_all(b"* OK plain only\r\n");
    });
    let mut c =
        SslSocket::connect_with(&addr.to_string(), &client_opts().start_handshake(false)).unwrap();
    assert_eq!(c.opened(), sslsock::socket::Opened::NotTls);
    let err = c.connect_ssl().unwrap_err();
    assert!(matches!(err, Error::NotTls { .. }), "{err:?}");
    assert_eq!(c.opened().as_perl(), -1);
    assert!(
        c.errstr().unwrap().contains("* OK plain only"),
        "{:?}",
        c.errstr()
    );
    h.join().unwrap();
}

#[test]
fn a_timeout_past_the_clock_is_no_timeout() {
    let (addr, h) = serve(server_opts_with("srv-ec").server(true), 1, echo_once);
    let opts = client_opts().hostname("localhost").timeout(Duration::MAX);
    let mut s = SslSocket::connect_with(&addr.to_string(), &opts).unwrap();
    Write::write_all(&mut s, b"x\n").unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut s, &mut line).unwrap();
    assert_eq!(line, "x\n");
    drop(s);
    let _ = h.join();
}
