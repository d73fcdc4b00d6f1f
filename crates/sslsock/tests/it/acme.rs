//! Certificates from pebble (an RFC 8555 test CA) with HTTP-01 (feature `acme`).

use sslsock::acme::{AcmeConfig, Challenge};
use sslsock_test_support::pebble::Pebble;

use crate::util::*;

/// openssl verifies `chain_pem` under pebble's root, for a TLS server named localhost.
fn assert_verifies_under_pebble_root(pebble: &Pebble, chain_pem: &str, dir: &str) {
    let dir = pki().path(dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("root.pem"), pebble.root_pem()).unwrap();
    std::fs::write(dir.join("chain.pem"), chain_pem).unwrap();
    let out = openssl_in(
        &dir,
        &[
            "verify",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "chain.pem",
            "-purpose",
            "sslserver",
            "-verify_hostname",
            "localhost",
            "chain.pem",
        ],
    );
    assert_eq!(String::from_utf8_lossy(&out).trim(), "chain.pem: OK");
}

#[test]
fn pebble_issues_a_certificate_that_verifies_under_its_root() {
    let mut pebble = Pebble::start(90);
    let rt = runtime();
    let config = AcmeConfig::new(pebble.directory(), ["localhost"])
        .ca_file(pki().path("ca.pem"))
        .http_listen(format!("127.0.0.1:{}", pebble.http_port));
    let issued = rt.block_on(config.obtain()).unwrap();
    let life = issued.not_after.duration_since(issued.not_before).unwrap();
    assert!((89..=91).contains(&life.as_secs()), "{life:?}");
    let renew = issued.renew_at().duration_since(issued.not_before).unwrap();
    assert_eq!(renew.as_secs(), life.as_secs() * 2 / 3);
    assert_verifies_under_pebble_root(&pebble, &issued.chain_pem, "acme-lib");
    // The key is the certificate's: a server starts with them.
    let ctx = sslsock::SslContext::new(
        &sslsock::Options::new()
            .server(true)
            .cert_pem(issued.chain_pem.clone())
            .key_pem(issued.key_pem.clone()),
    );
    assert!(ctx.is_ok(), "{:?}", ctx.err());

    // The account is kept for the next order; a CA that forgot it (pebble restarted keeps
    // nothing) gets a new one.
    assert!(format!("{config:?}").contains("(an account)"), "{config:?}");
    let again = rt.block_on(config.obtain()).unwrap();
    assert_ne!(again.chain_pem, issued.chain_pem);
    pebble.stop();
    pebble.restart();
    let after_restart = rt.block_on(config.obtain()).unwrap();
    assert_ne!(after_restart.chain_pem, again.chain_pem);

    // The CA's directory is verified like any server: not trusted, no certificate.
    let e = rt
        .block_on(
            AcmeConfig::new(pebble.directory(), ["localhost"])
                .http_listen(format!("127.0.0.1:{}", pebble.http_port))
                .obtain(),
        )
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("creating the account") && e.contains("certificate"),
        "{e}"
    );
}

/// TLS-ALPN-01 (RFC 8737): pebble connects with ALPN acme-tls/1 and checks the challenge
/// certificate; other clients of the responder get no certificate of it.
#[test]
fn pebble_issues_over_tls_alpn_01() {
    let pebble = Pebble::start(90);
    let rt = runtime();
    let issued = rt
        .block_on(
            AcmeConfig::new(pebble.directory(), ["localhost"])
                .ca_file(pki().path("ca.pem"))
                .challenge(Challenge::TlsAlpn01)
                .tls_listen(format!("127.0.0.1:{}", pebble.tls_port))
                .obtain(),
        )
        .unwrap();
    assert_verifies_under_pebble_root(&pebble, &issued.chain_pem, "acme-alpn");
}

/// `account_file`: the account registered by one program is used by the next (a restart)
/// instead of a new registration; a CA that forgot it gets a new one, written over the old;
/// a file that is not an account is refused, with the file named.
#[test]
fn the_account_file_outlives_the_program() {
    let mut pebble = Pebble::start(90);
    let rt = runtime();
    let file = pki().path("acme-account.json");
    let _ = std::fs::remove_file(&file);
    // Each config is a program started anew: nothing in memory.
    let (directory, http_port) = (pebble.directory(), pebble.http_port);
    let program = || {
        AcmeConfig::new(directory.clone(), ["localhost"])
            .ca_file(pki().path("ca.pem"))
            .http_listen(format!("127.0.0.1:{http_port}"))
            .account_file(&file)
    };
    rt.block_on(program().obtain()).unwrap();
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(
        written.contains(&format!("\"directory\": \"{directory}\"")),
        "{written}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the account's key is the owner's only");
    }
    rt.block_on(program().obtain()).unwrap();
    // (Compared, not printed: the file holds the account's private key.)
    assert!(
        std::fs::read_to_string(&file).unwrap() == written,
        "a restarted program registered a new account"
    );
    // pebble keeps nothing across a restart: the account is unknown, a new one is written.
    pebble.stop();
    pebble.restart();
    rt.block_on(program().obtain()).unwrap();
    let renewed = std::fs::read_to_string(&file).unwrap();
    assert!(renewed != written, "no new account for a CA that forgot it");
    rt.block_on(program().obtain()).unwrap();
    assert!(std::fs::read_to_string(&file).unwrap() == renewed);

    std::fs::write(&file, "not an account\n").unwrap();
    let e = rt.block_on(program().obtain()).unwrap_err().to_string();
    assert!(
        e.contains(&format!(
            "account file {}: not an ACME account",
            file.display()
        )),
        "{e}"
    );
}
