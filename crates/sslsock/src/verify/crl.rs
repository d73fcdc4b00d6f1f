//! Certificate revocation lists (`SSL_check_crl`, `SSL_crl_file`).

use std::path::PathBuf;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateRevocationListDer;
use webpki::{CertRevocationList, OwnedCertRevocationList, RevocationReason};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::{ConfigError, Revocation};
use crate::x509::{self, LoadError};

/// A set of parsed CRLs.
#[derive(Debug, Default)]
pub struct CrlSet {
    pub(crate) lists: Vec<CertRevocationList<'static>>,
}

impl CrlSet {
    /// Parses every CRL in `bytes`: PEM (`X509 CRL` blocks, other blocks skipped) or one DER CRL.
    pub fn parse(bytes: &[u8]) -> Result<Vec<OwnedCertRevocationList>, LoadError> {
        let ders: Vec<Vec<u8>> = if bytes.windows(10).any(|w| w == b"-----BEGIN") {
            CertificateRevocationListDer::pem_slice_iter(bytes)
                .map(|r| r.map(|d| d.as_ref().to_vec()))
                .collect::<Result<_, _>>()
                .map_err(|e| LoadError::Malformed(crate::text::pem_error(&e)))?
        } else {
            vec![bytes.to_vec()]
        };
        ders.iter()
            .map(|d| {
                OwnedCertRevocationList::from_der(d).map_err(|e| {
                    LoadError::Malformed(format!(
                        "not a valid CRL ({})",
                        crate::text::words_of_debug(&format!("{e:?}"))
                    ))
                })
            })
            .collect()
    }

    /// Loads CRL files (each may hold several CRLs) and, from CA files and directories,
    /// whatever CRLs they hold next to the certificates (as OpenSSL's store does).
    pub fn load(
        crl_files: &[PathBuf],
        ca_files: &[PathBuf],
        ca_dirs: &[PathBuf],
    ) -> Result<CrlSet, ConfigError> {
        let mut set = CrlSet::default();
        for f in crl_files {
            let bytes = x509::read_file(f, "CRL file")?;
            let lists = CrlSet::parse(&bytes).map_err(|reason| ConfigError::File {
                path: f.clone(),
                reason: format!("CRL file: {reason}"),
            })?;
            if lists.is_empty() {
                return Err(ConfigError::File {
                    path: f.clone(),
                    reason: "CRL file holds no CRL".to_owned(),
                });
            }
            set.lists
                .extend(lists.into_iter().map(CertRevocationList::from));
        }
        let mut scan = |bytes: &[u8]| {
            if bytes.windows(14).any(|w| w == b"BEGIN X509 CRL") {
                if let Ok(lists) = CrlSet::parse(bytes) {
                    set.lists
                        .extend(lists.into_iter().map(CertRevocationList::from));
                }
            }
        };
        for f in ca_files {
            if let Ok(bytes) = x509::read_capped(f) {
                scan(&bytes);
            }
        }
        for d in ca_dirs {
            for entry in std::fs::read_dir(d).into_iter().flatten().flatten() {
                if let Ok(bytes) = x509::read_capped(&entry.path()) {
                    scan(&bytes);
                }
            }
        }
        Ok(set)
    }

    /// Number of CRLs held.
    pub fn len(&self) -> usize {
        self.lists.len()
    }

    /// True when no CRL is held.
    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }

    /// True when a CRL from the issuer of `cert_der` is present.
    pub fn covers(&self, cert_der: &[u8]) -> bool {
        let Ok((_, cert)) = X509Certificate::from_der(cert_der) else {
            return false;
        };
        let issuer = der_contents(cert.issuer().as_raw());
        self.lists.iter().any(|l| l.issuer() == issuer)
    }

    /// The revocation entry for `cert_der`, from a CRL of its issuer.
    pub fn revocation_of(&self, cert_der: &[u8]) -> Option<Revocation> {
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
                    serial: serial.iter().map(|b| format!("{b:02X}")).collect(),
                    revoked_at: x509::system_time(entry.revocation_date.as_secs()),
                    reason: entry.reason_code.map(|r| reason_name(r).to_owned()),
                })
            })
    }
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
