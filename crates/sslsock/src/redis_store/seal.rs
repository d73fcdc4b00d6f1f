//! The store key: what seals session blobs and ticket keys before they go to Redis, and what
//! names them there.

use std::fmt;
use std::path::Path;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM_SIV, NONCE_LEN};
use aws_lc_rs::{hkdf, hmac};

use super::StoreError;

/// The version byte in front of every sealed value: a later format can be told apart.
const FORMAT: u8 = 1;

/// A fleet's secret for what it keeps in Redis: 32 bytes every server of the fleet reads from
/// the same file. Session blobs and ticket keys are sealed under it (AES-256-GCM-SIV) and their
/// names in Redis are keyed digests, so reading Redis gives neither session secrets nor the
/// session IDs clients present.
///
/// ```
/// # let dir = std::env::temp_dir().join(format!("store-key-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir).unwrap();
/// # let path = dir.join("store.key");
/// // What `openssl rand -hex 32 > store.key` writes: 64 hex digits (32 raw bytes work too).
/// std::fs::write(&path, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n")?;
/// let key = sslsock::redis_store::StoreKey::from_file(&path)?;
/// # let _ = key;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct StoreKey {
    /// Seals values (session blobs, ticket keys).
    sealing: LessSafeKey,
    /// Names values: the Redis key of a session is a digest of its id under this.
    naming: hmac::Key,
}

impl StoreKey {
    /// The key in `path`: 32 bytes, raw or as 64 hex digits (a final newline allowed).
    pub fn from_file(path: impl AsRef<Path>) -> Result<StoreKey, StoreError> {
        let path = path.as_ref();
        let bad = |reason: String| StoreError::KeyFile {
            path: path.to_path_buf(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let secret: [u8; 32] = match bytes.len() {
            32 => bytes.as_slice().try_into().ok(),
            _ => std::str::from_utf8(&bytes)
                .ok()
                .and_then(|t| crate::text::hex::decode(t.trim()))
                .and_then(|v| v.try_into().ok()),
        }
        .ok_or_else(|| {
            bad(format!(
                "{} bytes: want 32 bytes, raw or as 64 hex digits (make one with `openssl rand -hex 32`; every server of the fleet needs the same file)",
                bytes.len()
            ))
        })?;
        Ok(StoreKey::from_bytes(&secret))
    }

    /// The key from its 32 bytes.
    pub fn from_bytes(secret: &[u8; 32]) -> StoreKey {
        // Separate keys for sealing and naming, derived from the one secret.
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"sslsock redis store").extract(secret);
        let derive = |label: &[u8]| -> [u8; 32] {
            let mut out = [0u8; 32];
            let info = [label];
            // Expanding 32 bytes of SHA-256 HKDF cannot fail (the limit is 255 blocks).
            if let Ok(okm) = prk.expand(&info, hkdf::HKDF_SHA256) {
                let _ = okm.fill(&mut out);
            }
            out
        };
        let sealing = derive(b"seal");
        let naming = derive(b"name");
        StoreKey {
            // A 32-byte key is what AES-256-GCM-SIV takes: this cannot fail.
            sealing: LessSafeKey::new(
                UnboundKey::new(&AES_256_GCM_SIV, &sealing).expect("a 32-byte AES-256 key"),
            ),
            naming: hmac::Key::new(hmac::HMAC_SHA256, &naming),
        }
    }

    /// `FORMAT || nonce || sealed(value)`, bound to `name` (its Redis key): a value moved to
    /// another name does not open.
    pub(crate) fn seal(&self, name: &str, value: &[u8]) -> Option<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).ok()?;
        let mut body = value.to_vec();
        self.sealing
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(name.as_bytes()),
                &mut body,
            )
            .ok()?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + body.len());
        out.push(FORMAT);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&body);
        Some(out)
    }

    /// The value sealed under `name`; `None` when it was changed, moved or sealed under
    /// another key.
    pub(crate) fn open(&self, name: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        let (&format, rest) = sealed.split_first()?;
        if format != FORMAT || rest.len() < NONCE_LEN {
            return None;
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut body = body.to_vec();
        let plain = self
            .sealing
            .open_in_place(nonce, Aad::from(name.as_bytes()), &mut body)
            .ok()?;
        Some(plain.to_vec())
    }

    /// The name of `id` in Redis: a keyed digest, so that ids cannot be read back from it.
    pub(crate) fn name(&self, id: &[u8]) -> String {
        let tag = hmac::sign(&self.naming, id);
        crate::text::hex::encode(&tag.as_ref()[..20])
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreKey(redacted)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_under_their_name_and_key() {
        let key = StoreKey::from_bytes(&[7; 32]);
        let sealed = key.seal("a", b"secret").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(key.open("a", &sealed).as_deref(), Some(&b"secret"[..]));
        assert_eq!(key.open("b", &sealed), None, "moved to another name");
        assert_eq!(StoreKey::from_bytes(&[8; 32]).open("a", &sealed), None);
        let mut changed = sealed.clone();
        *changed.last_mut().unwrap() ^= 1;
        assert_eq!(key.open("a", &changed), None, "changed");
        assert_eq!(key.open("a", &sealed[..10]), None, "cut short");
        assert_eq!(key.open("a", &[]), None);
    }

    #[test]
    fn names_are_keyed() {
        let (a, b) = (
            StoreKey::from_bytes(&[1; 32]),
            StoreKey::from_bytes(&[2; 32]),
        );
        assert_eq!(a.name(b"id"), a.name(b"id"));
        assert_ne!(a.name(b"id"), b.name(b"id"));
        assert_ne!(a.name(b"id"), a.name(b"ie"));
        assert_eq!(a.name(b"id").len(), 40);
    }

    #[test]
    fn key_files_hex_or_raw_and_nothing_else() {
        let dir = std::env::temp_dir().join(format!("sslsock-store-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("k");
        std::fs::write(&p, [9u8; 32]).unwrap();
        let raw = StoreKey::from_file(&p).unwrap();
        std::fs::write(&p, format!("{}\n", "09".repeat(32))).unwrap();
        let hex = StoreKey::from_file(&p).unwrap();
        assert_eq!(raw.name(b"x"), hex.name(b"x"));
        for bad in [&b"0123"[..], &[1u8; 33][..], "zz".repeat(32).as_bytes()] {
            std::fs::write(&p, bad).unwrap();
            let e = StoreKey::from_file(&p).unwrap_err().to_string();
            assert!(e.contains("want 32 bytes"), "{e}");
        }
        let e = StoreKey::from_file(dir.join("missing"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
