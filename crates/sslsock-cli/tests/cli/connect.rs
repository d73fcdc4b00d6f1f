//! `sslsock connect`: reports, verification, habits of s_client and curl, errors.

use super::common::*;

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
    // The aliases of --ca-file, --sni, --groups and --timeout.
    let out = run_ok(&[
        "connect",
        &addr,
        "--cacert",
        &ca,
        "--servername",
        "localhost",
        "--curves",
        "P-256",
        "--connect-timeout",
        "10",
    ]);
    assert!(out.contains("verification: ok"), "{out}");
    assert!(out.contains("group:        secp256r1"), "{out}");
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

/// `--keymat LABEL[:LEN]` prints what `openssl s_server -keymatexport` prints, TLS 1.2 and 1.3.
#[test]
fn keymat_matches_openssl_s_server() {
    require("openssl");
    const LABEL: &str = "EXPERIMENTAL-cli";
    for (version, len) in [("TLSv1_2", "32"), ("TLSv1_3", "32"), ("TLSv1_3", "48")] {
        let (_peer, port, printed) =
            sslsock_test_support::s_server_keymat("srv-ec", LABEL, len.parse().unwrap());
        let spec = if len == "32" {
            LABEL.to_owned()
        } else {
            format!("{LABEL}:{len}")
        };
        let report = run_ok(&[
            "connect",
            &format!("localhost:{port}"),
            "--cacert",
            &f("ca.pem"),
            "--version",
            version,
            "--keymat",
            &spec,
        ]);
        let ours = report
            .lines()
            .find_map(|l| l.strip_prefix("keying material: "))
            .unwrap_or_else(|| panic!("{report}"))
            .to_owned();
        assert_eq!(ours.len(), 2 * len.parse::<usize>().unwrap());
        let theirs = sslsock_test_support::next_keymat(&printed);
        assert_eq!(theirs, ours, "{version}");
    }
}

/// Bad --keymat arguments are refused before connecting.
#[test]
fn keymat_arguments_are_checked() {
    let o = sslsock(&["connect", "127.0.0.1:1", "--keymat", "x:0"]);
    one_line_error(&o, 2, "--keymat x:0: LEN must be 1 to 65536 bytes");
    let o = sslsock(&["connect", "127.0.0.1:1", "--keymat", ":12"]);
    one_line_error(&o, 2, "the label is empty");
    let o = sslsock(&[
        "connect",
        "127.0.0.1:1",
        "--keymat",
        "x",
        "--keymat-context",
        "zz",
    ]);
    one_line_error(&o, 2, "--keymat-context zz: want hex digits");
}
