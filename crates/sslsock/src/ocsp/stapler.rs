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

/// Where the servers of a fleet share OCSP staples ([`crate::Options::ocsp_staple_store`]):
/// one server fetches a certificate's response from the responder and puts it here, the
/// others take it instead of asking the responder themselves. Each server still checks what
/// it reads (signature, certificate, currency) and never takes an older response in place
/// of a newer one. `key` names the certificate (a digest of it); values are DER responses.
/// `redis_store::RedisStore` (feature `redis`) is one; the trait takes a store of your own.
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use std::time::Duration;
/// use sslsock::ocsp::StapleStore;
///
/// /// Staples shared by the servers of one process (a fleet would share a database).
/// #[derive(Default)]
/// struct Shared(Mutex<HashMap<Vec<u8>, Vec<u8>>>);
///
/// impl StapleStore for Shared {
///     fn get_staple(&self, key: &[u8]) -> Option<Vec<u8>> {
///         self.0.lock().unwrap().get(key).cloned()
///     }
///     fn put_staple(&self, key: &[u8], der: &[u8], _ttl: Duration) {
///         self.0.lock().unwrap().insert(key.to_vec(), der.to_vec());
///     }
///     fn claim_fetch(&self, _key: &[u8], _hold: Duration) -> bool {
///         true // one process: nobody to wait for
///     }
/// }
/// ```
pub trait StapleStore: Send + Sync {
    /// The response kept under `key`, if any.
    fn get_staple(&self, key: &[u8]) -> Option<Vec<u8>>;
    /// Keeps `der` under `key` for `ttl` (until the response runs out).
    fn put_staple(&self, key: &[u8], der: &[u8], ttl: Duration);
    /// Claims the fetching of `key`'s response for `hold`: true for the one server that is
    /// to ask the responder, false while another holds the claim. A store that cannot say
    /// (it does not answer) returns true: a server that cannot coordinate fetches its own.
    fn claim_fetch(&self, key: &[u8], hold: Duration) -> bool;
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

/// What a look at the fleet's store gave.
pub(crate) enum Renewal {
    /// A staple to serve from now on.
    Staple(Vec<u8>, VerifiedStatus),
    /// Another server is fetching: keep the current staple and look again shortly.
    Pending,
}

/// How long a server's claim on fetching a staple holds (the responder's timeout, twice).
fn claim_hold(timeout: Duration) -> Duration {
    timeout * 2
}

/// The key a certificate's staple is kept under in a [`StapleStore`]: a digest of the
/// certificate and its issuer.
fn store_key(chain: &[Vec<u8>]) -> Vec<u8> {
    let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for cert in chain.iter().take(2) {
        ctx.update(&(cert.len() as u64).to_be_bytes());
        ctx.update(cert);
    }
    ctx.finish().as_ref().to_vec()
}

/// A staple for `chain` with a fleet's `store` (source [`StapleSource::Auto`]): a newer
/// response another server put there is taken while it is not due for renewal; otherwise
/// the server that wins the claim asks the responder and shares the answer, and the others
/// wait for it while their `current` staple lasts.
pub(crate) fn renew_shared(
    store: &dyn StapleStore,
    chain: &[Vec<u8>],
    current: Option<&VerifiedStatus>,
    timeout: Duration,
) -> Result<Renewal, OcspError> {
    let key = store_key(chain);
    let now = SystemTime::now();
    let newer = |v: &VerifiedStatus| current.is_none_or(|c| v.this_update > c.this_update);
    let stored = store
        .get_staple(&key)
        .and_then(|der| match check(&der, chain) {
            Ok(v) if newer(&v) => Some((der, v)),
            Ok(_) => None,
            Err(e) => {
                log::warn!("OCSP staple in the fleet's store not taken: {e}");
                None
            }
        });
    if let Some((der, v)) = stored.as_ref().filter(|(_, v)| now < half_life(v)) {
        return Ok(Renewal::Staple(der.clone(), v.clone()));
    }
    let fetch = || -> Result<Renewal, OcspError> {
        let (der, v) = obtain(&StapleSource::Auto, chain, timeout)?;
        let ttl = v
            .valid_until
            .duration_since(SystemTime::now())
            .unwrap_or_default()
            .max(Duration::from_secs(1));
        store.put_staple(&key, &der, ttl);
        Ok(Renewal::Staple(der, v))
    };
    if store.claim_fetch(&key, claim_hold(timeout)) {
        return match (fetch(), stored) {
            (Ok(renewal), _) => Ok(renewal),
            // The responder did not answer: a newer stored response still serves.
            (Err(e), Some((der, v))) => {
                log::warn!("OCSP staple not renewed ({e}); serving the fleet's until it is");
                Ok(Renewal::Staple(der, v))
            }
            (Err(e), None) => Err(e),
        };
    }
    // Another server is asking the responder. A stored response newer than ours is served
    // meanwhile; with one still current, wait for the fetch; with none, ask ourselves.
    match (stored, current) {
        (Some((der, v)), _) => Ok(Renewal::Staple(der, v)),
        (None, Some(c)) if now < c.valid_until => Ok(Renewal::Pending),
        (None, _) => fetch(),
    }
}

/// While another server of the fleet fetches the staple, how soon to look for its answer.
const PENDING_LOOK_AGAIN: Duration = Duration::from_secs(2);

/// When to renew a response: halfway through its life, at least a second from now.
fn renew_at(v: &VerifiedStatus, now: SystemTime) -> SystemTime {
    half_life(v).max(now + Duration::from_secs(1))
}

/// Halfway through a response's life: from then on it is due for renewal.
fn half_life(v: &VerifiedStatus) -> SystemTime {
    let life = v
        .valid_until
        .duration_since(v.this_update)
        .unwrap_or_default();
    v.this_update + life / 2
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
    store: Option<std::sync::Arc<dyn StapleStore>>,
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
                let renewed = match &store {
                    Some(store) => {
                        renew_shared(&**store, &chain, current.as_ref(), super::DEFAULT_TIMEOUT)
                    }
                    None => obtain(&source, &chain, super::DEFAULT_TIMEOUT)
                        .map(|(der, v)| Renewal::Staple(der, v)),
                };
                match renewed {
                    Ok(Renewal::Pending) => {
                        // Another server of the fleet is fetching: look again soon.
                        next = SystemTime::now() + retry.min(PENDING_LOOK_AGAIN);
                    }
                    Ok(Renewal::Staple(der, v)) => {
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
