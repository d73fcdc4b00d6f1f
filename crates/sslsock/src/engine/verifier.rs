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

use crate::error::VerifyError;
use crate::options::VerifyMode;
use crate::verify::chain::{Accepted, ChainPolicy, Usage};
use crate::verify::hostname::{verify_hostname, Scheme};

/// The name handed to the engine when the caller gave none. The engine sends no SNI for an
/// address, and the verifier reads this one as "no name known" (nobody verifies 0.0.0.0).
pub(crate) const NO_NAME: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

pub(crate) fn to_engine_error(e: VerifyError) -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(e))))
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
}

/// Client side: checks the server's chain, then its name.
#[derive(Debug)]
pub(crate) struct ServerVerifier {
    pub(crate) policy: Arc<ChainPolicy>,
    pub(crate) mode: VerifyMode,
    pub(crate) scheme: Scheme,
    /// `verifycn_name`: overrides the name given to the engine.
    pub(crate) identity: Option<String>,
    pub(crate) provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for ServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if !self.mode.verifies() {
            return Ok(ServerCertVerified::assertion());
        }
        let accepted = self
            .policy
            .verify(end_entity, intermediates, now, Usage::Server)
            .map_err(to_engine_error)?;
        if accepted == Accepted::Pinned || self.scheme.accepts_all() {
            return Ok(ServerCertVerified::assertion());
        }
        let name = match (&self.identity, server_name) {
            (Some(n), _) => n.clone(),
            (None, ServerName::IpAddress(ip)) if IpAddr::from(*ip) == NO_NAME => {
                return Err(to_engine_error(VerifyError::NoName))
            }
            (None, other) => other.to_str().into_owned(),
        };
        verify_hostname(end_entity, &name, &self.scheme).map_err(to_engine_error)?;
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
