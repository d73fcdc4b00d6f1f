//! The client's check of a stapled OCSP response, during the handshake.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use super::codec::{must_staple_of, HashAlgorithm, Subject};
use super::crl_fetch::{self, CrlVerdict};
use super::{CertStatus, OcspCache, OcspError, OcspMode, OcspResponse, Revocation, StatusSource};
use crate::error::{self, VerifyError};

/// What the staple callback is given.
#[derive(Debug)]
#[non_exhaustive]
pub struct StapleInfo<'a> {
    /// The stapled response (DER), `None` when the server sent none.
    pub staple: Option<&'a [u8]>,
    /// The validated chain, leaf first (the root last).
    pub chain: &'a [Vec<u8>],
}

/// `SSL_ocsp_staple_callback`: replaces the built-in check of the staple. Returning an error
/// refuses the handshake with that reason.
///
/// ```
/// use sslsock::{ocsp::StapleInfo, Options};
/// let opts = Options::new().ocsp_staple_callback(|info: &StapleInfo<'_>| match info.staple {
///     Some(_) => Ok(()),
///     None => Err("this service always staples".to_owned()),
/// });
/// ```
pub type StapleCallback = Arc<dyn Fn(&StapleInfo<'_>) -> Result<(), String> + Send + Sync>;

/// The OCSP settings of a client context.
#[derive(Clone, Default)]
pub(crate) struct StaplePolicy {
    pub(crate) mode: OcspMode,
    pub(crate) callback: Option<StapleCallback>,
    pub(crate) cache: OcspCache,
    /// Fetch the leaf's CRL from its distribution point when no staple settled it.
    pub(crate) crl_fetch: bool,
}

impl fmt::Debug for StaplePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaplePolicy")
            .field("mode", &self.mode)
            .field("callback", &self.callback.is_some())
            .finish()
    }
}

impl StaplePolicy {
    /// Checks `staple` (empty: none sent) for the leaf of `chain` (leaf first), then, when
    /// that settled nothing and `crl_fetch` is on, the leaf's CRL. `Err` refuses the
    /// handshake; `Ok` says what is known.
    pub(crate) fn check(
        &self,
        staple: &[u8],
        chain: &[Vec<u8>],
        now: SystemTime,
    ) -> Result<Revocation, VerifyError> {
        let by_staple = self.check_staple(staple, chain, now)?;
        if !self.crl_fetch || matches!(by_staple, Revocation::Good { .. }) {
            return Ok(by_staple);
        }
        let mut soft_errors = match by_staple {
            Revocation::Unknown { soft_errors } => soft_errors,
            _ => Vec::new(),
        };
        match crl_fetch::check_leaf(chain, now, super::DEFAULT_TIMEOUT) {
            Ok(CrlVerdict::Good { valid_until }) => Ok(Revocation::Good {
                source: StatusSource::Crl,
                valid_until,
            }),
            Ok(CrlVerdict::Revoked {
                subject,
                serial,
                time,
                reason,
            }) => Err(VerifyError::Revoked(error::Revocation {
                subject,
                serial,
                revoked_at: time,
                reason,
            })),
            Err(e) if self.mode.contains(OcspMode::FAIL_HARD) => Err(VerifyError::Ocsp(e)),
            Err(e) => {
                log::info!("CRL not fetched: {e}");
                soft_errors.push(e);
                Ok(Revocation::Unknown { soft_errors })
            }
        }
    }

    fn check_staple(
        &self,
        staple: &[u8],
        chain: &[Vec<u8>],
        now: SystemTime,
    ) -> Result<Revocation, VerifyError> {
        if self.mode.contains(OcspMode::NO_CHECK) {
            return Ok(Revocation::Off);
        }
        let staple = (!staple.is_empty()).then_some(staple);
        if let Some(cb) = &self.callback {
            cb(&StapleInfo { staple, chain })
                .map_err(|reason| VerifyError::RejectedByStapleCallback { reason })?;
            return Ok(Revocation::Unknown {
                soft_errors: Vec::new(),
            });
        }
        let Some(leaf_der) = chain.first() else {
            return Ok(Revocation::Off);
        };
        let leaf = super::codec::parse_cert(leaf_der).map_err(bad_encoding)?;
        let required_by = if self.mode.contains(OcspMode::MUST_STAPLE) {
            Some("the OCSP mode \"must\"".to_owned())
        } else if must_staple_of(&leaf) {
            Some("the certificate (marked must-staple, RFC 7633)".to_owned())
        } else {
            None
        };
        if required_by.is_none() && !self.mode.checks_staple() {
            return Ok(Revocation::Unknown {
                soft_errors: Vec::new(),
            });
        }
        let refuse = |problem: Option<OcspError>| VerifyError::StapleRequired {
            required_by: required_by.clone().unwrap_or_default(),
            problem,
        };
        let Some(issuer_der) = chain.get(1) else {
            let e = OcspError::NoIssuer {
                subject: super::codec::oneline(&leaf),
            };
            return match required_by {
                Some(_) => Err(refuse(Some(e))),
                None => Ok(Revocation::Unknown {
                    soft_errors: vec![e],
                }),
            };
        };
        let subject = Subject::with_cert(leaf, issuer_der).map_err(bad_encoding)?;
        let id = subject.cert_id(HashAlgorithm::Sha1);
        let Some(staple) = staple else {
            if let Some(cached) = self.cache.get(&id, now) {
                if required_by.is_none() {
                    return outcome(cached.status.clone(), &cached, StatusSource::Cache);
                }
            }
            return match required_by {
                Some(_) => Err(refuse(None)),
                None => Ok(Revocation::Unknown {
                    soft_errors: Vec::new(),
                }),
            };
        };
        let verified =
            OcspResponse::from_der(staple).and_then(|r| r.verify_subject(&subject, now, None));
        let soft = match verified {
            Ok(v) if v.status == CertStatus::Unknown => {
                OcspError::StatusUnknown { subject: v.subject }
            }
            Ok(v) => {
                // A newer status, or a revocation, known from elsewhere beats the staple.
                let stands = self.cache.keep(id, v.clone(), now);
                let source = if stands == v {
                    StatusSource::Staple
                } else {
                    log::info!("OCSP staple superseded by a newer cached status");
                    StatusSource::Cache
                };
                return outcome(stands.status.clone(), &stands, source);
            }
            Err(e) => e,
        };
        log::info!("OCSP staple not usable: {soft}");
        match required_by {
            Some(_) => Err(refuse(Some(soft))),
            None => Ok(Revocation::Unknown {
                soft_errors: vec![soft],
            }),
        }
    }
}

/// A verified status as the handshake's outcome: revoked refuses.
fn outcome(
    status: CertStatus,
    v: &super::VerifiedStatus,
    source: StatusSource,
) -> Result<Revocation, VerifyError> {
    match status {
        CertStatus::Revoked { time, reason } => Err(revoked(v, time, reason)),
        CertStatus::Good => Ok(Revocation::Good {
            source,
            valid_until: v.valid_until,
        }),
        CertStatus::Unknown => Ok(Revocation::Unknown {
            soft_errors: vec![OcspError::StatusUnknown {
                subject: v.subject.clone(),
            }],
        }),
    }
}

pub(crate) fn revoked(
    v: &super::VerifiedStatus,
    time: SystemTime,
    reason: Option<String>,
) -> VerifyError {
    VerifyError::Revoked(error::Revocation {
        subject: v.subject.clone(),
        serial: v.serial.clone(),
        revoked_at: time,
        reason,
    })
}

fn bad_encoding(e: OcspError) -> VerifyError {
    VerifyError::BadEncoding(e.to_string())
}
