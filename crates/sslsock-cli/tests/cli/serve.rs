//! `sslsock serve`: reachability by real clients, client certificates, SNI, limits.

use super::common::*;

#[test]
fn serve_is_reachable_by_openssl_curl_python_and_perl() {
    let (mut srv, port, mut out) = serve(&[
        "--cert",
        &f("srv-ec.pem"),
        "--key",
        &f("srv-ec.key"),
        "--mode",
        "http",
        "--count",
        "4",
        "--alpn",
        "http/1.1",
    ]);
    let ca = f("ca.pem");
    // openssl s_client with -verify_return_error.
    let mut sc = Command::new("openssl")
        .args([
            "s_client",
            "-ign_eof",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-servername",
            "localhost",
            "-verify_return_error",
            "-verify_hostname",
            "localhost",
            "-CAfile",
            &ca,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    sc.stdin
        .take()
        .unwrap()
        .write_all(b"GET / HTTP/1.0\r\n\r\n")
        .unwrap();
    let o = sc.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("Verify return code: 0 (ok)") && text.contains("HTTP/1.1 200 OK"),
        "{text}"
    );
    // curl.
    let o = Command::new("curl")
        .args([
            "-sS",
            "--cacert",
            &ca,
            "--resolve",
            &format!("localhost:{port}:127.0.0.1"),
            &format!("https://localhost:{port}/"),
        ])
        .output()
        .unwrap();
    assert!(
        o.status.success() && String::from_utf8_lossy(&o.stdout).contains("<h1>sslsock</h1>"),
        "{}",
        stderr(&o)
    );
    // Python ssl.
    let py = r#"
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
with socket.create_connection(("127.0.0.1", int(sys.argv[1]))) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        data = b""
        while True:
            c = s.recv(4096)
            if not c: break
            data += c
        print(data.decode().split("\r\n")[0])
"#;
    let o = Command::new("python3")
        .args(["-c", py, &port.to_string(), &ca])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "HTTP/1.1 200 OK",
        "{}",
        stderr(&o)
    );
    // Perl IO::Socket::SSL.
    let pl = r#"
use IO::Socket::SSL;
my $c = IO::Socket::SSL->new(PeerAddr => "127.0.0.1:$ARGV[0]", SSL_hostname => "localhost",
    SSL_verifycn_name => "localhost", SSL_ca_file => $ARGV[1]) or die "connect: $SSL_ERROR";
print $c "GET / HTTP/1.0\r\n\r\n";
my $l = <$c>; print $l;
"#;
    let o = Command::new("perl")
        .args(["-e", pl, &port.to_string(), &ca])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "HTTP/1.1 200 OK",
        "{}",
        stderr(&o)
    );
    // --count 4: the server exits by itself after the four clients.
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = srv.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "serve --count 4 did not exit");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success());
    let mut log = String::new();
    Read::read_to_string(&mut out, &mut log).unwrap();
    assert_eq!(log.matches(": TLSv1_3").count(), 4, "{log}");
}

#[test]
fn serve_without_cert_prints_fingerprint_and_echoes() {
    let (_srv, port, mut out) = serve(&["--count", "1"]);
    let mut fp_line = String::new();
    out.read_line(&mut fp_line).unwrap();
    let fp = fp_line.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(fp.starts_with("sha256$"), "{fp_line}");
    // Without a CA the only way to accept the self-signed certificate is --no-verify.
    let o = sslsock(&[
        "connect",
        &format!("127.0.0.1:{port}"),
        "--no-verify",
        "--json",
        "--send",
        r"ping\n",
        "--timeout",
        "2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["fingerprint"], fp.as_str());
    assert_eq!(v["reply"], "ping\n");
    assert!(stderr(&o).contains("dangerous"));
}

#[test]
fn client_certificate_required_by_the_server() {
    let ca = f("ca.pem");
    let (_s, port) = s_server(
        "srv-ec",
        &[
            "-www",
            "-CAfile",
            &ca,
            "-Verify",
            "1",
            "-verify_return_error",
        ],
    );
    let addr = format!("127.0.0.1:{port}");
    // TLS 1.3: the refusal comes after the client's handshake and must still be reported.
    one_line_error(
        &sslsock(&["connect", &addr, "--ca-file", &ca, "--sni", "localhost"]),
        1,
        "certificate_required",
    );
    let o = sslsock(&[
        "connect",
        &addr,
        "--ca-file",
        &ca,
        "--sni",
        "localhost",
        "--cert",
        &f("client.pem"),
        "--key",
        &f("client.key"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // TLS 1.2 refuses inside the handshake.
    let o = sslsock(&[
        "connect",
        &addr,
        "--ca-file",
        &ca,
        "--sni",
        "localhost",
        "--version",
        "TLSv1_2",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

#[test]
fn serve_handles_clients_concurrently() {
    let (_srv, port, _out) = serve(&[
        "--cert",
        &f("srv-ec.pem"),
        "--key",
        &f("srv-ec.key"),
        "--count",
        "2",
    ]);
    let opts = sslsock::Options::new()
        .ca_file(f("ca.pem"))
        .hostname("localhost");
    let addr = format!("127.0.0.1:{port}");
    // The first client connects and stays silent; the second must still be served.
    let mut first = sslsock::SslSocket::connect_with(&addr, &opts).unwrap();
    let mut second = sslsock::SslSocket::connect_with(&addr, &opts).unwrap();
    second.write_all(b"second\n").unwrap();
    let mut line = String::new();
    second.read_line(&mut line).unwrap();
    assert_eq!(line, "second\n");
    first.write_all(b"first\n").unwrap();
    line.clear();
    first.read_line(&mut line).unwrap();
    assert_eq!(line, "first\n");
}

#[test]
fn serve_verifies_client_certificates() {
    let ca = f("ca.pem");
    let (_srv, port, mut out) = serve(&[
        "--cert",
        &f("srv-ec.pem"),
        "--key",
        &f("srv-ec.key"),
        "--verify-client",
        "require",
        "--client-ca",
        &ca,
        "--count",
        "2",
    ]);
    let addr = format!("127.0.0.1:{port}");
    let o = run_ok(&[
        "connect",
        &addr,
        "--ca-file",
        &ca,
        "--sni",
        "localhost",
        "--cert",
        &f("client.pem"),
        "--key",
        &f("client.key"),
        "--send",
        r"hi\n",
        "--timeout",
        "2",
    ]);
    assert!(o.ends_with("hi\n"), "{o}");
    one_line_error(
        &sslsock(&["connect", &addr, "--ca-file", &ca, "--sni", "localhost"]),
        1,
        "certificate_required",
    );
    let mut log = String::new();
    for _ in 0..2 {
        out.read_line(&mut log).unwrap();
    }
    assert!(log.contains("client=/CN=test client"), "{log}");
    assert!(
        log.contains("handshake failed") && log.contains("peer did not send a certificate"),
        "{log}"
    );
    assert_eq!(
        sslsock(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--verify-client",
            "require"
        ])
        .status
        .code(),
        Some(2)
    );
}

#[test]
fn serve_keeps_serving_while_200_clients_stall_mid_handshake() {
    const STALLED: usize = 200;
    let (mut srv, port, mut out) = serve(&[
        "--cert",
        &f("srv-ec.pem"),
        "--key",
        &f("srv-ec.key"),
        "--handshake-timeout",
        "3",
        "--count",
        &(STALLED + 1).to_string(),
    ]);
    // 200 clients start a handshake and stop: a record header and a few bytes, then nothing.
    let stalled: Vec<std::net::TcpStream> = (0..STALLED)
        .map(|_| {
            let mut t = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            t.write_all(&[22, 3, 1, 2, 0, 1, 0]).unwrap();
            t
        })
        .collect();
    // Connected after all of them, so accepted after all of them: the backlog is in order.
    let opts = sslsock::Options::new()
        .ca_file(f("ca.pem"))
        .hostname("localhost");
    let mut c = sslsock::SslSocket::connect_with(&format!("127.0.0.1:{port}"), &opts).unwrap();
    c.write_all(b"still here\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    assert_eq!(line, "still here\n");
    drop(c);
    // The stalled ones are cut off by the deadline and the server ends after all of them.
    let deadline = Instant::now() + Duration::from_secs(30);
    while srv.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "serve did not finish");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut log = String::new();
    Read::read_to_string(&mut out, &mut log).unwrap();
    assert_eq!(
        log.matches("handshake failed: timed out").count(),
        STALLED,
        "{log}"
    );
    assert_eq!(log.matches(": TLSv1_3").count(), 1, "{log}");
    // Served while the 200 waited: before the first of them reached its deadline.
    let served = log.find(": TLSv1_3").unwrap();
    let first_cut = log.find("handshake failed: timed out").unwrap();
    assert!(served < first_cut, "{log}");
    drop(stalled);
}

#[test]
fn serve_sni_ticket_keys_and_session_cache() {
    let d = pki().dir.join("serve-sni");
    std::fs::create_dir_all(&d).unwrap();
    let ca = Issued::from_parts(
        &std::fs::read(f("ca.pem")).unwrap(),
        &std::fs::read(f("ca.key")).unwrap(),
        &sslsock::x509::Password::None,
    )
    .unwrap();
    let other = CertSpec::new("other.test")
        .san("other.test")
        .signed_by(&ca)
        .unwrap();
    std::fs::write(
        d.join("other.pem"),
        format!("{}{}", other.cert_pem, other.key_pem),
    )
    .unwrap();
    let keys = d.join("tickets.txt");
    std::fs::write(&keys, format!("{} {}\n", "ab".repeat(16), "cd".repeat(32))).unwrap();
    let (_srv, port, _out) = serve(&[
        "--cert",
        &f("srv-ec.pem"),
        "--key",
        &f("srv-ec.key"),
        "--sni",
        &format!("other.test={}", d.join("other.pem").display()),
        "--ticket-key-file",
        keys.to_str().unwrap(),
        "--session-cache",
        "0",
        "--count",
        "6",
    ]);
    let addr = format!("127.0.0.1:{port}");
    let ca_file = f("ca.pem");
    for name in ["other.test", "localhost"] {
        let o = run_ok(&[
            "connect",
            &addr,
            "--ca-file",
            &ca_file,
            "--sni",
            name,
            "--json",
        ]);
        let v: serde_json::Value = serde_json::from_str(&o).unwrap();
        assert_eq!(v["chain"][0]["subject"], format!("/CN={name}"), "{name}");
    }
    // No server session cache, but tickets under the file's key: TLS 1.3 resumes.
    let o = run_ok(&[
        "connect",
        &addr,
        "--ca-file",
        &ca_file,
        "--sni",
        "localhost",
        "--reconnect",
        "4",
        "--send",
        r"x\n",
        "--timeout",
        "0.3",
    ]);
    assert!(o.contains("resumed: 3 of 4 connections (2, 3, 4)"), "{o}");
    assert_eq!(
        sslsock(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--ticket-key-file",
            "/nonexistent"
        ])
        .status
        .code(),
        Some(2)
    );
}

#[test]
fn serve_http_answers_requests_with_a_body() {
    require("curl");
    let (_srv, port, _out) = serve(&["--mode", "http", "--count", "3"]);
    let url = format!("https://127.0.0.1:{port}/");
    let big = "x".repeat(200_000);
    let body_file = pki().dir.join("http-body.txt");
    std::fs::write(&body_file, &big).unwrap();
    let data = format!("@{}", body_file.display());
    for extra in [
        &["-d", "x=1"][..],
        &["--data-binary", &data],
        &["-H", "Transfer-Encoding: chunked", "--data-binary", &data],
    ] {
        curl_gets_the_page(&url, extra);
    }
}

#[test]
fn serve_with_an_alpn_curl_does_not_offer_still_answers() {
    require("curl");
    let (_srv, port, _out) = serve(&["--mode", "http", "--alpn", "foo", "--count", "1"]);
    curl_gets_the_page(&format!("https://127.0.0.1:{port}/"), &[]);
}

/// `curl -sk <extra> url` succeeds and prints `serve --mode http`'s page.
fn curl_gets_the_page(url: &str, extra: &[&str]) {
    let o = Command::new("curl")
        .args(["-sk", "--max-time", "20"])
        .args(extra)
        .arg(url)
        .output()
        .unwrap();
    let page = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && page.contains("<h1>sslsock</h1>"),
        "{extra:?}: {page} {}",
        stderr(&o)
    );
}

#[test]
fn serve_ocsp_staple_auto_is_accepted_by_curl_cert_status() {
    require("curl");
    let (_srv, port, _out) = serve(&[
        "--cert",
        &lab_file("good-chain.pem"),
        "--key",
        &lab_file("good.key"),
        "--mode",
        "http",
        "--ocsp-staple",
        "auto",
    ]);
    let curl = Command::new("curl")
        .args(["-sS", "--cert-status", "--cacert", &lab_file("root.pem")])
        .arg(format!("https://localhost:{port}/"))
        .args(["--resolve", &format!("localhost:{port}:127.0.0.1")])
        .output()
        .unwrap();
    assert!(
        curl.status.success(),
        "{}",
        String::from_utf8_lossy(&curl.stderr)
    );
    let o = sslsock(&[
        "connect",
        &format!("127.0.0.1:{port}"),
        "--ca-file",
        &lab_file("root.pem"),
        "--ocsp",
        "must",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("revocation: good (stapled)"));

    let o = sslsock(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--cert",
        &lab_file("good-chain.pem"),
        "--key",
        &lab_file("good.key"),
        "--ocsp-staple",
        &lab_file("int.pem"),
    ]);
    one_line_error(&o, 2, "ocsp_staple: the OCSP response cannot be parsed");
}

fn client_to(port: u16) -> sslsock::SslSocket {
    let opts = sslsock::Options::new()
        .ca_file(f("ca.pem"))
        .hostname("localhost")
        .timeout(Duration::from_secs(2));
    sslsock::SslSocket::connect_with(&format!("127.0.0.1:{port}"), &opts).unwrap()
}

#[test]
fn serve_closes_idle_connections_and_caps_concurrency() {
    let (mut srv, port, mut out) = serve(&[
        "--cert",
        &f("srv-ec.pem"),
        "--key",
        &f("srv-ec.key"),
        "--idle-timeout",
        "1",
        "--max-connections",
        "1",
    ]);
    let mut first = client_to(port);
    // The only slot is taken: a second client is not served while the first is.
    let opts = sslsock::Options::new()
        .ca_file(f("ca.pem"))
        .hostname("localhost")
        .timeout(Duration::from_millis(500));
    let e = sslsock::SslSocket::connect_with(&format!("127.0.0.1:{port}"), &opts).unwrap_err();
    assert!(e.to_string().contains("timed out"), "{e}");
    // The silent first client is closed after a second of silence.
    let start = Instant::now();
    let mut buf = [0u8; 16];
    let n = first.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0);
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    // Then the next client is served.
    let mut third = client_to(port);
    third.write_all(b"hello\n").unwrap();
    let mut line = String::new();
    third.read_line(&mut line).unwrap();
    assert_eq!(line, "hello\n");
    let _ = srv.child.kill();
    let mut log = String::new();
    let _ = out.read_to_string(&mut log);
    assert!(log.contains("the peer was idle past idle_timeout"), "{log}");
}

#[test]
fn serve_out_of_descriptors_pauses_and_recovers() {
    let mut child = Command::new("sh")
        .args(["-c", "ulimit -n 32 && exec \"$0\" \"$@\""])
        .arg(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--cert",
            &f("srv-ec.pem"),
            "--key",
            &f("srv-ec.key"),
            "--handshake-timeout",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let port: u16 = first.trim().rsplit(':').next().unwrap().parse().unwrap();
    let mut srv = Peer { child };
    // More idle connections than the server has descriptors.
    let held: Vec<std::net::TcpStream> = (0..60)
        .filter_map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).ok())
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    drop(held);
    // Served again once the handshake timeout freed the descriptors.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut served = false;
    while Instant::now() < deadline && !served {
        let opts = sslsock::Options::new()
            .ca_file(f("ca.pem"))
            .hostname("localhost")
            .timeout(Duration::from_secs(2));
        if let Ok(mut s) = sslsock::SslSocket::connect_with(&format!("127.0.0.1:{port}"), &opts) {
            s.write_all(b"ok\n").unwrap();
            let mut line = String::new();
            served = s.read_line(&mut line).is_ok() && line == "ok\n";
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = srv.child.kill();
    let _ = srv.child.wait();
    let mut err = String::new();
    srv.child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        served,
        "not served after the descriptors came back; stderr: {err}"
    );
    // Accepts fail and succeed in turn while descriptors come back one by one: one episode.
    let warnings = err.matches("accept failed").count();
    assert_eq!(warnings, 1, "{warnings} accept warnings: {err}");
}

#[cfg(feature = "openssl")]
#[test]
fn serve_with_a_psk_and_no_certificate_serves_psk_clients_only() {
    let key = "00112233445566778899aabbccddeeff";
    let psk = ["--engine", "openssl", "--psk", key, "--psk-identity", "me"];
    let (_srv, port, _out) = serve(&psk[..]);
    // No PSK, a wrong key, a wrong identity: no handshake, in either version.
    for version in ["-tls1_2", "-tls1_3"] {
        let none = s_client_cipher(port, &[version]);
        assert_eq!(
            none, "(NONE)",
            "{version}: a client without the PSK was served"
        );
        let wrong_key = [
            "-psk",
            "ffeeddccbbaa99887766554433221100",
            "-psk_identity",
            "me",
        ];
        let c = s_client_cipher(port, &[&[version][..], &wrong_key].concat());
        assert_eq!(c, "(NONE)", "{version}: a wrong key was served");
        let wrong_id = ["-psk", key, "-psk_identity", "someone"];
        let c = s_client_cipher(port, &[&[version][..], &wrong_id].concat());
        assert_eq!(c, "(NONE)", "{version}: a wrong identity was served");
    }
    // The right PSK in TLS 1.2: a PSK suite, not a certificate's.
    let right = ["-tls1_2", "-psk", key, "-psk_identity", "me"];
    let c = s_client_cipher(port, &right);
    assert!(c.contains("PSK"), "{c}");
    // Our client says what authenticated the server.
    let out = run_ok(&[&["connect", &format!("127.0.0.1:{port}")][..], &psk].concat());
    assert!(
        out.contains("verification: psk (authenticated by the pre-shared key"),
        "{out}"
    );
}

#[test]
fn serve_takes_its_certificate_from_perl_arguments() {
    let combined = f("srv-combined.pem");
    let (_srv, port, mut out) =
        serve(&["-o", &format!("SSL_cert_file={combined}"), "--count", "1"]);
    let o = sslsock(&[
        "connect",
        &format!("127.0.0.1:{port}"),
        "--ca-file",
        &f("ca.pem"),
        "--sni",
        "localhost",
        "--send",
        r"ping\n",
        "--timeout",
        "5",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // No line about a generated certificate it would not serve.
    let mut rest = String::new();
    let _ = out.read_to_string(&mut rest);
    assert!(!rest.contains("self-signed"), "{rest}");
}

/// One spelling per concept: serve takes --ciphers, --ciphersuites and --groups as connect
/// does, --ca-file for the CAs it trusts (--client-ca stays an alias) and --sni-cert for
/// per-name certificates (--sni stays an alias); intercept's --ca-file and --no-verify.
#[test]
fn serve_and_intercept_spell_concepts_as_connect_does() {
    let ca = f("ca.pem");
    let (_srv, port, _out) = serve(&[
        "--cert",
        &f("srv-ec.pem"),
        "--key",
        &f("srv-ec.key"),
        "--version",
        "TLSv1_2",
        "--ciphers",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "--groups",
        "P-384",
        "--sni-cert",
        &format!(
            "other.example={}:{}",
            f("wrongname.pem"),
            f("wrongname.key")
        ),
    ]);
    let addr = format!("127.0.0.1:{port}");
    let v: serde_json::Value = serde_json::from_str(&run_ok(&[
        "connect",
        &addr,
        "--ca-file",
        &ca,
        "--sni",
        "localhost",
        "--json",
    ]))
    .unwrap();
    assert_eq!(v["cipher"], "ECDHE-ECDSA-AES256-GCM-SHA384");
    assert_eq!(v["group"], "secp384r1");
    let v: serde_json::Value = serde_json::from_str(&run_ok(&[
        "connect",
        &addr,
        "--ca-file",
        &ca,
        "--sni",
        "other.example",
        "--json",
    ]))
    .unwrap();
    assert_eq!(v["chain"][0]["subject"], "/CN=other.example", "{v}");
    // TLS 1.3 suites on serve.
    let (_s13, port13, _o13) = serve(&[
        "--cert",
        &f("srv-ec.pem"),
        "--key",
        &f("srv-ec.key"),
        "--ciphersuites",
        "TLS_CHACHA20_POLY1305_SHA256",
    ]);
    let v: serde_json::Value = serde_json::from_str(&run_ok(&[
        "connect",
        &format!("127.0.0.1:{port13}"),
        "--ca-file",
        &ca,
        "--sni",
        "localhost",
        "--json",
    ]))
    .unwrap();
    assert_eq!(v["cipher"], "TLS_CHACHA20_POLY1305_SHA256");
    // The help names the canonical flags and their aliases.
    let help = run_ok(&["serve", "--help"]);
    for flag in [
        "--ca-file",
        "client-ca",
        "--sni-cert",
        "--ciphers",
        "--ciphersuites",
        "--groups",
    ] {
        assert!(help.contains(flag), "{flag} not in: {help}");
    }
    let help = run_ok(&["intercept", "--help"]);
    for flag in [
        "--ca-file",
        "upstream-ca",
        "--no-verify",
        "insecure-upstream",
    ] {
        assert!(help.contains(flag), "{flag} not in: {help}");
    }
}

/// serve --mode http keeps HTTP/1.1 connections open for the next request, and answers
/// `Expect: 100-continue` at once instead of leaving curl to wait.
#[test]
fn serve_http_keep_alive_and_100_continue() {
    require("curl");
    let (_srv, port, _out) = serve(&[
        "--cert",
        &f("srv-ec.pem"),
        "--key",
        &f("srv-ec.key"),
        "--mode",
        "http",
    ]);
    let url = format!("https://localhost:{port}/");
    let curl = |args: &[&str]| {
        let o = Command::new("curl")
            .args(["-sS", "-v", "--http1.1", "--cacert", &f("ca.pem")])
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    // Two requests, one connection.
    let (body, log) = curl(&[&url, &url]);
    assert_eq!(body.matches("<h1>sslsock</h1>").count(), 2, "{body}");
    assert!(
        log.contains("Re-using existing") || log.contains("Reusing existing"),
        "{log}"
    );
    assert!(log.contains("< Connection: keep-alive"), "{log}");
    // A 2 MB upload: curl asks for 100 Continue and gets it.
    let dir = sslsock_test_support::scratch_dir("http-upload");
    let file = dir.join("body.bin");
    std::fs::write(&file, vec![b'x'; 2 * 1024 * 1024]).unwrap();
    let (body, log) = curl(&["--data-binary", &format!("@{}", file.display()), &url]);
    assert!(body.contains("<h1>sslsock</h1>"), "{body}");
    assert!(log.contains("> Expect: 100-continue"), "{log}");
    assert!(log.contains("< HTTP/1.1 100 Continue"), "{log}");
    // HTTP/1.0 without keep-alive, and "Connection: close", are closed after the answer.
    let (_, log) = curl(&["-H", "Connection: close", &url]);
    assert!(log.contains("< Connection: close"), "{log}");
}

/// `kill -HUP` after the certificate files were replaced: `openssl s_client` sees the new
/// certificate, a connection opened before keeps working; a broken file keeps the old one
/// and says why; a changed file alone reloads too.
#[test]
fn serve_reloads_its_certificate_on_sighup_and_when_the_files_change() {
    require("openssl");
    let dir = pki().path("reload");
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let put = |pair: &str| {
        std::fs::copy(pki().path(&format!("{pair}.key")), &key).unwrap();
        std::fs::copy(pki().path(&format!("{pair}.pem")), &cert).unwrap();
    };
    put("srv-ec");
    let (mut server, port, out) = serve(&[
        "--cert",
        cert.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
    ]);
    let pid = server.child.id().to_string();
    let stdout = line_feed(Box::new(out.into_inner()));
    let stderr_lines = line_feed(Box::new(server.child.stderr.take().unwrap()));
    let wait_for = |rx: &std::sync::mpsc::Receiver<String>, what: &str| wait_for_line(rx, what, 20);
    let key_bits = || {
        let out = run_with_input(
            Command::new("openssl")
                .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
                .args(["-servername", "localhost", "-CAfile", &f("ca.pem")])
                .stderr(Stdio::null()),
            b"",
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(text.contains("Verify return code: 0 (ok)"), "{text}");
        text.lines()
            .find_map(|l| l.strip_prefix("Server public key is "))
            .unwrap_or_else(|| panic!("{text}"))
            .to_owned()
    };
    assert_eq!(key_bits(), "256 bit");
    // A connection opened before the reload.
    let ctx = sslsock::SslContext::new(
        &sslsock::Options::new()
            .ca_file(pki().path("ca.pem"))
            .hostname("localhost"),
    )
    .unwrap();
    let mut before = BufReader::new(
        sslsock::SslSocket::connect_with(&format!("127.0.0.1:{port}"), &ctx).unwrap(),
    );
    let mut talk = |text: &str| {
        before.get_mut().write_all(text.as_bytes()).unwrap();
        let mut back = String::new();
        before.read_line(&mut back).unwrap();
        back
    };
    assert_eq!(talk("one\n"), "one\n");

    put("srv-rsa");
    assert!(Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap()
        .success());
    wait_for(
        &stdout,
        "reloaded on SIGHUP: new connections get the new certificate",
    );
    assert_eq!(key_bits(), "2048 bit");
    assert_eq!(talk("two\n"), "two\n");

    std::fs::write(&cert, "-----BEGIN CERTIFICATE-----\nnot base64\n").unwrap();
    assert!(Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap()
        .success());
    let warning = wait_for(&stderr_lines, "reload on SIGHUP failed");
    assert!(
        warning.contains("the previous certificate stays") && warning.contains("cert.pem"),
        "{warning}"
    );
    assert_eq!(key_bits(), "2048 bit");

    // No signal: the files changing is enough.
    put("srv-ec");
    wait_for(&stdout, "reloaded as its files changed");
    assert_eq!(key_bits(), "256 bit");
    assert_eq!(talk("three\n"), "three\n");
}

/// A hyper client on the library's connector (the README's) reads `serve --mode http` over
/// HTTP/1.1 (serve offers no ALPN protocol).
#[test]
fn a_hyper_client_reads_serve_over_http1() {
    use http_body_util::{BodyExt, Empty};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let (_server, port, _out) = serve(&[
        "--cert",
        &f("srv-ec.pem"),
        "--key",
        &f("srv-ec.key"),
        "--mode",
        "http",
    ]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (version, body, tls) = rt.block_on(async {
        let connector = sslsock::http::HttpsConnector::new(
            &sslsock::Options::new().ca_file(pki().path("ca.pem")),
        )
        .unwrap();
        let client =
            Client::builder(TokioExecutor::new()).build::<_, Empty<hyper::body::Bytes>>(connector);
        let response = client
            .get(format!("https://localhost:{port}/").parse().unwrap())
            .await
            .unwrap();
        let tls = response
            .extensions()
            .get::<sslsock::http::TlsInfo>()
            .cloned()
            .unwrap();
        let version = response.version();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (version, String::from_utf8_lossy(&body).into_owned(), tls)
    });
    assert_eq!(version, hyper::Version::HTTP_11);
    assert!(body.contains("<h1>sslsock</h1>"), "{body}");
    assert_eq!(tls.version, "TLSv1_3");
    assert_eq!(tls.alpn, None);
}

/// Whether `openssl s_client` to `port` verifies the server as localhost under pebble's root
/// (saved as `file`).
fn pebble_verifier(
    pebble: &sslsock_test_support::pebble::Pebble,
    port: u16,
    file: &str,
) -> impl Fn() -> bool {
    let root = pki().path(file);
    std::fs::write(&root, pebble.root_pem()).unwrap();
    let root = root.display().to_string();
    move || {
        let out = run_with_input(
            Command::new("openssl")
                .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
                .args(["-servername", "localhost", "-verify_hostname", "localhost"])
                .args(["-CAfile", &root])
                .stderr(Stdio::null()),
            b"",
        );
        String::from_utf8_lossy(&out.stdout).contains("Verify return code: 0 (ok)")
    }
}

/// `serve --acme` with pebble: the certificate verifies under pebble's root, is renewed at two
/// thirds of its (short) lifetime, and with the CA down the renewed one keeps serving while
/// the retries back off.
#[test]
fn serve_gets_and_renews_its_certificate_from_pebble() {
    require("openssl");
    let mut pebble = sslsock_test_support::pebble::Pebble::start(15);
    let (mut server, port, out) = serve(&[
        "--acme",
        "localhost",
        "--acme-directory",
        &pebble.directory(),
        "--acme-ca",
        &f("ca.pem"),
        "--acme-http",
        &format!("127.0.0.1:{}", pebble.http_port),
    ]);
    let stdout = line_feed(Box::new(out.into_inner()));
    let stderr_lines = line_feed(Box::new(server.child.stderr.take().unwrap()));
    let verified = pebble_verifier(&pebble, port, "pebble-root.pem");
    let fingerprint = || {
        let out = run_ok(&["connect", &format!("localhost:{port}"), "-k", "--json"]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["fingerprint"].as_str().unwrap().to_owned()
    };
    assert!(
        verified(),
        "the first certificate verifies under pebble's root"
    );
    let first = fingerprint();
    wait_for_line(&stdout, "acme: certificate renewed", 30);
    wait_for_line(&stdout, "reloaded with the renewed ACME certificate", 5);
    assert!(verified(), "the renewed certificate verifies");
    let second = fingerprint();
    assert_ne!(first, second);

    pebble.stop();
    let warning = wait_for_line(&stderr_lines, "acme renewal failed", 30);
    assert!(
        warning.contains("the current certificate stays") && warning.contains("next try in 1 s"),
        "{warning}"
    );
    let warning = wait_for_line(&stderr_lines, "acme renewal failed", 10);
    assert!(warning.contains("next try in 2 s"), "{warning}");
    assert_eq!(
        fingerprint(),
        second,
        "the renewed certificate keeps serving"
    );
}

/// `serve --acme-account F`: a restarted server orders with the account the first one
/// registered (the file is not rewritten), and serves a certificate from it.
#[test]
fn serve_keeps_its_acme_account_across_restarts() {
    require("openssl");
    let pebble = sslsock_test_support::pebble::Pebble::start(90);
    let file = pki().path("cli-acme-account.json");
    let _ = std::fs::remove_file(&file);
    let (directory, ca, http) = (
        pebble.directory(),
        f("ca.pem"),
        format!("127.0.0.1:{}", pebble.http_port),
    );
    let account = file.display().to_string();
    let args = [
        "--acme",
        "localhost",
        "--acme-directory",
        &directory,
        "--acme-ca",
        &ca,
        "--acme-http",
        &http,
        "--acme-account",
        &account,
    ];
    let (mut first, _, _) = serve(&args);
    let _ = first.child.kill();
    let _ = first.child.wait();
    let written = std::fs::read(&file).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let (_second, port, _) = serve(&args);
    // Compared, not printed: the file holds the account's private key.
    assert!(
        std::fs::read(&file).unwrap() == written,
        "the restarted server registered a new account"
    );
    assert!(pebble_verifier(&pebble, port, "pebble-root-account.pem")());
}

/// `serve --acme-challenge tls-alpn-01` on pebble's TLS-ALPN-01 port: the first certificate
/// through a responder of its own, the renewal answered by the running server itself (its
/// ClientHello callback hands acme-tls/1 connections the challenge's certificate), while
/// ordinary clients keep getting the served certificate.
#[test]
fn serve_renews_over_tls_alpn_01_on_its_own_port() {
    require("openssl");
    let pebble = sslsock_test_support::pebble::Pebble::start(15);
    let (_server, port, out) = serve_on(
        &format!("127.0.0.1:{}", pebble.tls_port),
        &[
            "--acme",
            "localhost",
            "--acme-directory",
            &pebble.directory(),
            "--acme-ca",
            &f("ca.pem"),
            "--acme-challenge",
            "tls-alpn-01",
        ],
    );
    assert_eq!(port, pebble.tls_port);
    let stdout = line_feed(Box::new(out.into_inner()));
    let verified = pebble_verifier(&pebble, port, "pebble-alpn-root.pem");
    assert!(verified());
    wait_for_line(&stdout, "acme: certificate renewed", 30);
    wait_for_line(&stdout, "reloaded with the renewed ACME certificate", 5);
    assert!(verified(), "the renewed certificate verifies");
}
