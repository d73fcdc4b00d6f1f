//! The context's own certificates and keys, read once: the default identity and those by
//! SNI name, each with the words an error about it uses.

use pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::ConfigError;
use crate::options::{Options, SniCert, Source};
use crate::x509;

/// A certificate chain (leaf first) and its private key.
pub(crate) struct Identity {
    pub(crate) chain: Vec<CertificateDer<'static>>,
    pub(crate) key: PrivateKeyDer<'static>,
    /// How an error names it ("certificate a.pem with key a.key").
    pub(crate) what: String,
}

impl Clone for Identity {
    fn clone(&self) -> Identity {
        Identity {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
            what: self.what.clone(),
        }
    }
}

/// A server's identity for one SNI name (`""`: an alternate of the default one, for another
/// key type).
#[derive(Clone)]
pub(crate) struct NamedIdentity {
    pub(crate) name: String,
    pub(crate) identity: Identity,
}

fn source_name(s: &Source) -> String {
    match s {
        Source::File(p) => p.display().to_string(),
        Source::Memory(_) => "in-memory data".to_owned(),
    }
}

/// `cert`/`key` (a key in a PKCS#12 certificate file wins); `None` without a certificate.
pub(crate) fn own(opts: &Options) -> Result<Option<Identity>, ConfigError> {
    let Some(cert) = &opts.cert else {
        if let Some(Source::File(p)) = &opts.key {
            return Err(ConfigError::File {
                path: p.clone(),
                reason: "a key file was given without a certificate file".to_owned(),
            });
        }
        return Ok(None);
    };
    Ok(Some(Identity {
        chain: x509::load_chain(cert, &opts.password)?,
        key: x509::load_key(opts.key.as_ref(), cert, &opts.password)?,
        what: format!(
            "certificate {} with key {}",
            source_name(cert),
            source_name(opts.key.as_ref().unwrap_or(cert))
        ),
    }))
}

/// The certificates of `sni_cert`, in the order given.
pub(crate) fn by_name(opts: &Options) -> Result<Vec<NamedIdentity>, ConfigError> {
    opts.sni_certs
        .iter()
        .map(|SniCert { name, cert, key }| {
            let what = match cert {
                Source::File(p) => format!("certificate for \"{name}\" ({})", p.display()),
                Source::Memory(_) => format!("certificate for \"{name}\""),
            };
            Ok(NamedIdentity {
                name: name.clone(),
                identity: Identity {
                    chain: x509::load_chain(cert, &opts.password)?,
                    key: x509::load_key(key.as_ref(), cert, &opts.password)?,
                    what,
                },
            })
        })
        .collect()
}
