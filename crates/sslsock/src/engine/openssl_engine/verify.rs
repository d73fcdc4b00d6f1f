//! The openssl engine's certificate checks inside OpenSSL's handshake: its verify callback
//! runs sslsock's verifier once on the chain the peer sent and answers every call with that
//! verdict (a refusal with the `X509_V_*` code whose alert says why), and a client's status
//! callback checks a TLS 1.2 server's OCSP staple.

use std::ffi::c_int;
use std::sync::{Arc, Mutex};

use openssl::ssl::{self as ossl, Ssl, SslVersion};
use openssl::x509::{X509StoreContext, X509StoreContextRef};
use pki_types::CertificateDer;

use super::der;
use crate::error::{Alert, Error, VerifyError};
use crate::peer::{now, ClientCheck, Identity, PeerOutcome, ServerCheck};

/// What the verification of one connection decided, written by OpenSSL's callbacks while
/// its handshake runs.
#[derive(Debug, Default)]
pub(super) enum Verdict {
    /// No certificate checked (none sent yet, none sent at all, or a resumed session).
    #[default]
    Pending,
    /// Client, TLS 1.2: chain and name accepted; the staple comes in its own message.
    Identified(Identity),
    /// Accepted, with what the client learnt about the server's chain.
    Accepted(Option<PeerOutcome>),
    /// Refused: the error for our side and the `X509_V_*` code whose alert tells the peer.
    Refused { error: Error, code: c_int },
    /// Refused for the staple: the status callback ends the handshake with
    /// `bad_certificate_status_response`.
    StapleRefused(Error),
}

pub(super) type VerdictSlot = Arc<Mutex<Verdict>>;

pub(super) fn lock(slot: &Mutex<Verdict>) -> std::sync::MutexGuard<'_, Verdict> {
    slot.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The `X509_V_*` code that OpenSSL turns into `alert` (its `ssl_verify_alarm_type`
/// table), so that both engines send the alert of
/// [`VerifyError::alert`](crate::error::VerifyError::alert).
fn x509_code(alert: Alert) -> c_int {
    match alert {
        Alert::UNKNOWN_CA => openssl_sys::X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
        Alert::CERTIFICATE_EXPIRED => openssl_sys::X509_V_ERR_CERT_HAS_EXPIRED,
        Alert::CERTIFICATE_REVOKED => openssl_sys::X509_V_ERR_CERT_REVOKED,
        Alert::BAD_CERTIFICATE => openssl_sys::X509_V_ERR_CERT_REJECTED,
        Alert::DECRYPT_ERROR => openssl_sys::X509_V_ERR_CERT_SIGNATURE_FAILURE,
        Alert::UNSUPPORTED_CERTIFICATE => openssl_sys::X509_V_ERR_INVALID_PURPOSE,
        // No X509_V code becomes access_denied in OpenSSL's table: the application's refusal
        // (a pin, the verify callback) goes out as handshake_failure on this engine.
        Alert::ACCESS_DENIED => openssl_sys::X509_V_ERR_APPLICATION_VERIFICATION,
        // X509_V_OK on a refusal: OpenSSL's table sends certificate_unknown.
        _ => openssl_sys::X509_V_OK,
    }
}

/// A refusal by sslsock's checks, in our words and in the alert's.
fn refused(e: VerifyError) -> Verdict {
    let alert = e.alert();
    if alert == Alert::BAD_CERTIFICATE_STATUS_RESPONSE {
        Verdict::StapleRefused(Error::Verify(e))
    } else {
        Verdict::Refused {
            error: Error::Verify(e),
            code: x509_code(alert),
        }
    }
}

/// The certificates the peer sent, leaf first, from inside a verify callback.
fn sent_chain(ctx: &X509StoreContextRef) -> Result<Vec<CertificateDer<'static>>, Error> {
    super::ffi::sent_chain(ctx)
        .into_iter()
        .flatten()
        .map(der)
        .collect()
}

/// Runs `decide` once per handshake, at OpenSSL's first verify callback, and answers every
/// callback with its verdict: OpenSSL's own checks (it has no trust anchors) are overruled,
/// and a refusal carries the code of the alert to send.
pub(super) fn verify_in_handshake(
    slot: &Mutex<Verdict>,
    ctx: &mut X509StoreContextRef,
    decide: impl FnOnce(
        &X509StoreContextRef,
        &CertificateDer<'static>,
        &[CertificateDer<'static>],
    ) -> Verdict,
) -> bool {
    let mut verdict = lock(slot);
    if matches!(*verdict, Verdict::Pending) {
        *verdict = match sent_chain(ctx) {
            Ok(chain) => match chain.split_first() {
                Some((leaf, rest)) => decide(ctx, leaf, rest),
                None => refused(VerifyError::NoPeerCertificate),
            },
            Err(error) => Verdict::Refused {
                error,
                code: openssl_sys::X509_V_OK,
            },
        };
    }
    match &*verdict {
        Verdict::Refused { code, .. } => {
            ctx.set_error(super::ffi::verify_result(*code));
            false
        }
        _ => true,
    }
}

/// Client: the server's chain and name; in TLS 1.3 its staple too (it came with the chain).
pub(super) fn decide_server(
    v: &ServerCheck,
    name: Option<&str>,
    ctx: &X509StoreContextRef,
    leaf: &CertificateDer<'static>,
    rest: &[CertificateDer<'static>],
) -> Verdict {
    let at = now();
    let identity = match v.check_identity(leaf, rest, name, at) {
        Ok(i) => i,
        Err(e) => return refused(e),
    };
    let ssl = X509StoreContext::ssl_idx()
        .ok()
        .and_then(|i| ctx.ex_data(i));
    match ssl {
        Some(ssl) if ssl.version2() == Some(SslVersion::TLS1_3) => {
            let staple = ssl.ocsp_status().unwrap_or_default();
            match v.check_revocation(identity, staple, at) {
                Ok(o) => Verdict::Accepted(Some(o)),
                Err(e) => refused(e),
            }
        }
        _ => Verdict::Identified(identity),
    }
}

/// Server: the client's chain.
pub(super) fn decide_client(
    v: &ClientCheck,
    leaf: &CertificateDer<'static>,
    rest: &[CertificateDer<'static>],
) -> Verdict {
    match v.check(leaf, rest, now()) {
        Ok(_) => Verdict::Accepted(None),
        Err(e) => refused(e),
    }
}

/// Client, OpenSSL's status callback (after the server's certificate, in both versions):
/// the staple of a TLS 1.2 server, and any staple refusal. `false` ends the handshake with
/// `bad_certificate_status_response`.
pub(super) fn check_staple(
    v: &ServerCheck,
    ssl: &ossl::SslRef,
    index: openssl::ex_data::Index<Ssl, VerdictSlot>,
) -> bool {
    let Some(slot) = ssl.ex_data(index) else {
        return true;
    };
    let mut verdict = lock(slot);
    // Anything but an identity waiting for its staple stays as it is (a resumed session has
    // nothing to check; a refusal is answered below).
    *verdict = match std::mem::take(&mut *verdict) {
        Verdict::Identified(identity) => {
            let staple = ssl.ocsp_status().unwrap_or_default();
            match v.check_revocation(identity, staple, now()) {
                Ok(o) => Verdict::Accepted(Some(o)),
                Err(e) => refused(e),
            }
        }
        other => other,
    };
    !matches!(
        *verdict,
        Verdict::StapleRefused(_) | Verdict::Refused { .. }
    )
}
