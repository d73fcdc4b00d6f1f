//! `sslsock cert`: creating and showing certificates and keys, files and passwords.

use super::common::*;

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
