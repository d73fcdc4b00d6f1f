//! Per-name server certificates (SNI), with RSA and ECDSA alternates per name.

use std::sync::{Arc, RwLock};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::plan::sni::find_for_host;

/// Certificates by host name; "" holds the default for clients without SNI or with an
/// unknown name.
#[derive(Debug, Default)]
pub(crate) struct SniResolver {
    /// (lower-case name or `*.suffix`, alternates in configuration order).
    names: Vec<(String, Vec<Arc<Stapled>>)>,
    default: Vec<Arc<Stapled>>,
}

/// A certificate with its key, whose OCSP staple can be replaced while the server runs.
#[derive(Debug)]
pub(crate) struct Stapled(RwLock<Arc<CertifiedKey>>);

impl Stapled {
    pub(crate) fn current(&self) -> Arc<CertifiedKey> {
        match self.0.read() {
            Ok(ck) => ck.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

impl crate::ocsp::StapleSlot for Stapled {
    fn set_staple(&self, staple: Option<Vec<u8>>) {
        let mut slot = match self.0.write() {
            Ok(w) => w,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut ck = (**slot).clone();
        ck.ocsp = staple;
        *slot = Arc::new(ck);
    }
}

impl SniResolver {
    /// Adds a certificate for `name` ("" for the default); a name may get several (RSA,
    /// ECDSA), the first the client can verify is used.
    pub(crate) fn add(&mut self, name: &str, ck: Arc<CertifiedKey>) {
        let ck = Arc::new(Stapled(RwLock::new(ck)));
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if name.is_empty() {
            self.default.push(ck);
            return;
        }
        match self.names.iter_mut().find(|(n, _)| *n == name) {
            Some((_, list)) => list.push(ck),
            None => self.names.push((name, vec![ck])),
        }
    }

    /// Every certificate: the defaults first, then the names'.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Arc<Stapled>> {
        self.default
            .iter()
            .chain(self.names.iter().flat_map(|(_, l)| l.iter()))
    }

    /// The default certificates.
    pub(crate) fn defaults(&self) -> &[Arc<Stapled>] {
        &self.default
    }

    fn lookup(&self, host: &str) -> Option<&[Arc<Stapled>]> {
        find_for_host(&self.names, host).map(Vec::as_slice)
    }
}

impl SniResolver {
    /// The certificate for a ClientHello naming `server_name` and accepting `schemes`: the
    /// name's (exact first, then a wildcard), else the default; among a name's alternates the
    /// first the client can verify.
    pub(crate) fn choose(
        &self,
        server_name: Option<&str>,
        schemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        let candidates = server_name
            .and_then(|n| self.lookup(n))
            .unwrap_or(&self.default);
        let mut first = None;
        for c in candidates {
            let ck = c.current();
            if ck.key.choose_scheme(schemes).is_some() {
                return Some(ck);
            }
            first.get_or_insert(ck);
        }
        first
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.choose(hello.server_name(), hello.signature_schemes())
    }
}
