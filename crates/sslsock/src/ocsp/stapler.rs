//! Server-side stapling: where the staple comes from, and a thread that renews it before it
//! runs out.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::codec::{HashAlgorithm, Subject};
use super::{http, CertStatus, OcspError, OcspRequest, OcspResponse, VerifiedStatus};

/// Where a server's stapled OCSP responses come from ([`crate::Options::ocsp_staple`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StapleSource {
    /// A DER response in a file (as `openssl ocsp -respout` writes it), read again when it
    /// runs out, so that a job that renews the file is followed.
    File(PathBuf),
    /// Asked from the certificate's OCSP responder (its AIA URL) at start and again before
    /// nextUpdate; the last good response is served meanwhile.
    Auto,
}

/// A response checked for the certificate `chain[0]` issued by `chain[1]`: it must verify
/// and be current; "unknown" is refused ("revoked" is served, and logged as an error).
pub(crate) fn check(der: &[u8], chain: &[Vec<u8>]) -> Result<VerifiedStatus, OcspError> {
    let subject = subject(chain)?;
    let v = OcspResponse::from_der(der)?.verify_subject(&subject, SystemTime::now(), None)?;
    match &v.status {
        CertStatus::Unknown => Err(OcspError::StatusUnknown {
            subject: v.subject.clone(),
        }),
        CertStatus::Revoked { .. } => {
            log::error!(
                "the OCSP response says certificate \"{}\" is revoked; clients will refuse it",
                v.subject
            );
            Ok(v)
        }
        CertStatus::Good => Ok(v),
    }
}

fn subject(chain: &[Vec<u8>]) -> Result<Subject, OcspError> {
    let (Some(cert), Some(issuer)) = (chain.first(), chain.get(1)) else {
        let subject = chain
            .first()
            .and_then(|c| Subject::new(c, c).ok())
            .map(|s| s.subject_line())
            .unwrap_or_default();
        return Err(OcspError::NoIssuer { subject });
    };
    Subject::new(cert, issuer)
}

/// Gets a response for `chain` from `source`, checked.
pub(crate) fn obtain(
    source: &StapleSource,
    chain: &[Vec<u8>],
    timeout: Duration,
) -> Result<(Vec<u8>, VerifiedStatus), OcspError> {
    let der = match source {
        StapleSource::File(path) => crate::x509::read_capped(path).map_err(|e| {
            OcspError::Malformed(format!("cannot read staple file {}: {e}", path.display()))
        })?,
        StapleSource::Auto => {
            let subject = subject(chain)?;
            let url = subject.responder_url()?;
            // No nonce: a staple is shown to many clients, and responders may cache.
            let request = OcspRequest::new(vec![subject.cert_id(HashAlgorithm::Sha1)], false);
            http::ocsp(&url, &request.to_der()?, timeout)
                .map_err(|reason| OcspError::Http { url, reason })?
        }
    };
    let v = check(&der, chain)?;
    Ok((der, v))
}

/// When to renew a response: halfway through its life, at least a second from now.
fn renew_at(v: &VerifiedStatus, now: SystemTime) -> SystemTime {
    let life = v
        .valid_until
        .duration_since(v.this_update)
        .unwrap_or_default();
    (v.this_update + life / 2).max(now + Duration::from_secs(1))
}

/// Where a renewed staple goes: the certificate a server presents.
pub(crate) trait StapleSlot: Send + Sync {
    /// Installs `staple` (`None`: withdraws it).
    fn set_staple(&self, staple: Option<Vec<u8>>);
}

/// Keeps the staple of one certificate current on a thread of its own: renews it halfway
/// through its life, retries a failure after `retry` (sooner when the staple runs out
/// first), and withdraws a staple that ran out. The thread ends once `slot` is gone.
pub(crate) fn keep_current(
    source: StapleSource,
    chain: Vec<Vec<u8>>,
    current: Option<VerifiedStatus>,
    retry: Duration,
    slot: std::sync::Weak<dyn StapleSlot>,
) {
    let spawned = std::thread::Builder::new()
        .name("sslsock-ocsp-stapler".to_owned())
        .spawn(move || {
            let mut current = current;
            let mut next = match &current {
                Some(v) => renew_at(v, SystemTime::now()),
                None => SystemTime::now() + retry,
            };
            loop {
                let now = SystemTime::now();
                if let Some(v) = &current {
                    next = next.min(v.valid_until);
                }
                std::thread::sleep(next.duration_since(now).unwrap_or_default());
                let Some(slot) = slot.upgrade() else {
                    return;
                };
                match obtain(&source, &chain, super::DEFAULT_TIMEOUT) {
                    Ok((der, v)) => {
                        log::info!(
                            "OCSP staple for \"{}\" renewed, current until {}",
                            v.subject,
                            crate::timefmt::format_system_time(v.valid_until)
                        );
                        next = renew_at(&v, SystemTime::now());
                        current = Some(v);
                        slot.set_staple(Some(der));
                    }
                    Err(e) => {
                        log::warn!("OCSP staple not renewed: {e}");
                        let now = SystemTime::now();
                        if current.as_ref().is_some_and(|v| v.valid_until <= now) {
                            current = None;
                            slot.set_staple(None);
                        }
                        next = now + retry;
                    }
                }
            }
        });
    if let Err(e) = spawned {
        log::warn!("cannot start the OCSP stapling thread: {e}");
    }
}
