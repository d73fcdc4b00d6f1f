//! The OCSP wire formats: CertID, requests, and the certificate fields OCSP needs (responder
//! URLs, the must-staple feature).

use aws_lc_rs::digest;
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::AuthorityInfoAccessSyntax;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;

use super::asn1::{self, Request, TbsRequest};
use super::OcspError;

pub(crate) const ID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
pub(crate) const ID_SHA256: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_AD_OCSP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");
const ID_PE_TLSFEATURE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.1.24");
const ID_AIA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.1.1");
/// The TLS feature `status_request` (RFC 7633: the certificate must be stapled).
const STATUS_REQUEST: u32 = 5;

/// The digest of a CertID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-1: what RFC 5019 clients send and every responder understands.
    Sha1,
    /// SHA-256: accepted in responses.
    Sha256,
}

impl HashAlgorithm {
    fn oid(self) -> ObjectIdentifier {
        match self {
            HashAlgorithm::Sha1 => ID_SHA1,
            HashAlgorithm::Sha256 => ID_SHA256,
        }
    }

    pub(crate) fn from_oid(oid: &ObjectIdentifier) -> Option<HashAlgorithm> {
        [HashAlgorithm::Sha1, HashAlgorithm::Sha256]
            .into_iter()
            .find(|h| h.oid() == *oid)
    }

    pub(crate) fn digest(self, data: &[u8]) -> Vec<u8> {
        let alg = match self {
            HashAlgorithm::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            HashAlgorithm::Sha256 => &digest::SHA256,
        };
        digest::digest(alg, data).as_ref().to_vec()
    }
}

/// Which certificate a request or response is about (RFC 6960 4.1.1): hashes of its
/// issuer's name and key, and its serial number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CertId {
    /// The digest of the two hashes.
    pub hash: HashAlgorithm,
    /// Hash of the issuer's subject name (DER).
    pub issuer_name_hash: Vec<u8>,
    /// Hash of the issuer's public key (the BIT STRING's bytes).
    pub issuer_key_hash: Vec<u8>,
    /// The certificate's serial number (DER INTEGER contents).
    pub serial: Vec<u8>,
}

/// The parts of a certificate and its issuer that a CertID is made of.
#[derive(Debug, Clone)]
pub(crate) struct Subject {
    pub(crate) cert: Certificate,
    pub(crate) issuer: Certificate,
    pub(crate) issuer_name_der: Vec<u8>,
}

impl Subject {
    pub(crate) fn new(cert_der: &[u8], issuer_der: &[u8]) -> Result<Subject, OcspError> {
        Subject::with_cert(parse_cert(cert_der)?, issuer_der)
    }

    /// For a certificate already parsed.
    pub(crate) fn with_cert(cert: Certificate, issuer_der: &[u8]) -> Result<Subject, OcspError> {
        let issuer = parse_cert(issuer_der)?;
        let issuer_name_der = cert
            .tbs_certificate()
            .issuer()
            .to_der()
            .map_err(|e| OcspError::BadCertificate(e.to_string()))?;
        Ok(Subject {
            cert,
            issuer,
            issuer_name_der,
        })
    }

    pub(crate) fn cert_id(&self, hash: HashAlgorithm) -> CertId {
        CertId {
            hash,
            issuer_name_hash: hash.digest(&self.issuer_name_der),
            issuer_key_hash: hash.digest(issuer_key_bits(&self.issuer)),
            serial: self
                .cert
                .tbs_certificate()
                .serial_number()
                .as_bytes()
                .to_vec(),
        }
    }

    /// True when `id` (from a response, in any supported digest) names this certificate.
    pub(crate) fn is(&self, id: &asn1::CertId) -> bool {
        let Some(hash) = HashAlgorithm::from_oid(&id.hash_algorithm.oid) else {
            return false;
        };
        let mine = self.cert_id(hash);
        id.issuer_name_hash.as_bytes() == mine.issuer_name_hash
            && id.issuer_key_hash.as_bytes() == mine.issuer_key_hash
            && id.serial_number.as_bytes() == mine.serial
    }

    pub(crate) fn subject_line(&self) -> String {
        oneline(&self.cert)
    }

    /// The certificate's first OCSP responder URL.
    pub(crate) fn responder_url(&self) -> Result<String, OcspError> {
        urls_of(&self.cert)
            .into_iter()
            .next()
            .ok_or_else(|| OcspError::NoResponder {
                subject: self.subject_line(),
            })
    }

    pub(crate) fn issuer_line(&self) -> String {
        oneline(&self.issuer)
    }
}

impl CertId {
    /// The CertID of `cert_der` issued by `issuer_der` (both DER).
    pub fn new(
        cert_der: &[u8],
        issuer_der: &[u8],
        hash: HashAlgorithm,
    ) -> Result<CertId, OcspError> {
        Ok(Subject::new(cert_der, issuer_der)?.cert_id(hash))
    }

    fn to_asn1(&self) -> Result<asn1::CertId, der::Error> {
        Ok(asn1::CertId {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid: self.hash.oid(),
                parameters: Some(der::asn1::Null.into()),
            },
            issuer_name_hash: OctetString::new(self.issuer_name_hash.clone())?,
            issuer_key_hash: OctetString::new(self.issuer_key_hash.clone())?,
            serial_number: SerialNumber::new(&self.serial)?,
        })
    }
}

/// An OCSP request for one or more certificates of one responder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcspRequest {
    /// The certificates asked about.
    pub ids: Vec<CertId>,
    /// The nonce sent (RFC 6960 4.4.1), if any.
    pub nonce: Option<Vec<u8>>,
}

impl OcspRequest {
    /// A request for `ids`, with a fresh random 16-byte nonce when `with_nonce`.
    pub fn new(ids: Vec<CertId>, with_nonce: bool) -> OcspRequest {
        let nonce = with_nonce.then(|| {
            let mut n = vec![0u8; 16];
            // The system RNG; without it no nonce rather than a predictable one.
            match aws_lc_rs::rand::fill(&mut n) {
                Ok(()) => Some(n),
                Err(_) => None,
            }
        });
        OcspRequest {
            ids,
            nonce: nonce.flatten(),
        }
    }

    /// The DER encoding (unsigned request).
    pub fn to_der(&self) -> Result<Vec<u8>, OcspError> {
        let malformed = |e: der::Error| OcspError::Malformed(format!("request: {e}"));
        let request_list = self
            .ids
            .iter()
            .map(|id| {
                Ok(Request {
                    req_cert: id.to_asn1()?,
                })
            })
            .collect::<Result<Vec<_>, der::Error>>()
            .map_err(malformed)?;
        let request_extensions = match &self.nonce {
            Some(n) => {
                // The nonce extension's value is an OCTET STRING holding the nonce.
                let nonce = OctetString::new(n.clone()).map_err(malformed)?;
                let ext = x509_cert::ext::Extension {
                    extn_id: ID_NONCE,
                    critical: false,
                    extn_value: OctetString::new(nonce.to_der().map_err(malformed)?)
                        .map_err(malformed)?,
                };
                Some(vec![ext])
            }
            None => None,
        };
        asn1::OcspRequest {
            tbs_request: TbsRequest {
                request_list,
                request_extensions,
            },
        }
        .to_der()
        .map_err(malformed)
    }
}

pub(crate) const ID_NONCE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.2");

pub(crate) fn parse_cert(der: &[u8]) -> Result<Certificate, OcspError> {
    Certificate::from_der(der).map_err(|e| OcspError::BadCertificate(e.to_string()))
}

pub(crate) fn issuer_key_bits(issuer: &Certificate) -> &[u8] {
    issuer
        .tbs_certificate()
        .subject_public_key_info()
        .subject_public_key
        .raw_bytes()
}

pub(crate) fn oneline(cert: &Certificate) -> String {
    name_line(cert.tbs_certificate().subject())
}

/// A name in OpenSSL's one-line form (`/CN=...`), via the crate's usual printer.
pub(crate) fn name_line(name: &x509_cert::name::Name) -> String {
    name.to_der()
        .ok()
        .and_then(|der| {
            <x509_parser::x509::X509Name<'_> as x509_parser::prelude::FromDer<'_, _>>::from_der(
                &der,
            )
            .ok()
            .map(|(_, n)| crate::x509::oneline(&n))
        })
        .unwrap_or_else(|| name.to_string())
}

fn extension<'a>(cert: &'a Certificate, oid: &ObjectIdentifier) -> Option<&'a [u8]> {
    cert.tbs_certificate()
        .extensions()?
        .iter()
        .find(|e| e.extn_id == *oid)
        .map(|e| e.extn_value.as_bytes())
}

/// The OCSP responder URLs of a certificate (DER), from its authority information access.
pub fn ocsp_urls(cert_der: &[u8]) -> Result<Vec<String>, OcspError> {
    let cert = parse_cert(cert_der)?;
    Ok(urls_of(&cert))
}

pub(crate) fn urls_of(cert: &Certificate) -> Vec<String> {
    let Some(aia) =
        extension(cert, &ID_AIA).and_then(|v| AuthorityInfoAccessSyntax::from_der(v).ok())
    else {
        return Vec::new();
    };
    aia.0
        .iter()
        .filter(|d| d.access_method == ID_AD_OCSP)
        .filter_map(|d| match &d.access_location {
            GeneralName::UniformResourceIdentifier(u) => Some(u.to_string()),
            _ => None,
        })
        .collect()
}

/// True when the certificate (DER) carries the TLS feature `status_request` (RFC 7633
/// "must-staple"): a client must not accept it without a valid stapled response.
pub fn must_staple(cert_der: &[u8]) -> Result<bool, OcspError> {
    Ok(must_staple_of(&parse_cert(cert_der)?))
}

pub(crate) fn must_staple_of(cert: &Certificate) -> bool {
    // An extension that cannot be read counts as must-staple: failing closed.
    extension(cert, &ID_PE_TLSFEATURE).is_some_and(|v| {
        <Vec<u32> as Decode<'_>>::from_der(v)
            .map_or(true, |features| features.contains(&STATUS_REQUEST))
    })
}
