//! CRLs fetched from the leaf's distribution point (`crl_fetch`), kept until nextUpdate.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, SystemTime};

use der::asn1::ObjectIdentifier;
use der::Decode;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

use super::codec::Subject;
use super::response::{hex_upper, reason_code_name, signed_parts, verify_with};
use super::{http, OcspError, CLOCK_SKEW, LIFETIME_WITHOUT_NEXT_UPDATE};

const ID_CE_CRL_DISTRIBUTION_POINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.31");

/// CRLs held at most: each can be large.
const CACHED_CRLS: usize = 32;

/// What the CRL says of the leaf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CrlVerdict {
    /// Not listed, by a CRL current until then.
    Good { valid_until: SystemTime },
    /// Listed.
    Revoked {
        subject: String,
        serial: String,
        time: SystemTime,
        reason: Option<String>,
    },
}

/// A downloaded CRL (DER) and the time it stops being current.
type Fetched = (Vec<u8>, SystemTime);

/// Downloaded CRLs by URL.
static CACHE: LazyLock<Mutex<HashMap<String, Fetched>>> = LazyLock::new(Default::default);

/// The http URLs of the certificate's CRL distribution points.
fn distribution_points(subject: &Subject) -> Vec<String> {
    let Some(ext) = subject
        .cert
        .tbs_certificate()
        .extensions()
        .into_iter()
        .flatten()
        .find(|e| e.extn_id == ID_CE_CRL_DISTRIBUTION_POINTS)
    else {
        return Vec::new();
    };
    let Ok(points) = Vec::<DistributionPoint>::from_der(ext.extn_value.as_bytes()) else {
        return Vec::new();
    };
    points
        .iter()
        .filter_map(|p| match &p.distribution_point {
            Some(DistributionPointName::FullName(names)) => Some(names),
            _ => None,
        })
        .flatten()
        .filter_map(|n| match n {
            GeneralName::UniformResourceIdentifier(u) => Some(u.to_string()),
            _ => None,
        })
        .filter(|u| u.starts_with("http://"))
        .collect()
}

/// Checks the leaf `chain[0]` against the CRL of its issuer `chain[1]`, fetched from the
/// leaf's distribution point (or the cache).
pub(crate) fn check_leaf(
    chain: &[Vec<u8>],
    now: SystemTime,
    timeout: Duration,
) -> Result<CrlVerdict, OcspError> {
    let (Some(leaf), Some(issuer)) = (chain.first(), chain.get(1)) else {
        return Err(OcspError::NoIssuer {
            subject: String::new(),
        });
    };
    let subject = Subject::new(leaf, issuer)?;
    let url = distribution_points(&subject)
        .into_iter()
        .next()
        .ok_or_else(|| OcspError::NoCrlDistributionPoint {
            subject: subject.subject_line(),
        })?;
    let cached = CACHE
        .lock()
        .ok()
        .and_then(|c| c.get(&url).filter(|(_, until)| *until >= now).cloned());
    let der = match cached {
        Some((der, _)) => der,
        None => http::get(&url, timeout).map_err(|reason| OcspError::CrlFetch {
            url: url.clone(),
            reason,
        })?,
    };
    let (verdict, valid_until) = judge(&der, &subject, now)?;
    if let Ok(mut cache) = CACHE.lock() {
        if cache.len() >= CACHED_CRLS && !cache.contains_key(&url) {
            cache.retain(|_, (_, until)| *until >= now);
            if cache.len() >= CACHED_CRLS {
                cache.clear();
            }
        }
        cache.insert(url, (der, valid_until));
    }
    Ok(verdict)
}

fn judge(
    der: &[u8],
    subject: &Subject,
    now: SystemTime,
) -> Result<(CrlVerdict, SystemTime), OcspError> {
    let malformed = OcspError::CrlMalformed;
    let (_, crl) =
        CertificateRevocationList::from_der(der).map_err(|e| malformed(e.to_string()))?;
    let issuer_line = subject.issuer_line();
    if crl.issuer().as_raw() != subject.issuer_name_der.as_slice() {
        return Err(malformed(format!("it is not issued by \"{issuer_line}\"")));
    }
    let (tbs, alg, sig) = signed_parts(der).ok_or_else(|| malformed("not DER".into()))?;
    verify_with(&subject.issuer, alg, tbs, sig).map_err(|reason| OcspError::BadSignature {
        signer: issuer_line.clone(),
        reason,
    })?;
    let this_update = crate::x509::asn1_time(crl.last_update());
    if this_update > now + CLOCK_SKEW {
        return Err(OcspError::NotYetValid { this_update });
    }
    let valid_until = crl
        .next_update()
        .map(crate::x509::asn1_time)
        .unwrap_or(this_update + LIFETIME_WITHOUT_NEXT_UPDATE);
    if valid_until + CLOCK_SKEW < now {
        return Err(OcspError::Expired { valid_until });
    }
    // RFC 5280, section 6.3.3: a CRL of another scope is no answer (a listing in a CRL of
    // some reasons only still revokes).
    let scope = crate::verify::crl_scope::scope(der, &subject.cert).map_err(|reason| {
        OcspError::CrlOutOfScope {
            subject: subject.subject_line(),
            reason,
        }
    })?;
    let serial = subject.cert.tbs_certificate().serial_number().as_bytes();
    let listed = crl
        .iter_revoked_certificates()
        .find(|r| trim(r.raw_serial()) == trim(serial));
    if listed.is_none() && scope == crate::verify::crl_scope::Scope::SomeReasons {
        return Err(OcspError::CrlOutOfScope {
            subject: subject.subject_line(),
            reason: "it covers some revocation reasons only (onlySomeReasons)".into(),
        });
    }
    let verdict = match listed {
        Some(r) => CrlVerdict::Revoked {
            subject: subject.subject_line(),
            serial: hex_upper(trim(serial)),
            time: crate::x509::asn1_time(r.revocation_date),
            reason: r.reason_code().map(|(_, c)| reason_code_name(c.0)),
        },
        None => CrlVerdict::Good { valid_until },
    };
    Ok((verdict, valid_until))
}

/// A serial number without the sign byte DER may put before it.
fn trim(serial: &[u8]) -> &[u8] {
    match serial {
        [0, rest @ ..] if !rest.is_empty() => rest,
        s => s,
    }
}
