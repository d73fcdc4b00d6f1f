//! Our server-certificate verifier: webpki path building, then our own hostname schemes.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::VerifyError;
use crate::options::VerifyMode;
use crate::verify::hostname::{verify_hostname, Scheme};
use crate::x509;

#[derive(Debug)]
pub(crate) struct ServerVerifier {
    pub(crate) anchors: Arc<Vec<TrustAnchor<'static>>>,
    pub(crate) mode: VerifyMode,
    pub(crate) scheme: Scheme,
    pub(crate) identity: Option<String>,
    pub(crate) provider: Arc<CryptoProvider>,
}

pub(crate) fn to_engine_error(e: VerifyError) -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(e))))
}

/// Builds a path from `end_entity` to one of `anchors` for the given usage; no name check.
pub(crate) fn verify_chain(
    anchors: &[TrustAnchor<'_>],
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    now: UnixTime,
    provider: &CryptoProvider,
    usage: webpki::KeyUsage,
) -> Result<(), VerifyError> {
    let cert = webpki::EndEntityCert::try_from(end_entity)
        .map_err(|e| VerifyError::BadEncoding(format!("{e:?}")))?;
    cert.verify_for_usage(
        provider.signature_verification_algorithms.all,
        anchors,
        intermediates,
        now,
        usage,
        None,
        None,
    )
    .map(|_| ())
    .map_err(|e| map_webpki(e, end_entity, intermediates))
}

fn map_webpki(
    e: webpki::Error,
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
) -> VerifyError {
    use webpki::Error as W;
    let last = intermediates.last().unwrap_or(end_entity);
    let parsed = X509Certificate::from_der(last).ok().map(|(_, c)| c);
    let issuer = parsed
        .as_ref()
        .map_or_else(|| "?".to_owned(), |c| x509::oneline(c.issuer()));
    // A lone certificate that names itself as issuer: whatever the path builder tripped over
    // (no anchor, or an anchor with the same name but another key), it is untrusted self-signed.
    let self_signed =
        intermediates.is_empty() && parsed.as_ref().is_some_and(|c| c.subject() == c.issuer());
    match e {
        W::CertExpired { time, not_after } => VerifyError::Expired {
            not_after: not_after.as_secs(),
            now: time.as_secs(),
        },
        W::CertNotValidYet { time, not_before } => VerifyError::NotYetValid {
            not_before: not_before.as_secs(),
            now: time.as_secs(),
        },
        W::UnknownIssuer
        | W::InvalidSignatureForPublicKey
        | W::UnsupportedSignatureAlgorithmForPublicKeyContext(_)
        | W::UnsupportedSignatureAlgorithmContext(_)
            if self_signed =>
        {
            VerifyError::SelfSigned { subject: issuer }
        }
        W::UnknownIssuer => VerifyError::UnknownIssuer { issuer },
        W::CertRevoked => VerifyError::Revoked,
        W::InvalidSignatureForPublicKey
        | W::UnsupportedSignatureAlgorithmForPublicKeyContext(_)
        | W::UnsupportedSignatureAlgorithmContext(_) => VerifyError::BadSignature,
        W::RequiredEkuNotFoundContext(_) => VerifyError::BadPurpose,
        W::BadDer | W::BadDerTime | W::TrailingData(_) => {
            VerifyError::BadEncoding(format!("{e:?}"))
        }
        other => VerifyError::Other(format!("{other:?}")),
    }
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
        verify_chain(
            &self.anchors,
            end_entity,
            intermediates,
            now,
            &self.provider,
            webpki::KeyUsage::server_auth(),
        )
        .map_err(to_engine_error)?;
        let name = match &self.identity {
            Some(n) => n.clone(),
            None => server_name.to_str().into_owned(),
        };
        if name.is_empty() && !self.scheme.accepts_all() {
            return Err(to_engine_error(VerifyError::NoName));
        }
        verify_hostname(end_entity, &name, &self.scheme).map_err(to_engine_error)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
