//! Resolution and TCP connect.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::error::Error;
use crate::options::Family;

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
