//! The checks of `verify::peer` behind rustls's verifier traits, and their refusals as the
//! certificate errors whose alerts [`VerifyError::alert`] chooses.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, OtherError, SignatureScheme,
};

use crate::error::{Alert, VerifyError};
use crate::peer::{ClientCheck, PeerOutcome, ServerCheck};
use crate::verify::fingerprint::FingerprintAlgorithm;
use crate::x509::info::CertInfo;

/// What the engine is handed for a peer without a name: an address, so that no SNI goes out.
/// Only the nameless configuration (whose verifier knows there is no name) ever sees it.
pub(crate) const PLACEHOLDER_NAME: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

/// Hands a refusal to the engine as the certificate error whose alert says what happened
/// (`unknown_ca`, `certificate_expired`, `bad_certificate`, `certificate_revoked`,
/// `unsupported_certificate`, `decrypt_error`, ...), and keeps our detailed error for
/// [`take_detail`]: the verifier runs inside the engine's processing, on the thread that
/// then maps the engine's error.
pub(crate) fn to_engine_error(e: VerifyError) -> rustls::Error {
    let kind = certificate_error(&e);
    let tag = format!("{kind:?}");
    DETAIL.with(|d| *d.borrow_mut() = Some((tag, e)));
    rustls::Error::InvalidCertificate(kind)
}

thread_local! {
    /// The last refusal of a verifier on this thread, with the engine error it became.
    static DETAIL: std::cell::RefCell<Option<(String, VerifyError)>> =
        const { std::cell::RefCell::new(None) };
}

/// Our detailed error behind the engine's `InvalidCertificate(kind)`, when this thread's
/// verifier made it.
pub(crate) fn take_detail(kind: &CertificateError) -> Option<VerifyError> {
    let tag = format!("{kind:?}");
    DETAIL.with(|d| {
        let mut d = d.borrow_mut();
        match d.take() {
            Some((t, e)) if t == tag => Some(e),
            _ => None,
        }
    })
}

/// The engine's certificate error whose alert is the one [`VerifyError::alert`] chooses
/// (the engine sends the alert of the error it is handed).
fn certificate_error(e: &VerifyError) -> CertificateError {
    match e.alert() {
        Alert::CERTIFICATE_EXPIRED => CertificateError::Expired,
        Alert::UNKNOWN_CA => CertificateError::UnknownIssuer,
        Alert::BAD_CERTIFICATE_STATUS_RESPONSE => CertificateError::InvalidOcspResponse,
        Alert::CERTIFICATE_REVOKED => CertificateError::Revoked,
        Alert::DECRYPT_ERROR => CertificateError::BadSignature,
        Alert::UNSUPPORTED_CERTIFICATE => CertificateError::InvalidPurpose,
        Alert::BAD_CERTIFICATE => CertificateError::BadEncoding,
        Alert::ACCESS_DENIED => CertificateError::ApplicationVerificationFailure,
        _ => CertificateError::Other(OtherError(Arc::new(e.clone()))),
    }
}

fn tls12_signature(
    provider: &CryptoProvider,
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    rustls::crypto::verify_tls12_signature(
        message,
        cert,
        dss,
        &provider.signature_verification_algorithms,
    )
    .map_err(|e| handshake_signature_error(e, cert, dss.scheme))
}

fn tls13_signature(
    provider: &CryptoProvider,
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
) -> Result<HandshakeSignatureValid, rustls::Error> {
    rustls::crypto::verify_tls13_signature(
        message,
        cert,
        dss,
        &provider.signature_verification_algorithms,
    )
    .map_err(|e| handshake_signature_error(e, cert, dss.scheme))
}

/// The engine reports a refused handshake signature in the words of a refused certificate
/// signature; say instead that the peer's own key made it, and what is wrong with that key.
fn handshake_signature_error(
    e: rustls::Error,
    cert: &CertificateDer<'_>,
    scheme: SignatureScheme,
) -> rustls::Error {
    use rustls::CertificateError as C;
    let unsupported = match &e {
        rustls::Error::InvalidCertificate(C::BadSignature) => false,
        // The engine still maps the key-type mismatch to this deprecated variant.
        #[allow(deprecated)]
        rustls::Error::InvalidCertificate(
            C::UnsupportedSignatureAlgorithm
            | C::UnsupportedSignatureAlgorithmContext { .. }
            | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. },
        ) => true,
        _ => return e,
    };
    let info = CertInfo::from_der(cert, FingerprintAlgorithm::Sha256).ok();
    let key = info.as_ref().map_or_else(
        || "unreadable".to_owned(),
        |i| match &i.pubkey_curve {
            Some(curve) if i.pubkey_type == "EC" => format!("EC {curve}"),
            _ => format!("{} {} bits", i.pubkey_type, i.pubkey_size),
        },
    );
    let reason = info.as_ref().and_then(key_weakness).unwrap_or_else(|| {
        if unsupported {
            format!("the signature scheme {scheme:?} does not fit the key or is not supported")
        } else {
            "the signature does not verify with the certificate's public key".to_owned()
        }
    });
    to_engine_error(VerifyError::HandshakeSignature { key, reason })
}

/// What keeps a key from making an acceptable handshake signature here, if anything.
fn key_weakness(info: &CertInfo) -> Option<String> {
    match (info.pubkey_type.as_str(), info.pubkey_curve.as_deref()) {
        ("RSA", _) if info.pubkey_size < 2048 => Some(format!(
            "an RSA key of {} bits is too weak (2048 to 8192 bits are accepted)",
            info.pubkey_size
        )),
        ("RSA", _) if info.pubkey_size > 8192 => Some(format!(
            "an RSA key of {} bits is larger than the 8192 bits accepted",
            info.pubkey_size
        )),
        ("RSA" | "ED25519", _) => None,
        ("EC", Some("prime256v1" | "secp384r1" | "secp521r1")) => None,
        ("EC", curve) => Some(format!(
            "the elliptic curve {} is not supported (P-256, P-384 and P-521 are)",
            curve.unwrap_or("(unnamed)")
        )),
        (kind, _) => Some(format!(
            "keys of type {kind} are not supported for TLS signatures (RSA, ECDSA and Ed25519 are)"
        )),
    }
}

/// Client side: the server check behind rustls's verifier trait.
#[derive(Debug, Clone)]
pub(crate) struct ServerVerifier {
    pub(crate) check: ServerCheck,
    pub(crate) provider: Arc<CryptoProvider>,
    /// The handshake has no peer name (the engine is handed [`PLACEHOLDER_NAME`]): a name
    /// check, when one is due, fails with `NoName`.
    pub(crate) nameless: bool,
}

thread_local! {
    /// The outcome of the last accepted server chain on this thread; the session takes it
    /// right after the engine processed the record that carried the certificate.
    static OUTCOME: std::cell::RefCell<Option<PeerOutcome>> =
        const { std::cell::RefCell::new(None) };
}

/// The outcome recorded since the last call, if any.
pub(crate) fn take_outcome() -> Option<PeerOutcome> {
    OUTCOME.with(|o| o.borrow_mut().take())
}

fn record_outcome(outcome: PeerOutcome) {
    OUTCOME.with(|o| *o.borrow_mut() = Some(outcome));
}

impl ServerCertVerifier for ServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let given = server_name.to_str();
        let name = self
            .check
            .name_for((!self.nameless).then_some(given.as_ref()));
        let identity = self
            .check
            .check_identity(end_entity, intermediates, name, now)
            .map_err(to_engine_error)?;
        let outcome = self
            .check
            .check_revocation(identity, ocsp_response, now)
            .map_err(to_engine_error)?;
        record_outcome(outcome);
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        tls12_signature(&self.provider, message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        tls13_signature(&self.provider, message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Server side: the client check behind rustls's verifier trait.
#[derive(Debug)]
pub(crate) struct ClientVerifier {
    pub(crate) check: ClientCheck,
    /// The acceptable CA list sent in the CertificateRequest, in the engine's type.
    pub(crate) hints: Vec<DistinguishedName>,
    pub(crate) provider: Arc<CryptoProvider>,
}

impl ClientVerifier {
    /// `hints`: the contents of the Name SEQUENCEs of the CAs to list.
    pub(crate) fn new<'a>(
        check: ClientCheck,
        hints: impl Iterator<Item = &'a [u8]>,
        provider: Arc<CryptoProvider>,
    ) -> ClientVerifier {
        ClientVerifier {
            check,
            hints: hints.map(DistinguishedName::in_sequence).collect(),
            provider,
        }
    }
}

impl ClientCertVerifier for ClientVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.check
            .check(end_entity, intermediates, now)
            .map_err(to_engine_error)?;
        Ok(ClientCertVerified::assertion())
    }

    fn client_auth_mandatory(&self) -> bool {
        self.check.mandatory
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        tls12_signature(&self.provider, message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        tls13_signature(&self.provider, message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
