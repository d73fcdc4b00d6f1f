//! The `sslsock` command against real peers: exit codes, one-line errors, serve reachability.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use sslsock::x509::create::{CertSpec, Issued};

const BIN: &str = env!("CARGO_BIN_EXE_sslsock");

struct Pki {
    dir: PathBuf,
}

fn put(dir: &Path, name: &str, i: &Issued) {
    std::fs::write(dir.join(format!("{name}.pem")), &i.cert_pem).unwrap();
    std::fs::write(dir.join(format!("{name}.key")), &i.key_pem).unwrap();
}

fn pki() -> &'static Pki {
    static P: OnceLock<Pki> = OnceLock::new();
    P.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("sslsock-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca = CertSpec::new("CLI Test CA").ca().self_signed().unwrap();
        put(&dir, "ca", &ca);
        put(
            &dir,
            "client",
            &CertSpec::new("cli user").signed_by(&ca).unwrap(),
        );
        let local = |s: CertSpec| s.san("localhost").san("127.0.0.1");
        put(
            &dir,
            "srv",
            &local(CertSpec::new("localhost")).signed_by(&ca).unwrap(),
        );
        put(
            &dir,
            "self",
            &local(CertSpec::new("localhost")).self_signed().unwrap(),
        );
        let other = CertSpec::new("Other CA").ca().self_signed().unwrap();
        put(
            &dir,
            "unknown",
            &local(CertSpec::new("localhost")).signed_by(&other).unwrap(),
        );
        let past = SystemTime::now() - Duration::from_secs(100 * 86_400);
        put(
            &dir,
            "expired",
            &local(CertSpec::new("localhost"))
                .validity(past, past + Duration::from_secs(86_400))
                .signed_by(&ca)
                .unwrap(),
        );
        Pki { dir }
    })
}

fn f(name: &str) -> String {
    pki().dir.join(name).display().to_string()
}

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `openssl s_server` on a free port; retries when the port was taken meanwhile.
fn s_server(pair: &str, extra: &[&str]) -> (Kill, u16) {
    for _ in 0..5 {
        let port = free_port();
        let mut child = Command::new("openssl")
            .args([
                "s_server",
                "-accept",
                &format!("127.0.0.1:{port}"),
                "-cert",
                &f(&format!("{pair}.pem")),
                "-key",
                &f(&format!("{pair}.key")),
            ])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl is needed; .ci/run installs it");
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline && child.try_wait().unwrap().is_none() {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                std::thread::sleep(Duration::from_millis(50));
                if child.try_wait().unwrap().is_none() {
                    return (Kill(child), port);
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("openssl s_server did not start");
}

fn sslsock(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn one_line_error(o: &Output, code: i32, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {err}");
    assert!(
        lines[0].starts_with("sslsock: ") && lines[0].contains(needle),
        "{err}"
    );
}

#[test]
fn connect_succeeds_with_ca_and_sends() {
    let (_s, port) = s_server("srv", &["-www"]);
    let ca = f("ca.pem");
    let o = sslsock(&[
        "connect",
        &format!("127.0.0.1:{port}"),
        "--ca-file",
        &ca,
        "--sni",
        "localhost",
        "--send",
        r"GET / HTTP/1.0\r\n\r\n",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.contains("version:      TLSv1_3"), "{out}");
    assert!(out.contains("verification: ok"), "{out}");
    assert!(out.contains("0 subject: /CN=localhost"), "{out}");
    assert!(out.contains("fingerprint:  sha256$"), "{out}");
    assert!(out.contains("HTTP/1.0 200 ok"), "reply printed: {out}");
    let o = sslsock(&[
        "connect",
        &format!("localhost:{port}"),
        "-4",
        "--ca-file",
        &ca,
        "--json",
        "--version",
        "TLSv1_2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["version"], "TLSv1_2");
    assert_eq!(v["chain"][0]["subject"], "/CN=localhost");
    assert_eq!(v["verification"], "ok");
}

#[test]
fn connect_failure_classes_exit_1_with_one_line() {
    let ca = f("ca.pem");
    let cases: &[(&str, &[&str], &[&str], &str)] = &[
        (
            "srv",
            &["-www"],
            &["--verify-name", "www.example.org"],
            "does not match certificate names",
        ),
        ("self", &["-www"], &[], "self-signed certificate"),
        ("expired", &["-www"], &[], "certificate has expired"),
        ("unknown", &["-www"], &[], "is not a trusted CA"),
        (
            "srv",
            &["-www", "-tls1_2"],
            &["--version", "TLSv1_3"],
            "no common protocol version",
        ),
    ];
    for (pair, server_args, client_args, needle) in cases {
        let (_s, port) = s_server(pair, server_args);
        let addr = format!("127.0.0.1:{port}");
        let mut args = vec![
            "connect",
            addr.as_str(),
            "--ca-file",
            ca.as_str(),
            "--sni",
            "localhost",
        ];
        args.extend_from_slice(client_args);
        one_line_error(&sslsock(&args), 1, needle);
    }
}

#[test]
fn connect_usage_and_network_errors() {
    one_line_error(
        &sslsock(&["connect", "127.0.0.1:1", "--version", "TLSv1"]),
        2,
        "older than 1.2",
    );
    one_line_error(
        &sslsock(&["connect", "127.0.0.1:1", "--ciphers", "BOGUS"]),
        2,
        "unknown cipher or keyword",
    );
    one_line_error(
        &sslsock(&["connect", "127.0.0.1:1", "--groups", "nope"]),
        2,
        "unknown group",
    );
    one_line_error(
        &sslsock(&["connect", "127.0.0.1:1", "--ca-file", "/nonexistent/ca.pem"]),
        2,
        "/nonexistent/ca.pem",
    );
    let port = free_port();
    one_line_error(
        &sslsock(&[
            "connect",
            &format!("127.0.0.1:{port}"),
            "--ca-file",
            &f("ca.pem"),
        ]),
        3,
        "cannot connect",
    );
    let o = sslsock(&["connect"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn connect_starttls_smtp_against_a_plain_then_tls_peer() {
    // A tiny SMTP-ish server made of our library: plain dialogue, then TLS.
    let listener = sslsock::SslListener::bind(
        "127.0.0.1:0",
        &sslsock::Options::new()
            .cert_file(f("srv.pem"))
            .key_file(f("srv.key"))
            .start_handshake(false),
    )
    .unwrap();
    let addr = listener.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut line = String::new();
        s.write_all(b"220-first\r\n220 smtp ready\r\n").unwrap();
        s.read_line(&mut line).unwrap();
        assert!(line.starts_with("EHLO "), "{line}");
        s.write_all(b"250-hello\r\n250 STARTTLS\r\n").unwrap();
        line.clear();
        s.read_line(&mut line).unwrap();
        assert_eq!(line, "STARTTLS\r\n");
        s.write_all(b"220 go ahead\r\n").unwrap();
        s.accept_ssl().unwrap();
        line.clear();
        s.read_line(&mut line).unwrap();
        s.write_all(format!("250 got {line}").as_bytes()).unwrap();
        s.close().unwrap();
    });
    let o = sslsock(&[
        "connect",
        &addr.to_string(),
        "--starttls",
        "smtp",
        "--ca-file",
        &f("ca.pem"),
        "--sni",
        "localhost",
        "--send",
        r"NOOP\r\n",
    ]);
    h.join().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.contains("250 got NOOP"), "{out}");
}

/// Starts `sslsock serve` and returns it with its port (read from its first line).
fn serve(args: &[&str]) -> (Kill, u16, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let port = first
        .trim()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("{first}"));
    (Kill(child), port, out)
}

#[test]
fn serve_is_reachable_by_openssl_curl_python_and_perl() {
    let (mut srv, port, mut out) = serve(&[
        "--cert",
        &f("srv.pem"),
        "--key",
        &f("srv.key"),
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
        if let Some(s) = srv.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "serve --count 4 did not exit");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success());
    let mut log = String::new();
    std::io::Read::read_to_string(&mut out, &mut log).unwrap();
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
fn demo_reports_every_step() {
    let o = sslsock(&["demo"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}\n{}", stderr(&o));
    assert!(out.contains("6 of 6 steps as expected"), "{out}");
    assert!(out.contains("plain  < plain again"), "{out}");
    assert!(
        out.contains("refused as expected: certificate verify failed: hostname \"wrong.example\""),
        "{out}"
    );
}

#[test]
fn default_ca_comes_from_ssl_cert_file() {
    let (_s, port) = s_server("srv", &["-www"]);
    let addr = format!("127.0.0.1:{port}");
    // No --ca-file: the default CA store is used, and SSL_CERT_FILE selects it.
    let o = Command::new(BIN)
        .args(["connect", &addr, "--sni", "localhost"])
        .env("SSL_CERT_FILE", f("ca.pem"))
        .env_remove("SSL_CERT_DIR")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    // The system store (or the bundled roots) does not know the test CA.
    let o = Command::new(BIN)
        .args(["connect", &addr, "--sni", "localhost"])
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .output()
        .unwrap();
    one_line_error(&o, 1, "is not a trusted CA");
}

#[test]
fn client_certificate_required_by_the_server() {
    let ca = f("ca.pem");
    let (_s, port) = s_server(
        "srv",
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
        &f("srv.pem"),
        "--key",
        &f("srv.key"),
        "--count",
        "2",
    ]);
    let opts = sslsock::Options::new()
        .ca_file(f("ca.pem"))
        .hostname("localhost");
    let addr = format!("127.0.0.1:{port}");
    // The first client connects and stays silent; the second must still be served.
    let mut first = sslsock::SslSocket::connect_opts(&addr, &opts).unwrap();
    let mut second = sslsock::SslSocket::connect_opts(&addr, &opts).unwrap();
    second.write_all(b"second\n").unwrap();
    let mut line = String::new();
    second.read_line(&mut line).unwrap();
    assert_eq!(line, "second\n");
    first.write_all(b"first\n").unwrap();
    line.clear();
    first.read_line(&mut line).unwrap();
    assert_eq!(line, "first\n");
}
