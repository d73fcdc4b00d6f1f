//! One connection's identity, decided in one place for every way of making a connection.
//!
//! The name a client sends in SNI, the name it checks the certificate against, the key its
//! session is filed under and the deadline of its handshake are decided together here, so
//! that a session can only be offered to a connection checking the name it was verified for.

use std::net::SocketAddr;
use std::time::Duration;

use super::address::split_host_port;
use crate::error::{ConfigError, Error, VerifyError};
use crate::options::{Family, Options, Peer};

/// What belongs to one connection: its peer's names, its session identity, its deadline and
/// its address. Resolved once when the connection is made ([`crate::SslSocket::target`]),
/// the same way by the blocking, async, mio and STARTTLS constructors.
///
/// ```no_run
/// let sock = sslsock::SslSocket::connect("www.example.org:443")?;
/// let t = sock.target();
/// assert_eq!(t.sni(), Some("www.example.org"));
/// assert_eq!(t.verify_name(), Some("www.example.org"));
/// assert_eq!(t.session_key(), Some("www.example.org:443"));
/// # Ok::<(), sslsock::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Target {
    name: Option<String>,
    sni: bool,
    verify_name: Option<String>,
    verify_override: Option<String>,
    session_key: Option<String>,
    timeout: Option<Duration>,
    local_addr: Option<SocketAddr>,
    family: Family,
    address: Option<(String, u16)>,
}

impl Target {
    /// The target of a connection made with `opts` (after the default layers) and `peer`
    /// (what the caller gave for this connection alone). `dialed` is the address a
    /// constructor connects to itself; without it the connection is on a stream the caller
    /// connected, and the host of the options' `PeerAddr` stands in for the peer's.
    ///
    /// A client that must check a name and has none is refused here, before a byte is sent.
    pub(crate) fn resolve(
        opts: &Options,
        peer: &Peer,
        dialed: Option<&str>,
    ) -> Result<Target, Error> {
        let timeout = peer.timeout.or(opts.timeout);
        if opts.server {
            return Ok(Target {
                timeout,
                ..Target::default()
            });
        }
        let address = Self::address_of(opts, dialed)?;
        let host = address.as_ref().map(|(h, _)| h.as_str());
        let name = match &peer.name {
            Some(n) => Some(unbracket(n).to_owned()),
            None => Self::name_from_options(opts, host)?,
        };
        let verify_override = peer.verify_name.clone();
        let verify_name = verify_override
            .clone()
            .or_else(|| opts.verifycn_name.clone())
            .or_else(|| name.clone());
        // Sessions are filed under (session key, name checked): the key alone never decides.
        let session_key = peer
            .session_key
            .clone()
            .or_else(|| opts.session_key.clone())
            .or_else(|| match (dialed, &address) {
                (Some(_), Some((h, p))) => Some(format!("{h}:{p}")),
                _ => opts
                    .peer
                    .as_deref()
                    .map(|p| with_port(p, opts.peer_port.as_deref())),
            })
            .or_else(|| name.clone());
        Ok(Target {
            sni: opts.hostname.as_deref() != Some("")
                && name
                    .as_deref()
                    .is_some_and(|n| n.parse::<std::net::IpAddr>().is_err()),
            name,
            verify_name,
            verify_override,
            session_key,
            timeout,
            local_addr: peer.local_addr.or(opts.local_addr),
            family: peer.family.unwrap_or(opts.family),
            address,
        })
    }

    /// The address connected to: the constructor's, else the options' `PeerAddr`; both
    /// given and different is a contradiction, refused. A constructor that connects
    /// (`dialed` is `Some`, maybe empty) needs one of them.
    fn address_of(opts: &Options, dialed: Option<&str>) -> Result<Option<(String, u16)>, Error> {
        let given = dialed.filter(|a| !a.is_empty());
        let peer = opts
            .peer
            .as_deref()
            .map(|p| with_port(p, opts.peer_port.as_deref()));
        match (given, peer.as_deref()) {
            (Some(d), Some(p)) if d != p => Err(ConfigError::Invalid(format!(
                "the address \"{d}\" and PeerAddr \"{p}\" differ: give one"
            ))
            .into()),
            (Some(a), _) | (None, Some(a)) => split_host_port(a).map(Some),
            (None, None) if dialed.is_some() => Err(ConfigError::Invalid(
                "no address to connect to: give host:port (or PeerAddr)".to_owned(),
            )
            .into()),
            (None, None) => Ok(None),
        }
    }

    /// The name a client hands to the engine: SNI name, else verify name, else peer host.
    /// `Ok(None)`: there is none, and none is needed (nothing verified, scheme `none`, or
    /// pins); when one is needed and there is none, the handshake is refused.
    fn name_from_options(opts: &Options, host: Option<&str>) -> Result<Option<String>, Error> {
        let sni = opts.hostname.as_deref().filter(|h| !h.is_empty());
        if let Some(n) = sni
            .or(opts.verifycn_name.as_deref())
            .or(host.map(unbracket))
        {
            return Ok(Some(n.to_owned()));
        }
        let verifies = opts.verify_mode.is_none_or(|m| m.verifies());
        let scheme_none = opts
            .verifycn_scheme
            .as_ref()
            .is_some_and(|s| s.accepts_all());
        if !verifies || scheme_none || !opts.fingerprints.is_empty() {
            return Ok(None);
        }
        Err(Error::Verify(VerifyError::NoName))
    }

    /// The target of a client toward `name` on a stream the caller connected
    /// ([`crate::SslSocket::new_client`]).
    pub(crate) fn named(opts: &Options, name: &str) -> Result<Target, Error> {
        Self::resolve(opts, &Peer::new().name(name), None)
    }

    /// The name handed to the engine: sent in SNI (when [`sni`](Self::sni) says so) and the
    /// name checked unless another is set. `None` on a server, and on a client that checks
    /// no name.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The name sent in the TLS server name extension: `None` on a server, for an IP
    /// address and with `SSL_hostname => ''`.
    pub fn sni(&self) -> Option<&str> {
        self.name
            .as_deref()
            .filter(|_| self.sni)
            .map(|n| n.trim_end_matches('.'))
    }

    /// The name the server's certificate is checked against: the connection's verify name,
    /// else the context's `verifycn_name`, else [`name`](Self::name).
    pub fn verify_name(&self) -> Option<&str> {
        self.verify_name.as_deref()
    }

    /// The connection's own verify name ([`Peer::verify_name`]), when it has one.
    pub(crate) fn verify_override(&self) -> Option<&str> {
        self.verify_override.as_deref()
    }

    /// What this connection's session is filed under, together with the name checked:
    /// `Peer::session_key`, else `SSL_session_key`, else `host:port` of the address
    /// connected to, else `PeerAddr`, else the name.
    pub fn session_key(&self) -> Option<&str> {
        self.session_key.as_deref()
    }

    /// The limit of connecting and of each handshake (`Timeout`).
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The local address bound before connecting (`LocalAddr`).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addr
    }

    /// The address family connected with (`Domain`).
    pub fn family(&self) -> Family {
        self.family
    }

    /// Host and port connected to, when known: the constructor's address, else `PeerAddr`.
    pub fn address(&self) -> Option<(&str, u16)> {
        self.address.as_ref().map(|(h, p)| (h.as_str(), *p))
    }
}

/// `PeerAddr` with `PeerPort` when the address has no port of its own (a port in the address
/// wins, as in Perl); a bare IPv6 address gets its brackets.
fn with_port(peer: &str, port: Option<&str>) -> String {
    let Some(port) = port.filter(|p| !p.is_empty()) else {
        return peer.to_owned();
    };
    let has_port = match peer.strip_prefix('[') {
        Some(rest) => rest
            .split_once(']')
            .is_some_and(|(_, p)| p.starts_with(':')),
        None => peer.matches(':').count() == 1,
    };
    if has_port {
        peer.to_owned()
    } else if peer.contains(':') && !peer.starts_with('[') {
        format!("[{peer}]:{port}")
    } else {
        format!("{peer}:{port}")
    }
}

fn unbracket(host: &str) -> &str {
    host.trim_start_matches('[').trim_end_matches(']')
}
