//! A CRL answers only for the certificates of its scope (RFC 5280, section 6.3.3). The
//! lab's `scope` CA (`openssl ca`) revoked every one of its leaves; at each leaf's
//! distribution point it serves a CRL made before the revocation with another scope
//! (another shard's issuing distribution point, CA certificates only, some reasons only, a
//! delta CRL), which lists none of them. Such a CRL is no answer, never "good".

use sslsock::ocsp::{OcspCache, OcspMode, Revocation};
use sslsock::{ConfigError, Error, Options, SslContext, SslSocket, VerifyError};
use sslsock_test_support::ocsp_lab::{lab, CRL_SCOPE_CASES};

use crate::util::test_engine;

const OUT_OF_SCOPE: [&str; 4] = ["shard", "arl", "reasons", "delta"];

fn fetching(mode: OcspMode) -> Options {
    Options::new()
        .ca_file(lab().path("root.pem"))
        .ocsp_mode(mode)
        .ocsp_cache(OcspCache::new(16))
        .crl_fetch(true)
        .engine(test_engine())
}

fn serve(case: &str) -> (sslsock_test_support::Peer, String) {
    let (peer, port) = lab().s_server(&format!("scope-{case}"), "scope", None, &[]);
    (peer, format!("127.0.0.1:{port}"))
}

#[test]
fn a_fetched_crl_of_another_scope_is_no_answer() {
    assert_eq!(CRL_SCOPE_CASES.len(), OUT_OF_SCOPE.len() + 1);
    for case in OUT_OF_SCOPE {
        let (_srv, addr) = serve(case);
        // Soft: connected, the status unknown with the reason.
        let sock = SslSocket::connect_with(&addr, &fetching(OcspMode::TRY_STAPLE))
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        let status = sock.revocation().to_string();
        assert!(
            matches!(sock.revocation(), Revocation::Unknown { .. })
                && status.contains("does not answer for it"),
            "{case}: {status}"
        );
        drop(sock);
        // Hard: refused.
        let e = SslSocket::connect_with(&addr, &fetching(OcspMode::FAIL_HARD)).unwrap_err();
        assert!(
            matches!(&e, Error::Verify(VerifyError::Ocsp(_)))
                && e.to_string().contains("does not answer for it"),
            "{case}: {e}"
        );
    }
}

#[test]
fn a_fetched_crl_whose_issuing_distribution_point_is_the_leafs_revokes() {
    let (_srv, addr) = serve("idp");
    let e = SslSocket::connect_with(&addr, &fetching(OcspMode::TRY_STAPLE)).unwrap_err();
    assert!(matches!(e, Error::Verify(VerifyError::Revoked(_))), "{e:?}");
}

fn with_crl_file(file: &str) -> Options {
    Options::new()
        .ca_file(lab().path("root.pem"))
        .check_crl(true)
        .crl_file(lab().path(file))
        .engine(test_engine())
}

#[test]
fn a_crl_file_of_another_scope_does_not_cover_the_leaf() {
    {
        let case = "shard";
        let (_srv, addr) = serve(case);
        let e = SslSocket::connect_with(&addr, &with_crl_file(&format!("scope-{case}.crl.pem")))
            .unwrap_err();
        assert!(
            matches!(e, Error::Verify(VerifyError::CrlMissing { .. })),
            "{case}: {e}"
        );
    }
    // A delta CRL, a CRL of some reasons only, an authority revocation list: never a base
    // CRL for a leaf.
    for case in ["arl", "reasons", "delta"] {
        let e = SslContext::new(&with_crl_file(&format!("scope-{case}.crl.pem"))).unwrap_err();
        assert!(
            matches!(&e, Error::Config(ConfigError::File { reason, .. }) if reason.contains("no base CRL")),
            "{case}: {e}"
        );
    }
    // In scope: the leaf's own distribution point, and the CA's full CRL.
    for file in ["scope-idp.crl.pem", "scope.crl.pem"] {
        let (_srv, addr) = serve("idp");
        let e = SslSocket::connect_with(&addr, &with_crl_file(file)).unwrap_err();
        assert!(
            matches!(e, Error::Verify(VerifyError::Revoked(_))),
            "{file}: {e}"
        );
    }
}
