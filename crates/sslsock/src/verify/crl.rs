//! Certificate revocation lists (`SSL_check_crl`, `SSL_crl_file`).
//!
//! With `check_crl`, every certificate of the peer's chain needs a CRL of its issuer that
//! speaks for it (right issuer, signature, scope, not a delta); one that lists it is a
//! revocation, none is [`VerifyError::CrlMissing`](crate::VerifyError::CrlMissing). Files are
//! read when the context is made; [`check`] says what a file holds:
//!
//! ```no_run
//! use sslsock::{Options, SslSocket};
//! let n = sslsock::verify::crl::check(&std::fs::read("ca.crl")?)?;
//! println!("{n} CRL(s)");
//! let opts = Options::new().ca_file("ca.pem").crl_file("ca.crl"); // implies check_crl
//! let sock = SslSocket::connect_with("intranet.example:443", &opts)?;
//! println!("revocation: {}", sock.revocation());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::PathBuf;

use pki_types::pem::PemObject;
use pki_types::CertificateRevocationListDer;
use webpki::{CertRevocationList, OwnedCertRevocationList, RevocationReason};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::{ConfigError, Revocation};
use crate::x509::{self, LoadError};

/// Reads the CRLs in `bytes` (PEM `X509 CRL` blocks, other blocks skipped, or one DER CRL)
/// as `crl_file` does: how many there are, or why they cannot be used.
///
/// ```
/// use sslsock::verify::crl;
/// assert!(crl::check(b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n").is_err());
/// ```
pub fn check(bytes: &[u8]) -> Result<usize, LoadError> {
    let ders = split(bytes)?;
    for der in &ders {
        parse_one(der)
            .map_err(|e| LoadError::Malformed(format!("not a valid CRL ({})", words(&e))))?;
    }
    Ok(ders.len())
}

/// A set of parsed CRLs.
#[derive(Debug, Default)]
pub(crate) struct CrlSet {
    pub(crate) lists: Vec<CertRevocationList<'static>>,
    /// The same CRLs in DER, in the same order (for their scope).
    ders: Vec<Vec<u8>>,
}

impl CrlSet {
    /// Adds the CRLs in `bytes` (`what` names them in warnings); CRLs that are never a base
    /// answer for a certificate here (delta, indirect, partitioned by reasons, or scoped
    /// without a distribution point name, as an ARL) are left out with a warning. The number
    /// added.
    fn add(&mut self, bytes: &[u8], what: &str) -> Result<usize, LoadError> {
        let mut added = 0;
        for der in split(bytes)? {
            match parse_one(&der) {
                Ok(list) => {
                    self.lists.push(CertRevocationList::from(list));
                    self.ders.push(der);
                    added += 1;
                }
                Err(
                    e @ (webpki::Error::UnsupportedDeltaCrl
                    | webpki::Error::UnsupportedIndirectCrl
                    | webpki::Error::UnsupportedRevocationReasonsPartitioning
                    | webpki::Error::UnsupportedCrlIssuingDistributionPoint),
                ) => log::warn!(
                    "{what}: a CRL left out ({}): only complete CRLs and CRLs of one distribution point are used",
                    words(&e)
                ),
                Err(e) => {
                    return Err(LoadError::Malformed(format!(
                        "not a valid CRL ({})",
                        words(&e)
                    )))
                }
            }
        }
        Ok(added)
    }

    /// Loads CRL files (each may hold several CRLs) and, from CA files and directories,
    /// whatever CRLs they hold next to the certificates (as OpenSSL's store does).
    pub(crate) fn load(
        crl_files: &[PathBuf],
        ca_files: &[PathBuf],
        ca_dirs: &[PathBuf],
    ) -> Result<CrlSet, ConfigError> {
        let mut set = CrlSet::default();
        for f in crl_files {
            let bytes = x509::read_file(f, "CRL file")?;
            let added = set
                .add(&bytes, &f.display().to_string())
                .map_err(|reason| ConfigError::File {
                    path: f.clone(),
                    reason: format!("CRL file: {reason}"),
                })?;
            if added == 0 {
                return Err(ConfigError::File {
                    path: f.clone(),
                    reason: "CRL file holds no base CRL".to_owned(),
                });
            }
        }
        let mut scan = |bytes: &[u8], path: &std::path::Path| {
            if bytes.windows(14).any(|w| w == b"BEGIN X509 CRL") {
                // Like OpenSSL's store: what cannot be read next to certificates is skipped.
                let _ = set.add(bytes, &path.display().to_string());
            }
        };
        for f in ca_files {
            if let Ok(bytes) = x509::read_capped(f) {
                scan(&bytes, f);
            }
        }
        for d in ca_dirs {
            for entry in std::fs::read_dir(d).into_iter().flatten().flatten() {
                if let Ok(bytes) = x509::read_capped(&entry.path()) {
                    scan(&bytes, &entry.path());
                }
            }
        }
        Ok(set)
    }

    /// A set of the one CRL `der` (unit tests).
    #[cfg(test)]
    pub(crate) fn from_der_for_tests(der: &[u8]) -> CrlSet {
        let mut set = CrlSet::default();
        set.add(der, "test").unwrap();
        set
    }

    /// Adds the CRLs of `other` (unit tests).
    #[cfg(test)]
    pub(crate) fn extend(&mut self, other: CrlSet) {
        self.lists.extend(other.lists);
        self.ders.extend(other.ders);
    }

    /// Number of CRLs held.
    pub(crate) fn len(&self) -> usize {
        self.lists.len()
    }

    /// True when a CRL of the issuer of `cert_der` answers for it whatever the reason
    /// (RFC 5280, section 6.3.3: its issuing distribution point is the certificate's, it
    /// covers certificates of its kind, every reason, and it is not a delta CRL).
    pub(crate) fn covers(&self, cert_der: &[u8]) -> bool {
        !self.answering(cert_der).is_empty()
    }

    /// The CRLs (DER) of the issuer of `cert_der` that answer for it whatever the reason.
    fn answering(&self, cert_der: &[u8]) -> Vec<&[u8]> {
        let Ok((_, cert)) = X509Certificate::from_der(cert_der) else {
            return Vec::new();
        };
        let issuer = der_contents(cert.issuer().as_raw());
        let Ok(cert) = <x509_cert::Certificate as der::Decode>::from_der(cert_der) else {
            return Vec::new();
        };
        self.lists
            .iter()
            .zip(&self.ders)
            .filter(|(l, der)| {
                l.issuer() == issuer
                    && match super::crl_scope::scope(der, &cert) {
                        Ok(super::crl_scope::Scope::Complete) => true,
                        Ok(super::crl_scope::Scope::SomeReasons) => false,
                        Err(why) => {
                            log::debug!(
                                "a CRL of the issuer does not answer for the certificate: {why}"
                            );
                            false
                        }
                    }
            })
            .map(|(_, der)| der.as_slice())
            .collect()
    }

    /// Until when a CRL that answers for `cert_der` ([`CrlSet::covers`]) is current: its
    /// nextUpdate, or thisUpdate plus [`LIFETIME_WITHOUT_NEXT_UPDATE`] without one.
    ///
    /// [`LIFETIME_WITHOUT_NEXT_UPDATE`]: crate::ocsp::LIFETIME_WITHOUT_NEXT_UPDATE
    pub(crate) fn current_answer(&self, cert_der: &[u8]) -> Option<std::time::SystemTime> {
        self.answering(cert_der)
            .into_iter()
            .filter_map(|der| {
                let list: x509_cert::crl::CertificateList = der::Decode::from_der(der).ok()?;
                let tbs = list.tbs_cert_list;
                Some(match tbs.next_update {
                    Some(next) => next.to_system_time(),
                    None => {
                        tbs.this_update.to_system_time() + crate::ocsp::LIFETIME_WITHOUT_NEXT_UPDATE
                    }
                })
            })
            .max()
    }

    /// The revocation entry for `cert_der`, from a CRL of its issuer.
    pub(crate) fn revocation_of(&self, cert_der: &[u8]) -> Option<Revocation> {
        let (_, cert) = X509Certificate::from_der(cert_der).ok()?;
        let issuer = der_contents(cert.issuer().as_raw());
        let serial = cert.raw_serial();
        self.lists
            .iter()
            .filter(|l| l.issuer() == issuer)
            .find_map(|l| {
                let entry = l.find_serial(serial).ok()??;
                Some(Revocation {
                    subject: x509::oneline(cert.subject()),
                    serial: crate::text::hex::encode_upper(serial),
                    revoked_at: x509::system_time(entry.revocation_date.as_secs()),
                    reason: entry.reason_code.map(|r| reason_name(r).to_owned()),
                })
            })
    }
}

/// The PEM blocks (or the one DER CRL) of `bytes`, in DER.
fn split(bytes: &[u8]) -> Result<Vec<Vec<u8>>, LoadError> {
    if bytes.windows(10).any(|w| w == b"-----BEGIN") {
        CertificateRevocationListDer::pem_slice_iter(bytes)
            .map(|r| r.map(|d| d.as_ref().to_vec()))
            .collect::<Result<_, _>>()
            .map_err(|e| LoadError::Malformed(crate::text::pem_error(&e)))
    } else {
        Ok(vec![bytes.to_vec()])
    }
}

fn parse_one(der: &[u8]) -> Result<OwnedCertRevocationList, webpki::Error> {
    OwnedCertRevocationList::from_der(der)
}

fn words(e: &webpki::Error) -> String {
    crate::text::words_of_debug(&format!("{e:?}"))
}

/// The RFC 5280 name of a CRL reason code.
fn reason_name(r: RevocationReason) -> &'static str {
    use RevocationReason as R;
    match r {
        R::Unspecified => "unspecified",
        R::KeyCompromise => "keyCompromise",
        R::CaCompromise => "cACompromise",
        R::AffiliationChanged => "affiliationChanged",
        R::Superseded => "superseded",
        R::CessationOfOperation => "cessationOfOperation",
        R::CertificateHold => "certificateHold",
        R::RemoveFromCrl => "removeFromCRL",
        R::PrivilegeWithdrawn => "privilegeWithdrawn",
        R::AaCompromise => "aACompromise",
    }
}

/// The contents of a DER TLV (what webpki compares names by).
fn der_contents(tlv: &[u8]) -> &[u8] {
    let Some(&first_len) = tlv.get(1) else {
        return tlv;
    };
    let header = if first_len < 0x80 {
        2
    } else {
        2 + usize::from(first_len & 0x7f)
    };
    tlv.get(header..).unwrap_or(tlv)
}
