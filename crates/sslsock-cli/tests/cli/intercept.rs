//! `sslsock intercept`: the inspecting proxy against curl, Python and openssl.

use super::common::*;

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
