//! The `sslsock` command against real peers: exit codes, one-line errors, serve reachability.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use sslsock::x509::create::{CertSpec, Issued};
use sslsock_test_support::{
    constrained, free_port, ocsp_lab, openssl_crl, openssl_fingerprint, pki, require,
    run_with_input, s_server, Peer,
};

const BIN: &str = env!("CARGO_BIN_EXE_sslsock");

fn f(name: &str) -> String {
    pki().file(name)
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
    let (_s, port) = s_server("srv-ec", &["-www"]);
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
            "srv-ec",
            &["-www"],
            &["--verify-name", "www.example.org"],
            "does not match certificate names",
        ),
        ("selfsigned", &["-www"], &[], "self-signed certificate"),
        ("expired", &["-www"], &[], "certificate has expired"),
        ("unknown-ca", &["-www"], &[], "is not a trusted CA"),
        (
            "srv-ec",
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
            .cert_file(f("srv-ec.pem"))
            .key_file(f("srv-ec.key"))
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
fn serve(args: &[&str]) -> (Peer, u16, BufReader<std::process::ChildStdout>) {
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
    (Peer { child }, port, out)
}

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
fn demo_reports_every_step() {
    let o = sslsock(&["demo"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}\n{}", stderr(&o));
    assert!(out.contains("6 of 6 steps as expected"), "{out}");
    // The summary stands on a line of its own after an empty one, not after an escaped "\n".
    assert!(out.contains("\n\n6 of 6 steps as expected"), "{out}");
    assert!(!out.contains("\\n"), "an escaped newline in: {out}");
    assert!(out.contains("plain  < plain again"), "{out}");
    assert!(
        out.contains("refused as expected: certificate verify failed: hostname \"wrong.example\""),
        "{out}"
    );
}

#[test]
fn default_ca_comes_from_ssl_cert_file() {
    let (_s, port) = s_server("srv-ec", &["-www"]);
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

fn run_ok(args: &[&str]) -> String {
    let o = sslsock(args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn verify_hostname_command() {
    let wild = f("wild.pem");
    assert_eq!(
        run_ok(&["verify-hostname", "--cert", &wild, "www.example.org"]),
        "match\n"
    );
    assert_eq!(
        run_ok(&["verify-hostname", "--cert", &wild, "192.0.2.1"]),
        "match\n"
    );
    let o = sslsock(&["verify-hostname", "--cert", &wild, "a.b.example.org"]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.starts_with("mismatch: hostname \"a.b.example.org\" does not match certificate names"),
        "{out}"
    );
    // The commonName wildcard counts for smtp (always), not for http (when_only, DNS names present).
    assert_eq!(
        run_ok(&[
            "verify-hostname",
            "--cert",
            &wild,
            "--scheme",
            "smtp",
            "x.cn.example.org"
        ]),
        "match\n"
    );
    assert_eq!(
        sslsock(&[
            "verify-hostname",
            "--cert",
            &wild,
            "--scheme",
            "http",
            "x.cn.example.org"
        ])
        .status
        .code(),
        Some(1)
    );
    // *.co.uk covers a public suffix, unless the check is off or another list says otherwise.
    assert_eq!(
        sslsock(&["verify-hostname", "--cert", &wild, "example.co.uk"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        run_ok(&[
            "verify-hostname",
            "--cert",
            &wild,
            "--no-public-suffix",
            "example.co.uk"
        ]),
        "match\n"
    );
    let list = pki().dir.join("psl.dat");
    std::fs::write(&list, "// only com\ncom\n").unwrap();
    assert_eq!(
        run_ok(&[
            "verify-hostname",
            "--cert",
            &wild,
            "--public-suffix",
            list.to_str().unwrap(),
            "example.co.uk"
        ]),
        "match\n"
    );
    // DER input, IP forms, bad arguments.
    let der = pki().dir.join("wild.der");
    let conv = Command::new("openssl")
        .args([
            "x509",
            "-in",
            &wild,
            "-outform",
            "DER",
            "-out",
            der.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(conv.success());
    assert_eq!(
        run_ok(&[
            "verify-hostname",
            "--cert",
            der.to_str().unwrap(),
            "www.example.org"
        ]),
        "match\n"
    );
    assert_eq!(
        sslsock(&[
            "verify-hostname",
            "--cert",
            &wild,
            "--scheme",
            "gopher",
            "x"
        ])
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        sslsock(&["verify-hostname", "--cert", "/nonexistent.pem", "x"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn public_suffix_command() {
    let json = |args: &[&str]| -> serde_json::Value {
        let mut all = vec!["public-suffix", "--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&run_ok(&all)).unwrap()
    };
    assert_eq!(
        json(&["www.example.co.uk"]),
        serde_json::json!({"rest": "www.example", "suffix": "co.uk"})
    );
    assert_eq!(
        json(&["WWW.Example.COM."]),
        serde_json::json!({"rest": "www.example", "suffix": "com."})
    );
    assert_eq!(
        json(&["--add", "1", "www.example.com"]),
        serde_json::json!({"rest": "www", "suffix": "example.com"})
    );
    assert_eq!(
        json(&["--add", "1", "com"]),
        serde_json::json!({"rest": "", "suffix": "com"})
    );
    assert_eq!(
        json(&["--add", "1", "co.uk"]),
        serde_json::json!({"rest": "", "suffix": "co.uk"})
    );
    assert_eq!(
        json(&["www.city.kobe.jp"]),
        serde_json::json!({"rest": "www.city", "suffix": "kobe.jp"})
    );
    assert_eq!(
        json(&["foo.bar.kobe.jp"]),
        serde_json::json!({"rest": "foo", "suffix": "bar.kobe.jp"})
    );
    assert_eq!(
        json(&["bucket.s3.amazonaws.com"]),
        serde_json::json!({"rest": "bucket.s3.amazonaws", "suffix": "com"})
    );
    assert_eq!(
        json(&["host.nodomain"]),
        serde_json::json!({"rest": "host", "suffix": "nodomain"})
    );
    assert_eq!(
        json(&["--min-suffix", "0", "host.nodomain"]),
        serde_json::json!({"rest": "host.nodomain", "suffix": ""})
    );
    assert_eq!(
        json(&["www.食狮.公司.cn"]),
        serde_json::json!({"rest": "www.食狮", "suffix": "公司.cn"})
    );
    let list = pki().dir.join("bd.dat");
    std::fs::write(&list, "*.bd\n!www.bd\n").unwrap();
    assert_eq!(
        json(&["--list", list.to_str().unwrap(), "x.c.bd"]),
        serde_json::json!({"rest": "x", "suffix": "c.bd"})
    );
    assert_eq!(
        json(&["--list", list.to_str().unwrap(), "www.bd"]),
        serde_json::json!({"rest": "www", "suffix": "bd"})
    );
    assert_eq!(
        run_ok(&["public-suffix", "www.example.co.uk"]),
        "rest: www.example\nsuffix: co.uk\n"
    );
    assert_eq!(
        sslsock(&["public-suffix", "--list", "/nonexistent.dat", "x"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn fingerprint_command_matches_openssl() {
    let cert = f("srv-ec.pem");
    for algo in ["md5", "sha1", "sha256", "sha512"] {
        let ours = run_ok(&["fingerprint", "--algo", algo, &cert]);
        let hex = openssl_fingerprint(std::path::Path::new(&cert), algo);
        assert_eq!(ours, format!("{algo}${hex}\n"));
    }
    assert!(run_ok(&["fingerprint", "--pubkey", &cert]).starts_with("sha256$pub$"));
    assert_eq!(
        sslsock(&["fingerprint", "--algo", "sha3", &cert])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn connect_with_pins_accepts_only_the_pinned_certificate() {
    // A self-signed server: refused, then accepted with the pin `serve` printed.
    let (_srv, port, mut out) = serve(&["--count", "3"]);
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let pin = line.trim().rsplit(' ').next().unwrap().to_owned();
    let addr = format!("127.0.0.1:{port}");
    one_line_error(
        &sslsock(&["connect", &addr, "--sni", "localhost"]),
        1,
        "self-signed certificate",
    );
    let out = run_ok(&["connect", &addr, "--fingerprint", &pin]);
    assert!(
        out.contains("verification: ok (pinned fingerprint)"),
        "{out}"
    );
    let wrong = format!("sha256${}", "00".repeat(32));
    one_line_error(
        &sslsock(&["connect", &addr, "--fingerprint", &wrong]),
        1,
        "matches none of the pinned fingerprints",
    );

    // A server whose chain verifies is still refused with a wrong pin.
    let (_s, port) = s_server("srv-ec", &["-www"]);
    let addr = format!("127.0.0.1:{port}");
    let ca = f("ca.pem");
    run_ok(&["connect", &addr, "--ca-file", &ca, "--sni", "localhost"]);
    one_line_error(
        &sslsock(&[
            "connect",
            &addr,
            "--ca-file",
            &ca,
            "--sni",
            "localhost",
            "--fingerprint",
            &wrong,
        ]),
        1,
        "matches none of the pinned fingerprints",
    );
    one_line_error(
        &sslsock(&["connect", &addr, "--fingerprint", "sha256$xyz"]),
        2,
        "fingerprint \"sha256$xyz\"",
    );
}

#[test]
fn connect_scheme_and_crl_options() {
    let (_s, port) = s_server("revoked", &["-www"]);
    let addr = format!("127.0.0.1:{port}");
    let ca = f("ca.pem");
    // --scheme none accepts any name; an unknown scheme is a usage error.
    run_ok(&[
        "connect",
        &addr,
        "--ca-file",
        &ca,
        "--verify-name",
        "elsewhere.example",
        "--scheme",
        "none",
    ]);
    one_line_error(
        &sslsock(&[
            "connect",
            &addr,
            "--ca-file",
            &ca,
            "--verify-name",
            "elsewhere.example",
            "--scheme",
            "http",
        ]),
        1,
        "(scheme http)",
    );
    one_line_error(
        &sslsock(&["connect", &addr, "--scheme", "gopher"]),
        2,
        "invalid value 'gopher' for '--scheme <SCHEME>' [possible values: strict,",
    );
    // CRLs.
    let crl = openssl_crl(
        &pki().dir,
        "ca",
        &[(&pki().path("revoked.pem"), "unspecified")],
    );
    let base = [
        "connect",
        addr.as_str(),
        "--ca-file",
        ca.as_str(),
        "--sni",
        "localhost",
    ];
    let with = |extra: &[&str]| {
        let mut v = base.to_vec();
        v.extend_from_slice(extra);
        sslsock(&v)
    };
    one_line_error(
        &with(&["--crl-file", crl.to_str().unwrap()]),
        1,
        "was revoked on",
    );
    one_line_error(
        &with(&["--check-crl"]),
        1,
        "no CRL from issuer \"/CN=sslsock Test CA/O=sslsock tests\"",
    );
    assert!(with(&[]).status.success());
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

fn openssl_text(args: &[&str]) -> String {
    let o = Command::new("openssl").args(args).output().unwrap();
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn cert_create_makes_a_chain_openssl_verifies_and_serve_serves() {
    let d = pki().dir.join("cert-create");
    std::fs::create_dir_all(&d).unwrap();
    let path = |n: &str| d.join(n).to_str().unwrap().to_owned();
    run_ok(&[
        "cert",
        "create",
        "--ca",
        "--subject",
        "CN=CLI Root,O=Example",
        "--key-type",
        "rsa2048",
        "--out-cert",
        &path("root.pem"),
        "--out-key",
        &path("root.key"),
    ]);
    run_ok(&[
        "cert",
        "create",
        "--ca",
        "--subject",
        "CN=CLI Intermediate",
        "--ca-cert",
        &path("root.pem"),
        "--ca-key",
        &path("root.key"),
        "--out-cert",
        &path("mid.pem"),
        "--out-key",
        &path("mid.key"),
        "--key-password",
        "midpw",
    ]);
    let out = run_ok(&[
        "cert",
        "create",
        "--subject",
        "CN=localhost",
        "--san",
        "DNS:localhost,IP:127.0.0.1",
        "--ca-cert",
        &path("mid.pem"),
        "--ca-key",
        &path("mid.key"),
        "--ca-password",
        "midpw",
        "--purpose",
        "server",
        "--ocsp-url",
        "http://ocsp.example/",
        "--crl-url",
        "http://crl.example/x.crl",
        "--must-staple",
        "--days",
        "30",
        "--out-cert",
        &path("leaf.pem"),
        "--out-key",
        &path("leaf.key"),
        "--pkcs12",
        &path("leaf.p12"),
        "--password",
        "p12pw",
    ]);
    assert!(
        out.contains("issuer:      commonName=CLI Intermediate"),
        "{out}"
    );
    let verified = openssl_text(&[
        "verify",
        "-CAfile",
        &path("root.pem"),
        "-untrusted",
        &path("mid.pem"),
        &path("leaf.pem"),
    ]);
    assert!(verified.contains(": OK"), "{verified}");
    // The encrypted intermediate key is refused without its password.
    let o = sslsock(&[
        "cert",
        "create",
        "--ca-cert",
        &path("mid.pem"),
        "--ca-key",
        &path("mid.key"),
        "--out-cert",
        &path("x.pem"),
        "--out-key",
        &path("x.key"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no password was given"),
        "{}",
        stderr(&o)
    );
    // openssl reads the PKCS#12 file.
    openssl_text(&[
        "pkcs12",
        "-in",
        &path("leaf.p12"),
        "-passin",
        "pass:p12pw",
        "-nodes",
        "-noout",
    ]);
    // The leaf with its chain, served by `sslsock serve`, verifies in s_client.
    std::fs::write(
        d.join("chain.pem"),
        std::fs::read_to_string(d.join("leaf.pem")).unwrap()
            + &std::fs::read_to_string(d.join("mid.pem")).unwrap(),
    )
    .unwrap();
    let (_srv, port, _out) = serve(&[
        "--cert",
        &path("chain.pem"),
        "--key",
        &path("leaf.key"),
        "--mode",
        "http",
        "--count",
        "1",
    ]);
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
            &path("root.pem"),
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
    let text = String::from_utf8_lossy(&sc.wait_with_output().unwrap().stdout).into_owned();
    assert!(
        text.contains("Verify return code: 0 (ok)") && text.contains("HTTP/1.1 200 OK"),
        "{text}"
    );
    // The PKCS#12 file alone serves too, with its password; a wrong one is a one-line error.
    one_line_error(
        &sslsock(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--cert",
            &path("leaf.p12"),
            "--key-password",
            "nope",
        ]),
        2,
        "wrong password",
    );
    let (_srv, port, _out) = serve(&[
        "--cert",
        &path("leaf.p12"),
        "--key-password",
        "p12pw",
        "--count",
        "1",
    ]);
    // The leaf is marked must-staple and the server staples nothing: refused by default,
    // read with OCSP checks off.
    let addr = format!("127.0.0.1:{port}");
    let root = path("root.pem");
    one_line_error(
        &sslsock(&["connect", &addr, "--ca-file", &root, "--sni", "localhost"]),
        1,
        "the certificate (marked must-staple, RFC 7633) requires one",
    );
    let (_srv, port, _out) = serve(&[
        "--cert",
        &path("leaf.p12"),
        "--key-password",
        "p12pw",
        "--count",
        "1",
    ]);
    let out = run_ok(&[
        "connect",
        &format!("127.0.0.1:{port}"),
        "--ca-file",
        &root,
        "--sni",
        "localhost",
        "--ocsp",
        "none",
    ]);
    assert!(
        out.contains("1 subject: /CN=CLI Intermediate"),
        "chain from the PKCS#12 file: {out}"
    );
    assert!(out.contains("revocation: not checked"), "{out}");
}

fn month(m: &str) -> u32 {
    [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|x| *x == m)
    .unwrap() as u32
        + 1
}

/// "Nov 27 17:11:12 2026 GMT" as our "2026-11-27 17:11:12 UTC".
fn openssl_date(s: &str) -> String {
    let p: Vec<&str> = s.split_whitespace().collect();
    format!(
        "{}-{:02}-{:02} {} UTC",
        p[3],
        month(p[0]),
        p[1].parse::<u32>().unwrap(),
        p[2]
    )
}

#[test]
fn cert_show_json_agrees_with_openssl() {
    let d = pki().dir.join("cert-show");
    std::fs::create_dir_all(&d).unwrap();
    let path = |n: &str| d.join(n).to_str().unwrap().to_owned();
    let params = path("ec.params");
    openssl_text(&["ecparam", "-name", "prime256v1", "-out", &params]);
    for (name, newkey) in [
        ("rsa", "rsa:2048".to_owned()),
        ("ec", format!("ec:{params}")),
    ] {
        let key = path(&format!("{name}.key"));
        let cert = path(&format!("{name}.pem"));
        let mut args = vec![
            "req",
            "-x509",
            "-nodes",
            "-keyout",
            key.as_str(),
            "-out",
            cert.as_str(),
            "-days",
            "10",
            "-subj",
            "/C=DE/O=Example/CN=show.example",
        ];
        args.extend(["-newkey", newkey.as_str()]);
        args.extend([
            "-addext", "subjectAltName=DNS:show.example,DNS:*.show.example,IP:192.0.2.5,IP:2001:db8::5,email:me@show.example",
            "-addext", "keyUsage=critical,digitalSignature,keyAgreement",
            "-addext", "extendedKeyUsage=serverAuth,codeSigning",
            "-addext", "authorityInfoAccess=OCSP;URI:http://ocsp.show.example/",
            "-addext", "crlDistributionPoints=URI:http://crl.show.example/a.crl",
        ]);
        openssl_text(&args);
        let der = path(&format!("{name}.der"));
        openssl_text(&["x509", "-in", &cert, "-outform", "DER", "-out", &der]);
        let p12 = path(&format!("{name}.p12"));
        openssl_text(&[
            "pkcs12", "-export", "-in", &cert, "-inkey", &key, "-passout", "pass:pw", "-out", &p12,
        ]);
        for (input, extra) in [
            (&cert, vec![]),
            (&der, vec![]),
            (&p12, vec!["--password", "pw"]),
        ] {
            let mut a = vec!["cert", "show", "--json", input.as_str()];
            a.extend(extra.iter());
            let v: serde_json::Value = serde_json::from_str(&run_ok(&a)).unwrap();
            let fp = openssl_text(&["x509", "-in", &cert, "-noout", "-fingerprint", "-sha256"]);
            assert_eq!(
                v["fingerprint"],
                fp.trim().rsplit('=').next().unwrap(),
                "{name} {input}"
            );
            let serial = openssl_text(&["x509", "-in", &cert, "-noout", "-serial"]);
            let serial_hex = serial.trim().trim_start_matches("serial=").to_lowercase();
            let ours: String = v["serial_hex"].as_str().unwrap().replace(':', "");
            assert_eq!(
                ours.trim_start_matches('0'),
                serial_hex.trim_start_matches('0'),
                "{name}"
            );
            let dates = openssl_text(&["x509", "-in", &cert, "-noout", "-startdate", "-enddate"]);
            let mut lines = dates.lines();
            assert_eq!(
                v["not_before_text"],
                openssl_date(lines.next().unwrap().trim_start_matches("notBefore="))
            );
            assert_eq!(
                v["not_after_text"],
                openssl_date(lines.next().unwrap().trim_start_matches("notAfter="))
            );
            assert_eq!(
                v["subject_alt_names"],
                serde_json::json!([
                    ["DNS", "show.example"],
                    ["DNS", "*.show.example"],
                    ["IP", "192.0.2.5"],
                    ["IP", "2001:db8::5"],
                    ["EMAIL", "me@show.example"]
                ])
            );
            assert_eq!(
                v["keyusage"],
                serde_json::json!(["digitalSignature", "keyAgreement"])
            );
            assert_eq!(
                v["extkeyusage"],
                serde_json::json!(["serverAuth", "codeSigning"])
            );
            assert_eq!(
                v["ocsp_uri"],
                serde_json::json!(["http://ocsp.show.example/"])
            );
            assert_eq!(
                v["crl_uri"],
                serde_json::json!(["http://crl.show.example/a.crl"])
            );
            assert_eq!(
                v["subject"],
                serde_json::json!([
                    ["countryName", "DE"],
                    ["organizationName", "Example"],
                    ["commonName", "show.example"]
                ])
            );
            assert_eq!(v["version"], 2);
            assert_eq!(v["pubkey_type"], if name == "rsa" { "RSA" } else { "EC" });
            assert_eq!(v["pubkey_size"], if name == "rsa" { 2048 } else { 256 });
            let ku = v["extensions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["name"] == "keyUsage")
                .unwrap();
            assert_eq!(ku["critical"], true);
            assert_eq!(ku["value"], "Digital Signature, Key Agreement");
            let text = openssl_text(&["x509", "-in", &cert, "-noout", "-text"]);
            assert!(text.contains(ku["value"].as_str().unwrap()), "{text}");
        }
        one_line_error(
            &sslsock(&["cert", "show", &p12, "--password", "nope"]),
            2,
            "wrong password",
        );
        one_line_error(
            &sslsock(&["cert", "show", &p12]),
            2,
            "no password was given",
        );
    }
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
fn reconnect_resumes_against_ours_and_openssl_in_both_versions() {
    let ca = f("ca.pem");
    let (_srv, port, _out) = serve(&[
        "--cert",
        &f("srv-ec.pem"),
        "--key",
        &f("srv-ec.key"),
        "--count",
        "10",
    ]);
    for version in ["TLSv1_2", "TLSv1_3"] {
        let addr = format!("127.0.0.1:{port}");
        let o = run_ok(&[
            "connect",
            &addr,
            "--ca-file",
            &ca,
            "--sni",
            "localhost",
            "--reconnect",
            "5",
            "--version",
            version,
            "--send",
            r"x\n",
            "--timeout",
            "0.3",
            "--json",
        ]);
        let v: serde_json::Value = serde_json::from_str(&o).unwrap();
        assert_eq!(
            v["resumed"],
            serde_json::json!([2, 3, 4, 5]),
            "ours {version}: {o}"
        );
        assert_eq!(v["connections"][4]["version"], version);
    }
    for flag in ["-tls1_2", "-tls1_3"] {
        let (_s, port) = s_server("srv-ec", &["-www", flag]);
        let o = run_ok(&[
            "connect",
            &format!("127.0.0.1:{port}"),
            "--ca-file",
            &ca,
            "--sni",
            "localhost",
            "--reconnect",
            "5",
        ]);
        assert!(
            o.contains("resumed: 4 of 5 connections (2, 3, 4, 5)"),
            "openssl {flag}: {o}"
        );
        assert_eq!(
            o.matches("connection 1:   full handshake").count(),
            1,
            "{o}"
        );
    }
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

/// Both engines write SSLKEYLOGFILE, and what they write is the secrets the server holds
/// (`openssl s_server -keylogfile` logs the same lines).
#[test]
fn sslkeylogfile_is_honoured_when_set() {
    for engine in ["rustls", "openssl"] {
        let server_log = pki().dir.join(format!("keylog-server-{engine}.txt"));
        let _ = std::fs::remove_file(&server_log);
        let (_s, port) = s_server(
            "srv-ec",
            &["-www", "-keylogfile", &server_log.to_string_lossy()],
        );
        let log = pki().dir.join(format!("keylog-{engine}.txt"));
        let _ = std::fs::remove_file(&log);
        let o = Command::new(BIN)
            .args([
                "connect",
                &format!("127.0.0.1:{port}"),
                "--ca-file",
                &f("ca.pem"),
                "--sni",
                "localhost",
                "--engine",
                engine,
            ])
            .env("SSLKEYLOGFILE", &log)
            .output()
            .unwrap();
        assert!(o.status.success(), "{engine}: {}", stderr(&o));
        let text =
            std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("{engine}: no key log: {e}"));
        assert!(
            text.contains("CLIENT_HANDSHAKE_TRAFFIC_SECRET")
                && text.contains("CLIENT_TRAFFIC_SECRET_0"),
            "{engine}: {text}"
        );
        let server_text = std::fs::read_to_string(&server_log).unwrap();
        for line in text.lines().filter(|l| l.contains("TRAFFIC_SECRET")) {
            assert!(
                server_text.lines().any(|l| l == line),
                "{engine}: {line} is not the server's\n{server_text}"
            );
        }
    }
    // Unset: no file is written.
    let (_s, port) = s_server("srv-ec", &["-www"]);
    let quiet = pki().dir.join("keylog-unset.txt");
    let o = Command::new(BIN)
        .args([
            "connect",
            &format!("127.0.0.1:{port}"),
            "--ca-file",
            &f("ca.pem"),
            "--sni",
            "localhost",
        ])
        .env_remove("SSLKEYLOGFILE")
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(!quiet.exists());
}

/// The `RESULT` line of a bench client, as `key=value` pairs.
fn bench_result(out: &str) -> std::collections::HashMap<String, String> {
    let line = out
        .lines()
        .find(|l| l.starts_with("RESULT "))
        .unwrap_or_else(|| panic!("no RESULT line in {out:?}"));
    line.split_whitespace()
        .skip(1)
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[test]
fn bench_roles_speak_the_harness_protocol() {
    let port = free_port().to_string();
    let server = Command::new(BIN)
        .args(["bench", "server", "--port", &port, "--cert-file"])
        .arg(f("srv-ec.pem"))
        .arg("--key-file")
        .arg(f("srv-ec.key"))
        .args(["--max-seconds", "60"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let _server = Peer { child: server };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).is_err() {
        assert!(Instant::now() < deadline, "bench server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    for tls in ["1.2", "1.3"] {
        let full = bench_result(&run_ok(&[
            "bench",
            "handshake",
            "--port",
            &port,
            "--n",
            "3",
            "--tls",
            tls,
        ]));
        assert_eq!(full["conns"], "3", "{tls}: {full:?}");
        assert_eq!(full["reused"], "0", "{tls}: {full:?}");
        let want = if tls == "1.2" { "TLSv1_2" } else { "TLSv1_3" };
        assert_eq!(full["version"], want);
        // With --reuse every connection after the first resumes.
        let resumed = bench_result(&run_ok(&[
            "bench",
            "handshake",
            "--port",
            &port,
            "--n",
            "4",
            "--tls",
            tls,
            "--reuse",
        ]));
        assert_eq!(resumed["reused"], "3", "{tls}: {resumed:?}");
    }
    let bulk = bench_result(&run_ok(&["bench", "bulk", "--port", &port, "--mib", "2"]));
    assert_eq!(bulk["bytes"], (2 * 1024 * 1024).to_string());
    assert!(bulk["MBps"].parse::<f64>().unwrap() > 0.0, "{bulk:?}");
    assert_eq!(bulk["cipher"], "TLS_AES_128_GCM_SHA256", "{bulk:?}");
    let idle = bench_result(&run_ok(&[
        "bench",
        "idle",
        "--port",
        &port,
        "--conns",
        "20",
        "--hold-seconds",
        "0",
    ]));
    assert_eq!(idle["conns"], "20");
}

#[test]
fn connect_holds_the_common_name_to_name_constraints_under_every_scheme() {
    let roots = constrained::dir().join("roots.pem");
    let mut bad = Vec::new();
    for case in constrained::CASES {
        let addr = constrained::server(case.leaf).to_string();
        for (col, names) in constrained::FAMILIES.iter().enumerate() {
            let o = Command::new(BIN)
                .args(["connect", &addr, "--ca-file"])
                .arg(&roots)
                .args(["--verify-name", case.host, "--scheme", names[0]])
                .output()
                .unwrap();
            let outcome = if o.status.success() {
                Ok(())
            } else {
                assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
                Err(stderr(&o))
            };
            let got = constrained::letter(outcome);
            let want = case.expect.as_bytes()[col] as char;
            if got != want {
                bad.push(format!(
                    "{} {} --scheme {}: got {got}, want {want}: {}",
                    case.leaf,
                    case.host,
                    names[0],
                    stderr(&o)
                ));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn connect_showcerts_prints_the_chain_as_pem() {
    let (_s, port) = s_server("srv-ec", &["-www"]);
    let addr = format!("127.0.0.1:{port}");
    let out = run_ok(&[
        "connect",
        &addr,
        "--ca-file",
        &f("ca.pem"),
        "--sni",
        "localhost",
        "--showcerts",
    ]);
    let leaf = std::fs::read_to_string(f("srv-ec.pem")).unwrap();
    assert!(out.contains(leaf.trim()), "{out}");
    assert_eq!(
        out.matches("-----BEGIN CERTIFICATE-----").count(),
        1,
        "{out}"
    );
    let json = run_ok(&[
        "connect",
        &addr,
        "--ca-file",
        &f("ca.pem"),
        "--showcerts",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["chain_pem"][0].as_str().unwrap().trim(), leaf.trim());
    let brief = run_ok(&["connect", &addr, "--ca-file", &f("ca.pem"), "--brief"]);
    assert_eq!(brief.lines().count(), 1, "{brief}");
    assert!(
        brief.starts_with("TLSv1_3 TLS_") && brief.contains("/CN=localhost verification: ok"),
        "{brief}"
    );
}

#[test]
fn connect_stdin_streams_both_ways() {
    let (_s, port) = s_server("srv-ec", &["-www"]);
    let o = run_with_input(
        Command::new(BIN)
            .args([
                "connect",
                &format!("127.0.0.1:{port}"),
                "--ca-file",
                &f("ca.pem"),
                "--stdin",
            ])
            .stderr(Stdio::piped()),
        b"GET / HTTP/1.0\r\n\r\n",
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.contains("verification: ok"), "{out}");
    // openssl -www answers after the request and closes: the page comes after stdin ended.
    assert!(out.contains("HTTP/1.0 200 ok"), "{out}");
}

#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    let (_s, port) = s_server("srv-ec", &["-www"]);
    let mut child = Command::new(BIN)
        .args([
            "connect",
            &format!("127.0.0.1:{port}"),
            "--ca-file",
            &f("ca.pem"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader is gone before the first line is written (`| head -0`).
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
}

#[test]
fn local_file_errors_are_not_network_errors() {
    one_line_error(
        &sslsock(&["cert", "show", "/nonexistent/x.pem"]),
        2,
        "/nonexistent/x.pem",
    );
    one_line_error(
        &sslsock(&["fingerprint", "/nonexistent/x.pem"]),
        2,
        "/nonexistent/x.pem",
    );
    one_line_error(
        &sslsock(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--ticket-key-file",
            "/nonexistent/keys",
        ]),
        2,
        "/nonexistent/keys",
    );
    one_line_error(
        &sslsock(&["connect", "127.0.0.1:1", "--ca-file", "/nonexistent/ca.pem"]),
        2,
        "/nonexistent/ca.pem",
    );
}

#[test]
fn passwords_come_from_the_environment_or_a_file() {
    let d = pki().dir.join("passwords");
    std::fs::create_dir_all(&d).unwrap();
    let (cert, key) = (d.join("c.pem"), d.join("c.key"));
    let o = Command::new(BIN)
        .args([
            "cert",
            "create",
            "--san",
            "localhost",
            "--key-password",
            "env:SSLSOCK_TEST_PW",
        ])
        .arg("--out-cert")
        .arg(&cert)
        .arg("--out-key")
        .arg(&key)
        .env("SSLSOCK_TEST_PW", "s3cret")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(&key)
        .unwrap()
        .contains("ENCRYPTED PRIVATE KEY"));
    let pw_file = d.join("pw.txt");
    std::fs::write(&pw_file, "s3cret\n").unwrap();
    let fingerprint = |password: &str| {
        let o = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--count", "0", "--cert"])
            .arg(&cert)
            .arg("--key")
            .arg(&key)
            .args(["--password", password])
            .output()
            .unwrap();
        (o.status.code(), stderr(&o))
    };
    assert_eq!(
        fingerprint(&format!("file:{}", pw_file.display())).0,
        Some(0)
    );
    assert_eq!(fingerprint("pass:s3cret").0, Some(0));
    let (code, err) = fingerprint("pass:wrong");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("wrong password"), "{err}");
    let (code, err) = fingerprint("env:SSLSOCK_NO_SUCH_VARIABLE");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("environment variable SSLSOCK_NO_SUCH_VARIABLE is not set"),
        "{err}"
    );
}

#[test]
fn cert_show_json_is_one_object_per_line() {
    let two = pki().dir.join("two.pem");
    std::fs::write(
        &two,
        std::fs::read_to_string(f("srv-ec.pem")).unwrap()
            + &std::fs::read_to_string(f("ca.pem")).unwrap(),
    )
    .unwrap();
    for (file, n) in [(f("srv-ec.pem"), 1), (two.display().to_string(), 2)] {
        let out = run_ok(&["cert", "show", "--json", &file]);
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), n, "{out}");
        assert!(lines.iter().all(|v| v["subject"].is_array()), "{out}");
    }
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
fn debug_shows_the_library_log_and_warnings_show_without_it() {
    let (_s, port) = s_server("srv-ec", &["-www"]);
    let addr = format!("127.0.0.1:{port}");
    // The manual's debug levels: 1 the handshake's outcome, 2 also each certificate and the
    // session, 3 everything; -v is the same flag.
    for flag in ["-d", "-v"] {
        let o = sslsock(&[
            flag,
            "connect",
            &addr,
            "--ca-file",
            &f("ca.pem"),
            "--sni",
            "localhost",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("sslsock: info: client handshake done with localhost: TLSv1_3"),
            "{}",
            stderr(&o)
        );
        assert!(!stderr(&o).contains("sslsock: debug: "), "{}", stderr(&o));
    }
    let o = sslsock(&[
        "-dd",
        "connect",
        &addr,
        "--ca-file",
        &f("ca.pem"),
        "--sni",
        "localhost",
    ]);
    assert!(
        stderr(&o).contains("sslsock: debug: depth 0: /CN=localhost: accepted (sslsock::verify)"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o)
            .contains("sslsock: debug: full handshake (no session resumed) (sslsock::session)"),
        "{}",
        stderr(&o)
    );
    let o = sslsock(&[
        "-ddd",
        "connect",
        &addr,
        "--ca-file",
        &f("ca.pem"),
        "--sni",
        "localhost",
    ]);
    assert!(stderr(&o).contains("sslsock: trace: "), "{}", stderr(&o));
    let o = sslsock(&["connect", &addr, "--ca-file", &f("ca.pem")]);
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
    let o = sslsock(&["connect", &addr, "--no-verify"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("sslsock: warn: dangerous: peer verification is off"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn starttls_timeout_is_the_handshake_timeout() {
    // An SMTP server that agrees to STARTTLS and then says nothing until the client leaves.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(tcp.try_clone().unwrap());
        let mut tcp = tcp;
        let mut line = String::new();
        tcp.write_all(b"220 stall.example ESMTP\r\n").unwrap();
        reader.read_line(&mut line).unwrap();
        tcp.write_all(b"250 stall.example\r\n").unwrap();
        line.clear();
        reader.read_line(&mut line).unwrap();
        assert_eq!(line, "STARTTLS\r\n");
        tcp.write_all(b"220 go ahead\r\n").unwrap();
        // Read the ClientHello and whatever follows, answering nothing, until the client closes.
        let _ = Read::read_to_end(&mut reader, &mut Vec::new());
    });
    let o = sslsock(&[
        "connect",
        &format!("127.0.0.1:{port}"),
        "--starttls",
        "smtp",
        "--timeout",
        "1",
        "--ca-file",
        &f("ca.pem"),
    ]);
    one_line_error(
        &o,
        3,
        "timed out while waiting for the peer during the TLS handshake",
    );
    server.join().unwrap();
}

#[test]
fn dropped_groups_are_said_on_stderr() {
    let (_s, port) = s_server("srv-ec", &["-www"]);
    let o = sslsock(&[
        "connect",
        &format!("127.0.0.1:{port}"),
        "--ca-file",
        &f("ca.pem"),
        "--groups",
        "X448:ffdhe2048:P-256",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("sslsock: warn: group X448 is not available in this TLS engine; dropped")
            && err.contains("group ffdhe2048 is not available"),
        "{err}"
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("group:        secp256r1"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
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
fn the_command_says_what_the_library_says() {
    let (_s, port) = s_server("srv-ec", &["-www"]);
    let addr = format!("127.0.0.1:{port}");
    let opts = sslsock::Options::new()
        .ca_file(f("ca.pem"))
        .hostname("other.example");
    let library = sslsock::SslSocket::connect_with(&addr, &opts)
        .unwrap_err()
        .to_string();
    let o = sslsock(&[
        "connect",
        &addr,
        "--ca-file",
        &f("ca.pem"),
        "--sni",
        "other.example",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o).trim_end(), format!("sslsock: {library}"));
}

/// `openssl s_server -www` with a certificate of the OCSP lab, stapling `staple` if given.
fn lab_server(leaf: &str, staple: Option<&std::path::Path>) -> (Peer, u16) {
    ocsp_lab::lab().s_server(leaf, "int", staple, &[])
}

fn lab_file(name: &str) -> String {
    ocsp_lab::lab().path(name).display().to_string()
}

#[test]
fn connect_ocsp_must_needs_a_staple() {
    let (_s, port) = lab_server("good", None);
    let addr = format!("127.0.0.1:{port}");
    let root = lab_file("root.pem");
    let o = sslsock(&["connect", &addr, "--ca-file", &root, "--ocsp", "must"]);
    one_line_error(
        &o,
        1,
        "certificate verify failed: the server sent no OCSP staple, but the OCSP mode \"must\" requires one",
    );

    let lab = ocsp_lab::lab();
    let staple = lab.save(
        "cli-good.der",
        &lab.response("int", "good", ocsp_lab::Signer::Issuer, 60, false),
    );
    let (_s, port) = lab_server("good", Some(&staple));
    let addr = format!("127.0.0.1:{port}");
    let o = sslsock(&["connect", &addr, "--ca-file", &root, "--ocsp", "must"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.contains("revocation: good (stapled)"), "{out}");
}

#[test]
fn connect_ocsp_hard_asks_the_responder() {
    let root = lab_file("root.pem");
    let (_s, port) = lab_server("good", None);
    let addr = format!("127.0.0.1:{port}");
    let o = sslsock(&["connect", &addr, "--ca-file", &root]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("revocation: unknown (no stapled response)")
    );
    let o = sslsock(&[
        "connect",
        &addr,
        "--ca-file",
        &root,
        "--ocsp",
        "hard",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["revocation"], "good (responder)");

    let (_s, port) = lab_server("revoked", None);
    let addr = format!("127.0.0.1:{port}");
    let o = sslsock(&["connect", &addr, "--ca-file", &root, "--ocsp", "hard"]);
    one_line_error(&o, 1, "certificate \"/CN=localhost\"");
    assert!(
        stderr(&o).contains("reason: keyCompromise"),
        "{}",
        stderr(&o)
    );

    let o = sslsock(&[
        "connect",
        &addr,
        "--ca-file",
        &root,
        "--crl-fetch",
        "--brief",
    ]);
    one_line_error(&o, 1, "reason: keyCompromise");

    let o = sslsock(&["connect", &addr, "--ca-file", &root, "--ocsp", "sometimes"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("unknown OCSP mode \"sometimes\""),
        "{}",
        stderr(&o)
    );
}

#[test]
fn ocsp_command_reports_each_status() {
    let o = sslsock(&["ocsp", &lab_file("good-chain.pem")]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.contains("status:      good"), "{out}");
    assert!(out.contains("signed by /CN=OCSP Lab Intermediate"), "{out}");

    let o = sslsock(&[
        "ocsp",
        &lab_file("revoked.pem"),
        "--issuer",
        &lab_file("int.pem"),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["status"], "revoked");
    assert_eq!(v["reason"], "keyCompromise");
    assert_eq!(v["url"], ocsp_lab::lab().url("int"));
    assert!(v["next_update"].is_string());

    let o = sslsock(&["ocsp", &lab_file("unknown-chain.pem")]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("status:      unknown"));

    let o = sslsock(&["ocsp", &lab_file("good.pem")]);
    one_line_error(
        &o,
        2,
        "holds no issuer certificate after the certificate: give --issuer",
    );

    let port = free_port();
    let o = sslsock(&[
        "ocsp",
        &lab_file("good-chain.pem"),
        "--url",
        &format!("http://127.0.0.1:{port}/"),
    ]);
    one_line_error(
        &o,
        3,
        &format!("OCSP responder http://127.0.0.1:{port}/ could not be asked"),
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

/// A plain server that sends `greeting` (then keeps the connection until the client leaves).
fn plain_talker(greeting: impl Fn(&mut std::net::TcpStream) + Send + 'static) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        greeting(&mut tcp);
        let _ = Read::read_to_end(&mut tcp, &mut Vec::new());
    });
    port
}

#[test]
fn starttls_plain_phase_is_bounded() {
    let smtp = |port: u16, timeout: &str| {
        let start = Instant::now();
        let o = sslsock(&[
            "connect",
            &format!("127.0.0.1:{port}"),
            "--starttls",
            "smtp",
            "--timeout",
            timeout,
            "--ca-file",
            &f("ca.pem"),
        ]);
        (o, start.elapsed())
    };
    // One endless line: refused once it passes the line limit, memory stays small.
    let port = plain_talker(|t| {
        let chunk = vec![b'2'; 65_536];
        while t.write_all(&chunk).is_ok() {}
    });
    let (o, _) = smtp(port, "10");
    one_line_error(
        &o,
        1,
        "the server's greeting is a line longer than 8192 bytes (STARTTLS)",
    );

    // Endless continuation lines: cut by the line count.
    let port = plain_talker(|t| while t.write_all(b"220-still going\r\n").is_ok() {});
    let (o, took) = smtp(port, "3");
    one_line_error(
        &o,
        1,
        "the server's greeting runs over 1000 lines (STARTTLS)",
    );
    assert!(took < Duration::from_secs(3), "{took:?}");

    // Continuation lines trickled slowly: the deadline covers the whole dialogue.
    let port = plain_talker(|t| loop {
        if t.write_all(b"220-slowly\r\n").is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    });
    let (o, took) = smtp(port, "1");
    one_line_error(
        &o,
        3,
        "timed out after 1.0 s waiting for the server's greeting (STARTTLS)",
    );
    assert!(took < Duration::from_secs(3), "{took:?}");

    // No greeting at all.
    let port = plain_talker(|_| {});
    let (o, _) = smtp(port, "1");
    one_line_error(
        &o,
        3,
        "timed out after 1.0 s waiting for the server's greeting (STARTTLS)",
    );

    // A greeting that is not text: a protocol error, control bytes escaped.
    let port = plain_talker(|t| {
        let _ = t.write_all(b"220 \xff\xfe\x1b[2J\r\n");
    });
    let (o, _) = smtp(port, "5");
    one_line_error(&o, 1, "the server's greeting is not text");
    assert!(!stderr(&o).contains('\x1b'), "{}", stderr(&o));
}

#[test]
fn huge_timeouts_do_not_overflow() {
    let port = free_port();
    let o = sslsock(&["connect", &format!("127.0.0.1:{port}"), "--timeout", "1e20"]);
    one_line_error(&o, 3, "cannot connect to");
    let o = sslsock(&["connect", &format!("127.0.0.1:{port}"), "--timeout=-1"]);
    one_line_error(
        &o,
        2,
        "--timeout -1: must be a positive number of seconds (0 for none)",
    );
    let (_srv, port, _out) = serve(&[
        "--cert",
        &f("srv-ec.pem"),
        "--key",
        &f("srv-ec.key"),
        "--handshake-timeout",
        "1e20",
        "--count",
        "1",
    ]);
    let o = sslsock(&[
        "connect",
        &format!("127.0.0.1:{port}"),
        "--ca-file",
        &f("ca.pem"),
        "--sni",
        "localhost",
        "--timeout",
        "0",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn control_characters_from_certificates_are_escaped() {
    let d = sslsock_test_support::scratch_dir("escape");
    let issued = CertSpec::new("evil\x1b]0;owned\x07\0name")
        .san("localhost")
        .self_signed()
        .unwrap();
    std::fs::write(d.join("evil.pem"), &issued.cert_pem).unwrap();
    std::fs::write(d.join("evil.key"), &issued.key_pem).unwrap();
    let cert = d.join("evil.pem").display().to_string();
    let show = sslsock(&["cert", "show", &cert]);
    assert!(show.status.success(), "{}", stderr(&show));
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(
        !text.contains('\x1b') && !text.contains('\0') && !text.contains('\x07'),
        "{text:?}"
    );
    assert!(text.contains(r"evil\u{1b}]0;owned\u{7}\u{0}name"), "{text}");

    let (_srv, port, _out) = serve(&[
        "--cert",
        &cert,
        "--key",
        &d.join("evil.key").display().to_string(),
        "--count",
        "1",
    ]);
    let o = sslsock(&[
        "connect",
        &format!("127.0.0.1:{port}"),
        "--ca-file",
        &cert,
        "--sni",
        "other.example",
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(!err.contains('\x1b') && !err.contains('\x07'), "{err:?}");
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
    let warnings = err.matches("accept failed").count();
    assert!(
        (1..=5).contains(&warnings),
        "{warnings} accept warnings: {err}"
    );
}

#[test]
fn public_suffix_refuses_hostile_names_quickly() {
    let many = "a.".repeat(30_000) + "com";
    let start = Instant::now();
    let o = sslsock(&["public-suffix", &many]);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    one_line_error(
        &o,
        2,
        "a name of 60003 bytes is not a valid domain name (at most 253)",
    );
    let o = sslsock(&["public-suffix", &format!("{}.example.com", "x".repeat(64))]);
    one_line_error(&o, 2, "a label is longer than 63 bytes");
    let out = run_ok(&[
        "public-suffix",
        "--add",
        "18446744073709551615",
        "--json",
        "www.example.com",
    ]);
    assert_eq!(out, "{\"rest\":\"\",\"suffix\":\"www.example.com\"}\n");
}

#[test]
fn cert_create_refuses_a_ca_key_of_another_certificate() {
    let o = sslsock(&[
        "cert",
        "create",
        "--ca-cert",
        &f("ca.pem"),
        "--ca-key",
        &f("srv-ec.key"),
        "--out-cert",
        &sslsock_test_support::scratch_dir("wrong-ca-key")
            .join("x.pem")
            .display()
            .to_string(),
        "--out-key",
        &sslsock_test_support::scratch_dir("wrong-ca-key")
            .join("x.key")
            .display()
            .to_string(),
    ]);
    one_line_error(&o, 2, "the CA key does not belong to the CA certificate");
    assert!(!sslsock_test_support::scratch_dir("wrong-ca-key")
        .join("x.pem")
        .exists());
}

#[test]
fn endless_input_files_are_refused() {
    for args in [
        vec!["cert", "show", "/dev/zero"],
        vec!["connect", "127.0.0.1:1", "--cert", "/dev/zero"],
        vec!["connect", "127.0.0.1:1", "--crl-file", "/dev/zero"],
        vec!["fingerprint", "/dev/zero"],
    ] {
        let start = Instant::now();
        let o = sslsock(&args);
        one_line_error(&o, 2, "/dev/zero");
        assert!(
            stderr(&o).contains("larger than 32 MiB; refused"),
            "{args:?}: {}",
            stderr(&o)
        );
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{:?}",
            start.elapsed()
        );
    }
}

#[test]
fn messages_are_words_not_internal_names() {
    let d = sslsock_test_support::scratch_dir("words");
    let unended = d.join("unended.pem");
    std::fs::write(&unended, "-----BEGIN CERTIFICATE-----\nMIIB\n").unwrap();
    let o = sslsock(&["cert", "show", &unended.display().to_string()]);
    one_line_error(
        &o,
        2,
        "a PEM block has no end line (\"-----END CERTIFICATE-----\" is missing)",
    );
    let bad64 = d.join("bad64.pem");
    std::fs::write(
        &bad64,
        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let o = sslsock(&["cert", "show", &bad64.display().to_string()]);
    one_line_error(&o, 2, "the base64 inside a PEM block is invalid");
    assert!(!stderr(&o).contains("InvalidCharacter"), "{}", stderr(&o));

    // A CA certificate served as the server's own.
    let (_srv, port, _out) = serve(&[
        "--cert",
        &f("ca.pem"),
        "--key",
        &f("ca.key"),
        "--count",
        "1",
    ]);
    let o = sslsock(&[
        "connect",
        &format!("127.0.0.1:{port}"),
        "--ca-file",
        &f("ca.pem"),
    ]);
    one_line_error(&o, 1, "the peer presented a CA certificate as its own");

    // A handshake record without a payload.
    let port = plain_talker(|t| {
        let _ = t.write_all(&[0x16, 0x03, 0x03, 0x00, 0x00]);
    });
    let o = sslsock(&[
        "connect",
        &format!("127.0.0.1:{port}"),
        "--ca-file",
        &f("ca.pem"),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let camel = err.split(|c: char| !c.is_alphanumeric()).any(|w| {
        w.len() > 3
            && w.chars().next().is_some_and(char::is_uppercase)
            && w.chars().skip(1).any(char::is_uppercase)
            && w.chars().any(char::is_lowercase)
    });
    assert!(!camel, "an internal name in: {err}");
}

#[test]
fn connect_send_streams_the_reply() {
    // The server answers in two parts, the second only after the client printed the first.
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let release_rx = std::sync::Mutex::new(release_rx);
    let (addr, h) = sslsock_test_support::serve(
        sslsock_test_support::server_opts().server(true),
        1,
        move |mut s| {
            let mut line = String::new();
            s.read_line(&mut line).map_err(|e| e.to_string())?;
            s.write_all(b"first part\n").map_err(|e| e.to_string())?;
            s.flush().map_err(|e| e.to_string())?;
            let _ = release_rx
                .lock()
                .unwrap()
                .recv_timeout(Duration::from_secs(20));
            s.write_all(b"second part\n").map_err(|e| e.to_string())?;
            s.close().map_err(|e| e.to_string())
        },
    );
    let mut child = Command::new(BIN)
        .args([
            "connect",
            &addr.to_string(),
            "--ca-file",
            &f("ca.pem"),
            "--sni",
            "localhost",
        ])
        .args(["--send", r"hi\n", "--timeout", "30"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while line != "first part\n" {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "stdout ended before the first part"
        );
    }
    // Printed while the server still holds the rest back (it waits up to 20 s).
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    release_tx.send(()).unwrap();
    line.clear();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "second part\n");
    assert!(child.wait().unwrap().success());
    h.join().unwrap().remove(0).unwrap();
}

#[test]
fn connect_takes_io_socket_ssl_arguments() {
    let (_s, port) = s_server("srv-ec", &["-www"]);
    let addr = format!("127.0.0.1:{port}");
    let ca = f("ca.pem");
    let out = run_ok(&[
        "connect",
        &addr,
        "--sni",
        "localhost",
        "-o",
        &format!("SSL_ca_file={ca}"),
        "-o",
        "SSL_version=TLSv1_2",
        "-o",
        "SSL_cipher_list=ECDHE-ECDSA-AES128-GCM-SHA256",
        "--brief",
    ]);
    assert!(
        out.starts_with("TLSv1_2 ECDHE-ECDSA-AES128-GCM-SHA256 /CN=localhost verification: ok"),
        "{out}"
    );
    let o = sslsock(&["connect", &addr, "-o", "SSL_version=TLSv1"]);
    one_line_error(&o, 2, "SSL_version: protocol version \"TLSv1\"");
    assert!(
        stderr(&o).contains("the openssl engine offers it"),
        "{}",
        stderr(&o)
    );
    let o = sslsock(&["connect", &addr, "-o", "SSL_dh_file=dh.pem"]);
    one_line_error(
        &o,
        2,
        "SSL_dh_file: finite-field DHE is not available on the default engine; the openssl engine has it",
    );
    let o = sslsock(&["connect", &addr, "-o", "SSL_nonsense=1"]);
    one_line_error(&o, 2, "SSL_nonsense: unknown key");
    let o = sslsock(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "-o",
        "SSL_npn_protocols=spdy/3",
    ]);
    one_line_error(
        &o,
        2,
        "SSL_npn_protocols: NPN is obsolete and not available on the default engine",
    );
}

/// A proxy CA made with `sslsock cert create --ca`, and `sslsock intercept` trusting the test
/// CA upstream, with `extra` arguments; (dir, proxy port, proxy process).
fn intercept_proxy(name: &str, extra: &[&str]) -> (std::path::PathBuf, u16, Peer) {
    let (d, port, peer, _lines) = intercept_proxy_lines(name, extra);
    (d, port, peer)
}

/// [`intercept_proxy`], with the lines the proxy prints after its first.
fn intercept_proxy_lines(
    name: &str,
    extra: &[&str],
) -> (
    std::path::PathBuf,
    u16,
    Peer,
    std::sync::mpsc::Receiver<String>,
) {
    let d = sslsock_test_support::scratch_dir(name);
    let ca = d.join("proxy-ca.pem").display().to_string();
    let key = d.join("proxy-ca.key").display().to_string();
    run_ok(&[
        "cert",
        "create",
        "--ca",
        "--subject",
        "CN=Test Intercept CA",
        "--out-cert",
        &ca,
        "--out-key",
        &key,
    ]);
    let mut child = Command::new(BIN)
        .args([
            "intercept",
            "--listen",
            "127.0.0.1:0",
            "--ca-cert",
            &ca,
            "--ca-key",
            &key,
        ])
        .args(["--upstream-ca", &f("ca.pem"), "--log-dir"])
        .arg(d.join("logs"))
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let port = first.trim().rsplit(':').next().unwrap().parse().unwrap();
    // Keep the tunnel log drained; the lines go to whoever listens.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in out.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (d, port, Peer { child }, rx)
}

#[test]
fn intercept_proxies_curl_python_and_openssl_with_forged_certificates() {
    require("curl");
    // The upstream speaks http/1.1 only: the client's offer (h2, http/1.1) goes upstream, and
    // the client gets what upstream chose.
    let (_s, up) = s_server("srv-ec", &["-www", "-alpn", "http/1.1"]);
    let (d, proxy, _p) = intercept_proxy("intercept-cli", &["--allow-port", &up.to_string()]);
    let ca = d.join("proxy-ca.pem").display().to_string();
    // curl through the proxy gets the upstream page, trusting only the proxy CA.
    let o = Command::new("curl")
        .args([
            "-sS",
            "--proxy",
            &format!("http://127.0.0.1:{proxy}"),
            "--cacert",
            &ca,
        ])
        .arg(format!("https://localhost:{up}/"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("s_server"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // Python's ssl through a CONNECT tunnel.
    let py = format!(
        r#"
import socket, ssl
s = socket.create_connection(("127.0.0.1", {proxy}))
s.sendall(b"CONNECT localhost:{up} HTTP/1.1\r\nHost: localhost:{up}\r\n\r\n")
head = b""
while not head.endswith(b"\r\n\r\n"):
    head += s.recv(1)
assert head.startswith(b"HTTP/1.1 200"), head
ctx = ssl.create_default_context(cafile="{ca}")
ctx.set_alpn_protocols(["h2", "http/1.1"])
t = ctx.wrap_socket(s, server_hostname="localhost")
print(t.selected_alpn_protocol())
t.sendall(b"GET / HTTP/1.0\r\n\r\n")
data = b""
while True:
    chunk = t.recv(4096)
    if not chunk:
        break
    data += chunk
print(data.split(b"\r\n")[0].decode())
"#
    );
    let o = Command::new("python3").args(["-c", &py]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "http/1.1\nHTTP/1.0 200 ok"
    );
    // The forged chain, seen by openssl s_client through the proxy: it verifies under the
    // proxy CA and carries the upstream's subject and SANs; a second connection gets the same
    // certificate (the cache).
    let chain = |n: usize| {
        let o = run_with_input(
            Command::new("openssl").args([
                "s_client",
                "-proxy",
                &format!("127.0.0.1:{proxy}"),
                "-connect",
                &format!("localhost:{up}"),
                "-servername",
                "localhost",
                "-showcerts",
            ]),
            b"",
        );
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        let pem = text
            .split("-----BEGIN CERTIFICATE-----")
            .nth(1)
            .and_then(|r| r.split("-----END CERTIFICATE-----").next())
            .map(|b| format!("-----BEGIN CERTIFICATE-----{b}-----END CERTIFICATE-----\n"))
            .unwrap_or_else(|| panic!("no certificate: {text}"));
        let file = d.join(format!("forged{n}.pem"));
        std::fs::write(&file, &pem).unwrap();
        file
    };
    let first = chain(1);
    let verified = sslsock_test_support::openssl_in(
        &d,
        &[
            std::ffi::OsStr::new("verify"),
            "-CAfile".as_ref(),
            ca.as_ref(),
            first.as_os_str(),
        ],
    );
    assert!(String::from_utf8_lossy(&verified).trim().ends_with(": OK"));
    let text = String::from_utf8_lossy(&sslsock_test_support::openssl_in(
        &d,
        &[
            std::ffi::OsStr::new("x509"),
            "-noout".as_ref(),
            "-text".as_ref(),
            "-in".as_ref(),
            first.as_os_str(),
        ],
    ))
    .into_owned();
    assert!(
        text.contains("Subject: CN = localhost") && text.contains("DNS:localhost"),
        "{text}"
    );
    assert!(text.contains("Issuer: CN = Test Intercept CA"), "{text}");
    let second = chain(2);
    assert_eq!(
        std::fs::read(&first).unwrap(),
        std::fs::read(&second).unwrap(),
        "the cache gave the same clone"
    );
    // The plaintext of each tunnel is in the log directory.
    let logs: Vec<_> = std::fs::read_dir(d.join("logs"))
        .unwrap()
        .flatten()
        .collect();
    assert!(logs.len() >= 2, "{logs:?}");
    let any = logs
        .iter()
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect::<String>();
    assert!(
        any.contains(">>> client\nGET / HTTP/1.1") && any.contains("<<< server\nHTTP/1.0 200 ok"),
        "{any}"
    );
}

#[test]
fn intercept_refuses_an_unverified_upstream_with_502() {
    // An upstream whose certificate the test CA did not issue.
    let (_s, up) = s_server("selfsigned-rsa", &["-www"]);
    let (_d, proxy, _p) = intercept_proxy("intercept-502", &["--allow-port", &up.to_string()]);
    let mut t = std::net::TcpStream::connect(("127.0.0.1", proxy)).unwrap();
    t.write_all(format!("CONNECT localhost:{up} HTTP/1.1\r\n\r\n").as_bytes())
        .unwrap();
    let mut answer = String::new();
    t.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 502 Bad Gateway"), "{answer}");
    assert!(
        answer.contains("its certificate did not verify"),
        "{answer}"
    );
}

#[test]
fn intercept_carries_50_concurrent_tunnels_of_1_mib() {
    let (_srv, up, _out) = serve(&[
        "--cert",
        &f("srv-ec.pem"),
        "--key",
        &f("srv-ec.key"),
        "--mode",
        "echo",
    ]);
    let (d, proxy, _p) = intercept_proxy("intercept-load", &["--allow-port", &up.to_string()]);
    let ca = d.join("proxy-ca.pem");
    let handles: Vec<_> = (0..50u32)
        .map(|i| {
            let ca = ca.clone();
            std::thread::spawn(move || {
                let (t, head) = tunnel_through(proxy, &format!("localhost:{up}"));
                assert!(head.starts_with(b"HTTP/1.1 200"));
                let opts = sslsock::Options::new()
                    .ca_file(ca)
                    .timeout(Duration::from_secs(60));
                let mut s = sslsock::SslSocket::new_client(t, &opts, "localhost").unwrap();
                s.connect_ssl().unwrap();
                let data: Vec<u8> = (0..1 << 20)
                    .map(|k: u32| (k.wrapping_mul(31).wrapping_add(i)) as u8)
                    .collect();
                let sent: u64 = data.iter().map(|&x| u64::from(x)).sum();
                let mut w = s;
                let mut got = 0u64;
                let mut n = 0usize;
                let mut buf = vec![0u8; 65536];
                for chunk in data.chunks(65536) {
                    w.write_all(chunk).unwrap();
                    let mut left = chunk.len();
                    while left > 0 {
                        let k = w.read(&mut buf[..left]).unwrap();
                        assert!(k > 0);
                        got += buf[..k].iter().map(|&x| u64::from(x)).sum::<u64>();
                        n += k;
                        left -= k;
                    }
                }
                assert_eq!(n, 1 << 20);
                assert_eq!(got, sent);
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn connect_with_ech_accepted_rejected_and_grease() {
    use sslsock_test_support::ech_lab::{ech_lab, BsslServer, PUBLIC_NAME, SECRET_NAME};
    let lab = ech_lab();
    let ca = lab.ca.display().to_string();
    let list = lab.list.display().to_string();
    let server = BsslServer::start("both", true);
    let addr = format!("127.0.0.1:{}", server.port);
    let base = ["connect", &addr, "--sni", SECRET_NAME, "--ca-file", &ca];
    // The configuration as a file.
    let out = run_ok(&[&base[..], &["--ech-config", &list]].concat());
    assert!(out.contains("ech:          accepted"), "{out}");
    assert!(out.contains("verification: ok"), "{out}");
    // As base64 on the command line, with --json.
    let b64 = sslsock::ech::EchConfigList::from_file(&lab.list)
        .unwrap()
        .to_base64();
    let out = run_ok(&[&base[..], &["--ech-config", &b64, "--json"]].concat());
    let json: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(json["ech"], "accepted", "{out}");
    let srv = server.wait_for("Encrypted ClientHello: yes", 2);
    assert_eq!(
        srv.matches("Encrypted ClientHello: yes").count(),
        2,
        "{srv}"
    );
    assert!(!srv.contains(&format!("SNI: {PUBLIC_NAME}")), "{srv}");

    // Another key: refused, saying so, with the server's configuration in base64 to retry with.
    let other = lab.other_list.display().to_string();
    let o = sslsock(&[&base[..], &["--ech-config", &other]].concat());
    one_line_error(&o, 1, "the server rejected Encrypted Client Hello (ECH)");
    assert!(stderr(&o).contains(&b64), "{}", stderr(&o));
    let srv = server.wait_for(&format!("SNI: {PUBLIC_NAME}"), 1);
    assert!(srv.contains(&format!("SNI: {PUBLIC_NAME}")), "{srv}");

    // GREASE: the server sees no ECH and the name in the clear.
    let out = run_ok(&[&base[..], &["--ech-grease"]].concat());
    assert!(out.contains("ech:          grease"), "{out}");
    let srv = server.wait_for("Encrypted ClientHello: no", 2);
    assert_eq!(srv.matches("Encrypted ClientHello: no").count(), 2, "{srv}");
    // Without either flag: off.
    let out = run_ok(&base);
    assert!(out.contains("ech:          off"), "{out}");

    // TLS 1.2 only with ECH: a usage error naming the reason.
    let o = sslsock(&[&base[..], &["--ech-grease", "--version", "TLSv1_2"]].concat());
    one_line_error(&o, 2, "needs TLS 1.3");
    let o = sslsock(&[&base[..], &["--ech-config", "not-a-file-nor-base64!"]].concat());
    one_line_error(&o, 2, "neither a file nor a base64 ECH configuration list");
}

#[cfg(feature = "openssl")]
#[test]
fn connect_on_the_openssl_engine_to_tls10_and_with_psk() {
    let ca = f("ca.pem");
    let (_s, port) = s_server(
        "srv-ec",
        &["-www", "-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"],
    );
    let addr = format!("127.0.0.1:{port}");
    let base = ["connect", &addr, "--ca-file", &ca, "--sni", "localhost"];
    let out = run_ok(&[&base[..], &["--engine", "openssl", "--version", "TLSv1"]].concat());
    assert!(out.contains("version:      TLSv1\n"), "{out}");
    assert!(out.contains("verification: ok"), "{out}");
    // Without the engine: refused before connecting, naming it.
    let o = sslsock(&[&base[..], &["--version", "TLSv1"]].concat());
    one_line_error(&o, 2, "the openssl engine offers it");
    let o = sslsock(&[&base[..], &["--engine", "openssl", "--version", "SSLv3"]].concat());
    one_line_error(&o, 2, "neither engine offers it");

    let (_p, port) = s_server(
        "srv-ec",
        &[
            "-www",
            "-nocert",
            "-psk",
            "00112233445566778899aabbccddeeff",
            "-psk_identity",
            "me",
        ],
    );
    let addr = format!("127.0.0.1:{port}");
    let psk = [
        "--psk",
        "00112233445566778899aabbccddeeff",
        "--psk-identity",
        "me",
    ];
    let out = run_ok(&[&["connect", &addr, "--engine", "openssl"][..], &psk].concat());
    assert!(out.contains("version:      TLSv1_3"), "{out}");
    // No certificate, so nothing to revoke: not an "unknown" revocation status.
    assert!(
        out.contains("revocation: not applicable (no certificate: the pre-shared key authenticated the server)"),
        "{out}"
    );
    let o = sslsock(&[&["connect", &addr][..], &psk].concat());
    one_line_error(&o, 2, "openssl engine");
    let o = sslsock(&[
        "connect",
        &addr,
        "--engine",
        "openssl",
        "--psk",
        "abc",
        "--psk-identity",
        "me",
    ]);
    one_line_error(&o, 2, "not an even number of hex digits");
}

/// The cipher of `openssl s_client`'s handshake, `(NONE)` when the handshake failed.
#[cfg(feature = "openssl")]
fn s_client_cipher(port: u16, args: &[&str]) -> String {
    let out = run_with_input(
        Command::new("openssl")
            .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
            .args(args)
            .stderr(Stdio::null()),
        b"",
    );
    if !out.status.success() {
        return "(NONE)".to_owned();
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find_map(|l| l.split_once("Cipher is ").map(|(_, c)| c.trim().to_owned()))
        .unwrap_or_else(|| format!("(no cipher line: {text})"))
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

/// Opens a tunnel through the proxy at `proxy` to `target`: the stream after the proxy's
/// answer, and that answer's head.
fn tunnel_through(proxy: u16, target: &str) -> (std::net::TcpStream, Vec<u8>) {
    let mut t = std::net::TcpStream::connect(("127.0.0.1", proxy)).unwrap();
    t.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    t.write_all(format!("CONNECT {target} HTTP/1.1\r\n\r\n").as_bytes())
        .unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        t.read_exact(&mut b).unwrap();
        head.push(b[0]);
    }
    (t, head)
}

/// Sends `CONNECT target` through the proxy at `proxy`; the whole answer.
fn connect_through(proxy: u16, target: &str) -> String {
    let mut t = std::net::TcpStream::connect(("127.0.0.1", proxy)).unwrap();
    t.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    t.write_all(format!("CONNECT {target} HTTP/1.1\r\n\r\n").as_bytes())
        .unwrap();
    let mut answer = String::new();
    let _ = t.read_to_string(&mut answer);
    answer
}

#[test]
fn intercept_reaches_allowed_ports_only_and_never_echoes_upstream_bytes() {
    // A service that is not TLS, with a banner that must not reach the client.
    let plain = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let plain_port = plain.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in plain.incoming().flatten().take(2) {
            let mut s = s;
            let _ = s.write_all(b"SECRET-BANNER internal service v1\r\n");
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let (d, proxy, _p) = intercept_proxy(
        "intercept-ports",
        &["--allow-port", &plain_port.to_string()],
    );
    // A port not allowed (443 is not given): refused, saying why, with nothing connected.
    let other = free_port();
    let answer = connect_through(proxy, &format!("127.0.0.1:{other}"));
    assert!(answer.starts_with("HTTP/1.1 403 Forbidden"), "{answer}");
    assert!(
        answer.contains("is not allowed") && answer.contains("--allow-port"),
        "{answer}"
    );
    // The allowed port of a service that is not TLS: a 502 in our words only.
    let answer = connect_through(proxy, &format!("127.0.0.1:{plain_port}"));
    assert!(answer.starts_with("HTTP/1.1 502 Bad Gateway"), "{answer}");
    assert!(
        !answer.contains("SECRET") && !answer.contains("internal"),
        "{answer}"
    );
    // The log directory and its files are the owner's only.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(d.join("logs"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o700, "log directory mode {mode:o}");
}

#[test]
fn intercept_logs_are_private_files() {
    let (_s, up) = s_server("srv-ec", &["-www"]);
    let (d, proxy, _p) = intercept_proxy("intercept-logs", &["--allow-port", &up.to_string()]);
    let ca = d.join("proxy-ca.pem");
    let (t, _) = tunnel_through(proxy, &format!("localhost:{up}"));
    let opts = sslsock::Options::new().ca_file(&ca).hostname("localhost");
    let mut s = sslsock::SslSocket::start_ssl(t, &opts)
        .map_err(|e| e.error)
        .unwrap();
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut page = Vec::new();
    let _ = s.read_to_end(&mut page);
    drop(s);
    use std::os::unix::fs::PermissionsExt;
    let deadline = Instant::now() + Duration::from_secs(10);
    let log = loop {
        let found = std::fs::read_dir(d.join("logs")).unwrap().flatten().next();
        if let Some(entry) = found {
            break entry.path();
        }
        assert!(Instant::now() < deadline, "no log file written");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mode = std::fs::metadata(&log).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{}: mode {mode:o}", log.display());
}

#[test]
fn intercept_cuts_idle_clients_and_caps_tunnels() {
    let (_s, up) = s_server("srv-ec", &["-www"]);
    let (d, proxy, _p) = intercept_proxy(
        "intercept-cap",
        &[
            "--allow-port",
            &up.to_string(),
            "--max-connections",
            "4",
            "--handshake-timeout",
            "1",
        ],
    );
    // Four clients that connect and say nothing hold every slot, until the deadline.
    let started = Instant::now();
    let idle: Vec<_> = (0..4)
        .map(|_| {
            let t = std::net::TcpStream::connect(("127.0.0.1", proxy)).unwrap();
            t.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            t
        })
        .collect();
    // A good client still gets through once they are cut.
    let ca = d.join("proxy-ca.pem");
    let (t, head) = tunnel_through(proxy, &format!("localhost:{up}"));
    assert!(
        head.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    let opts = sslsock::Options::new().ca_file(&ca).hostname("localhost");
    let s = sslsock::SslSocket::start_ssl(t, &opts)
        .map_err(|e| e.error)
        .unwrap();
    drop(s);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "the cap did not hold"
    );
    // The idle clients were closed by the proxy.
    for mut t in idle {
        let mut buf = [0u8; 16];
        match t.read(&mut buf) {
            Ok(0) => {}
            other => panic!("an idle client is still open: {other:?}"),
        }
    }
}

#[test]
fn a_written_private_key_is_the_owners_only_even_over_an_existing_file() {
    use std::os::unix::fs::PermissionsExt;
    let d = sslsock_test_support::scratch_dir("key-mode");
    let (cert, key) = (d.join("c.pem"), d.join("k.pem"));
    std::fs::write(&key, "old, world-readable").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    run_ok(&[
        "cert",
        "create",
        "--subject",
        "CN=mode.example",
        "--out-cert",
        cert.to_str().unwrap(),
        "--out-key",
        key.to_str().unwrap(),
    ]);
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "key mode {mode:o}");
    assert!(std::fs::read_to_string(&key)
        .unwrap()
        .contains("PRIVATE KEY"));
    // Nothing left beside it.
    let names: Vec<String> = std::fs::read_dir(&d)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn cert_create_refuses_an_oid_der_cannot_encode() {
    let d = sslsock_test_support::scratch_dir("odd-oid");
    let o = sslsock(&[
        "cert",
        "create",
        "--subject",
        "3.7=x",
        "--out-cert",
        d.join("c.pem").to_str().unwrap(),
        "--out-key",
        d.join("k.pem").to_str().unwrap(),
    ]);
    one_line_error(&o, 2, "3.7");
}

#[test]
fn intercept_goes_on_with_other_tunnels_while_it_forges() {
    // An upstream with an RSA-4096 key: its clone takes a new RSA-4096 key.
    let d = sslsock_test_support::scratch_dir("intercept-rsa4096");
    let ca_dir = std::path::Path::new(&f("ca.pem"))
        .parent()
        .unwrap()
        .to_owned();
    let out = Command::new("openssl")
        .current_dir(&d)
        .args([
            "req", "-x509", "-newkey", "rsa:4096", "-nodes", "-keyout", "big.key",
        ])
        .args(["-out", "big.pem", "-subj", "/CN=localhost", "-days", "30"])
        .args(["-addext", "subjectAltName=DNS:localhost"])
        .args(["-addext", "basicConstraints=critical,CA:false"])
        .arg("-CA")
        .arg(ca_dir.join("ca.pem"))
        .arg("-CAkey")
        .arg(ca_dir.join("ca.key"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_s, up) = sslsock_test_support::spawn_listening(|port| {
        let mut cmd = Command::new("openssl");
        cmd.current_dir(&d)
            .args(["s_server", "-accept", &format!("127.0.0.1:{port}")])
            .args(["-cert", "big.pem", "-key", "big.key", "-www"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    });
    // One runtime thread: a forge on it would hold every other tunnel.
    let (pd, proxy, _p, lines) = intercept_proxy_lines(
        "intercept-forge",
        &["--allow-port", &up.to_string(), "--threads", "1"],
    );
    let ca = pd.join("proxy-ca.pem");
    let first = std::thread::spawn(move || {
        let (t, _) = tunnel_through(proxy, &format!("localhost:{up}"));
        let opts = sslsock::Options::new().ca_file(&ca).hostname("localhost");
        sslsock::SslSocket::start_ssl(t, &opts)
            .map(drop)
            .map_err(|e| e.error.to_string())
    });
    let next = |what: &str| {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("waiting for {what}: {e}"));
        assert!(!line.starts_with("tunnel 1 from"), "{line}");
        line
    };
    let mut seen = Vec::new();
    while !seen
        .last()
        .is_some_and(|l: &String| l.starts_with("tunnel 1: forging"))
    {
        seen.push(next("the first tunnel's forge"));
    }
    // While the first tunnel's key is made, another client is answered.
    let answer = connect_through(proxy, "127.0.0.1:1");
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    let mut during = Vec::new();
    loop {
        let line = next("the end of the forge");
        if line.starts_with("tunnel 1: forged") {
            break;
        }
        during.push(line);
    }
    assert!(
        during.iter().any(|l| l.starts_with("tunnel 2 from")),
        "the second tunnel waited for the first one's forge: {seen:?} {during:?}"
    );
    first.join().unwrap().unwrap();
}

#[test]
fn connect_refuses_to_stay_plain() {
    let (_s, port) = s_server("srv-ec", &["-www"]);
    let o = sslsock(&[
        "connect",
        &format!("127.0.0.1:{port}"),
        "--ca-file",
        &f("ca.pem"),
        "--sni",
        "localhost",
        "-o",
        "SSL_startHandshake=0",
    ]);
    one_line_error(&o, 2, "SSL_startHandshake=0 leaves the connection plain");
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

/// `-o SSL_ocsp_mode=...` is the mode in force, as `--ocsp` is: FAIL_HARD asks the
/// responder, which knows the certificate is revoked.
#[test]
fn perl_ocsp_mode_asks_the_responder() {
    let root = lab_file("root.pem");
    let (_s, port) = lab_server("revoked", None);
    let addr = format!("127.0.0.1:{port}");
    let o = sslsock(&[
        "connect",
        &addr,
        "--ca-file",
        &root,
        "-o",
        "SSL_ocsp_mode=SSL_OCSP_FULL_CHAIN|SSL_OCSP_FAIL_HARD",
    ]);
    one_line_error(&o, 1, "certificate \"/CN=localhost\"");
    assert!(
        stderr(&o).contains("reason: keyCompromise"),
        "{}",
        stderr(&o)
    );
}

/// `-o Timeout` bounds the plain STARTTLS dialogue as `--timeout` does.
#[test]
fn perl_timeout_bounds_the_starttls_dialogue() {
    let port = plain_talker(|_| {});
    let o = sslsock(&[
        "connect",
        &format!("127.0.0.1:{port}"),
        "--starttls",
        "smtp",
        "-o",
        "Timeout=1",
        "--ca-file",
        &f("ca.pem"),
    ]);
    one_line_error(
        &o,
        3,
        "timed out after 1.0 s waiting for the server's greeting (STARTTLS)",
    );
}

/// `-o PeerAddr` is the address when none is given; the connection's identity is the one
/// the library's constructors resolve for the same inputs (the `target` of `--json`).
#[test]
fn perl_peer_addr_is_the_address_and_the_target_is_reported() {
    let (_s, port) = s_server("srv-ec", &["-www"]);
    let peer = format!("localhost:{port}");
    let o = sslsock(&[
        "connect",
        "--ca-file",
        &f("ca.pem"),
        "-o",
        &format!("PeerAddr={peer}"),
        "-o",
        "Timeout=7",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["address"], peer.as_str());
    assert_eq!(
        v["target"],
        serde_json::json!({
            "sni": "localhost",
            "verify_name": "localhost",
            "session_key": peer,
            "timeout_ms": 7000,
        })
    );
    // Another address on the command line contradicts it.
    let o = sslsock(&[
        "connect",
        &format!("127.0.0.1:{port}"),
        "--ca-file",
        &f("ca.pem"),
        "-o",
        &format!("PeerAddr={peer}"),
    ]);
    one_line_error(&o, 2, "differ: give one");
    // Neither: a usage error.
    let o = sslsock(&["connect", "--ca-file", &f("ca.pem")]);
    one_line_error(&o, 2, "no address to connect to");
}

/// `bssl-tool server` with its stdin at end of file hangs up right after each handshake,
/// without close_notify. The handshake and the verification succeeded: `connect` prints the
/// whole report, says what the server did, and exits 0; only `--send` fails, after the report.
#[test]
fn a_server_that_hangs_up_after_the_handshake_still_gets_its_report() {
    require("bssl-tool");
    let dir = sslsock_test_support::scratch_dir("bssl-hangup");
    let ca = CertSpec::new("Hangup CA").ca().self_signed().unwrap();
    let leaf = CertSpec::new("localhost")
        .san("localhost")
        .signed_by(&ca)
        .unwrap();
    std::fs::write(dir.join("ca.pem"), &ca.cert_pem).unwrap();
    std::fs::write(dir.join("leaf.pem"), &leaf.cert_pem).unwrap();
    std::fs::write(dir.join("leaf.key"), &leaf.key_pem).unwrap();
    let (_server, port) = sslsock_test_support::spawn_listening(|port| {
        let mut cmd = Command::new("bssl-tool");
        cmd.arg("server")
            .args(["-accept", &port.to_string(), "-loop"])
            .arg("-cert")
            .arg(dir.join("leaf.pem"))
            .arg("-key")
            .arg(dir.join("leaf.key"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    });
    let addr = format!("127.0.0.1:{port}");
    let ca = dir.join("ca.pem");
    let ca = ca.to_str().unwrap();
    let base = [
        "connect",
        &addr,
        "--ca-file",
        ca,
        "--verify-name",
        "localhost",
    ];
    let o = sslsock(&base);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout: {out}\nstderr: {}",
        stderr(&o)
    );
    for line in [
        "version:      TLSv1_3",
        "0 subject: /CN=localhost",
        "verification: ok",
    ] {
        assert!(out.contains(line), "no \"{line}\" in: {out}");
    }
    assert!(
        stderr(&o)
            .contains("closed the connection right after the handshake, without close_notify"),
        "{}",
        stderr(&o)
    );

    let o = sslsock(&[&base[..], &["--send", "hello"]].concat());
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("verification: ok"));
    assert!(stderr(&o).contains("nothing can be sent"), "{}", stderr(&o));
}

/// `--version` takes the spellings people type (s_client's `-tls1_2` habit, curl's `1.2`),
/// and an unknown one lists the known words.
#[test]
fn version_spellings_and_the_known_words() {
    let (_s, port) = s_server("srv-ec", &["-www"]);
    let addr = format!("127.0.0.1:{port}");
    let ca = f("ca.pem");
    for spelling in ["TLS1.2", "tls1_2", "1.2", "TLSv1_2"] {
        let o = sslsock(&[
            "connect",
            &addr,
            "--ca-file",
            &ca,
            "--sni",
            "localhost",
            "--json",
            "--version",
            spelling,
        ]);
        assert!(o.status.success(), "{spelling}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["version"], "TLSv1_2", "{spelling}");
    }
    one_line_error(
        &sslsock(&["connect", &addr, "--version", "TLS2"]),
        2,
        "unknown protocol \"TLS2\" (known: TLSv1_3, TLSv1_2, TLSv1_1, TLSv1, SSLv23",
    );
}

/// An empty or non-certificate CA file says there is no certificate in it, naming the file,
/// instead of a parser's internals.
#[test]
fn a_ca_file_without_certificates_says_so() {
    let dir = sslsock_test_support::scratch_dir("empty-ca");
    let cases = [
        ("empty.pem", &b""[..], "no certificate in it: it is empty"),
        (
            "junk.pem",
            &b"not a cert\n"[..],
            "neither PEM (no -----BEGIN line) nor DER",
        ),
        (
            "crl-only.pem",
            &b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"[..],
            "no certificate in it (no -----BEGIN CERTIFICATE----- block)",
        ),
    ];
    for (name, bytes, needle) in cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let path = path.to_str().unwrap();
        let o = sslsock(&["connect", "127.0.0.1:1", "--ca-file", path]);
        one_line_error(&o, 2, needle);
        assert!(stderr(&o).contains(name), "{}", stderr(&o));
    }
}

/// s_client's and curl's spellings: `--cacert`, `--servername`, `-k`/`--insecure`, `--quiet`,
/// a URL as the address, and `--resolve HOST:PORT:ADDR`.
#[test]
fn s_client_and_curl_habits() {
    let (_s, port) = s_server("srv-ec", &["-www"]);
    let ca = f("ca.pem");
    let addr = format!("127.0.0.1:{port}");
    // The aliases of --ca-file and --sni.
    let out = run_ok(&[
        "connect",
        &addr,
        "--cacert",
        &ca,
        "--servername",
        "localhost",
    ]);
    assert!(out.contains("verification: ok"), "{out}");
    // A URL pasted as the address.
    let url = format!("https://localhost:{port}/index.html");
    let out = run_ok(&["connect", &url, "--cacert", &ca, "-4"]);
    assert!(out.contains("verification: ok"), "{out}");
    // -k and --insecure: no verification (and the report says so).
    for flag in ["-k", "--insecure"] {
        let o = sslsock(&["connect", &addr, flag]);
        assert!(o.status.success(), "{flag}: {}", stderr(&o));
        assert!(String::from_utf8_lossy(&o.stdout).contains("verification: disabled"));
    }
    // --quiet: the reply only.
    let o = sslsock(&[
        "connect",
        &addr,
        "--cacert",
        &ca,
        "--servername",
        "localhost",
        "--quiet",
        "--send",
        r"GET / HTTP/1.0\r\n\r\n",
    ]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.starts_with("HTTP/1.0 200 ok"), "{out}");
    assert!(!out.contains("verification:"), "{out}");
    // --resolve: connect to 127.0.0.1, send and verify the name given.
    let (_w, wport) = s_server("wild", &["-www"]);
    let named = format!("www.example.org:{wport}");
    let rule = format!("www.example.org:{wport}:127.0.0.1");
    let o = sslsock(&[
        "connect",
        &named,
        "--resolve",
        &rule,
        "--cacert",
        &f("wild.pem"),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["address"], format!("127.0.0.1:{wport}"));
    assert_eq!(v["target"]["sni"], "www.example.org");
    assert_eq!(v["target"]["verify_name"], "www.example.org");
    assert_eq!(v["verification"], "ok");
    one_line_error(
        &sslsock(&["connect", &named, "--resolve", "nonsense"]),
        2,
        "expected HOST:PORT:ADDR",
    );
}

/// `--ocsp must` (or hard, full-chain) with `--no-verify` cannot be honoured: refused, not
/// connected without a staple.
#[test]
fn ocsp_demands_without_verification_are_refused() {
    for mode in ["must", "hard", "full-chain", "try,must"] {
        one_line_error(
            &sslsock(&["connect", "127.0.0.1:1", "--ocsp", mode, "--no-verify"]),
            2,
            "check the certificate of a verified server: drop --no-verify",
        );
    }
    // The default (try) with --no-verify stays allowed: it demands nothing.
    let (_s, port) = s_server("srv-ec", &["-www"]);
    let o = sslsock(&["connect", &format!("127.0.0.1:{port}"), "--no-verify"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// The protocol agreed by NPN (openssl engine, TLS 1.2) is in every form of the report.
#[cfg(feature = "openssl")]
#[test]
fn the_npn_protocol_is_reported() {
    let (_s, port) = s_server("srv-ec", &["-www", "-nextprotoneg", "http/1.1"]);
    let addr = format!("127.0.0.1:{port}");
    let ca = f("ca.pem");
    let base = [
        "connect",
        &addr,
        "--ca-file",
        &ca,
        "--sni",
        "localhost",
        "--engine",
        "openssl",
        "--version",
        "TLSv1_2",
        "-o",
        "SSL_npn_protocols=http/1.1",
    ];
    let text = run_ok(&base);
    assert!(text.contains("npn:          http/1.1"), "{text}");
    let brief = run_ok(&[&base[..], &["--brief"]].concat());
    assert!(brief.trim_end().ends_with("npn: http/1.1"), "{brief}");
    let json = run_ok(&[&base[..], &["--json"]].concat());
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["npn"], "http/1.1");
    // Without NPN the text report has no npn line, and the JSON says null.
    let (_p, plain) = s_server("srv-ec", &["-www"]);
    let v: serde_json::Value = serde_json::from_str(&run_ok(&[
        "connect",
        &format!("127.0.0.1:{plain}"),
        "--ca-file",
        &ca,
        "--sni",
        "localhost",
        "--json",
    ]))
    .unwrap();
    assert!(v["npn"].is_null());
}

/// `--json` prints an object on stdout when the connection fails too: the error's class,
/// message and exit code, and what completed before; stderr keeps its one line.
#[test]
fn json_reports_failures_on_stdout() {
    let (_s, port) = s_server("srv-ec", &["-www"]);
    let addr = format!("127.0.0.1:{port}");
    let ca = f("ca.pem");
    let o = sslsock(&[
        "connect",
        &addr,
        "--ca-file",
        &ca,
        "--verify-name",
        "www.example.org",
        "--json",
    ]);
    one_line_error(&o, 1, "does not match certificate names");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "verify");
    assert_eq!(v["error"]["exit_code"], 1);
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("hostname \"www.example.org\" does not match"));
    assert_eq!(v["address"], addr);
    assert_eq!(v["completed"], serde_json::json!([]));

    let closed = format!("127.0.0.1:{}", free_port());
    let o = sslsock(&["connect", &closed, "--json"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "network");
    assert_eq!(v["error"]["exit_code"], 3);

    let o = sslsock(&["connect", &addr, "--json", "--version", "TLS9"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "config");
    assert_eq!(v["error"]["exit_code"], 2);
}

/// Each certificate of the report has its validity, names, key and signature algorithm, as
/// curl -v and s_client show them.
#[test]
fn the_report_shows_dates_names_and_keys() {
    let (_s, port) = s_server("srv-ec", &["-www"]);
    let addr = format!("127.0.0.1:{port}");
    let ca = f("ca.pem");
    let base = ["connect", &addr, "--ca-file", &ca, "--sni", "localhost"];
    let out = run_ok(&base);
    assert!(
        out.contains("    names:   DNS:localhost, IP:127.0.0.1, IP:::1"),
        "{out}"
    );
    assert!(
        out.contains("    key:     EC 256 bits (prime256v1), signed with ecdsa-with-SHA256"),
        "{out}"
    );
    let valid = out
        .lines()
        .find(|l| l.starts_with("    valid:   "))
        .unwrap_or_else(|| panic!("no validity in: {out}"));
    assert!(
        valid.contains(" UTC to ") && valid.ends_with(" UTC"),
        "{valid}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&run_ok(&[&base[..], &["--json"]].concat())).unwrap();
    let leaf = &v["chain"][0];
    assert_eq!(leaf["names"][0], "DNS:localhost");
    assert_eq!(leaf["key"], "EC 256 bits (prime256v1)");
    assert_eq!(leaf["signature"], "ecdsa-with-SHA256");
    assert!(leaf["not_after"].as_str().unwrap().ends_with(" UTC"));
}

/// A leaf that passed a CRL check has a revocation status: good by that CRL.
#[test]
fn a_passed_crl_check_is_a_revocation_status() {
    let (_s, port) = s_server("srv-ec", &["-www"]);
    let crl = openssl_crl(
        &pki().dir,
        "ca",
        &[(&pki().path("revoked.pem"), "keyCompromise")],
    );
    let out = run_ok(&[
        "connect",
        &format!("127.0.0.1:{port}"),
        "--ca-file",
        &f("ca.pem"),
        "--sni",
        "localhost",
        "--crl-file",
        crl.to_str().unwrap(),
    ]);
    assert!(out.contains("revocation: good (CRL)"), "{out}");
}

/// `--no-verify` still says what verification would have said, as s_client's default run.
#[test]
fn no_verify_says_what_verification_would_have_said() {
    let (_s, port) = s_server("srv-ec", &["-www"]);
    let addr = format!("127.0.0.1:{port}");
    let ca = f("ca.pem");
    let cases: [(&[&str], &str); 3] = [
        (
            &["--ca-file", &ca, "--verify-name", "localhost"],
            "verification: disabled (--no-verify; it would pass)",
        ),
        (
            &["--ca-file", &ca, "--verify-name", "x.example"],
            "verification: disabled (--no-verify; it would fail: hostname \"x.example\" does not match certificate names",
        ),
        (
            // The system's CAs do not know the test CA.
            &["--verify-name", "localhost"],
            "it would fail: unable to get local issuer certificate",
        ),
    ];
    for (extra, needle) in cases {
        let out = run_ok(&[&["connect", &addr, "--no-verify"][..], extra].concat());
        assert!(out.contains(needle), "{extra:?}: {out}");
    }
}

/// Warnings speak the command's words: no Rust type names, no engine structures, no module
/// paths (those come with -v); a TLS 1.2 server refusing a missing client certificate is
/// named as a possible cause.
#[test]
fn warnings_and_hints_in_words() {
    let ca = f("ca.pem");
    // A TLS 1.2 server that does not know the name sent warns with an alert.
    let (_s, port) = s_server(
        "srv-ec",
        &[
            "-www",
            "-tls1_2",
            "-servername",
            "foo.example",
            "-cert2",
            &f("srv-ec.pem"),
            "-key2",
            &f("srv-ec.key"),
        ],
    );
    let addr = format!("127.0.0.1:{port}");
    let o = sslsock(&["connect", &addr, "--ca-file", &ca, "--sni", "localhost"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("sslsock: warn: the peer sent a warning alert: unrecognized_name"),
        "{err}"
    );
    // --no-verify's warning.
    let o = sslsock(&["connect", &addr, "--no-verify"]);
    let err = stderr(&o);
    assert!(err.contains("dangerous: peer verification is off"), "{err}");
    for internal in [
        "VerifyMode",
        "AlertMessagePayload",
        "(sslsock::",
        "(rustls::",
    ] {
        assert!(!err.contains(internal), "{internal} in: {err}");
    }
    // TLS 1.2 and a client certificate required.
    let (_v, vport) = s_server("srv-ec", &["-www", "-tls1_2", "-Verify", "1"]);
    one_line_error(
        &sslsock(&[
            "connect",
            &format!("127.0.0.1:{vport}"),
            "--ca-file",
            &ca,
            "--sni",
            "localhost",
        ]),
        1,
        "it requires a client certificate and got none it accepts",
    );
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

/// Shell completions and the manual page come from the parser's own definitions.
#[test]
fn completions_and_the_manual_page() {
    let bash = run_ok(&["completions", "bash"]);
    assert!(bash.contains("_sslsock()"), "{bash}");
    for word in ["connect", "serve", "--ca-file", "--insecure", "--resolve"] {
        assert!(bash.contains(word), "{word} not in the bash completions");
    }
    assert!(run_ok(&["completions", "zsh"]).contains("#compdef sslsock"));
    assert!(run_ok(&["completions", "fish"]).contains("complete -c sslsock"));
    let man = run_ok(&["man"]);
    assert!(man.contains(".TH sslsock 1"), "{man}");
    assert!(man.contains("connect"), "{man}");
    one_line_error(
        &sslsock(&["completions", "tcsh"]),
        2,
        "invalid value 'tcsh'",
    );
}

/// A plain-text peer for one connection: answers what `reply` says to what it read, and
/// returns everything it read.
fn fake_starttls(
    reply: impl Fn(&str) -> Option<&'static str> + Send + 'static,
) -> (u16, std::thread::JoinHandle<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut seen = String::new();
        if let Some(greeting) = reply("") {
            s.write_all(greeting.as_bytes()).unwrap();
        }
        let mut buf = [0u8; 4096];
        loop {
            let n = match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
            match reply(&seen) {
                Some("") => break,
                Some(answer) => s.write_all(answer.as_bytes()).unwrap(),
                None => {}
            }
        }
        seen
    });
    (port, h)
}

/// --starttls-host is the XMPP domain asked for and SMTP's EHLO name; an XMPP stream error
/// is reported with its condition.
#[test]
fn starttls_host_and_xmpp_stream_errors() {
    // XMPP: the server does not serve the domain asked for.
    let (port, h) = fake_starttls(|seen| {
        seen.contains("<stream:stream").then_some(
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'><stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>",
        )
    });
    let o = sslsock(&[
        "connect",
        &format!("127.0.0.1:{port}"),
        "--starttls",
        "xmpp",
        "--starttls-host",
        "chat.example",
        "--timeout",
        "5",
    ]);
    one_line_error(
        &o,
        1,
        "the XMPP server ended the stream with the error <host-unknown/>",
    );
    assert!(h.join().unwrap().contains("to='chat.example'"));
    // SMTP: the EHLO name.
    let (port, h) = fake_starttls(|seen| {
        if seen.is_empty() {
            Some("220 fake ESMTP\r\n")
        } else if seen.contains("EHLO") && !seen.contains("STARTTLS") {
            Some("250 fake\r\n")
        } else if seen.contains("STARTTLS") {
            Some("")
        } else {
            None
        }
    });
    let o = sslsock(&[
        "connect",
        &format!("127.0.0.1:{port}"),
        "--starttls",
        "smtp",
        "--starttls-host",
        "client.example",
        "--timeout",
        "5",
    ]);
    assert!(!o.status.success());
    assert!(h.join().unwrap().starts_with("EHLO client.example\r\n"));
    // --starttls-host needs --starttls.
    assert_eq!(
        sslsock(&["connect", "127.0.0.1:1", "--starttls-host", "x"])
            .status
            .code(),
        Some(2)
    );
}

/// ECH rejected by a server whose certificate does not cover the public name: the error says
/// that ECH was rejected and why the retry cannot be trusted; GREASE with TLS 1.2 only gets a
/// reason that fits GREASE.
#[test]
fn ech_refusals_say_what_happened() {
    use sslsock_test_support::ech_lab::{ech_lab, BsslServer, SECRET_NAME};
    let lab = ech_lab();
    let ca = lab.ca.display().to_string();
    let list = lab.list.display().to_string();
    let server = BsslServer::start("inner", false);
    let addr = format!("127.0.0.1:{}", server.port);
    let o = sslsock(&[
        "connect",
        &addr,
        "--sni",
        SECRET_NAME,
        "--ca-file",
        &ca,
        "--ech-config",
        &list,
    ]);
    one_line_error(
        &o,
        1,
        "the server rejected Encrypted Client Hello, and its certificate does not authenticate it for the public name \"public.example\", so its retry configurations cannot be trusted: hostname \"public.example\" does not match certificate names [secret.example]",
    );
    let o = sslsock(&["connect", &addr, "--ech-grease", "--version", "TLSv1_2"]);
    one_line_error(&o, 2, "GREASE ECH needs TLS 1.3");
    assert!(
        stderr(&o).contains("it is a TLS 1.3 extension"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("in the clear"), "{}", stderr(&o));
}

/// bench: every flag has help, the host is a flag (IPv6 too), and the warning that the
/// clients do not verify comes once per run.
#[test]
fn bench_has_help_hosts_and_one_warning() {
    for role in ["server", "handshake", "bulk", "idle"] {
        let help = run_ok(&["bench", role, "--help"]);
        // Every option line is followed by a description (clap prints bare names without).
        let lines: Vec<&str> = help.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            let t = l.trim_start();
            if t.starts_with("--") && !t.contains("  ") {
                let next = lines.get(i + 1).map_or("", |n| n.trim());
                assert!(
                    !next.is_empty() && !next.starts_with('-'),
                    "bench {role}: {t} has no help: {help}"
                );
            }
        }
        if role != "server" {
            assert!(help.contains("--host"), "{help}");
        }
    }
    let port = free_port().to_string();
    let server = Command::new(BIN)
        .args([
            "bench", "server", "--host", "::1", "--port", &port, "--cert",
        ])
        .arg(f("srv-ec.pem"))
        .arg("--key")
        .arg(f("srv-ec.key"))
        .args(["--max-seconds", "60"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let _server = Peer { child: server };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("::1", port.parse::<u16>().unwrap())).is_err() {
        assert!(
            Instant::now() < deadline,
            "bench server did not start on ::1"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = sslsock(&[
        "bench",
        "handshake",
        "--host",
        "::1",
        "--port",
        &port,
        "--n",
        "5",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        bench_result(&String::from_utf8_lossy(&o.stdout))["conns"],
        "5"
    );
    assert_eq!(
        stderr(&o).matches("peer verification is off").count(),
        1,
        "{}",
        stderr(&o)
    );
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
