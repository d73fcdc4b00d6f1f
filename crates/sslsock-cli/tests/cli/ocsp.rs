//! Revocation: `sslsock ocsp`, and connect's OCSP and CRL checks.

use super::common::*;

/// `openssl s_server -www` with a certificate of the OCSP lab, stapling `staple` if given.
fn lab_server(leaf: &str, staple: Option<&std::path::Path>) -> (Peer, u16) {
    ocsp_lab::lab().s_server(leaf, "int", staple, &[])
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

/// A CRL distribution point that cannot be fetched is said as such, not as an OCSP responder.
#[test]
fn an_unfetchable_crl_distribution_point_is_named_as_one() {
    let dir = sslsock_test_support::scratch_dir("crl-dp-down");
    let ca = CertSpec::new("DP CA").ca().self_signed().unwrap();
    let url = format!("http://127.0.0.1:{}/ca.crl", free_port());
    let leaf = CertSpec::new("localhost")
        .san("localhost")
        .crl_url(&url)
        .signed_by(&ca)
        .unwrap();
    for (name, text) in [
        ("ca.pem", &ca.cert_pem),
        ("leaf.pem", &leaf.cert_pem),
        ("leaf.key", &leaf.key_pem),
    ] {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let path = |n: &str| dir.join(n).display().to_string();
    let (_srv, port, _out) = serve(&["--cert", &path("leaf.pem"), "--key", &path("leaf.key")]);
    let out = run_ok(&[
        "connect",
        &format!("127.0.0.1:{port}"),
        "--ca-file",
        &path("ca.pem"),
        "--sni",
        "localhost",
        "--crl-fetch",
    ]);
    assert!(
        out.contains(&format!(
            "revocation: unknown (the CRL at {url} could not be fetched"
        )),
        "{out}"
    );
    assert!(!out.contains("OCSP responder"), "{out}");
}
