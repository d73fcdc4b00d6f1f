//! Encrypted Client Hello (RFC 9849) for clients: the server name a client asks for travels
//! encrypted, and only the configuration's public name is seen in the clear.
//!
//! What ECH hides: the name the client connects to (SNI) and the rest of the inner
//! ClientHello (ALPN and the other extensions). What it does not hide: the server's IP address,
//! the public name (a name the operator shares among all its hosts, e.g. the provider's), the
//! DNS lookup that found the configuration unless that went over an encrypted resolver, and
//! the size and timing of the traffic.
//!
//! The configuration comes from the server's DNS HTTPS record: its `ech=` parameter is an
//! ECHConfigList in base64 (`dig +short HTTPS example.com` shows it). It needs TLS 1.3: a
//! context whose versions also allow TLS 1.2 is limited to TLS 1.3 (with a warning), and one
//! that allows only TLS 1.2 is refused, since ECH cannot fall back without sending the name
//! in the clear.
//!
//! ```no_run
//! use sslsock::ech::{EchConfigList, EchMode};
//! use sslsock::{Options, SslSocket};
//!
//! let list = EchConfigList::from_base64("AEX+DQBBBwAgACBFyVN...")?;
//! let opts = Options::new().ech(EchMode::Config(list));
//! let sock = SslSocket::connect_with("secret.example:443", &opts)?;
//! println!("ECH: {}", sock.ech_status());
//! # Ok::<(), sslsock::Error>(())
//! ```

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use base64ct::{Base64, Encoding};

/// A configuration list is read from a file of at most this size (the wire form is at most
/// 64 KiB; base64 makes that 88 KiB).
const MAX_FILE: u64 = 96 * 1024;

/// Why an ECH configuration list is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EchError(String);

impl fmt::Display for EchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::text::escape_control(&self.0))
    }
}

impl std::error::Error for EchError {}

impl EchError {
    pub(crate) fn new(reason: impl Into<String>) -> Self {
        EchError(reason.into())
    }
}

/// ECH configuration version of RFC 9849 (draft 13 onwards).
const VERSION_RFC9849: u16 = 0xfe0d;

/// An ECHConfigList as a server publishes it (RFC 9849 section 4), checked for shape: the
/// engine picks the first configuration whose version and HPKE suite it supports.
///
/// ```
/// use sslsock::ech::EchConfigList;
/// // Not an ECHConfigList: refused with the reason, before any connection.
/// let err = EchConfigList::from_base64("AAAA").unwrap_err();
/// println!("{err}");
/// assert!(EchConfigList::from_base64("not base64!").is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct EchConfigList {
    bytes: Arc<[u8]>,
    public_names: Arc<[String]>,
}

impl EchConfigList {
    /// The list from its wire form (what the base64 of a DNS HTTPS record's `ech=` decodes to).
    ///
    /// ```
    /// use sslsock::ech::EchConfigList;
    /// assert!(EchConfigList::from_bytes(vec![0, 0]).is_err()); // empty
    /// ```
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Result<Self, EchError> {
        let bytes: Vec<u8> = bytes.into();
        let public_names = parse(&bytes).map_err(EchError)?;
        Ok(Self {
            bytes: bytes.into(),
            public_names: public_names.into(),
        })
    }

    /// The list from base64, as in a DNS HTTPS record: `ech=` in front and quotes around it
    /// are allowed, as is white space.
    pub fn from_base64(text: &str) -> Result<Self, EchError> {
        let text = text.trim().trim_matches('"');
        let text = text.strip_prefix("ech=").unwrap_or(text).trim_matches('"');
        let compact: String = text.split_whitespace().collect();
        let bytes = Base64::decode_vec(&compact)
            .map_err(|_| EchError("the ECH configuration is not valid base64".into()))?;
        Self::from_bytes(bytes)
    }

    /// The list from a file holding it in wire form or in base64.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, EchError> {
        let path = path.as_ref();
        let in_file = |reason: String| EchError(format!("{}: {reason}", path.display()));
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_FILE + 1).read_to_end(&mut bytes))
            .map_err(|e| in_file(format!("cannot read it: {e}")))?;
        if bytes.len() as u64 > MAX_FILE {
            return Err(in_file(format!(
                "larger than {} KiB, too large for an ECH configuration list",
                MAX_FILE / 1024
            )));
        }
        match Self::from_bytes(bytes.clone()) {
            Ok(list) => Ok(list),
            Err(wire) => match std::str::from_utf8(&bytes) {
                // Text that is base64 of a list: say what is wrong with the list; text that
                // is not base64: say what is wrong with the bytes.
                Ok(text) if !text.trim().is_empty() => Self::from_base64(text).map_err(|b64| {
                    if b64.0.contains("base64") {
                        in_file(wire.0)
                    } else {
                        in_file(b64.0)
                    }
                }),
                _ => Err(in_file(wire.0)),
            },
        }
    }

    /// The wire form.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The base64 form, as a DNS HTTPS record's `ech=` carries it.
    pub fn to_base64(&self) -> String {
        Base64::encode_string(&self.bytes)
    }

    /// The public names of the configurations of RFC 9849's version, in order: the names an
    /// observer sees in the clear.
    pub fn public_names(&self) -> &[String] {
        &self.public_names
    }
}

impl fmt::Debug for EchConfigList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EchConfigList")
            .field("public_names", &self.public_names)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// How a client context uses Encrypted Client Hello.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum EchMode {
    /// No ECH extension (the default).
    #[default]
    Off,
    /// Encrypt the ClientHello to this configuration; the server name travels encrypted and
    /// the configuration's public name goes in the clear. A server that rejects it ends the
    /// handshake with [`crate::error::TlsError::EchRejected`]; the real name is never sent in
    /// the clear.
    Config(EchConfigList),
    /// Send a GREASE ECH extension (random bytes shaped like one, RFC 9849 section 6.2), so
    /// that clients using ECH do not stand out; the server name is sent in the clear as usual.
    Grease,
}

/// What became of ECH in a handshake ([`crate::SslSocket::ech_status`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EchStatus {
    /// No ECH extension was sent (ECH off, a server socket, or TLS 1.2).
    NotOffered,
    /// A GREASE extension was sent; the name went in the clear.
    Grease,
    /// ECH was offered; the handshake has not got far enough to know the answer.
    Offered,
    /// The server decrypted the inner ClientHello: the name stayed hidden.
    Accepted,
    /// The server did not accept the configuration; the handshake failed.
    Rejected,
}

impl EchStatus {
    /// The word the CLI reports: `off`, `grease`, `offered`, `accepted` or `rejected`.
    pub fn as_str(self) -> &'static str {
        match self {
            EchStatus::NotOffered => "off",
            EchStatus::Grease => "grease",
            EchStatus::Offered => "offered",
            EchStatus::Accepted => "accepted",
            EchStatus::Rejected => "rejected",
        }
    }
}

impl fmt::Display for EchStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A bounds-checked reader over the wire form.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        if self.rest.len() < n {
            return Err(format!("the ECH configuration list ends inside {what}"));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn u8(&mut self, what: &str) -> Result<u8, String> {
        Ok(self.take(1, what)?[0])
    }

    fn u16(&mut self, what: &str) -> Result<u16, String> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn vec16(&mut self, what: &str) -> Result<&'a [u8], String> {
        let n = self.u16(what)?;
        self.take(usize::from(n), what)
    }
}

/// Checks the shape of an ECHConfigList and returns the public names of the configurations
/// of RFC 9849's version (others are skipped, as a client must).
fn parse(bytes: &[u8]) -> Result<Vec<String>, String> {
    let mut outer = Reader { rest: bytes };
    let list = outer.vec16("the list length")?;
    if !outer.rest.is_empty() {
        return Err(format!(
            "{} bytes follow the ECH configuration list",
            outer.rest.len()
        ));
    }
    if list.is_empty() {
        return Err("the ECH configuration list is empty".into());
    }
    let mut configs = Reader { rest: list };
    let mut names = Vec::new();
    let mut count = 0;
    while !configs.rest.is_empty() {
        count += 1;
        let version = configs.u16("a configuration's version")?;
        let contents = configs.vec16("a configuration")?;
        if version != VERSION_RFC9849 {
            continue;
        }
        let mut c = Reader { rest: contents };
        let _config_id = c.u8("the config id")?;
        let _kem = c.u16("the KEM id")?;
        if c.vec16("the public key")?.is_empty() {
            return Err("an ECH configuration has an empty public key".into());
        }
        let suites = c.vec16("the cipher suites")?;
        if suites.is_empty() || suites.len() % 4 != 0 {
            return Err("an ECH configuration has no well-formed cipher suite list".into());
        }
        let _max_name = c.u8("the maximum name length")?;
        let n = c.u8("the public name")?;
        let name = c.take(usize::from(n), "the public name")?;
        let name = std::str::from_utf8(name)
            .ok()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or("an ECH configuration's public name is not a DNS name")?;
        c.vec16("the extensions")?;
        if !c.rest.is_empty() {
            return Err("an ECH configuration has bytes after its extensions".into());
        }
        names.push(name.to_ascii_lowercase());
    }
    if names.is_empty() {
        return Err(format!(
            "none of the {count} ECH configurations has the version of RFC 9849 (0xfe0d)"
        ));
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One configuration: id 7, X25519 KEM, a 32-byte key, HKDF-SHA256 + AES-128-GCM.
    fn config(public_name: &str) -> Vec<u8> {
        let mut c = vec![7, 0x00, 0x20, 0, 32];
        c.extend([0x11; 32]);
        c.extend([0, 4, 0, 1, 0, 1]);
        c.push(0);
        c.push(public_name.len() as u8);
        c.extend(public_name.as_bytes());
        c.extend([0, 0]);
        let mut out = vec![0xfe, 0x0d];
        out.extend((c.len() as u16).to_be_bytes());
        out.extend(c);
        out
    }

    fn list(configs: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = configs.concat();
        let mut out = (body.len() as u16).to_be_bytes().to_vec();
        out.extend(body);
        out
    }

    #[test]
    fn a_list_parses_from_bytes_base64_and_dns_text() {
        let bytes = list(&[config("Public.Example")]);
        let l = EchConfigList::from_bytes(bytes.clone()).unwrap();
        assert_eq!(l.public_names(), ["public.example"]);
        let b64 = l.to_base64();
        assert_eq!(EchConfigList::from_base64(&b64).unwrap(), l);
        assert_eq!(
            EchConfigList::from_base64(&format!(" ech=\"{b64}\"\n")).unwrap(),
            l
        );
    }

    #[test]
    fn unknown_versions_are_skipped_and_bad_shapes_refused() {
        let mut other = config("x.example");
        other[1] = 0x0a; // version 0xfe0a
        let l = EchConfigList::from_bytes(list(&[other.clone(), config("p.example")])).unwrap();
        assert_eq!(l.public_names(), ["p.example"]);
        let e = EchConfigList::from_bytes(list(&[other])).unwrap_err();
        assert!(e.to_string().contains("0xfe0d"), "{e}");
        let good = list(&[config("p.example")]);
        for cut in 0..good.len() {
            let e = EchConfigList::from_bytes(good[..cut].to_vec()).unwrap_err();
            assert!(e.to_string().contains("ECH"), "{cut}: {e}");
        }
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(EchConfigList::from_bytes(trailing).is_err());
        assert!(EchConfigList::from_base64("not base64!").is_err());
        assert!(EchConfigList::from_bytes(list(&[config("")])).is_err());
    }
}
