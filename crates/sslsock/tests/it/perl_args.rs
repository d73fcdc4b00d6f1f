//! IO::Socket::SSL-style arguments: every key of the manual is mapped or refused with a
//! reason; values parse as a Perl program writes them.

use sslsock::args::{apply_args, from_args, support, Support, KEYS};
use sslsock::ocsp::OcspMode;
use sslsock::{ConfigError, Options, VerifyMode};

use crate::util::*;

/// The `SSL_*` keys of the manual (its option list, plus close's SSL_no_shutdown and
/// SSL_fast_shutdown), kept with the tests so that CI does not need the manual.
const MANUAL_KEYS: &str = include_str!("../data/manual-ssl-keys.txt");

#[test]
fn every_key_of_the_manual_is_mapped_or_refused_with_a_reason() {
    let (mut mapped, mut refused) = (0, 0);
    for key in MANUAL_KEYS.lines().filter(|l| !l.is_empty()) {
        match support(key) {
            Some(Support::Mapped(how)) => {
                assert!(
                    how.starts_with("Options::") || how.contains("not needed"),
                    "{key}: {how}"
                );
                mapped += 1;
            }
            Some(Support::Refused(why)) => {
                assert!(why.len() > 20, "{key}: a reason, not a word: {why}");
                let e = from_args([(key, "x")]).unwrap_err();
                assert_eq!(e.to_string(), format!("{key}: refused: {why}"));
                refused += 1;
            }
            None => panic!("{key} of the manual is unknown"),
            Some(other) => panic!("{key}: {other:?}"),
        }
    }
    assert_eq!(
        mapped + refused,
        MANUAL_KEYS.lines().filter(|l| !l.is_empty()).count()
    );
    eprintln!("manual keys: {mapped} mapped, {refused} refused with a reason, 0 missing");
    // The list above is the manual's: checked against the manual when it is at hand.
    let manual = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/seed/IO-Socket-SSL.txt");
    if let Ok(text) = std::fs::read_to_string(&manual) {
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("           SSL_") else {
                continue;
            };
            if line.starts_with("            ") {
                continue;
            }
            for alt in format!("SSL_{rest}").split('|') {
                let key = alt
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .trim_end_matches('.');
                if key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && key.len() > 4 {
                    if key == "SSL_WANT_READ" || key == "SSL_ca_file" && rest.contains("looks like")
                    {
                        continue;
                    }
                    assert!(
                        MANUAL_KEYS.lines().any(|k| k == key) || support(key).is_some(),
                        "{key} is in the manual but not in tests/data/manual-ssl-keys.txt"
                    );
                }
            }
        }
    }
    // Every key in the table is unique.
    let mut keys: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), KEYS.len());
}

#[test]
fn values_are_read_as_perl_writes_them() {
    // Symbolic and numeric verify modes.
    let o = from_args([(
        "SSL_verify_mode",
        "SSL_VERIFY_PEER|SSL_VERIFY_FAIL_IF_NO_PEER_CERT",
    )])
    .unwrap();
    assert_eq!(
        o.verify_mode_value(),
        Some(VerifyMode::PEER | VerifyMode::FAIL_IF_NO_PEER_CERT)
    );
    let o = from_args([("SSL_verify_mode", "0")]).unwrap();
    assert_eq!(o.verify_mode_value(), Some(VerifyMode::NONE));
    let e = from_args([("SSL_verify_mode", "SSL_VERIFY_SOMETIMES")]).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("SSL_verify_mode: unknown verify mode \"SSL_VERIFY_SOMETIMES\""),
        "{e}"
    );
    // Booleans, and what is not one.
    let e = from_args([("SSL_check_crl", "maybe")]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "SSL_check_crl: \"maybe\" is not a boolean (1/0, true/false, yes/no)"
    );
    // OCSP constants.
    assert!(from_args([("SSL_ocsp_mode", "SSL_OCSP_FULL_CHAIN|SSL_OCSP_FAIL_HARD")]).is_ok());
    assert!(from_args([(
        "SSL_ocsp_mode",
        &(OcspMode::MUST_STAPLE.bits().to_string())[..]
    )])
    .is_ok());
    // Versions the engine cannot do are refused with the reason, at once.
    let e = from_args([("SSL_version", "TLSv1")]).unwrap_err();
    assert!(
        matches!(e, ConfigError::Argument { ref key, .. } if key == "SSL_version"),
        "{e:?}"
    );
    assert!(e.to_string().contains("TLS 1.2 and 1.3 only"), "{e}");
    // Unknown keys name themselves.
    let e = from_args([("SSL_verify_modes", "1")]).unwrap_err();
    assert!(
        e.to_string().starts_with("SSL_verify_modes: unknown key"),
        "{e}"
    );
    // A bad pin is named by its key.
    let e = from_args([("SSL_fingerprint", "sha256$zz")]).unwrap_err();
    assert!(e.to_string().starts_with("SSL_fingerprint: "), "{e}");
}

#[test]
fn arguments_build_a_working_client_and_a_server_with_sni_certificates() {
    let pki = pki();
    let cert = pki.file("srv-ec.pem");
    let key = pki.file("srv-ec.key");
    let other = pki.file("wrongname.pem");
    let other_key = pki.file("wrongname.key");
    let sni_certs = format!("{cert};other.example={other}");
    let sni_keys = format!("{key};other.example={other_key}");
    let server = from_args([
        ("SSL_server", "1"),
        ("SSL_cert_file", sni_certs.as_str()),
        ("SSL_key_file", sni_keys.as_str()),
        ("SSL_alpn_protocols", "h2,http/1.1"),
    ])
    .unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let (addr, h) = serve(server, 2, move |s| {
        let subject = s
            .sock_certificate_info()
            .map(|c| c.subject_line)
            .unwrap_or_default();
        let alpn = s.alpn_selected().unwrap_or_default();
        log.lock().unwrap().push(format!("{subject} {alpn}"));
        let _ = s.close();
        Ok(())
    });
    let ca = pki.file("ca.pem");
    for name in ["localhost", "other.example"] {
        let client = apply_args(
            Options::new(),
            [
                ("SSL_ca_file", ca.as_str()),
                ("SSL_hostname", name),
                ("SSL_verify_mode", "SSL_VERIFY_PEER"),
                ("SSL_verifycn_scheme", "none"),
                ("SSL_alpn_protocols", "h2"),
                ("SSL_ocsp_mode", "SSL_OCSP_TRY_STAPLE"),
            ],
        )
        .unwrap();
        let s = sslsock::SslSocket::connect_with(&addr.to_string(), &client).unwrap();
        assert_eq!(s.alpn_selected().as_deref(), Some("h2"));
        drop(s);
    }
    for r in h.join().unwrap() {
        r.unwrap();
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|s| s.ends_with(" h2")), "{seen:?}");
    assert_ne!(
        seen[0], seen[1],
        "the SNI name chose the certificate: {seen:?}"
    );
}

/// MIGRATING.md has a row for every option and every method of the manual.
#[test]
fn the_migration_guide_covers_every_option_and_method() {
    let guide = include_str!("../../MIGRATING.md");
    let rows: Vec<&str> = guide.lines().filter(|l| l.starts_with("| `")).collect();
    let mentioned = |name: &str| {
        rows.iter().any(|r| {
            let perl = r.split(" | ").next().unwrap_or("");
            perl.contains(&format!("`{name}`"))
                || perl.contains(&format!("`{name}("))
                || perl.contains(&format!("::{name}("))
                || perl.contains(&format!("{name}("))
                || perl
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .any(|w| w == name)
        })
    };
    let options: Vec<&str> = MANUAL_KEYS.lines().filter(|l| !l.is_empty()).collect();
    let methods: Vec<&str> = include_str!("../data/manual-methods.txt")
        .lines()
        .filter(|l| !l.is_empty())
        .collect();
    let missing: Vec<&&str> = options
        .iter()
        .chain(&methods)
        .filter(|n| !mentioned(n))
        .collect();
    assert!(missing.is_empty(), "not in MIGRATING.md: {missing:?}");
    let refused = rows.iter().filter(|r| r.contains("| refused |")).count();
    eprintln!(
        "MIGRATING.md: {} options and {} methods of the manual, every one in a row ({refused} refused with a reason)",
        options.len(),
        methods.len()
    );
}
