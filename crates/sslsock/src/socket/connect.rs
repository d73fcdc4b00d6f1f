//! Peer address parsing (service names, IPv6 brackets), resolution and TCP connect.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::error::{ConfigError, Error};
use crate::options::Family;

/// Well-known ports for when `/etc/services` is missing.
const SERVICES: &[(&str, u16)] = &[
    ("http", 80),
    ("https", 443),
    ("ftp", 21),
    ("ftps", 990),
    ("smtp", 25),
    ("submission", 587),
    ("smtps", 465),
    ("submissions", 465),
    ("pop3", 110),
    ("pop3s", 995),
    ("imap", 143),
    ("imap2", 143),
    ("imaps", 993),
    ("ldap", 389),
    ("ldaps", 636),
    ("nntp", 119),
    ("nntps", 563),
    ("xmpp-client", 5222),
    ("xmpp-server", 5269),
    ("postgresql", 5432),
    ("mysql", 3306),
    ("sip", 5060),
    ("sips", 5061),
    ("ircs-u", 6697),
    ("domain-s", 853),
    ("telnets", 992),
    ("ftps-data", 989),
];

/// Splits `host:port`, `[v6]:port` or `host:service` into host and numeric port.
pub(crate) fn split_host_port(addr: &str) -> Result<(String, u16), Error> {
    let bad =
        |why: &str| Error::Config(ConfigError::Name(format!("peer address \"{addr}\": {why}")));
    let (host, port) = if let Some(rest) = addr.strip_prefix('[') {
        let (h, p) = rest.split_once(']').ok_or_else(|| bad("missing ']'"))?;
        let p = p
            .strip_prefix(':')
            .ok_or_else(|| bad("missing :port after ']'"))?;
        (h, p)
    } else {
        let (h, p) = addr.rsplit_once(':').ok_or_else(|| bad("missing :port"))?;
        if h.contains(':') {
            return Err(bad(
                "an IPv6 address must be written in brackets, e.g. [::1]:443",
            ));
        }
        (h, p)
    };
    if host.is_empty() {
        return Err(bad("empty host"));
    }
    let port = match p_numeric(port) {
        Some(p) => p,
        None => {
            service_port(port).ok_or_else(|| bad(&format!("unknown port or service \"{port}\"")))?
        }
    };
    Ok((host.to_owned(), port))
}

fn p_numeric(p: &str) -> Option<u16> {
    if p.chars().all(|c| c.is_ascii_digit()) {
        p.parse().ok()
    } else {
        None
    }
}

/// Looks a service name up in `/etc/services`, then in a built-in table.
pub(crate) fn service_port(name: &str) -> Option<u16> {
    if name.is_empty() {
        return None;
    }
    if let Ok(text) = std::fs::read_to_string("/etc/services") {
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut fields = line.split_whitespace();
            let (Some(svc), Some(port_proto)) = (fields.next(), fields.next()) else {
                continue;
            };
            let Some((port, "tcp")) = port_proto.split_once('/') else {
                continue;
            };
            if svc.eq_ignore_ascii_case(name)
                || fields.any(|alias| alias.eq_ignore_ascii_case(name))
            {
                if let Ok(p) = port.parse() {
                    return Some(p);
                }
            }
        }
    }
    SERVICES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, p)| *p)
}

/// Resolves and connects, trying each address of the wanted family in turn.
/// The resolved addresses of `host` in `family`, or the error saying why there are none.
pub(crate) fn usable_addresses(
    host: &str,
    family: Family,
    resolved: std::io::Result<impl Iterator<Item = SocketAddr>>,
) -> Result<Vec<SocketAddr>, Error> {
    let addrs: Vec<SocketAddr> = resolved
        .map_err(|e| Error::Resolve {
            host: host.to_owned(),
            reason: e.to_string(),
        })?
        .filter(|a| family.admits(a))
        .collect();
    if addrs.is_empty() {
        return Err(Error::Resolve {
            host: host.to_owned(),
            reason: match family {
                Family::V4 => "no IPv4 address".to_owned(),
                Family::V6 => "no IPv6 address".to_owned(),
                _ => "no address".to_owned(),
            },
        });
    }
    Ok(addrs)
}

pub(crate) fn tcp_connect(
    host: &str,
    port: u16,
    family: Family,
    local: Option<SocketAddr>,
    timeout: Option<Duration>,
) -> Result<TcpStream, Error> {
    let addrs = usable_addresses(host, family, (host, port).to_socket_addrs())?;
    let mut last = None;
    for addr in &addrs {
        match connect_one(*addr, local, timeout) {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    let source = last.unwrap_or_else(|| std::io::Error::other("no address tried"));
    if source.kind() == std::io::ErrorKind::TimedOut {
        return Err(Error::Timeout("connecting"));
    }
    Err(Error::Connect {
        addr: format!("{host}:{port}"),
        source,
    })
}

fn connect_one(
    addr: SocketAddr,
    local: Option<SocketAddr>,
    timeout: Option<Duration>,
) -> std::io::Result<TcpStream> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if let Some(l) = local {
        socket.bind(&SockAddr::from(l))?;
    }
    match timeout {
        Some(t) => socket.connect_timeout(&SockAddr::from(addr), t)?,
        None => socket.connect(&SockAddr::from(addr))?,
    }
    socket.set_tcp_nodelay(true)?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_addresses() {
        assert_eq!(
            split_host_port("example.org:443").unwrap(),
            ("example.org".into(), 443)
        );
        assert_eq!(split_host_port("[::1]:8443").unwrap(), ("::1".into(), 8443));
        assert_eq!(split_host_port("example.org:https").unwrap().1, 443);
        assert_eq!(split_host_port("example.org:imaps").unwrap().1, 993);
        assert!(split_host_port("example.org").is_err());
        assert!(split_host_port("::1:443").is_err());
        assert!(split_host_port("host:nosuchservice").is_err());
        assert!(split_host_port("host:99999").is_err());
    }
}
