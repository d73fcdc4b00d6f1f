//! What a socket can tell about its connection: version, cipher, certificates, fingerprints.

use pki_types::CertificateDer;

use super::SslSocket;
use crate::ocsp::{OcspCache, OcspMode, OcspResolver, Revocation};
use crate::verify::chain::Usage;
use crate::verify::fingerprint::{self, FingerprintAlgorithm};
use crate::verify::hostname::{self, Scheme};
use crate::x509::info::CertInfo;
use crate::x509::SubjectAltName;
use crate::{Error, VerifyError};

/// The labels of TLS 1.2's own PRF uses, which an exporter label must not begin with
/// (RFC 5705 section 4; OpenSSL's list).
const TLS12_PRF_LABELS: [&str; 5] = [
    "client finished",
    "server finished",
    "master secret",
    "extended master secret",
    "key expansion",
];

/// A field of a certificate, as `peer_certificate($field)` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertField {
    /// The issuer (`authority`, `issuer`).
    Issuer,
    /// The subject (`owner`, `subject`).
    Subject,
    /// The first commonName (`commonName`, `cn`).
    CommonName,
}

impl CertField {
    /// Parses the Perl field names: `authority`/`issuer`, `owner`/`subject`, `commonName`/`cn`.
    pub fn parse(name: &str) -> Option<CertField> {
        match name {
            "authority" | "issuer" => Some(CertField::Issuer),
            "owner" | "subject" => Some(CertField::Subject),
            "commonName" | "cn" | "commonname" => Some(CertField::CommonName),
            _ => None,
        }
    }
}

impl<S: super::Transport> SslSocket<S> {
    /// The cipher suite in OpenSSL naming, e.g. `ECDHE-RSA-AES128-GCM-SHA256` (`get_cipher`).
    #[doc(alias = "get_cipher")]
    pub fn cipher(&self) -> Option<&'static str> {
        self.tls.as_ref()?.cipher().map(|c| c.openssl)
    }

    /// The cipher suite in IANA naming, e.g. `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`.
    pub fn cipher_iana(&self) -> Option<&'static str> {
        self.tls.as_ref()?.cipher().map(|c| c.iana)
    }

    /// The protocol version, `TLSv1_2` or `TLSv1_3` (`get_sslversion`).
    #[doc(alias = "get_sslversion")]
    pub fn version(&self) -> Option<&'static str> {
        self.tls.as_ref()?.version_name()
    }

    /// The protocol version as on the wire, `0x0303` or `0x0304` (`get_sslversion_int`).
    #[doc(alias = "get_sslversion_int")]
    pub fn version_int(&self) -> Option<u16> {
        self.tls.as_ref()?.version()
    }

    /// The negotiated key exchange group, e.g. `X25519MLKEM768`.
    pub fn group(&self) -> Option<String> {
        self.tls.as_ref()?.group()
    }

    /// The ALPN protocol the peers agreed on (`alpn_selected`).
    pub fn alpn_selected(&self) -> Option<String> {
        self.tls
            .as_ref()?
            .alpn()
            .map(|p| String::from_utf8_lossy(p).into_owned())
    }

    /// The protocol agreed on with NPN (`next_proto_negotiated`): on the openssl engine, with
    /// `npn_protocols` set and TLS 1.2 or older; `None` otherwise.
    pub fn next_proto_negotiated(&self) -> Option<String> {
        self.tls
            .as_ref()?
            .npn()
            .map(|p| String::from_utf8_lossy(p).into_owned())
    }

    /// Server side: the name the client asked for with SNI (`get_servername`).
    #[doc(alias = "get_servername")]
    pub fn servername(&self) -> Option<&str> {
        self.tls.as_ref()?.server_name()
    }

    /// Client: what became of Encrypted Client Hello ([`crate::ech`]): `Accepted` when the
    /// server name travelled encrypted, `Grease` when only a GREASE extension went out,
    /// `NotOffered` without ECH or before a handshake. A rejection fails the handshake with
    /// [`crate::error::TlsError::EchRejected`].
    pub fn ech_status(&self) -> crate::ech::EchStatus {
        self.tls
            .as_ref()
            .map_or(crate::ech::EchStatus::NotOffered, |s| s.ech_status())
    }

    /// Client: TLS 1.3 session tickets received so far (a later connection can resume once
    /// one has arrived; they come after the handshake, with the first reads).
    pub fn tickets_received(&self) -> u32 {
        self.tls.as_ref().map_or(0, |s| s.tickets_received())
    }

    /// Keying material exported from the connection's secrets (RFC 5705; RFC 8446 section
    /// 7.5 for TLS 1.3): `len` bytes for `label`, with `context` or without (in TLS 1.2 no
    /// context and an empty one differ). Both ends of a connection get the same bytes for the
    /// same arguments, and nobody else can: a key for a protocol built on the connection. As
    /// `export_keying_material` of IO::Socket::SSL and `SSL_export_keying_material`.
    ///
    /// Fails before the handshake is over, for `len` 0, for lengths the TLS 1.3 exporter
    /// cannot give (more than 255 hash blocks), and in TLS 1.2 for the labels RFC 5705
    /// reserves: those that begin as the PRF's own (`client finished`, `server finished`,
    /// `master secret`, `extended master secret`, `key expansion`), which OpenSSL refuses too.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), sslsock::Error> {
    /// let sock = sslsock::SslSocket::connect("example.org:443")?;
    /// let key = sock.export_keying_material("EXPERIMENTAL my-protocol", Some(b"v1"), 32)?;
    /// assert_eq!(key.len(), 32);
    /// # Ok(())
    /// # }
    /// ```
    #[doc(alias = "SSL_export_keying_material")]
    pub fn export_keying_material(
        &self,
        label: &str,
        context: Option<&[u8]>,
        len: usize,
    ) -> Result<Vec<u8>, Error> {
        let session = self.tls.as_ref().ok_or(Error::State(
            "no TLS session: keying material comes from a finished handshake",
        ))?;
        if len == 0 {
            return Err(Error::State("keying material of length 0 was asked for"));
        }
        if self.version() != Some("TLSv1_3") {
            if let Some(reserved) = TLS12_PRF_LABELS.iter().find(|l| label.starts_with(**l)) {
                return Err(Error::Config(crate::error::ConfigError::Invalid(format!(
                    "export_keying_material: the label {label:?} begins with {reserved:?}, \
                     which TLS 1.2 uses itself; RFC 5705 reserves it"
                ))));
            }
        }
        let mut out = vec![0u8; len];
        session.export_keying_material(&mut out, label, context)?;
        Ok(out)
    }

    /// The `tls-exporter` channel binding of RFC 9266: the 32 bytes exported for the label
    /// `EXPORTER-Channel-Binding` with no context, which binds an authentication inside the
    /// connection (SCRAM-SHA-*-PLUS, for example) to this TLS connection. TLS 1.3 only: over TLS
    /// 1.2 the RFC asks for the extended master secret, which not every engine can confirm, so
    /// it is refused rather than risked.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), sslsock::Error> {
    /// let sock = sslsock::SslSocket::connect("example.org:443")?;
    /// let binding: [u8; 32] = sock.channel_binding()?;
    /// # let _ = binding;
    /// # Ok(())
    /// # }
    /// ```
    pub fn channel_binding(&self) -> Result<[u8; 32], Error> {
        if self.version() != Some("TLSv1_3") {
            return Err(Error::State(
                "the tls-exporter channel binding (RFC 9266) is given for TLS 1.3 connections only",
            ));
        }
        let bytes = self.export_keying_material("EXPORTER-Channel-Binding", None, 32)?;
        let mut out = [0u8; 32];
        out.copy_from_slice(&bytes);
        Ok(out)
    }

    /// True when the session was resumed (`get_session_reused`).
    #[doc(alias = "get_session_reused")]
    pub fn session_reused(&self) -> bool {
        self.tls.as_ref().is_some_and(|s| s.resumed())
    }

    /// The certificates the peer sent, leaf first (`peer_certificates`).
    #[doc(alias = "get_peer_certificate")]
    pub fn peer_certificates(&self) -> Vec<CertificateDer<'static>> {
        self.tls
            .as_ref()
            .and_then(|s| s.peer_certificates())
            .map(<[_]>::to_vec)
            .unwrap_or_default()
    }

    /// The peer's leaf certificate (DER).
    pub fn peer_certificate_der(&self) -> Option<CertificateDer<'static>> {
        self.tls.as_ref()?.peer_certificates()?.first().cloned()
    }

    /// Client: what is known about the revocation of the server's certificate after the
    /// handshake: good by a staple (or the cache) or by a CRL, not established (the resolver
    /// can ask the responders), or not checked. A resumed session was checked when it was made.
    ///
    /// ```no_run
    /// let sock = sslsock::SslSocket::connect("example.org:443")?;
    /// println!("revocation: {}", sock.revocation());
    /// # Ok::<(), sslsock::Error>(())
    /// ```
    pub fn revocation(&self) -> Revocation {
        match self.tls.as_ref().and_then(|s| s.peer_outcome()) {
            Some(o) => o.revocation.clone(),
            None if self.ctx.chain_policy().is_some() && self.ctx.ocsp_policy().is_some() => {
                Revocation::Unknown {
                    soft_errors: Vec::new(),
                }
            }
            None => Revocation::Off,
        }
    }

    /// Client: a resolver for the OCSP status of the certificates the staple did not settle
    /// (`ocsp_resolver`): the leaf, or with
    /// [`OcspMode::FULL_CHAIN`](crate::ocsp::OcspMode::FULL_CHAIN) the whole validated chain.
    /// Nothing to resolve when the peer was not verified.
    pub fn ocsp_resolver(&self) -> OcspResolver {
        let outcome = self.tls.as_ref().and_then(|s| s.peer_outcome());
        let (chain, settled, off) = match outcome {
            Some(o) => (
                o.chain.clone(),
                matches!(o.revocation, Revocation::Good { .. }),
                o.revocation == Revocation::Off,
            ),
            None => (
                self.peer_certificates()
                    .iter()
                    .map(|c| c.to_vec())
                    .collect(),
                false,
                self.ctx.chain_policy().is_none(),
            ),
        };
        let (mode, cache) = match self.ctx.ocsp_policy() {
            Some(p) if !off => (p.mode, p.cache.clone()),
            _ => (OcspMode::NO_CHECK, OcspCache::new(1)),
        };
        OcspResolver::new(&chain, mode, cache, settled, std::time::SystemTime::now())
    }

    /// The peer's leaf certificate, summarized.
    pub fn peer_certificate_info(&self) -> Option<CertInfo> {
        CertInfo::from_der(&self.peer_certificate_der()?, FingerprintAlgorithm::Sha256).ok()
    }

    /// One field of the peer certificate (`peer_certificate($field)`).
    pub fn peer_certificate(&self, field: CertField) -> Option<String> {
        let info = self.peer_certificate_info()?;
        match field {
            CertField::Issuer => Some(info.issuer_line),
            CertField::Subject => Some(info.subject_line),
            CertField::CommonName => info.common_name,
        }
    }

    /// `Subject Name: ...` and `Issuer  Name: ...` lines, as Net::SSLeay's
    /// `dump_peer_certificate` prints them (`dump_peer_certificate`).
    pub fn dump_peer_certificate(&self) -> Option<String> {
        let info = self.peer_certificate_info()?;
        Some(format!(
            "Subject Name: {}\nIssuer  Name: {}\n",
            info.subject_line, info.issuer_line
        ))
    }

    /// The peer certificate's subjectAltNames (`peer_certificate('subjectAltNames')`).
    pub fn peer_subject_alt_names(&self) -> Vec<SubjectAltName> {
        self.peer_certificate_info()
            .map(|i| i.subject_alt_names)
            .unwrap_or_default()
    }

    /// Our own certificate, as sent to the peer (`sock_certificate`).
    pub fn sock_certificate(&self) -> Option<CertificateDer<'static>> {
        // A server with a certificate per SNI name presents the one its ClientHello chose.
        self.tls
            .as_ref()
            .and_then(|s| s.own_chain())
            .unwrap_or(self.ctx.own_chain())
            .first()
            .cloned()
    }

    /// Our own certificate, summarized (`sock_certificate($field)`).
    pub fn sock_certificate_info(&self) -> Option<CertInfo> {
        CertInfo::from_der(&self.sock_certificate()?, FingerprintAlgorithm::Sha256).ok()
    }

    /// Fingerprint of the peer certificate, `sha256$hex`, or of its public key with `pubkey`,
    /// `sha256$pub$hex` (`get_fingerprint`).
    #[doc(alias = "get_fingerprint")]
    pub fn fingerprint(&self, algo: FingerprintAlgorithm, pubkey: bool) -> Result<String, Error> {
        let cert = self
            .peer_certificate_der()
            .ok_or(Error::State("no peer certificate"))?;
        Ok(fingerprint::fingerprint(&cert, algo, pubkey)?)
    }

    /// The binary fingerprint (`get_fingerprint_bin`).
    #[doc(alias = "get_fingerprint_bin")]
    pub fn fingerprint_bin(
        &self,
        algo: FingerprintAlgorithm,
        pubkey: bool,
    ) -> Result<Vec<u8>, Error> {
        let cert = self
            .peer_certificate_der()
            .ok_or(Error::State("no peer certificate"))?;
        Ok(fingerprint::fingerprint_bin(&cert, algo, pubkey)?)
    }

    /// Checks the peer certificate against `name` with `scheme` (`verify_hostname`). A name
    /// accepted from the commonName is held to the name constraints of the CAs on the
    /// certificate's path, as in the handshake.
    pub fn verify_hostname(&self, name: &str, scheme: &str) -> Result<(), Error> {
        let chain = self.peer_certificates();
        let (leaf, intermediates) = chain
            .split_first()
            .ok_or(Error::Verify(VerifyError::NoPeerCertificate))?;
        let scheme = Scheme::parse(scheme)?;
        let usage = if self.ctx.is_server() {
            Usage::Client
        } else {
            Usage::Server
        };
        // The path the handshake validated; without one (verification off, a pinned leaf, a
        // chain the verify callback let through) the CAs as the peer sent them, whose
        // constraints can only refuse more.
        let issuers: Vec<Vec<u8>> = match self
            .ctx
            .chain_policy()
            .map(|p| p.validated_path(leaf, intermediates, usage))
        {
            Some(Ok(mut path)) => {
                path.pop();
                path
            }
            _ => intermediates.iter().map(|c| c.to_vec()).collect(),
        };
        Ok(hostname::verify_hostname_in_path(
            leaf, name, &scheme, &issuers,
        )?)
    }
}
