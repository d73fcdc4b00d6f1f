//! OCSP responses: parsing, and the checks that make one trustworthy (signature, responder
//! authorisation, freshness, nonce).

use std::time::SystemTime;

use der::asn1::{AnyRef, BitStringRef, ObjectIdentifier};
use der::{Decode, Encode, Reader, SliceReader, Tag, Tagged};
use x509_cert::Certificate;

use super::asn1::{self, BasicOcspResponse, ResponderId, ResponseStatus};
use super::codec::{self, HashAlgorithm, Subject, ID_NONCE};
use super::{OcspError, CLOCK_SKEW, LIFETIME_WITHOUT_NEXT_UPDATE};
use crate::verify::signature::{self, SignatureFailure};

const ID_PKIX_OCSP_BASIC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1");
const ID_KP_OCSP_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.9");
const ID_CE_EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");

/// A certificate's status as a response states it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertStatus {
    /// Not revoked.
    Good,
    /// Revoked.
    Revoked {
        /// When.
        time: SystemTime,
        /// The CRL reason (`keyCompromise`, ...), when given.
        reason: Option<String>,
    },
    /// The responder does not know the certificate.
    Unknown,
}

impl CertStatus {
    /// Revoked for good: any reason but certificateHold (RFC 5280, section 5.3.1), which a
    /// later "good" may lift.
    pub(crate) fn is_permanently_revoked(&self) -> bool {
        matches!(self, CertStatus::Revoked { reason, .. } if reason.as_deref() != Some("certificateHold"))
    }
}

/// A status that passed every check of [`OcspResponse::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedStatus {
    /// The status.
    pub status: CertStatus,
    /// When the status was known to be correct.
    pub this_update: SystemTime,
    /// When newer information will be available, if stated.
    pub next_update: Option<SystemTime>,
    /// Until when the status is taken as current (nextUpdate, or thisUpdate plus
    /// [`super::LIFETIME_WITHOUT_NEXT_UPDATE`]).
    pub valid_until: SystemTime,
    /// Who signed the response: the issuer, or its delegated responder (subject).
    pub responder: String,
    /// The certificate's subject.
    pub subject: String,
    /// The certificate's serial number, upper-case hex.
    pub serial: String,
}

/// A parsed OCSP response (an `OCSPResponse` with a basic response).
///
/// What a connection does with a staple, done by hand (e.g. for a response fetched with
/// `openssl ocsp -respout`):
///
/// ```no_run
/// use std::time::SystemTime;
/// use sslsock::ocsp::{CertStatus, OcspResponse};
///
/// let response = OcspResponse::from_der(&std::fs::read("leaf.ocsp")?)?;
/// let status = response.verify(
///     &std::fs::read("leaf.der")?,
///     &std::fs::read("issuer.der")?,
///     SystemTime::now(),
///     None,
/// )?;
/// match status.status {
///     CertStatus::Good => println!("good until {:?}", status.valid_until),
///     CertStatus::Revoked { reason, .. } => println!("revoked: {reason:?}"),
///     _ => println!("the responder does not know it"),
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct OcspResponse {
    der: Vec<u8>,
    basic: BasicOcspResponse,
    /// The signed part as it was sent (the signature covers these bytes).
    tbs: Vec<u8>,
    /// The signature algorithm identifier's contents.
    signature_alg: Vec<u8>,
    signature: Vec<u8>,
    /// The certificates included (for a delegated responder), as sent.
    certs: Vec<(Certificate, Vec<u8>)>,
}

impl OcspResponse {
    /// Parses a DER `OCSPResponse`. A responder's error status is refused with
    /// [`OcspError::Unsuccessful`].
    pub fn from_der(der: &[u8]) -> Result<OcspResponse, OcspError> {
        let malformed = |e: der::Error| OcspError::Malformed(e.to_string());
        let outer = asn1::OcspResponse::from_der(der).map_err(malformed)?;
        if outer.response_status != ResponseStatus::Successful {
            return Err(OcspError::Unsuccessful(status_name(outer.response_status)));
        }
        let bytes = outer
            .response_bytes
            .ok_or_else(|| OcspError::Malformed("a successful response without a body".into()))?;
        if bytes.response_type != ID_PKIX_OCSP_BASIC {
            return Err(OcspError::Malformed(format!(
                "response type {} is not the basic OCSP response",
                bytes.response_type
            )));
        }
        let raw = bytes.response.as_bytes();
        let basic = BasicOcspResponse::from_der(raw).map_err(malformed)?;
        let (tbs, signature_alg, signature) = signed_parts(raw)
            .ok_or_else(|| OcspError::Malformed("the signed response is not DER".into()))?;
        let certs = basic
            .certs
            .iter()
            .flatten()
            .map(|any| {
                let d = any.to_der().map_err(malformed)?;
                Ok((Certificate::from_der(&d).map_err(malformed)?, d))
            })
            .collect::<Result<Vec<_>, OcspError>>()?;
        Ok(OcspResponse {
            certs,
            der: der.to_vec(),
            basic,
            tbs: tbs.to_vec(),
            signature_alg: signature_alg.to_vec(),
            signature: signature.to_vec(),
        })
    }

    /// The response as received.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The nonce the response carries, if any.
    pub fn nonce(&self) -> Option<Vec<u8>> {
        let ext = self
            .basic
            .tbs_response_data
            .response_extensions
            .as_ref()?
            .iter()
            .find(|e| e.extn_id == ID_NONCE)?;
        // The value is an OCTET STRING; some responders put the raw bytes there.
        let v = ext.extn_value.as_bytes();
        Some(
            der::asn1::OctetString::from_der(v)
                .map(|o| o.as_bytes().to_vec())
                .unwrap_or_else(|_| v.to_vec()),
        )
    }

    /// The status of `cert_der` (issued by `issuer_der`), after every check: the response is
    /// signed by the issuer or by a responder certificate the issuer made for OCSP signing
    /// (extended key usage OCSPSigning, valid at `now`); thisUpdate is not in the future and
    /// nextUpdate not past (with [`super::CLOCK_SKEW`]); when `nonce` is given and the
    /// response carries one, they match.
    pub fn verify(
        &self,
        cert_der: &[u8],
        issuer_der: &[u8],
        now: SystemTime,
        nonce: Option<&[u8]>,
    ) -> Result<VerifiedStatus, OcspError> {
        let subject = Subject::new(cert_der, issuer_der)?;
        self.verify_subject(&subject, now, nonce)
    }

    pub(crate) fn verify_subject(
        &self,
        subject: &Subject,
        now: SystemTime,
        nonce: Option<&[u8]>,
    ) -> Result<VerifiedStatus, OcspError> {
        let single = self
            .basic
            .tbs_response_data
            .responses
            .iter()
            .find(|r| subject.is(&r.cert_id))
            .ok_or_else(|| OcspError::NoStatusFor {
                subject: subject.subject_line(),
            })?;
        let responder = self.check_signer(&subject.issuer, now)?;
        if let (Some(sent), Some(got)) = (nonce, self.nonce()) {
            if sent != got.as_slice() {
                return Err(OcspError::NonceMismatch);
            }
        }
        let this_update = single.this_update.to_system_time();
        if this_update > now + CLOCK_SKEW {
            return Err(OcspError::NotYetValid { this_update });
        }
        let next_update = single.next_update.map(|t| t.to_system_time());
        let valid_until = next_update.unwrap_or(this_update + LIFETIME_WITHOUT_NEXT_UPDATE);
        if valid_until + CLOCK_SKEW < now {
            return Err(OcspError::Expired { valid_until });
        }
        let status = match &single.cert_status {
            asn1::CertStatus::Good(_) => CertStatus::Good,
            asn1::CertStatus::Unknown(_) => CertStatus::Unknown,
            asn1::CertStatus::Revoked(info) => CertStatus::Revoked {
                time: info.revocation_time.to_system_time(),
                reason: info.revocation_reason.map(reason_name),
            },
        };
        Ok(VerifiedStatus {
            status,
            this_update,
            next_update,
            valid_until,
            responder,
            subject: subject.subject_line(),
            serial: hex_upper(subject.cert.tbs_certificate().serial_number().as_bytes()),
        })
    }

    /// Checks who signed the response and the signature; the signer's subject on success.
    fn check_signer(&self, issuer: &Certificate, now: SystemTime) -> Result<String, OcspError> {
        let id = &self.basic.tbs_response_data.responder_id;
        let issuer_name = codec::oneline(issuer);
        if names(id, issuer) {
            self.check_signature(issuer, &issuer_name)?;
            return Ok(issuer_name);
        }
        let responder_name = match id {
            ResponderId::ByName(n) => codec::name_line(n),
            ResponderId::ByKey(k) => format!("key {}", hex_upper(k.as_bytes())),
        };
        let unauthorised = |reason: String| OcspError::UnauthorizedResponder {
            responder: responder_name.clone(),
            reason,
        };
        let (delegate, delegate_der) = self
            .certs
            .iter()
            .find(|(c, _)| names(id, c))
            .ok_or_else(|| {
                unauthorised(format!(
                    "it is not the issuer \"{issuer_name}\" and the response includes no certificate for it"
                ))
            })?;
        if delegate.tbs_certificate().issuer() != issuer.tbs_certificate().subject() {
            return Err(unauthorised(format!(
                "its certificate is not issued by \"{issuer_name}\""
            )));
        }
        let (tbs, alg, sig) = signed_parts(delegate_der)
            .ok_or_else(|| OcspError::BadCertificate("responder certificate".into()))?;
        verify_with(issuer, alg, tbs, sig).map_err(|r| {
            unauthorised(format!(
                "its certificate's signature does not verify with the key of \"{issuer_name}\" ({r})"
            ))
        })?;
        if !has_ocsp_signing(delegate) {
            return Err(unauthorised(format!(
                "its certificate lacks the extended key usage OCSPSigning required of a responder delegated by \"{issuer_name}\""
            )));
        }
        let validity = delegate.tbs_certificate().validity();
        if validity.not_before.to_system_time() > now || validity.not_after.to_system_time() < now {
            return Err(unauthorised(
                "its certificate is not valid at this time".to_owned(),
            ));
        }
        let name = codec::oneline(delegate);
        self.check_signature(delegate, &name)?;
        Ok(name)
    }

    fn check_signature(&self, signer: &Certificate, name: &str) -> Result<(), OcspError> {
        verify_with(signer, &self.signature_alg, &self.tbs, &self.signature).map_err(|reason| {
            OcspError::BadSignature {
                signer: name.to_owned(),
                reason,
            }
        })
    }
}

/// Checks a signature by `signer`'s key; the failure in words.
pub(crate) fn verify_with(
    signer: &Certificate,
    signature_alg: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    let spki = signer.tbs_certificate().subject_public_key_info();
    let key_alg = spki
        .algorithm
        .to_der()
        .ok()
        .and_then(|d| {
            AnyRef::try_from(d.as_slice())
                .map(|a| a.value().to_vec())
                .ok()
        })
        .ok_or("the signer's key algorithm cannot be encoded")?;
    signature::verify(
        &key_alg,
        spki.subject_public_key.raw_bytes(),
        signature_alg,
        message,
        signature,
    )
    .map_err(|f| match f {
        SignatureFailure::Invalid => "the signature is wrong".to_owned(),
        SignatureFailure::Unsupported => {
            "the signature algorithm is not supported for this key".to_owned()
        }
    })
}

/// True when the responder ID names `cert` (by subject, or by the SHA-1 of its key).
fn names(id: &ResponderId, cert: &Certificate) -> bool {
    match id {
        ResponderId::ByName(n) => n == cert.tbs_certificate().subject(),
        ResponderId::ByKey(k) => {
            k.as_bytes() == HashAlgorithm::Sha1.digest(codec::issuer_key_bits(cert))
        }
    }
}

fn has_ocsp_signing(cert: &Certificate) -> bool {
    cert.tbs_certificate()
        .extensions()
        .into_iter()
        .flatten()
        .filter(|e| e.extn_id == ID_CE_EXT_KEY_USAGE)
        .filter_map(|e| Vec::<ObjectIdentifier>::from_der(e.extn_value.as_bytes()).ok())
        .any(|ekus| ekus.contains(&ID_KP_OCSP_SIGNING))
}

/// The three parts of a SIGNED{} structure: the signed bytes (with their header), the
/// algorithm identifier's contents, and the signature bits. Fields after the signature (a
/// basic response's certificates) are passed over.
pub(crate) fn signed_parts(der: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let mut reader = SliceReader::new(der).ok()?;
    let (tbs, alg, sig) = reader
        .sequence(|r| {
            let tbs = r.tlv_bytes()?;
            let alg: AnyRef<'_> = r.decode()?;
            let sig: BitStringRef<'_> = r.decode()?;
            while !r.is_finished() {
                r.tlv_bytes()?;
            }
            Ok::<_, der::Error>((tbs, alg, sig))
        })
        .ok()?;
    if !reader.is_finished() || alg.tag() != Tag::Sequence {
        return None;
    }
    Some((tbs, alg.value(), sig.as_bytes()?))
}

fn status_name(s: ResponseStatus) -> &'static str {
    match s {
        ResponseStatus::Successful => "successful",
        ResponseStatus::MalformedRequest => "malformedRequest",
        ResponseStatus::InternalError => "internalError",
        ResponseStatus::TryLater => "tryLater",
        ResponseStatus::SigRequired => "sigRequired",
        ResponseStatus::Unauthorized => "unauthorized",
    }
}

fn reason_name(r: x509_cert::ext::pkix::CrlReason) -> String {
    reason_code_name(r as u8)
}

/// The name OpenSSL prints for a CRL reason code (RFC 5280 5.3.1).
pub(crate) fn reason_code_name(code: u8) -> String {
    match code {
        0 => "unspecified",
        1 => "keyCompromise",
        2 => "cACompromise",
        3 => "affiliationChanged",
        4 => "superseded",
        5 => "cessationOfOperation",
        6 => "certificateHold",
        8 => "removeFromCRL",
        9 => "privilegeWithdrawn",
        10 => "aACompromise",
        other => return format!("reason code {other}"),
    }
    .to_owned()
}

pub(crate) use crate::text::hex::encode_upper as hex_upper;
