//! Chain policy: pins, path building to a trusted root, CRLs and the verify callback.
//!
//! The host name is not checked here (see [`super::hostname`]); everything else about
//! whether a peer's certificate chain is acceptable is.
//!
//! The verify callback (`SSL_verify_callback`) sees each certificate of the path with the
//! verdict so far, and may refuse (or, as in Perl, accept what failed):
//!
//! ```
//! use sslsock::{Options, SslContext};
//! let opts = Options::new().verify_callback(|info| {
//!     // Refuse anything issued by a CA we do not want, whatever the trust store says.
//!     info.ok && !(info.depth > 0 && info.subject.contains("O=Untrusted Inc"))
//! });
//! let ctx = SslContext::new(&opts)?;
//! # let _ = ctx;
//! # Ok::<(), sslsock::Error>(())
//! ```

use std::fmt;
use std::sync::Arc;

use pki_types::{CertificateDer, TrustAnchor, UnixTime};
use webpki::{
    ExpirationPolicy, RevocationCheckDepth, RevocationOptionsBuilder, UnknownStatusPolicy,
};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::crl::CrlSet;
use super::fingerprint::{self, Pin};
use super::name_constraints;
use crate::error::VerifyError;
use crate::x509;

/// What the verify callback is told about one certificate of the chain.
#[derive(Debug)]
#[non_exhaustive]
pub struct VerifyInfo<'a> {
    /// The verdict of the path validation for this certificate (OpenSSL's `preverify_ok`).
    pub ok: bool,
    /// 0 for the peer's own certificate, counting up towards the root.
    pub depth: usize,
    /// The certificate (DER).
    pub cert_der: &'a [u8],
    /// Its subject, OpenSSL one-line form.
    pub subject: String,
    /// Its issuer, OpenSSL one-line form.
    pub issuer: String,
    /// Why the validation failed at this certificate; `None` when it did not.
    pub error: Option<&'a VerifyError>,
}

/// The verify callback (`SSL_verify_callback`): called for each certificate from the root
/// down to the leaf; its answer decides. Returning `true` for a certificate the validation
/// refused accepts it anyway, returning `false` refuses one it accepted. The host name is
/// checked after the callback and cannot be overridden by it; a pinned leaf skips it.
///
/// The Perl callback gets `($ok, $store, $certname, $error, $cert, $depth)`; here they are
/// [`VerifyInfo::ok`], (no store), [`VerifyInfo::subject`] / [`VerifyInfo::issuer`],
/// [`VerifyInfo::error`] (`None` for Perl's `0`), [`VerifyInfo::cert_der`] and
/// [`VerifyInfo::depth`]. When the chain cannot be built, the callback sees the certificates
/// the peer sent, with the error at the certificate OpenSSL would blame (the top one for an
/// unknown issuer, the expired one for an expiry).
///
/// ```
/// use sslsock::Options;
/// // Accept only chains of at most one intermediate below the root.
/// let opts = Options::new().verify_callback(|info| info.ok && info.depth <= 2);
/// ```
pub type VerifyCallback = Arc<dyn Fn(&VerifyInfo<'_>) -> bool + Send + Sync>;

/// For which side the peer's certificate must be valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum Usage {
    /// A server certificate (extended key usage serverAuth).
    Server,
    /// A client certificate (extended key usage clientAuth).
    Client,
}

/// How a chain was accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub(crate) enum Accepted {
    /// A pin matched the leaf; nothing else was checked.
    Pinned,
    /// The chain leads to a trusted root (and passed CRLs and the callback).
    Chain {
        /// The certificates (DER) the decision rests on, root first and the leaf last: the
        /// validated path, or, when the verify callback accepted a chain that the validation
        /// refused, the certificates as the peer sent them.
        path: Vec<Vec<u8>>,
    },
}

impl Accepted {
    /// The CA certificates of the path (the leaf left out); none for a pinned leaf. Their
    /// name constraints bind the names the host name check accepts.
    pub(crate) fn issuers(&self) -> &[Vec<u8>] {
        match self {
            Accepted::Pinned => &[],
            Accepted::Chain { path } => path.split_last().map_or(&[], |(_, cas)| cas),
        }
    }
}

/// Everything that decides whether a certificate chain is acceptable.
#[derive(Default)]
pub(crate) struct ChainPolicy {
    anchors: Vec<TrustAnchor<'static>>,
    anchor_ders: Vec<CertificateDer<'static>>,
    pins: Vec<Pin>,
    force_pin: bool,
    crls: Option<CrlSet>,
    callback: Option<VerifyCallback>,
}

impl fmt::Debug for ChainPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainPolicy")
            .field("anchors", &self.anchors.len())
            .field("pins", &self.pins)
            .field("force_pin", &self.force_pin)
            .field("crls", &self.crls.as_ref().map(CrlSet::len))
            .field("callback", &self.callback.is_some())
            .finish()
    }
}

impl ChainPolicy {
    /// A policy trusting `roots` (unusable certificates are skipped with a warning).
    pub(crate) fn new(roots: &[CertificateDer<'static>]) -> ChainPolicy {
        let mut policy = ChainPolicy::default();
        for der in roots {
            match webpki::anchor_from_trusted_cert(der) {
                Ok(a) => {
                    policy.anchors.push(a.to_owned());
                    policy.anchor_ders.push(der.clone());
                }
                Err(e) => log::warn!("skipping unusable CA certificate: {e:?}"),
            }
        }
        policy
    }

    /// Accepts a leaf matching one of `pins`; with `force`, only such a leaf.
    pub(crate) fn with_pins(mut self, pins: Vec<Pin>, force: bool) -> ChainPolicy {
        self.pins = pins;
        self.force_pin = force;
        self
    }

    /// Checks revocation against `crls` (leaf: a CRL of its issuer is required).
    pub(crate) fn with_crls(mut self, crls: CrlSet) -> ChainPolicy {
        self.crls = Some(crls);
        self
    }

    /// When a CRL of the leaf's issuer answers for it (CRL checking is on and the leaf passed
    /// it): until when that CRL is current.
    pub(crate) fn crl_answer(&self, leaf: &[u8]) -> Option<std::time::SystemTime> {
        self.crls.as_ref()?.current_answer(leaf)
    }

    /// Lets `callback` decide per certificate.
    pub(crate) fn with_callback(mut self, callback: VerifyCallback) -> ChainPolicy {
        self.callback = Some(callback);
        self
    }

    /// Subjects (DER) of the trusted roots, e.g. for the list of acceptable client CAs.
    pub(crate) fn anchor_subjects(&self) -> impl Iterator<Item = &[u8]> {
        self.anchors.iter().map(|a| a.subject.as_ref())
    }

    /// What makes this policy itself, as bytes: two policies with equal parts decide alike.
    /// `None` when it cannot be told by value (CRLs loaded from files): such a policy is
    /// taken as unlike every other.
    pub(crate) fn identity_parts(&self) -> Option<Vec<Vec<u8>>> {
        if self.crls.is_some() {
            return None;
        }
        let mut parts: Vec<Vec<u8>> = self.anchor_ders.iter().map(|d| d.to_vec()).collect();
        parts.push(b"pins".to_vec());
        parts.extend(self.pins.iter().map(|p| p.to_string().into_bytes()));
        parts.push(vec![u8::from(self.force_pin)]);
        if let Some(cb) = &self.callback {
            // The same callback object (a cloned Options shares it), not merely a like one.
            parts.push(format!("callback {:p}", Arc::as_ptr(cb)).into_bytes());
        }
        Some(parts)
    }

    /// True when nothing is trusted: no root and no pin.
    pub(crate) fn trusts_nothing(&self) -> bool {
        self.anchors.is_empty() && self.pins.is_empty()
    }

    /// Decides on the chain `end_entity` + `intermediates` at time `now`. A leaf without a
    /// DNS subjectAltName has its commonName held to the CAs' DNS name constraints (OpenSSL's
    /// rule).
    pub(crate) fn verify(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
        usage: Usage,
    ) -> Result<Accepted, VerifyError> {
        self.verify_names(end_entity, intermediates, now, usage, true)
    }

    /// [`verify`](Self::verify); `common_name_is_a_name` false for a hostname scheme that
    /// never reads the commonName (`strict`): it is then neither matched nor constrained.
    pub(crate) fn verify_names(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
        usage: Usage,
        common_name_is_a_name: bool,
    ) -> Result<Accepted, VerifyError> {
        if self.pins.iter().any(|p| p.matches(end_entity)) {
            return Ok(Accepted::Pinned);
        }
        if self.force_pin && !self.pins.is_empty() {
            return Err(self.pin_mismatch(end_entity));
        }
        let outcome = self.path(end_entity, intermediates, now, usage, common_name_is_a_name);
        let outcome = match &self.callback {
            Some(cb) => self.ask_callback(cb, end_entity, intermediates, outcome, now),
            None => outcome,
        };
        match outcome {
            Ok(path) => Ok(Accepted::Chain { path }),
            // The pins were meant to let this peer in; say that they did not.
            Err(_) if !self.pins.is_empty() => Err(self.pin_mismatch(end_entity)),
            Err(e) => Err(e),
        }
    }

    fn pin_mismatch(&self, end_entity: &[u8]) -> VerifyError {
        let first = &self.pins[0];
        VerifyError::PinMismatch {
            presented: fingerprint::fingerprint(end_entity, first.algorithm(), first.is_pubkey())
                .unwrap_or_else(|_| "(unparsable certificate)".to_owned()),
            expected: self.pins.iter().map(Pin::to_string).collect(),
        }
    }

    /// The path from a trusted root down to `end_entity`, without pins or the callback: the
    /// path a handshake validated, found again (the names were decided then).
    pub(crate) fn validated_path(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        usage: Usage,
    ) -> Result<Vec<Vec<u8>>, VerifyError> {
        self.path(end_entity, intermediates, UnixTime::now(), usage, false)
    }

    /// Path validation; on success the path from the root down to the leaf.
    fn path(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
        usage: Usage,
        common_name_is_a_name: bool,
    ) -> Result<Vec<Vec<u8>>, VerifyError> {
        let cert = webpki::EndEntityCert::try_from(end_entity).map_err(|e| {
            VerifyError::BadEncoding(crate::text::words_of_debug(&format!("{e:?}")))
        })?;
        let crl_refs: Vec<&webpki::CertRevocationList<'static>> =
            self.crls.iter().flat_map(|s| s.lists.iter()).collect();
        let revocation = RevocationOptionsBuilder::new(&crl_refs).ok().map(|b| {
            b.with_depth(RevocationCheckDepth::Chain)
                .with_status_policy(UnknownStatusPolicy::Allow)
                .with_expiration_policy(ExpirationPolicy::Enforce)
                .build()
        });
        let key_usage = match usage {
            Usage::Server => webpki::KeyUsage::server_auth(),
            Usage::Client => webpki::KeyUsage::client_auth(),
        };
        let path = cert
            .verify_for_usage(
                webpki::ALL_VERIFICATION_ALGS,
                &self.anchors,
                intermediates,
                now,
                key_usage,
                revocation,
                None,
            )
            .map_err(|e| self.map_error(e, end_entity, intermediates))?;
        if let Some(crls) = &self.crls {
            if !crls.covers(end_entity) {
                return Err(VerifyError::CrlMissing {
                    issuer: parse(end_entity)
                        .map_or_else(|| "?".to_owned(), |c| x509::oneline(c.issuer())),
                });
            }
        }
        let mut chain = Vec::new();
        let anchor = path.anchor();
        if let Some(i) = self.anchors.iter().position(|a| {
            a.subject == anchor.subject
                && a.subject_public_key_info == anchor.subject_public_key_info
        }) {
            chain.push(self.anchor_ders[i].to_vec());
        }
        let mids: Vec<Vec<u8>> = path
            .intermediate_certificates()
            .map(|c| c.der().to_vec())
            .collect();
        chain.extend(mids.into_iter().rev());
        chain.push(end_entity.to_vec());
        // The path validator holds only subjectAltNames to name constraints.
        if common_name_is_a_name {
            name_constraints::check_leaf_common_names(&chain)?;
        }
        Ok(chain)
    }

    fn map_error(
        &self,
        e: webpki::Error,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
    ) -> VerifyError {
        use webpki::Error as W;
        let last = intermediates.last().unwrap_or(end_entity);
        let parsed = parse(last);
        let issuer = parsed
            .as_ref()
            .map_or_else(|| "?".to_owned(), |c| x509::oneline(c.issuer()));
        // A lone certificate that names itself as issuer: whatever the path builder tripped
        // over (no anchor, or an anchor with the same name but another key), it is an
        // untrusted self-signed certificate.
        let self_signed =
            intermediates.is_empty() && parsed.as_ref().is_some_and(|c| c.subject() == c.issuer());
        match e {
            W::CertExpired { time, not_after } => VerifyError::Expired {
                not_after: x509::system_time(not_after.as_secs()),
                now: x509::system_time(time.as_secs()),
            },
            W::CertNotValidYet { time, not_before } => VerifyError::NotYetValid {
                not_before: x509::system_time(not_before.as_secs()),
                now: x509::system_time(time.as_secs()),
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
            W::CertRevoked => {
                let found = self.crls.as_ref().and_then(|crls| {
                    std::iter::once(end_entity)
                        .chain(intermediates)
                        .find_map(|c| crls.revocation_of(c))
                });
                match found {
                    Some(r) => VerifyError::Revoked(r),
                    None => VerifyError::Other("certificate is revoked".to_owned()),
                }
            }
            W::CrlExpired { time, next_update } => VerifyError::Other(format!(
                "the CRL expired on {} (now {})",
                x509::format_unix_time(next_update.as_secs()),
                x509::format_unix_time(time.as_secs())
            )),
            W::InvalidSignatureForPublicKey
            | W::UnsupportedSignatureAlgorithmForPublicKeyContext(_)
            | W::UnsupportedSignatureAlgorithmContext(_) => VerifyError::BadSignature,
            W::RequiredEkuNotFoundContext(_) => VerifyError::BadPurpose,
            W::BadDer | W::BadDerTime | W::TrailingData(_) => {
                VerifyError::BadEncoding(crate::text::words_of_debug(&format!("{e:?}")))
            }
            W::CaUsedAsEndEntity => VerifyError::Other(
                "the peer presented a CA certificate as its own (a CA is not an end entity)"
                    .to_owned(),
            ),
            W::EndEntityUsedAsCa => VerifyError::Other(
                "a certificate that is not a CA was used to issue another one".to_owned(),
            ),
            other => VerifyError::Other(crate::text::words_of_debug(&format!("{other:?}"))),
        }
    }

    /// Runs the callback from the top of the chain down to the leaf; on acceptance the chain
    /// it was shown.
    fn ask_callback(
        &self,
        cb: &VerifyCallback,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        outcome: Result<Vec<Vec<u8>>, VerifyError>,
        now: UnixTime,
    ) -> Result<Vec<Vec<u8>>, VerifyError> {
        let (chain, error): (Vec<Vec<u8>>, Option<VerifyError>) = match outcome {
            Ok(chain) => (chain, None),
            Err(e) => {
                let mut presented: Vec<Vec<u8>> =
                    intermediates.iter().rev().map(|c| c.to_vec()).collect();
                presented.push(end_entity.to_vec());
                (presented, Some(e))
            }
        };
        let top = chain.len() - 1;
        let error_depth = error.as_ref().map(|e| blame(e, &chain, now));
        for (i, der) in chain.iter().enumerate() {
            let depth = top - i;
            let here = (error_depth == Some(depth))
                .then_some(error.as_ref())
                .flatten();
            let parsed = parse(der);
            let info = VerifyInfo {
                ok: here.is_none(),
                depth,
                cert_der: der,
                subject: parsed
                    .as_ref()
                    .map(|c| x509::oneline(c.subject()))
                    .unwrap_or_default(),
                issuer: parsed
                    .as_ref()
                    .map(|c| x509::oneline(c.issuer()))
                    .unwrap_or_default(),
                error: here,
            };
            if !cb(&info) {
                let subject = info.subject;
                return Err(error
                    .clone()
                    .unwrap_or(VerifyError::RejectedByCallback { depth, subject }));
            }
        }
        Ok(chain)
    }
}

fn parse(der: &[u8]) -> Option<X509Certificate<'_>> {
    X509Certificate::from_der(der).ok().map(|(_, c)| c)
}

/// The depth (in `chain`, listed root first) at which OpenSSL would report `e`.
fn blame(e: &VerifyError, chain: &[Vec<u8>], now: UnixTime) -> usize {
    let top = chain.len() - 1;
    let depth_of = |pred: &dyn Fn(&X509Certificate<'_>) -> bool| {
        chain
            .iter()
            .position(|d| parse(d).as_ref().is_some_and(pred))
            .map_or(0, |i| top - i)
    };
    let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    match e {
        VerifyError::Expired { .. } => depth_of(&|c| c.validity().not_after.timestamp() < now),
        VerifyError::NotYetValid { .. } => depth_of(&|c| c.validity().not_before.timestamp() > now),
        VerifyError::UnknownIssuer { .. } | VerifyError::SelfSigned { .. } => top,
        VerifyError::Revoked(r) => depth_of(&|c| x509::oneline(c.subject()) == r.subject),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    //! The chain policy over DER alone: no socket, no engine.

    use std::sync::{Arc, Mutex};
    use std::time::{Duration, SystemTime};

    use rcgen::{
        CertificateRevocationListParams, Issuer, KeyIdMethod, KeyPair, RevocationReason,
        RevokedCertParams, SerialNumber,
    };

    use super::*;
    use crate::verify::fingerprint::FingerprintAlgorithm;
    use crate::x509::create::{CertSpec, Issued};

    struct Pki {
        root: Issued,
        mid: Issued,
        leaf: Issued,
        expired: Issued,
        stranger: Issued,
    }

    fn pki() -> Pki {
        let root = CertSpec::new("Unit Root")
            .ca()
            .purpose("cRLSign")
            .self_signed()
            .unwrap();
        let mid = CertSpec::new("Unit Mid")
            .ca()
            .purpose("cRLSign")
            .signed_by(&root)
            .unwrap();
        let leaf = CertSpec::new("leaf.example")
            .san("leaf.example")
            .serial(0x1001)
            .signed_by(&mid)
            .unwrap();
        let past = SystemTime::now() - Duration::from_secs(90 * 86_400);
        let expired = CertSpec::new("old.example")
            .san("old.example")
            .validity(past, past + Duration::from_secs(86_400))
            .signed_by(&mid)
            .unwrap();
        let stranger = CertSpec::new("stranger.example")
            .san("stranger.example")
            .self_signed()
            .unwrap();
        Pki {
            root,
            mid,
            leaf,
            expired,
            stranger,
        }
    }

    fn der(i: &Issued) -> CertificateDer<'static> {
        CertificateDer::from(i.cert_der.clone())
    }

    fn policy(p: &Pki) -> ChainPolicy {
        ChainPolicy::new(&[der(&p.root)])
    }

    fn check(
        policy: &ChainPolicy,
        leaf: &Issued,
        mids: &[&Issued],
    ) -> Result<Accepted, VerifyError> {
        let mids: Vec<CertificateDer<'static>> = mids.iter().map(|m| der(m)).collect();
        policy.verify(&der(leaf), &mids, UnixTime::now(), Usage::Server)
    }

    /// A CRL by `issuer` revoking the certificates with `serials` (big-endian bytes).
    fn crl(issuer: &Issued, serials: &[&[u8]]) -> CrlSet {
        CrlSet::from_der_for_tests(&crl_der(issuer, serials))
    }

    /// The same CRL in DER.
    fn crl_der(issuer: &Issued, serials: &[&[u8]]) -> Vec<u8> {
        use pki_types::pem::PemObject;
        let der = pki_types::PrivateKeyDer::from_pem_slice(issuer.key_pem.as_bytes()).unwrap();
        let key = KeyPair::try_from(&der).unwrap();
        let issuer = Issuer::from_ca_cert_der(&issuer.cert_der.clone().into(), key).unwrap();
        let now = time::OffsetDateTime::now_utc();
        let params = CertificateRevocationListParams {
            this_update: now - time::Duration::hours(1),
            next_update: now + time::Duration::days(1),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: serials
                .iter()
                .map(|s| RevokedCertParams {
                    serial_number: SerialNumber::from_slice(s),
                    revocation_time: now - time::Duration::hours(1),
                    reason_code: Some(RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        params.signed_by(&issuer).unwrap().der().to_vec()
    }

    /// `crl::check` counts the CRLs of a DER file and of a PEM file, and refuses a broken one.
    #[test]
    fn crl_files_are_checked_as_crl_file_reads_them() {
        let p = pki();
        let der = crl_der(&p.mid, &[&[7]]);
        assert_eq!(crate::verify::crl::check(&der).unwrap(), 1);
        let block = x509::pem::encode("X509 CRL", &der);
        let pem = format!("{block}{block}");
        assert_eq!(crate::verify::crl::check(pem.as_bytes()).unwrap(), 2);
        assert!(crate::verify::crl::check(&der[..der.len() - 1]).is_err());
    }

    #[test]
    fn the_path_runs_from_the_root_to_the_leaf() {
        let p = pki();
        let accepted = check(&policy(&p), &p.leaf, &[&p.mid]).unwrap();
        let Accepted::Chain { path } = &accepted else {
            panic!("{accepted:?}");
        };
        assert_eq!(
            path,
            &[
                p.root.cert_der.clone(),
                p.mid.cert_der.clone(),
                p.leaf.cert_der.clone()
            ]
        );
        assert_eq!(accepted.issuers(), &path[..2]);
    }

    #[test]
    fn failures_are_typed() {
        let p = pki();
        assert!(matches!(
            check(&policy(&p), &p.leaf, &[]),
            Err(VerifyError::UnknownIssuer { issuer }) if issuer == "/CN=Unit Mid"
        ));
        assert!(matches!(
            check(&policy(&p), &p.stranger, &[]),
            Err(VerifyError::SelfSigned { subject }) if subject == "/CN=stranger.example"
        ));
        assert!(matches!(
            check(&policy(&p), &p.expired, &[&p.mid]),
            Err(VerifyError::Expired { .. })
        ));
        let server_only = CertSpec::new("srv.example")
            .extended_key_usage(&["serverAuth"])
            .unwrap()
            .signed_by(&p.mid)
            .unwrap();
        let client = policy(&p).verify(
            &der(&server_only),
            &[der(&p.mid)],
            UnixTime::now(),
            Usage::Client,
        );
        assert!(matches!(client, Err(VerifyError::BadPurpose)), "{client:?}");
    }

    #[test]
    fn the_callback_sees_each_depth_and_decides() {
        let p = pki();
        let seen: Arc<Mutex<Vec<(usize, bool, String)>>> = Arc::default();
        let log = seen.clone();
        let accept_all = policy(&p).with_callback(Arc::new(move |info: &VerifyInfo<'_>| {
            log.lock().unwrap().push((
                info.depth,
                info.ok,
                info.error.map(ToString::to_string).unwrap_or_default(),
            ));
            true
        }));
        // An expired leaf: blamed at depth 0, the CAs above it fine; the callback lets it in,
        // and the path is then the chain as sent.
        let accepted = check(&accept_all, &p.expired, &[&p.mid]).unwrap();
        assert_eq!(accepted.issuers(), std::slice::from_ref(&p.mid.cert_der));
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert_eq!((seen[0].0, seen[0].1), (1, true));
        assert_eq!((seen[1].0, seen[1].1), (0, false));
        assert!(seen[1].2.contains("expired"), "{seen:?}");
        // An unknown issuer is blamed at the top of what was sent.
        let tops: Arc<Mutex<Vec<(usize, bool)>>> = Arc::default();
        let log = tops.clone();
        let refuse = policy(&p).with_callback(Arc::new(move |info: &VerifyInfo<'_>| {
            log.lock().unwrap().push((info.depth, info.ok));
            info.ok
        }));
        let stranger_mid = CertSpec::new("Other Mid").ca().self_signed().unwrap();
        let leaf = CertSpec::new("x.example").signed_by(&stranger_mid).unwrap();
        assert!(matches!(
            check(&refuse, &leaf, &[&stranger_mid]),
            Err(VerifyError::UnknownIssuer { .. })
        ));
        assert_eq!(tops.lock().unwrap()[0], (1, false));
        // A valid chain refused by the callback at the intermediate.
        let picky = policy(&p).with_callback(Arc::new(|info: &VerifyInfo<'_>| info.depth != 1));
        assert!(matches!(
            check(&picky, &p.leaf, &[&p.mid]),
            Err(VerifyError::RejectedByCallback { depth: 1, subject }) if subject == "/CN=Unit Mid"
        ));
    }

    #[test]
    fn pins_accept_a_leaf_whatever_its_chain() {
        let p = pki();
        let pin = |i: &Issued| {
            Pin::parse(
                &fingerprint::fingerprint(&i.cert_der, FingerprintAlgorithm::Sha256, false)
                    .unwrap(),
            )
            .unwrap()
        };
        let pinned = policy(&p).with_pins(vec![pin(&p.stranger)], false);
        assert_eq!(check(&pinned, &p.stranger, &[]).unwrap(), Accepted::Pinned);
        assert!(check(&pinned, &p.leaf, &[&p.mid]).unwrap().issuers().len() == 2);
        // A chain that fails, with pins that do not match: the pins are what failed.
        assert!(matches!(
            check(&pinned, &p.expired, &[&p.mid]),
            Err(VerifyError::PinMismatch { .. })
        ));
        // Forced: only a pinned leaf, even with a valid chain.
        let forced = policy(&p).with_pins(vec![pin(&p.stranger)], true);
        assert!(matches!(
            check(&forced, &p.leaf, &[&p.mid]),
            Err(VerifyError::PinMismatch { .. })
        ));
    }

    #[test]
    fn crls_revoke_and_must_cover_the_leaf() {
        let p = pki();
        let revoking = crl(&p.mid, &[&[0x10, 0x01]]);
        assert!(revoking.covers(&p.leaf.cert_der));
        assert!(!revoking.covers(&p.mid.cert_der));
        let r = revoking.revocation_of(&p.leaf.cert_der).unwrap();
        assert_eq!(r.subject, "/CN=leaf.example");
        assert_eq!(r.serial, "1001");
        assert_eq!(r.reason.as_deref(), Some("keyCompromise"));
        let refused = check(&policy(&p).with_crls(revoking), &p.leaf, &[&p.mid]);
        assert!(
            matches!(refused, Err(VerifyError::Revoked(ref r)) if r.subject == "/CN=leaf.example"),
            "{refused:?}"
        );
        // A CRL of the leaf's issuer that does not list it: accepted.
        check(
            &policy(&p).with_crls(crl(&p.mid, &[&[7]])),
            &p.leaf,
            &[&p.mid],
        )
        .unwrap();
        // Only the root's CRL: the leaf's issuer has none, which fails closed.
        assert!(matches!(
            check(&policy(&p).with_crls(crl(&p.root, &[])), &p.leaf, &[&p.mid]),
            Err(VerifyError::CrlMissing { issuer }) if issuer == "/CN=Unit Mid"
        ));
        // A revoked intermediate, found through the root's CRL.
        let mid_serial = X509Certificate::from_der(&p.mid.cert_der)
            .unwrap()
            .1
            .raw_serial()
            .to_vec();
        let mut both = crl(&p.root, &[&mid_serial]);
        both.extend(crl(&p.mid, &[]));
        let refused = check(&policy(&p).with_crls(both), &p.leaf, &[&p.mid]);
        assert!(
            matches!(refused, Err(VerifyError::Revoked(ref r)) if r.subject == "/CN=Unit Mid"),
            "{refused:?}"
        );
    }
}
