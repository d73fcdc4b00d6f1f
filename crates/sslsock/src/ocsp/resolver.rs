//! `$ssl->ocsp_resolver`: asks the OCSP responders about the certificates the staple did not
//! settle.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use super::codec::{HashAlgorithm, Subject};
use super::{http, CertId, CertStatus, OcspCache, OcspError, OcspMode, OcspRequest, OcspResponse};
use crate::error::VerifyError;

/// A certificate still to be asked about.
#[derive(Debug, Clone)]
struct Pending {
    subject: Subject,
    id: CertId,
    url: String,
    /// How many responses came back without its status.
    misses: u8,
}

/// Resolves the OCSP status of a connection's certificates: the leaf, or with
/// [`OcspMode::FULL_CHAIN`] every certificate of the validated chain below the root; a
/// certificate whose status a staple or the cache settled is not asked about again.
///
/// Drive it yourself with [`requests`](Self::requests) and
/// [`add_response`](Self::add_response), or let [`resolve_blocking`](Self::resolve_blocking)
/// do the HTTP. A verified "revoked" is a hard error; other failures are soft errors, hard
/// under [`OcspMode::FAIL_HARD`]; resolving stops at the first hard error.
///
/// ```no_run
/// # let sock = sslsock::SslSocket::connect("example.org:443")?;
/// let mut resolver = sock.ocsp_resolver();
/// while let Some((url, request)) = resolver.requests().into_iter().next() {
///     let body = Vec::new(); // POST `request` to `url` as application/ocsp-request
///     if resolver.add_response(&url, &body)? {
///         break;
///     }
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct OcspResolver {
    mode: OcspMode,
    cache: OcspCache,
    pending: Vec<Pending>,
    /// The request last made per URL, for its nonce and the certificates it asked about.
    sent: BTreeMap<String, (OcspRequest, Vec<CertId>)>,
    hard: Option<VerifyError>,
    soft: Vec<OcspError>,
    /// The certificates found good (subject), for reports.
    good: Vec<String>,
}

impl OcspResolver {
    /// A resolver for `chain` (validated, leaf first, root last); `leaf_settled` when the
    /// staple already settled the leaf.
    pub(crate) fn new(
        chain: &[Vec<u8>],
        mode: OcspMode,
        cache: OcspCache,
        leaf_settled: bool,
        now: SystemTime,
    ) -> OcspResolver {
        let mut r = OcspResolver {
            mode,
            cache,
            pending: Vec::new(),
            sent: BTreeMap::new(),
            hard: None,
            soft: Vec::new(),
            good: Vec::new(),
        };
        if mode.contains(OcspMode::NO_CHECK) {
            return r;
        }
        // Each certificate with its issuer; the root (last) has none to ask.
        let depth = if mode.contains(OcspMode::FULL_CHAIN) {
            chain.len().saturating_sub(1)
        } else {
            chain.len().min(1)
        };
        for (i, cert) in chain.iter().enumerate().take(depth) {
            if i == 0 && leaf_settled {
                continue;
            }
            let Some(issuer) = chain.get(i + 1) else {
                break;
            };
            let subject = match Subject::new(cert, issuer) {
                Ok(s) => s,
                Err(e) => {
                    r.fail_soft(e);
                    continue;
                }
            };
            let id = subject.cert_id(HashAlgorithm::Sha1);
            if let Some(cached) = r.cache.get(&id, now) {
                r.settle(&cached.status, &cached);
                continue;
            }
            match subject.responder_url() {
                Ok(url) => r.pending.push(Pending {
                    subject,
                    id,
                    url,
                    misses: 0,
                }),
                Err(e) => r.fail_soft(e),
            }
            if r.hard.is_some() {
                break;
            }
        }
        if chain.len() == 1 && !leaf_settled {
            r.fail_soft(OcspError::NoIssuer {
                subject: Subject::new(&chain[0], &chain[0])
                    .map(|s| s.subject_line())
                    .unwrap_or_default(),
            });
        }
        r
    }

    /// The requests still to be made, as (URL, DER request) pairs: certificates with the same
    /// responder are asked about in one request. Call again after
    /// [`add_response`](Self::add_response): a responder may answer only part of a request.
    pub fn requests(&mut self) -> Vec<(String, Vec<u8>)> {
        if self.hard.is_some() {
            return Vec::new();
        }
        let mut by_url: BTreeMap<String, Vec<CertId>> = BTreeMap::new();
        for p in &self.pending {
            by_url.entry(p.url.clone()).or_default().push(p.id.clone());
        }
        let mut out = Vec::new();
        self.sent.clear();
        for (url, ids) in by_url {
            let request = OcspRequest::new(ids.clone(), true);
            match request.to_der() {
                Ok(der) => {
                    out.push((url.clone(), der));
                    self.sent.insert(url, (request, ids));
                }
                Err(e) => self.soft.push(e),
            }
        }
        out
    }

    /// Takes the HTTP body the responder at `url` sent (empty when none came: a soft error).
    /// `Ok(true)` when nothing is left to ask, `Ok(false)` when requests remain, `Err` at a
    /// hard error.
    pub fn add_response(&mut self, url: &str, body: &[u8]) -> Result<bool, VerifyError> {
        self.add_response_at(url, body, SystemTime::now())
    }

    fn add_response_at(
        &mut self,
        url: &str,
        body: &[u8],
        now: SystemTime,
    ) -> Result<bool, VerifyError> {
        if let Some(h) = &self.hard {
            return Err(h.clone());
        }
        let Some((request, asked)) = self.take_asked(url) else {
            return Ok(self.pending.is_empty());
        };
        let response = if body.is_empty() {
            Err(OcspError::Http {
                url: url.to_owned(),
                reason: "no response".to_owned(),
            })
        } else {
            OcspResponse::from_der(body)
        };
        let response = match response {
            Ok(r) => r,
            Err(e) => {
                self.fail_soft(e);
                return self.progress();
            }
        };
        for mut p in asked {
            match response.verify_subject(&p.subject, now, request.nonce.as_deref()) {
                Ok(v) => {
                    let stands = self.cache.keep(p.id.clone(), v, now);
                    self.settle(&stands.status, &stands);
                }
                Err(OcspError::NoStatusFor { .. }) if p.misses == 0 => {
                    // Some responders answer only the first of several requests: ask again.
                    p.misses += 1;
                    self.pending.push(p);
                }
                Err(e) => self.fail_soft(e),
            }
            if self.hard.is_some() {
                break;
            }
        }
        self.progress()
    }

    /// The request last sent to `url` and the certificates it asked about, no longer pending.
    fn take_asked(&mut self, url: &str) -> Option<(OcspRequest, Vec<Pending>)> {
        let (request, ids) = self.sent.remove(url)?;
        let (asked, rest) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|p| ids.contains(&p.id));
        self.pending = rest;
        Some((request, asked))
    }

    fn progress(&self) -> Result<bool, VerifyError> {
        match &self.hard {
            Some(h) => Err(h.clone()),
            None => Ok(self.pending.is_empty()),
        }
    }

    fn settle(&mut self, status: &CertStatus, v: &super::VerifiedStatus) {
        match status {
            CertStatus::Good => self.good.push(v.subject.clone()),
            CertStatus::Revoked { time, reason } => {
                self.hard = Some(super::staple::revoked(v, *time, reason.clone()));
                self.pending.clear();
            }
            CertStatus::Unknown => self.fail_soft(OcspError::StatusUnknown {
                subject: v.subject.clone(),
            }),
        }
    }

    fn fail_soft(&mut self, e: OcspError) {
        if self.mode.contains(OcspMode::FAIL_HARD) && self.hard.is_none() {
            self.hard = Some(VerifyError::Ocsp(e.clone()));
            self.pending.clear();
        }
        self.soft.push(e);
    }

    /// The hard error, if one occurred. `None` while none did (check
    /// [`is_done`](Self::is_done) to tell "pending" from "finished").
    pub fn hard_error(&self) -> Option<&VerifyError> {
        self.hard.as_ref()
    }

    /// The soft errors met so far.
    pub fn soft_errors(&self) -> &[OcspError] {
        &self.soft
    }

    /// True when nothing is left to ask (or a hard error stopped resolving).
    pub fn is_done(&self) -> bool {
        self.hard.is_some() || self.pending.is_empty()
    }

    /// The subjects of the certificates found good.
    pub fn good(&self) -> &[String] {
        &self.good
    }

    /// Makes every request over HTTP (GET for small requests, POST otherwise; the proxy
    /// variables are honoured), each waiting at most `timeout`. `Err` at a hard error; soft
    /// errors stay in [`soft_errors`](Self::soft_errors).
    pub fn resolve_blocking(&mut self, timeout: Duration) -> Result<(), VerifyError> {
        // Two rounds: the second asks again about what a responder left out.
        for _ in 0..2 {
            let requests = self.requests();
            if requests.is_empty() {
                break;
            }
            for (url, der) in requests {
                match http::ocsp(&url, &der, timeout) {
                    Ok(body) => {
                        self.add_response(&url, &body)?;
                    }
                    Err(reason) => {
                        self.take_asked(&url);
                        self.fail_soft(OcspError::Http { url, reason });
                        self.progress()?;
                    }
                }
            }
        }
        // What is left got no answer twice.
        for p in std::mem::take(&mut self.pending) {
            self.fail_soft(OcspError::NoStatusFor {
                subject: p.subject.subject_line(),
            });
        }
        self.progress().map(|_| ())
    }
}

/// Asks the OCSP responder about `cert_der` (issued by `issuer_der`): at `url`, else at the
/// certificate's own responder (AIA). The request carries a nonce; the response must verify
/// (see [`OcspResponse::verify`]). Returns the URL asked and the verified status.
///
/// ```no_run
/// # let (cert, issuer) = (vec![], vec![]);
/// let (url, status) = sslsock::ocsp::query(&cert, &issuer, None, std::time::Duration::from_secs(5))?;
/// println!("{url}: {:?}", status.status);
/// # Ok::<(), sslsock::ocsp::OcspError>(())
/// ```
pub fn query(
    cert_der: &[u8],
    issuer_der: &[u8],
    url: Option<&str>,
    timeout: Duration,
) -> Result<(String, super::VerifiedStatus), OcspError> {
    let subject = Subject::new(cert_der, issuer_der)?;
    let url = match url {
        Some(u) => u.to_owned(),
        None => subject.responder_url()?,
    };
    let request = OcspRequest::new(vec![subject.cert_id(HashAlgorithm::Sha1)], true);
    let body = http::ocsp(&url, &request.to_der()?, timeout).map_err(|reason| OcspError::Http {
        url: url.clone(),
        reason,
    })?;
    let status = OcspResponse::from_der(&body)?.verify_subject(
        &subject,
        SystemTime::now(),
        request.nonce.as_deref(),
    )?;
    Ok((url, status))
}
