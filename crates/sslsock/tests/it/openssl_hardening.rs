//! The openssl engine keeps the default engine's guarantees where OpenSSL's own defaults
//! would not: no renegotiation, no anonymous suites, no SHA-1 handshake signatures in TLS 1.2
//! when older versions are on, exactly the versions named.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use sslsock::{Engine, Error, Options, SslContext, SslSocket};
use sslsock_test_support::{client_opts, pki, require, s_server, serve, spawn_listening, Peer};

fn ossl_client() -> Options {
    client_opts().engine(Engine::OpenSsl)
}

/// `openssl s_server -state -tls1_2` reading commands from a pipe; its handshake states
/// (on stderr) are kept.
fn s_server_with_commands() -> (Peer, u16) {
    require("openssl");
    let p = pki().pair("srv-ec");
    spawn_listening(|port| {
        let mut cmd = Command::new("openssl");
        cmd.args(["s_server", "-accept", &format!("127.0.0.1:{port}")])
            .arg("-cert")
            .arg(&p.cert)
            .arg("-key")
            .arg(&p.key)
            .args(["-tls1_2", "-state"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        cmd
    })
}

/// What a killed peer printed on stderr.
fn states_of(mut peer: Peer) -> String {
    let _ = peer.child.kill();
    let mut out = String::new();
    if let Some(mut o) = peer.child.stderr.take() {
        let _ = o.read_to_string(&mut out);
    }
    out
}

#[test]
fn our_client_refuses_a_servers_renegotiation() {
    let (mut server, port) = s_server_with_commands();
    let mut s = SslSocket::connect_with(&format!("127.0.0.1:{port}"), &ossl_client()).unwrap();
    s.write_all(b"hello\n").unwrap();
    // `r`: s_server asks for a renegotiation (HelloRequest).
    let mut stdin = server.child.stdin.take().unwrap();
    stdin.write_all(b"r\n").unwrap();
    stdin.flush().unwrap();
    s.get_ref()
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let _ = s.read(&mut [0u8; 64]);
    std::thread::sleep(Duration::from_millis(300));
    drop(s);
    let out = states_of(server);
    assert!(
        out.contains("write hello request"),
        "no renegotiation asked: {out}"
    );
    assert!(out.contains("alert read:warning:no renegotiation"), "{out}");
    assert_eq!(
        out.matches("read client hello").count(),
        1,
        "a second handshake ran: {out}"
    );
}

#[test]
fn our_server_refuses_a_clients_renegotiation() {
    let opts = sslsock_test_support::server_opts()
        .engine(Engine::OpenSsl)
        .version("TLSv1_2");
    let (addr, h) = serve(opts, 1, |mut s| {
        let _ = s.get_ref().set_read_timeout(Some(Duration::from_secs(3)));
        let _ = s.read(&mut [0u8; 64]);
        let _ = s.close();
        Ok(())
    });
    require("openssl");
    // `R`: s_client renegotiates; its stdin stays open a moment so that it can.
    let mut client = Peer::spawn(
        Command::new("openssl")
            .args([
                "s_client",
                "-connect",
                &addr.to_string(),
                "-tls1_2",
                "-state",
            ])
            .args(["-servername", "localhost"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    let mut stdin = client.child.stdin.take().unwrap();
    stdin.write_all(b"R\n").unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    drop(stdin);
    let _ = h.join();
    let out = states_of(client);
    assert!(
        out.contains("RENEGOTIATING"),
        "no renegotiation tried: {out}"
    );
    assert!(out.contains("alert read:warning:no renegotiation"), "{out}");
    assert_eq!(
        out.matches("read server hello").count(),
        1,
        "a second handshake ran: {out}"
    );
}

#[test]
fn a_psk_client_never_accepts_an_anonymous_handshake() {
    // s_server without certificate and without PSK, anonymous DH suites only.
    let (_peer, port) = s_server(
        "srv-ec",
        &["-www", "-nocert", "-tls1_2", "-cipher", "aNULL:@SECLEVEL=0"],
    );
    let psk = Options::new()
        .engine(Engine::OpenSsl)
        .psk("client1", vec![7u8; 16])
        .cipher_list("ALL:@SECLEVEL=0");
    match SslSocket::connect_with(&format!("127.0.0.1:{port}"), &psk) {
        Err(Error::Tls(_)) => {}
        Err(e) => panic!("refused for another reason: {e}"),
        Ok(s) => panic!(
            "an anonymous handshake was accepted: {:?}, no certificate, no PSK",
            s.cipher()
        ),
    }
    // Asking for anonymous suites only: nothing is left, said when the context is made.
    let e = SslContext::new(&psk.clone().cipher_list("aNULL")).unwrap_err();
    assert!(e.to_string().contains("aNULL"), "{e}");
}

#[test]
fn tls12_keeps_sha1_signatures_out_when_tls10_is_on() {
    // A TLS 1.2 server that signs with SHA-1 only.
    let (_peer, port) = s_server(
        "srv-ec",
        &[
            "-www",
            "-tls1_2",
            "-sigalgs",
            "ECDSA+SHA1",
            "-cipher",
            "DEFAULT:@SECLEVEL=0",
        ],
    );
    let legacy = ossl_client().version("TLSv1:TLSv1_1:TLSv1_2");
    match SslSocket::connect_with(&format!("127.0.0.1:{port}"), &legacy) {
        Err(Error::Tls(_)) => {}
        Err(e) => panic!("refused for another reason: {e}"),
        Ok(s) => panic!(
            "a SHA-1 signed TLS 1.2 handshake was accepted ({:?})",
            s.cipher()
        ),
    }
    // The same context with a server signing as usual.
    let (_peer, port) = s_server("srv-ec", &["-www", "-tls1_2"]);
    let s = SslSocket::connect_with(&format!("127.0.0.1:{port}"), &legacy).unwrap();
    assert_eq!(s.version(), Some("TLSv1_2"));
}

#[test]
fn a_version_list_with_a_gap_is_refused() {
    for spec in ["TLSv1:TLSv1_2", "TLSv1_1:TLSv1_3", "TLSv1:TLSv1_3"] {
        let e = SslContext::new(&ossl_client().version(spec)).unwrap_err();
        assert!(e.to_string().contains("gap"), "{spec}: {e}");
    }
    SslContext::new(&ossl_client().version("TLSv1:TLSv1_1:TLSv1_2")).unwrap();
}
