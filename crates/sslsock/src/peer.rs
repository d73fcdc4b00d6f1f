//! The peer checks both engines run, on DER, in sslsock's words (`verify` and `ocsp` put
//! together): a client's check of its
//! server (chain, pins, name, then the staple) and a server's check of a client certificate.
//! An engine adapts them to its own hooks (rustls's verifier traits, OpenSSL's verify and
//! status callbacks) and turns a [`VerifyError`] into the alert of [`VerifyError::alert`].

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pki_types::{CertificateDer, UnixTime};

use crate::error::VerifyError;
use crate::ocsp::{Revocation, StaplePolicy, StatusSource};
use crate::options::VerifyMode;
use crate::verify::chain::{Accepted, ChainPolicy, Usage};
use crate::verify::fingerprint::FingerprintAlgorithm;
use crate::verify::hostname::{verify_hostname_in_path, Scheme};
use crate::x509::info::CertInfo;

/// Client side: how the server is checked.
#[derive(Debug, Clone)]
pub(crate) struct ServerCheck {
    pub(crate) policy: Arc<ChainPolicy>,
    pub(crate) mode: VerifyMode,
    pub(crate) scheme: Scheme,
    /// `verifycn_name`: the name checked whatever name the connection was given.
    pub(crate) identity: Option<String>,
    /// How the staple is checked.
    pub(crate) ocsp: StaplePolicy,
    /// The public names of the context's ECH configuration: a handshake toward one of them
    /// means ECH was rejected, and the server is authenticated for that name (RFC 9849
    /// section 6.1.6), whatever `identity` says.
    pub(crate) ech_public_names: Arc<[String]>,
}

/// What the chain and name checks established, before the staple is looked at.
#[derive(Debug, Clone)]
pub(crate) enum Identity {
    /// Not verified (`VerifyMode::NONE`) or pinned: the chain as sent, nothing to revoke.
    AsSent(Vec<Vec<u8>>),
    /// A validated path, leaf first.
    Path(Vec<Vec<u8>>),
}

/// What the client's check established about the server's chain, for the socket.
#[derive(Debug, Clone)]
pub(crate) struct PeerOutcome {
    /// The validated chain, leaf first (as sent when nothing was validated).
    pub(crate) chain: Vec<Vec<u8>>,
    /// The revocation status of the leaf.
    pub(crate) revocation: Revocation,
}

impl ServerCheck {
    /// The name a handshake handed `given` checks (`None`: a peer without a name): the
    /// context's `verifycn_name` unless `given` is a public name of its ECH configuration
    /// (ECH was rejected: the server is authenticated for that name, RFC 9849 section
    /// 6.1.6). For an engine that is handed the connection's SNI name rather than the
    /// target's verify name.
    pub(crate) fn name_for<'a>(&'a self, given: Option<&'a str>) -> Option<&'a str> {
        let ech_outer = given.is_some_and(|n| self.ech_public_names.iter().any(|p| p == n));
        match &self.identity {
            Some(n) if !ech_outer => Some(n),
            _ => given,
        }
    }

    /// The chain, the pins and `checked`, the name the connection checks (`None`: it has
    /// none, and a name check that is due fails with `NoName`): everything but revocation.
    pub(crate) fn check_identity(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        checked: Option<&str>,
        now: UnixTime,
    ) -> Result<Identity, VerifyError> {
        let as_sent = || {
            std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| c.to_vec())
                .collect::<Vec<_>>()
        };
        if !self.mode.verifies() {
            return Ok(Identity::AsSent(as_sent()));
        }
        // A handshake toward an ECH public name is the server's rejection of ECH: a refusal
        // there says so, as the name refused is not the one the application asked for.
        let ech_public = checked.filter(|n| self.ech_public_names.iter().any(|p| p == n));
        self.check_path_and_name(end_entity, intermediates, checked, now, as_sent)
            .map_err(|reason| match ech_public {
                Some(public_name) => VerifyError::EchRetryUnauthenticated {
                    public_name: public_name.to_owned(),
                    reason: Box::new(reason),
                },
                None => reason,
            })
    }

    fn check_path_and_name(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        checked: Option<&str>,
        now: UnixTime,
        as_sent: impl Fn() -> Vec<Vec<u8>>,
    ) -> Result<Identity, VerifyError> {
        let accepted = self.policy.verify_names(
            end_entity,
            intermediates,
            now,
            Usage::Server,
            self.scheme.reads_common_name(),
        )?;
        if accepted != Accepted::Pinned && !self.scheme.accepts_all() {
            let checked = checked.ok_or(VerifyError::NoName)?;
            verify_hostname_in_path(end_entity, checked, &self.scheme, accepted.issuers())?;
        }
        Ok(match accepted {
            Accepted::Pinned => Identity::AsSent(as_sent()),
            Accepted::Chain { mut path } => {
                path.reverse();
                log_chain(&path);
                Identity::Path(path)
            }
        })
    }

    /// Revocation of an accepted identity by `staple` (empty: none sent), as the OCSP policy
    /// says; the outcome the socket reports.
    pub(crate) fn check_revocation(
        &self,
        identity: Identity,
        staple: &[u8],
        now: UnixTime,
    ) -> Result<PeerOutcome, VerifyError> {
        Ok(match identity {
            Identity::AsSent(chain) => PeerOutcome {
                chain,
                revocation: Revocation::Off,
            },
            Identity::Path(path) => {
                let at = UNIX_EPOCH + Duration::from_secs(now.as_secs());
                let mut revocation = self.ocsp.check(staple, &path, at)?;
                // The leaf passed a CRL check that CRL answers for: that is a status too.
                if !matches!(revocation, Revocation::Good { .. }) {
                    // A CRL past its nextUpdate is no current status.
                    if let Some(valid_until) = path
                        .first()
                        .and_then(|leaf| self.policy.crl_answer(leaf))
                        .filter(|until| *until > at)
                    {
                        revocation = Revocation::Good {
                            source: StatusSource::Crl,
                            valid_until,
                        };
                    }
                }
                PeerOutcome {
                    chain: path,
                    revocation,
                }
            }
        })
    }
}

/// Server side: how a client certificate is checked.
#[derive(Debug, Clone)]
pub(crate) struct ClientCheck {
    pub(crate) policy: Arc<ChainPolicy>,
    /// A client without a certificate is refused (`VerifyMode::FAIL_IF_NO_PEER_CERT`).
    pub(crate) mandatory: bool,
}

impl ClientCheck {
    /// The client's chain.
    pub(crate) fn check(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<(), VerifyError> {
        self.policy
            .verify(end_entity, intermediates, now, Usage::Client)
            .map(|_| ())
    }
}

/// The time now, as the checks take it (the default engine hands over its own).
#[cfg_attr(not(feature = "openssl"), allow(dead_code))]
pub(crate) fn now() -> UnixTime {
    UnixTime::since_unix_epoch(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default(),
    )
}

/// DEBUG 2: each certificate of the accepted chain, leaf first.
fn log_chain(path: &[Vec<u8>]) {
    if !log::log_enabled!(target: "sslsock::verify", log::Level::Debug) {
        return;
    }
    for (depth, der) in path.iter().enumerate() {
        let subject = CertInfo::from_der(der, FingerprintAlgorithm::Sha256)
            .map_or_else(|_| "(unreadable)".to_owned(), |i| i.subject_line);
        log::debug!(target: "sslsock::verify", "depth {depth}: {subject}: accepted");
    }
}
