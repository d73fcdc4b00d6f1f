//! What every command shares: output, logs, words, limits, demo, completions.

use super::common::*;

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
