//! Client side of the STARTTLS dialogues: talk plain until the server agrees to TLS.

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;

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

fn line(s: &mut SslSocket<TcpStream>) -> Result<String, Failure> {
    let mut l = String::new();
    let n = s.read_line(&mut l).map_err(Failure::network)?;
    if n == 0 {
        return Err(Failure::tls(
            "server closed the connection before agreeing to STARTTLS",
        ));
    }
    Ok(l)
}

/// Reads a (possibly multi-line) SMTP/FTP reply and returns its final line.
fn reply(s: &mut SslSocket<TcpStream>) -> Result<String, Failure> {
    loop {
        let l = line(s)?;
        // "250-more" continues, "250 last" ends.
        if l.len() < 4 || l.as_bytes()[3] != b'-' {
            return Ok(l);
        }
    }
}

fn expect(got: &str, prefix: &str, step: &str) -> Result<(), Failure> {
    if got.starts_with(prefix) {
        Ok(())
    } else {
        Err(Failure::tls(format!(
            "STARTTLS refused at {step}: server said \"{}\"",
            got.trim_end()
        )))
    }
}

fn send(s: &mut SslSocket<TcpStream>, text: &str) -> Result<(), Failure> {
    s.write_all(text.as_bytes()).map_err(Failure::network)?;
    s.flush().map_err(Failure::network)?;
    Ok(())
}

/// Reads until `needle` appears (XMPP has no line structure).
fn read_until(s: &mut SslSocket<TcpStream>, needle: &str) -> Result<String, Failure> {
    let mut seen = String::new();
    let mut buf = [0u8; 1];
    while !seen.contains(needle) {
        if s.read(&mut buf).map_err(Failure::network)? == 0 {
            return Err(Failure::tls(format!(
                "server closed the connection while waiting for {needle}"
            )));
        }
        seen.push(char::from(buf[0]));
        if seen.len() > 65_536 {
            return Err(Failure::tls(format!(
                "no {needle} in the first 64 KiB from the server"
            )));
        }
    }
    Ok(seen)
}

/// Runs the plain part of the protocol on a plain socket; afterwards the caller starts TLS.
pub(crate) fn negotiate(
    s: &mut SslSocket<TcpStream>,
    proto: Protocol,
    host: &str,
) -> Result<(), Failure> {
    match proto {
        Protocol::Smtp => {
            expect(&reply(s)?, "220", "greeting")?;
            send(s, "EHLO sslsock.invalid\r\n")?;
            expect(&reply(s)?, "250", "EHLO")?;
            send(s, "STARTTLS\r\n")?;
            expect(&reply(s)?, "220", "STARTTLS")
        }
        Protocol::Ftp => {
            expect(&reply(s)?, "220", "greeting")?;
            send(s, "AUTH TLS\r\n")?;
            expect(&reply(s)?, "234", "AUTH TLS")
        }
        Protocol::Pop3 => {
            expect(&line(s)?, "+OK", "greeting")?;
            send(s, "STLS\r\n")?;
            expect(&line(s)?, "+OK", "STLS")
        }
        Protocol::Imap => {
            expect(&line(s)?, "* OK", "greeting")?;
            send(s, "a1 STARTTLS\r\n")?;
            loop {
                let l = line(s)?;
                if l.starts_with("a1 ") {
                    return expect(&l, "a1 OK", "STARTTLS");
                }
            }
        }
        Protocol::Xmpp => {
            send(
                s,
                &format!(
                    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='{host}' version='1.0'>"
                ),
            )?;
            read_until(s, "</stream:features>")?;
            send(s, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")?;
            let answer = read_until(s, ">")?;
            expect(answer.trim_start(), "<proceed", "starttls")
        }
        Protocol::Postgres => {
            // SSLRequest: length 8, code 80877103.
            let mut req = Vec::with_capacity(8);
            req.extend_from_slice(&8u32.to_be_bytes());
            req.extend_from_slice(&80_877_103u32.to_be_bytes());
            s.write_all(&req).map_err(Failure::network)?;
            let mut answer = [0u8; 1];
            s.read_exact(&mut answer).map_err(Failure::network)?;
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
