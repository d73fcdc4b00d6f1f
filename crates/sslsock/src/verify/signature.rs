//! Signatures over other structures than certificates and the handshake (OCSP responses,
//! fetched CRLs), checked with the algorithms that validate certificate chains.

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SignatureFailure {
    /// No supported algorithm for this key and signature algorithm.
    Unsupported,
    /// The signature does not verify.
    Invalid,
}

/// Checks `signature` over `message`. The algorithm identifiers are the contents of their
/// DER SEQUENCEs (as in the certificate and the signed structure); `public_key` is the
/// subjectPublicKey bit string's bytes.
pub(crate) fn verify(
    public_key_alg: &[u8],
    public_key: &[u8],
    signature_alg: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureFailure> {
    let candidates = webpki::ALL_VERIFICATION_ALGS.iter().filter(|a| {
        a.public_key_alg_id().as_ref() == public_key_alg
            && a.signature_alg_id().as_ref() == signature_alg
    });
    let mut any = false;
    for alg in candidates {
        any = true;
        if alg.verify_signature(public_key, message, signature).is_ok() {
            return Ok(());
        }
    }
    Err(if any {
        SignatureFailure::Invalid
    } else {
        SignatureFailure::Unsupported
    })
}
