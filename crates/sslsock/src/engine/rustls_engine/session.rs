//! One connection on the default engine, sans-IO: feed one record, take plaintext, queue
//! plaintext, take outgoing bytes.

use std::io::{self, BufRead, IoSlice, Write};

use pki_types::{CertificateDer, ServerName};
use rustls::{ClientConnection, Connection, HandshakeKind, ServerConnection};

use super::super::suites;
use super::super::suites::CipherNames;
use super::{map_error, Config};
use crate::copy::{SlicedReader, COPY_SLICE};
use crate::defaults::MAX_RECORD_PLAINTEXT;
use crate::error::{ConfigError, Error};
use crate::plan::Target;

/// One TLS session in one role. Owns no transport.
pub(crate) struct RustlsSession {
    conn: Connection,
    /// Decrypted bytes not yet taken by the application.
    pending: usize,
    /// Server with per-name configurations: the ClientHello is read first, then the
    /// configuration for its SNI name replaces the placeholder `conn`.
    accepting: Option<Box<Accepting>>,
    /// Server: the certificate chain chosen for this ClientHello, when the context has
    /// several (SNI); `None`: the context's one.
    own_chain: Option<Vec<CertificateDer<'static>>>,
    /// Client: what the verifier established about the server's chain.
    peer_outcome: Option<crate::peer::PeerOutcome>,
}

struct Accepting {
    acceptor: rustls::server::Acceptor,
    by_name: super::PerName,
    default: std::sync::Arc<rustls::ServerConfig>,
    alpn_fallback: super::AlpnFallback,
    certs: Option<std::sync::Arc<super::sni::SniResolver>>,
    chooser: Option<super::Chooser>,
}

/// What `choose` picks for `hello`: another server configuration and its chain, or `None`
/// for the listening one; a choice that cannot be used is an error of this handshake.
fn chosen_config(
    choose: &super::Chooser,
    hello: &rustls::server::ClientHello<'_>,
) -> Result<Option<(Config, Vec<CertificateDer<'static>>)>, Error> {
    let seen = crate::hello::ClientHello {
        server_name: hello.server_name().map(str::to_ascii_lowercase),
        alpn: hello
            .alpn()
            .map(|protocols| protocols.map(<[u8]>::to_vec).collect())
            .unwrap_or_default(),
        signature_schemes: hello
            .signature_schemes()
            .iter()
            .map(|s| u16::from(*s))
            .collect(),
    };
    match (choose.0)(&seen) {
        None => Ok(None),
        Some(Ok(choice)) => Ok(Some(choice)),
        Some(Err(why)) => Err(Error::Config(ConfigError::Invalid(why))),
    }
}

/// When the client offers ALPN and none of its protocols is ours, the handshake goes on
/// without ALPN (as OpenSSL servers do) instead of failing: `cfg` without its protocols.
fn without_alpn_if_disjoint<'a>(
    cfg: std::sync::Arc<rustls::ServerConfig>,
    offered: Option<impl Iterator<Item = &'a [u8]>>,
) -> std::sync::Arc<rustls::ServerConfig> {
    let Some(mut offered) = offered else {
        return cfg;
    };
    if cfg.alpn_protocols.is_empty() || offered.any(|p| cfg.alpn_protocols.iter().any(|o| o == p)) {
        return cfg;
    }
    log::debug!("the client's ALPN offer shares no protocol with ours: going on without ALPN");
    let mut plain = (*cfg).clone();
    plain.alpn_protocols.clear();
    std::sync::Arc::new(plain)
}

impl std::fmt::Debug for RustlsSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("handshaking", &self.conn.is_handshaking())
            .field("pending", &self.pending)
            .finish()
    }
}

impl RustlsSession {
    /// A client session toward `name` (SNI and, unless overridden, the verified identity),
    /// or toward a peer without a name (`None`: no SNI, and no name check possible). Its
    /// sessions are filed under `session_key` (`host:port` or the configured key) when given.
    pub(crate) fn client(config: &Config, target: &Target) -> Result<RustlsSession, Error> {
        let name = target.name();
        let Config::Client {
            config: named,
            nameless,
            store,
            verifier,
            versions,
        } = config
        else {
            return Err(Error::State(
                "a server context cannot start a client handshake",
            ));
        };
        let (cfg, server_name) = match name {
            Some(name) => {
                let server_name = ServerName::try_from(name.trim_end_matches('.').to_owned())
                    .map_err(|_| {
                        ConfigError::Name(format!(
                            "\"{name}\" is not a valid host name or IP address"
                        ))
                    })?;
                (named, server_name)
            }
            None => (
                nameless,
                ServerName::IpAddress(super::verifier::PLACEHOLDER_NAME.into()),
            ),
        };
        // A connection that checks another name than it sends: the context's configuration
        // with a verifier for that name (shared with every connection checking it).
        let owned;
        let cfg = match target.verify_override() {
            Some(v) => {
                let mut c = (**cfg).clone();
                c.dangerous()
                    .set_certificate_verifier(super::shared_verifier(
                        super::verifier::ServerVerifier {
                            check: crate::peer::ServerCheck {
                                identity: Some(v.to_owned()),
                                ..verifier.check.clone()
                            },
                            nameless: false,
                            ..verifier.clone()
                        },
                        versions,
                    ));
                owned = std::sync::Arc::new(c);
                &owned
            }
            None => cfg,
        };
        // Sessions are filed under the session key (or the name) and the name checked: a
        // session is offered only to a connection checking the name it was verified for.
        let cfg = match store {
            Some(store) => {
                let slot = super::super::resumption::Slot::new(
                    target.session_key().unwrap_or(""),
                    target.verify_name().unwrap_or(""),
                );
                let mut keyed = (**cfg).clone();
                keyed.resumption = rustls::client::Resumption::store(std::sync::Arc::new(
                    super::super::resumption::KeyedStore::new(store.clone(), slot),
                ));
                std::sync::Arc::new(keyed)
            }
            None => cfg.clone(),
        };
        let conn = ClientConnection::new(cfg, server_name).map_err(map_error)?;
        Ok(RustlsSession {
            conn: Connection::Client(conn),
            pending: 0,
            accepting: None,
            own_chain: None,
            peer_outcome: None,
        })
    }

    /// A server session.
    pub(crate) fn server(config: &Config) -> Result<RustlsSession, Error> {
        let Config::Server {
            config: cfg,
            by_name,
            alpn_fallback,
            certs,
            chooser,
        } = config
        else {
            return Err(Error::State("a client context cannot accept a handshake"));
        };
        let conn = ServerConnection::new(cfg.clone()).map_err(map_error)?;
        // The ClientHello is looked at first when it may choose the configuration or the
        // certificate.
        let looks = !by_name.is_empty() || *alpn_fallback || certs.is_some() || chooser.is_some();
        let accepting = looks.then(|| {
            Box::new(Accepting {
                acceptor: rustls::server::Acceptor::default(),
                by_name: by_name.clone(),
                default: cfg.clone(),
                alpn_fallback: *alpn_fallback,
                certs: certs.clone(),
                chooser: chooser.clone(),
            })
        });
        Ok(RustlsSession {
            conn: Connection::Server(conn),
            pending: 0,
            accepting,
            own_chain: None,
            peer_outcome: None,
        })
    }

    /// Reads the ClientHello into the acceptor; once it is complete, starts the connection
    /// with the configuration of its SNI name.
    fn feed_acceptor(&mut self, mut record: &[u8]) -> Result<(), Error> {
        let Some(acc) = self.accepting.as_mut() else {
            return Ok(());
        };
        while !record.is_empty() {
            if acc.acceptor.read_tls(&mut record).map_err(Error::Io)? == 0 {
                break;
            }
        }
        let accepted = match acc.acceptor.accept() {
            Ok(None) => return Ok(()),
            Ok(Some(a)) => a,
            Err((e, _alert)) => return Err(map_error(e)),
        };
        let hello = accepted.client_hello();
        let chosen = match &acc.chooser {
            Some(choose) => chosen_config(choose, &hello)?,
            None => None,
        };
        let name = hello.server_name().map(str::to_ascii_lowercase);
        // The context the callback chose, else the listening one: its configuration (by SNI
        // name) and the chain it presents.
        let (by_name, default, certs, alpn_fallback, fallback_chain) = match &chosen {
            Some((
                Config::Server {
                    config,
                    by_name,
                    certs,
                    alpn_fallback,
                    ..
                },
                chain,
            )) => (by_name, config, certs, *alpn_fallback, Some(chain.clone())),
            _ => (
                &acc.by_name,
                &acc.default,
                &acc.certs,
                acc.alpn_fallback,
                None,
            ),
        };
        let cfg = name
            .and_then(|n| crate::plan::sni::find_for_host(by_name, &n).cloned())
            .unwrap_or_else(|| default.clone());
        self.own_chain = certs
            .as_ref()
            .and_then(|certs| {
                certs
                    .choose(hello.server_name(), hello.signature_schemes())
                    .map(|ck| ck.cert.clone())
            })
            .or(fallback_chain);
        let cfg = if alpn_fallback {
            without_alpn_if_disjoint(cfg, accepted.client_hello().alpn())
        } else {
            cfg
        };
        let conn = accepted
            .into_connection(cfg)
            .map_err(|(e, _alert)| map_error(e))?;
        self.conn = Connection::Server(conn);
        self.accepting = None;
        let state = self.conn.process_new_packets().map_err(map_error)?;
        self.pending = state.plaintext_bytes_to_read();
        Ok(())
    }

    /// Feeds exactly one complete TLS record and processes it.
    pub(crate) fn feed_record(&mut self, record: &[u8]) -> Result<(), Error> {
        if self.accepting.is_some() {
            return self.feed_acceptor(record);
        }
        let mut reader = SlicedReader(record);
        while !reader.0.is_empty() {
            let n = self.conn.read_tls(&mut reader).map_err(Error::Io)?;
            if n == 0 {
                break;
            }
        }
        let verifying = self.peer_outcome.is_none()
            && self.conn.is_handshaking()
            && matches!(self.conn, Connection::Client(_));
        if verifying {
            // Nothing stale from another connection on this thread.
            let _ = super::verifier::take_outcome();
        }
        let processed = self.conn.process_new_packets();
        if verifying {
            self.peer_outcome = super::verifier::take_outcome();
        }
        match processed {
            Ok(state) => {
                self.pending = state.plaintext_bytes_to_read();
                Ok(())
            }
            Err(e) => Err(map_error(e)),
        }
    }

    /// Tells the session the transport reached EOF.
    pub(crate) fn feed_eof(&mut self) {
        let _ = self.conn.read_tls(&mut io::empty());
        if let Ok(state) = self.conn.process_new_packets() {
            self.pending = state.plaintext_bytes_to_read();
        }
    }

    /// The first chunk of decrypted data (one record's worth at most).
    /// `Ok(empty)`: the peer closed cleanly. `WouldBlock`: a record must be fed first.
    pub(crate) fn plaintext(&mut self) -> io::Result<&[u8]> {
        self.conn.reader().into_first_chunk()
    }

    /// Marks `n` bytes of the first chunk as taken.
    pub(crate) fn consume(&mut self, n: usize) {
        self.conn.reader().consume(n);
        self.pending = self.pending.saturating_sub(n);
    }

    /// Decrypted bytes waiting.
    pub(crate) fn pending(&self) -> usize {
        self.pending
    }

    /// Queues plaintext for encryption; returns how much was taken (at most one record).
    ///
    /// The engine copies the plaintext into a fresh record buffer, which the heap often places
    /// just past the caller's buffer: handed over in slices, each copy stays small (see
    /// `crate::copy`). Same bytes, same records.
    pub(crate) fn write_plaintext(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.len() <= COPY_SLICE {
            return self.conn.writer().write(data);
        }
        let mut slices = [IoSlice::new(&[]); MAX_RECORD_PLAINTEXT / COPY_SLICE];
        for (slot, piece) in slices.iter_mut().zip(data.chunks(COPY_SLICE)) {
            *slot = IoSlice::new(piece);
        }
        let n = data.len().div_ceil(COPY_SLICE).min(slices.len());
        self.conn.writer().write_vectored(&slices[..n])
    }

    pub(crate) fn wants_write(&self) -> bool {
        self.conn.wants_write()
    }

    /// Writes queued TLS bytes to `w`.
    pub(crate) fn write_tls(&mut self, w: &mut dyn Write) -> io::Result<usize> {
        self.conn.write_tls(w)
    }

    pub(crate) fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    pub(crate) fn send_close_notify(&mut self) {
        self.conn.send_close_notify();
    }

    pub(crate) fn cipher(&self) -> Option<CipherNames> {
        let s = self.conn.negotiated_cipher_suite()?;
        suites::info_of(s).map(|i| CipherNames {
            openssl: i.openssl,
            iana: i.iana,
        })
    }

    pub(crate) fn version(&self) -> Option<u16> {
        self.conn.protocol_version().map(u16::from)
    }

    pub(crate) fn version_name(&self) -> Option<&'static str> {
        self.conn.protocol_version().map(suites::version_name)
    }

    pub(crate) fn alpn(&self) -> Option<&[u8]> {
        self.conn.alpn_protocol()
    }

    /// Server: the certificate chain presented, when chosen per ClientHello (SNI).
    pub(crate) fn own_chain(&self) -> Option<&[CertificateDer<'static>]> {
        self.own_chain.as_deref()
    }

    pub(crate) fn server_name(&self) -> Option<&str> {
        match &self.conn {
            Connection::Server(s) => s.server_name(),
            Connection::Client(_) => None,
        }
    }

    pub(crate) fn resumed(&self) -> bool {
        self.conn.handshake_kind() == Some(HandshakeKind::Resumed)
    }

    pub(crate) fn group(&self) -> Option<String> {
        self.conn
            .negotiated_key_exchange_group()
            .map(|g| format!("{:?}", g.name()))
    }

    /// Client: what became of Encrypted Client Hello.
    pub(crate) fn ech_status(&self) -> crate::ech::EchStatus {
        use crate::ech::EchStatus as S;
        use rustls::client::EchStatus as E;
        match &self.conn {
            Connection::Client(c) => match c.ech_status() {
                E::NotOffered => S::NotOffered,
                E::Grease => S::Grease,
                E::Offered => S::Offered,
                E::Accepted => S::Accepted,
                E::Rejected => S::Rejected,
            },
            Connection::Server(_) => S::NotOffered,
        }
    }

    /// RFC 5705 / RFC 8446 7.5 keying material into `out`.
    pub(crate) fn export_keying_material(
        &self,
        out: &mut [u8],
        label: &str,
        context: Option<&[u8]>,
    ) -> Result<(), Error> {
        self.conn
            .export_keying_material(out, label.as_bytes(), context)
            .map(|_| ())
            .map_err(|e| {
                Error::Tls(crate::error::TlsError::Other(format!(
                    "cannot export keying material: {e}"
                )))
            })
    }

    /// TLS 1.3 session tickets received (client side).
    pub(crate) fn tickets_received(&self) -> u32 {
        match &self.conn {
            Connection::Client(c) => c.tls13_tickets_received(),
            Connection::Server(_) => 0,
        }
    }

    /// Client: the validated chain (leaf first) and the leaf's revocation status, when the
    /// server's certificate was verified in this handshake (not on resumption).
    pub(crate) fn peer_outcome(&self) -> Option<&crate::peer::PeerOutcome> {
        self.peer_outcome.as_ref()
    }

    pub(crate) fn peer_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        self.conn.peer_certificates()
    }
}
