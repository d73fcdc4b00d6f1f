//! One verifier and one client identity object per policy, shared by every context built
//! with that policy.
//!
//! The engine resumes a session only under the very verifier and client-certificate objects
//! that made it. Contexts built from equal options therefore share these objects, so that a
//! session cache shared between them (or the process-wide one) resumes; contexts whose
//! verification differs in anything get objects of their own and never resume each other's
//! sessions. Entries are weak: a policy no context uses any more is forgotten.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use aws_lc_rs::digest;
use rustls::client::danger::ServerCertVerifier;
use rustls::client::ResolvesClientCert;

/// A digest of everything a policy consists of.
#[derive(Default)]
pub(crate) struct PolicyKey(Vec<u8>);

impl PolicyKey {
    /// Adds one part (length-prefixed, so that parts cannot run into each other).
    pub(crate) fn part(&mut self, bytes: &[u8]) -> &mut Self {
        self.0
            .extend_from_slice(&(bytes.len() as u64).to_be_bytes());
        self.0.extend_from_slice(bytes);
        self
    }

    pub(crate) fn digest(&self) -> Vec<u8> {
        digest::digest(&digest::SHA256, &self.0).as_ref().to_vec()
    }
}

type Registry<T> = Mutex<HashMap<Vec<u8>, Weak<T>>>;

fn intern<T: ?Sized>(registry: &Registry<T>, key: &PolicyKey, made: Arc<T>) -> Arc<T> {
    let Ok(mut map) = registry.lock() else {
        return made;
    };
    map.retain(|_, w| w.strong_count() > 0);
    let digest = key.digest();
    if let Some(existing) = map.get(&digest).and_then(Weak::upgrade) {
        return existing;
    }
    map.insert(digest, Arc::downgrade(&made));
    made
}

static VERIFIERS: std::sync::LazyLock<Registry<dyn ServerCertVerifier>> =
    std::sync::LazyLock::new(Default::default);
static IDENTITIES: std::sync::LazyLock<Registry<dyn ResolvesClientCert>> =
    std::sync::LazyLock::new(Default::default);

/// The verifier for `key`: an existing one of the same policy, else `made`.
pub(crate) fn verifier(
    key: &PolicyKey,
    made: Arc<dyn ServerCertVerifier>,
) -> Arc<dyn ServerCertVerifier> {
    intern(&VERIFIERS, key, made)
}

/// The client identity (certificate resolver) for `key`: an existing one for the same
/// certificate and key (or for none), else `made`.
pub(crate) fn client_identity(
    key: &PolicyKey,
    made: Arc<dyn ResolvesClientCert>,
) -> Arc<dyn ResolvesClientCert> {
    intern(&IDENTITIES, key, made)
}

/// What a server's sessions were accepted under (how it checks clients): a shared session
/// store files them under it, so that a server resumes only sessions another server accepted
/// as it would have. A policy that cannot be compared (CRLs) is this context's alone.
pub(crate) fn server_session_scope(check: Option<&crate::peer::ClientCheck>) -> Vec<u8> {
    let mut key = PolicyKey::default();
    match check {
        None => {
            key.part(b"no client certificate asked");
        }
        Some(c) => match c.policy.identity_parts() {
            Some(parts) => {
                for p in &parts {
                    key.part(p);
                }
                key.part(&[u8::from(c.mandatory)]);
            }
            None => {
                key.part(format!("client policy {:p}", Arc::as_ptr(&c.policy)).as_bytes());
            }
        },
    }
    key.digest()
}

/// Everything a client's verification policy consists of (`versions`: the protocol versions
/// it allows, described), for telling sessions accepted under one policy from another's;
/// `None` when the policy cannot be told apart (it is then never shared).
pub(crate) fn policy_key(
    v: &crate::peer::ServerCheck,
    nameless: bool,
    versions: &str,
) -> Option<PolicyKey> {
    let parts = v.policy.identity_parts()?;
    let mut key = PolicyKey::default();
    for p in &parts {
        key.part(p);
    }
    key.part(&v.mode.bits().to_be_bytes())
        .part(&v.scheme.identity_part())
        .part(v.identity.as_deref().unwrap_or("\0").as_bytes())
        .part(&[u8::from(nameless)])
        .part(versions.as_bytes())
        .part(&v.ocsp.mode.bits().to_be_bytes())
        .part(&[u8::from(v.ocsp.crl_fetch)])
        .part(&v.ocsp.cache.identity().to_be_bytes())
        .part(v.ech_public_names.join("\0").as_bytes());
    if let Some(cb) = &v.ocsp.callback {
        // The same callback object, as for the verify callback.
        key.part(format!("staple callback {:p}", Arc::as_ptr(cb)).as_bytes());
    }
    Some(key)
}
