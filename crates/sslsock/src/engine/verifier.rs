//! Adapters from our verification policy to the engine's verifier traits: the chain policy of
//! `verify::chain` on both sides, plus the host name check on the client side.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, OtherError, SignatureScheme,
};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::error::{Alert, VerifyError};
use crate::ocsp::{Revocation, StaplePolicy};
use crate::options::VerifyMode;
use crate::verify::chain::{Accepted, ChainPolicy, Usage};
use crate::verify::fingerprint::FingerprintAlgorithm;
use crate::verify::hostname::{verify_hostname_in_path, Scheme};
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

/// DEBUG 2: each certificate of the accepted chain, leaf first.
fn log_chain(path: &[Vec<u8>]) {
    if !log::log_enabled!(target: "sslsock::verify", log::Level::Debug) {
        return;
    }
    for (depth, der) in path.iter().enumerate() {
        let subject = CertInfo::from_der(der, FingerprintAlgorithm::Sha256)
            .map_or_else(|_| "(unreadable)".to_owned(), |i| i.subject_line);
        log::debug!(target: "sslsock::verify", "depth {depth}: {subject}: accepted");
    }
}

/// Client side: checks the server's chain, then its name.
#[derive(Debug, Clone)]
pub(crate) struct ServerVerifier {
    pub(crate) policy: Arc<ChainPolicy>,
    pub(crate) mode: VerifyMode,
    pub(crate) scheme: Scheme,
    /// `verifycn_name`: overrides the name given to the engine.
    pub(crate) identity: Option<String>,
    pub(crate) provider: Arc<CryptoProvider>,
    /// The handshake has no peer name: a name check, when one is due, fails with `NoName`.
    pub(crate) nameless: bool,
    /// How the staple is checked.
    pub(crate) ocsp: StaplePolicy,
    /// The public names of the context's ECH configuration: when the engine asks about one
    /// of them, ECH was rejected and the server is authenticated for that name (RFC 9849
    /// section 6.1.6), whatever `identity` says.
    pub(crate) ech_public_names: Arc<[String]>,
}

/// What the client's verifier established about the server's chain, for the socket.
#[derive(Debug, Clone)]
pub(crate) struct PeerOutcome {
    /// The validated chain, leaf first (as sent when nothing was validated).
    pub(crate) chain: Vec<Vec<u8>>,
    /// The revocation status of the leaf.
    pub(crate) revocation: Revocation,
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

/// What the chain and name checks established, before the staple is looked at.
#[derive(Debug, Clone)]
pub(crate) enum Identity {
    /// Not verified (`VerifyMode::NONE`) or pinned: the chain as sent, nothing to revoke.
    AsSent(Vec<Vec<u8>>),
    /// A validated path, leaf first.
    Path(Vec<Vec<u8>>),
}

impl ServerVerifier {
    /// The chain, the pins and the name: everything but revocation by staple.
    pub(crate) fn check_identity(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        now: UnixTime,
    ) -> Result<Identity, rustls::Error> {
        let as_sent = || {
            std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| c.to_vec())
                .collect::<Vec<_>>()
        };
        if !self.mode.verifies() {
            return Ok(Identity::AsSent(as_sent()));
        }
        let accepted = self
            .policy
            .verify_names(
                end_entity,
                intermediates,
                now,
                Usage::Server,
                self.scheme.reads_common_name(),
            )
            .map_err(to_engine_error)?;
        if accepted != Accepted::Pinned && !self.scheme.accepts_all() {
            let given = server_name.to_str();
            let ech_outer = self.ech_public_names.iter().any(|p| *p == given);
            let name = match &self.identity {
                Some(n) if !ech_outer => n.clone(),
                None if self.nameless => return Err(to_engine_error(VerifyError::NoName)),
                _ => given.into_owned(),
            };
            verify_hostname_in_path(end_entity, &name, &self.scheme, accepted.issuers())
                .map_err(to_engine_error)?;
        }
        Ok(match accepted {
            Accepted::Pinned => Identity::AsSent(as_sent()),
            Accepted::Chain { mut path } => {
                path.reverse();
                log_chain(&path);
                Identity::Path(path)
            }
        })
    }

    /// Revocation of an accepted identity by `staple` (empty: none sent), as the OCSP policy
    /// says; the outcome the socket reports.
    pub(crate) fn check_revocation(
        &self,
        identity: Identity,
        staple: &[u8],
        now: UnixTime,
    ) -> Result<PeerOutcome, rustls::Error> {
        Ok(match identity {
            Identity::AsSent(chain) => PeerOutcome {
                chain,
                revocation: Revocation::Off,
            },
            Identity::Path(path) => {
                let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(now.as_secs());
                let revocation = self
                    .ocsp
                    .check(staple, &path, at)
                    .map_err(to_engine_error)?;
                PeerOutcome {
                    chain: path,
                    revocation,
                }
            }
        })
    }
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
        let identity = self.check_identity(end_entity, intermediates, server_name, now)?;
        record_outcome(self.check_revocation(identity, ocsp_response, now)?);
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

/// Server side: asks for (or requires) a client certificate and checks its chain.
#[derive(Debug)]
pub(crate) struct ClientVerifier {
    pub(crate) policy: Arc<ChainPolicy>,
    pub(crate) mandatory: bool,
    /// The acceptable CA list sent in the CertificateRequest (`SSL_client_ca`).
    pub(crate) hints: Vec<DistinguishedName>,
    pub(crate) provider: Arc<CryptoProvider>,
}

impl ClientVerifier {
    /// Hints from DER subject names (contents of the Name SEQUENCE).
    pub(crate) fn hints_from<'a>(
        subjects: impl Iterator<Item = &'a [u8]>,
    ) -> Vec<DistinguishedName> {
        subjects.map(DistinguishedName::in_sequence).collect()
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
        self.policy
            .verify(end_entity, intermediates, now, Usage::Client)
            .map_err(to_engine_error)?;
        Ok(ClientCertVerified::assertion())
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
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
