//! Peer addresses: `host:port`, `[v6]:port` and `host:service` (with `/etc/services`).

use crate::error::{ConfigError, Error};

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
