//! Client side of the STARTTLS dialogues: talk plain until the server agrees to TLS.

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use sslsock::SslSocket;

use crate::Failure;

/// Protocols whose plain-text upgrade the `connect --starttls` option speaks.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub(crate) enum Protocol {
    Smtp,
    Imap,
    Pop3,
    Ftp,
    Xmpp,
    Postgres,
}

/// The longest reply line accepted (RFC 5321 allows 512 octets; servers send more in
/// practice, never this much).
const MAX_LINE: usize = 8192;

/// The most lines of one multi-line reply (an EHLO answer has a few dozen).
const MAX_REPLY_LINES: usize = 1000;

/// The plain dialogue before TLS: one deadline for all of it, bounded lines and replies.
struct Dialogue<'a> {
    s: &'a mut SslSocket<TcpStream>,
    deadline: Option<Instant>,
    limit: Option<Duration>,
    /// What is being waited for, for the error messages.
    step: &'static str,
}

impl Dialogue<'_> {
    /// Sets the socket's read timeout to what is left of the deadline.
    fn arm(&mut self) -> Result<(), Failure> {
        let Some(deadline) = self.deadline else {
            return Ok(());
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.timed_out());
        }
        self.s
            .get_ref()
            .set_read_timeout(Some(left))
            .map_err(Failure::network)
    }

    fn timed_out(&self) -> Failure {
        Failure::unreachable(format!(
            "timed out after {} waiting for the server's {} (STARTTLS)",
            self.limit
                .map_or_else(String::new, |l| format!("{:.1} s", l.as_secs_f64())),
            self.step
        ))
    }

    fn io_error(&self, e: std::io::Error) -> Failure {
        match e.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => self.timed_out(),
            _ => Failure::network(e),
        }
    }

    /// One line (CRLF or LF), at most [`MAX_LINE`] bytes, as text.
    fn line(&mut self) -> Result<String, Failure> {
        let mut bytes = Vec::new();
        loop {
            self.arm()?;
            let chunk = match self.s.fill_buf() {
                Ok(c) => c,
                Err(e) => return Err(self.io_error(e)),
            };
            if chunk.is_empty() {
                return Err(Failure::tls(format!(
                    "server closed the connection before its {} (STARTTLS)",
                    self.step
                )));
            }
            let (take, done) = match chunk.iter().position(|b| *b == b'\n') {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            bytes.extend_from_slice(&chunk[..take]);
            self.s.consume(take);
            if bytes.len() > MAX_LINE {
                return Err(Failure::tls(format!(
                    "the server's {} is a line longer than {MAX_LINE} bytes (STARTTLS)",
                    self.step
                )));
            }
            if done {
                break;
            }
        }
        String::from_utf8(bytes).map_err(|e| {
            Failure::tls(format!(
                "the server's {} is not text: {} (STARTTLS)",
                self.step,
                sslsock::escape_control(&String::from_utf8_lossy(e.as_bytes()))
            ))
        })
    }

    /// A (possibly multi-line) SMTP/FTP reply; its final line.
    fn reply(&mut self) -> Result<String, Failure> {
        for _ in 0..MAX_REPLY_LINES {
            let l = self.line()?;
            // "250-more" continues, "250 last" ends.
            if l.len() < 4 || l.as_bytes()[3] != b'-' {
                return Ok(l);
            }
        }
        Err(Failure::tls(format!(
            "the server's {} runs over {MAX_REPLY_LINES} lines (STARTTLS)",
            self.step
        )))
    }

    fn send(&mut self, bytes: impl AsRef<[u8]>, next: &'static str) -> Result<(), Failure> {
        self.s
            .write_all(bytes.as_ref())
            .map_err(|e| self.io_error(e))?;
        self.s.flush().map_err(|e| self.io_error(e))?;
        self.step = next;
        Ok(())
    }

    /// Reads until `needle` appears (XMPP has no line structure), at most 64 KiB. An XMPP
    /// stream error on the way is the server's refusal, said with its condition.
    fn read_until(&mut self, needle: &str) -> Result<String, Failure> {
        let mut seen = Vec::new();
        while !seen.windows(needle.len()).any(|w| w == needle.as_bytes()) {
            if let Some(condition) = xmpp_stream_error(&seen) {
                return Err(Failure::tls(format!(
                    "the XMPP server ended the stream with the error <{condition}/> (STARTTLS)"
                )));
            }
            self.arm()?;
            let chunk = match self.s.fill_buf() {
                Ok(c) => c,
                Err(e) => return Err(self.io_error(e)),
            };
            if chunk.is_empty() {
                if let Some(condition) = xmpp_stream_error(&seen) {
                    return Err(Failure::tls(format!(
                        "the XMPP server ended the stream with the error <{condition}/> (STARTTLS)"
                    )));
                }
                return Err(Failure::tls(format!(
                    "server closed the connection while waiting for {needle}"
                )));
            }
            // One byte at a time: nothing past the needle may be taken from the stream.
            seen.push(chunk[0]);
            self.s.consume(1);
            if seen.len() > 65_536 {
                return Err(Failure::tls(format!(
                    "no {needle} in the first 64 KiB from the server"
                )));
            }
        }
        Ok(String::from_utf8_lossy(&seen).into_owned())
    }
}

/// The condition of a complete `<stream:error>` (RFC 6120 4.9), e.g. `host-unknown`.
fn xmpp_stream_error(seen: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(seen);
    let start = text.find("<stream:error>")? + "<stream:error>".len();
    let body = &text[start..];
    body.find("</stream:error>")?;
    let tag = body.trim_start().strip_prefix('<')?;
    let name: String = tag
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    Some(if name.is_empty() {
        "unknown".to_owned()
    } else {
        name
    })
}

fn expect(got: &str, prefix: &str, step: &str) -> Result<(), Failure> {
    if got.starts_with(prefix) {
        Ok(())
    } else {
        Err(Failure::tls(format!(
            "STARTTLS refused at {step}: server said \"{}\"",
            sslsock::escape_control(got.trim_end())
        )))
    }
}

/// Runs the plain part of the protocol on a plain socket; afterwards the caller starts TLS.
/// `name` (`--starttls-host`) is the XMPP domain asked for (else `host`) and the name SMTP's
/// EHLO gives (else `sslsock.invalid`).
pub(crate) fn negotiate(
    s: &mut SslSocket<TcpStream>,
    proto: Protocol,
    host: &str,
    name: Option<&str>,
    limit: Option<Duration>,
) -> Result<(), Failure> {
    let before = s.get_ref().read_timeout().map_err(Failure::network)?;
    let mut d = Dialogue {
        s,
        deadline: limit.and_then(|l| Instant::now().checked_add(l)),
        limit,
        step: "greeting",
    };
    let result = talk(&mut d, proto, host, name);
    let _ = d.s.get_ref().set_read_timeout(before);
    result
}

fn talk(
    d: &mut Dialogue<'_>,
    proto: Protocol,
    host: &str,
    name: Option<&str>,
) -> Result<(), Failure> {
    // SMTP's EHLO names the client: a name that is no host's unless one was given.
    let ehlo = name.unwrap_or("sslsock.invalid");
    // XMPP's stream header names the server's domain.
    let host = name.unwrap_or(host);
    match proto {
        Protocol::Smtp => {
            expect(&d.reply()?, "220", "greeting")?;
            d.send(format!("EHLO {ehlo}\r\n"), "EHLO reply")?;
            expect(&d.reply()?, "250", "EHLO")?;
            d.send("STARTTLS\r\n", "STARTTLS reply")?;
            expect(&d.reply()?, "220", "STARTTLS")
        }
        Protocol::Ftp => {
            expect(&d.reply()?, "220", "greeting")?;
            d.send("AUTH TLS\r\n", "AUTH TLS reply")?;
            expect(&d.reply()?, "234", "AUTH TLS")
        }
        Protocol::Pop3 => {
            expect(&d.line()?, "+OK", "greeting")?;
            d.send("STLS\r\n", "STLS reply")?;
            expect(&d.line()?, "+OK", "STLS")
        }
        Protocol::Imap => {
            expect(&d.line()?, "* OK", "greeting")?;
            d.send("a1 STARTTLS\r\n", "STARTTLS reply")?;
            for _ in 0..MAX_REPLY_LINES {
                let l = d.line()?;
                if l.starts_with("a1 ") {
                    return expect(&l, "a1 OK", "STARTTLS");
                }
            }
            Err(Failure::tls(format!(
                "the server's STARTTLS reply runs over {MAX_REPLY_LINES} lines (STARTTLS)"
            )))
        }
        Protocol::Xmpp => {
            d.send(
                format!(
                    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='{host}' version='1.0'>"
                ),
                "stream features",
            )?;
            d.read_until("</stream:features>")?;
            d.send(
                "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
                "starttls answer",
            )?;
            let answer = d.read_until(">")?;
            expect(answer.trim_start(), "<proceed", "starttls")
        }
        Protocol::Postgres => {
            // SSLRequest: length 8, code 80877103.
            let mut req = Vec::with_capacity(8);
            req.extend_from_slice(&8u32.to_be_bytes());
            req.extend_from_slice(&80_877_103u32.to_be_bytes());
            d.send(&req, "answer to SSLRequest")?;
            d.arm()?;
            let mut answer = [0u8; 1];
            let read = d.s.read_exact(&mut answer);
            read.map_err(|e| d.io_error(e))?;
            match answer[0] {
                b'S' => Ok(()),
                other => Err(Failure::tls(format!(
                    "server refused SSLRequest (answered {:?})",
                    char::from(other)
                ))),
            }
        }
    }
}
