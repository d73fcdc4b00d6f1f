//! What a server sees of a ClientHello before it chooses its configuration: for servers that
//! host many names (multi-tenant) and pick a context per connection.

/// The parts of a ClientHello a server chooses its context by
/// ([`SslContext::with_client_hello_callback`](crate::SslContext::with_client_hello_callback)).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientHello {
    pub(crate) server_name: Option<String>,
    pub(crate) alpn: Vec<Vec<u8>>,
    pub(crate) signature_schemes: Vec<u16>,
}

impl ClientHello {
    /// The SNI name asked for (lower case), if any.
    pub fn server_name(&self) -> Option<&str> {
        self.server_name.as_deref()
    }

    /// The ALPN protocols offered, in the client's order.
    pub fn alpn(&self) -> impl Iterator<Item = &[u8]> {
        self.alpn.iter().map(Vec::as_slice)
    }

    /// The signature schemes the client accepts, as IANA code points (0x0403 is
    /// `ecdsa_secp256r1_sha256`, 0x0804 `rsa_pss_rsae_sha256`, 0x0807 `ed25519`): a server with
    /// an ECDSA and an RSA certificate can pick by them.
    pub fn signature_schemes(&self) -> &[u16] {
        &self.signature_schemes
    }

    /// Whether the client accepts an ECDSA signature (P-256, P-384 or P-521).
    pub fn accepts_ecdsa(&self) -> bool {
        self.signature_schemes
            .iter()
            .any(|s| matches!(s, 0x0403 | 0x0503 | 0x0603))
    }
}
