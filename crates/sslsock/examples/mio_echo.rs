//! A single-threaded TLS echo server on mio: every connection is a non-blocking `SslSocket`
//! driven by readiness events, so one thread serves thousands of clients.
//!
//! Run: `cargo run -p sslsock --features mio --example mio_echo -- 127.0.0.1:8443 [CONNECTIONS]`

use std::collections::HashMap;
use std::io::{self, Read, Write};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use sslsock::{SslContext, SslSocket};

const LISTENER: Token = Token(usize::MAX);

struct Conn {
    tls: SslSocket<TcpStream>,
    /// Received but not yet echoed.
    out: Vec<u8>,
}

/// What happened on a connection.
enum Progress {
    Open,
    Done,
}

fn is_would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

/// Drives one connection as far as it goes without blocking.
fn drive(c: &mut Conn) -> io::Result<Progress> {
    if !c.tls.is_tls() {
        match c.tls.accept_ssl() {
            Ok(()) => {}
            Err(sslsock::Error::Io(e)) if is_would_block(&e) => return Ok(Progress::Open),
            Err(e) => return Err(e.into_io()),
        }
    }
    let mut buf = [0u8; 16_384];
    loop {
        // Echo what is waiting first; a write takes whole records or nothing.
        while !c.out.is_empty() {
            match c.tls.write(&c.out) {
                Ok(n) => {
                    c.out.drain(..n);
                }
                Err(e) if is_would_block(&e) => return Ok(Progress::Open),
                Err(e) => return Err(e),
            }
        }
        match c.tls.flush() {
            Ok(()) => {}
            Err(e) if is_would_block(&e) => return Ok(Progress::Open),
            Err(e) => return Err(e),
        }
        // Read until the socket has nothing decrypted left (pending) and the stream would block.
        match c.tls.read(&mut buf) {
            Ok(0) => {
                let _ = c.tls.shutdown_tls();
                return Ok(Progress::Done);
            }
            Ok(n) => c.out.extend_from_slice(&buf[..n]),
            Err(e) if is_would_block(&e) => return Ok(Progress::Open),
            Err(e) => return Err(e),
        }
    }
}

/// Serves until `max` connections have ended (or forever with `None`); returns how many did.
pub fn serve(mut listener: TcpListener, ctx: &SslContext, max: Option<usize>) -> io::Result<usize> {
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut events = Events::with_capacity(1024);
    let mut conns: HashMap<Token, Conn> = HashMap::new();
    let (mut next, mut ended, mut most_open) = (0usize, 0usize, 0usize);
    while max.is_none_or(|m| ended < m) {
        poll.poll(&mut events, None)?;
        for ev in events.iter() {
            if ev.token() == LISTENER {
                loop {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let token = Token(next);
                            next += 1;
                            let mut tls = SslSocket::new_plain(stream, ctx)
                                .map_err(sslsock::Error::into_io)?;
                            poll.registry().register(
                                &mut tls,
                                token,
                                Interest::READABLE | Interest::WRITABLE,
                            )?;
                            conns.insert(
                                token,
                                Conn {
                                    tls,
                                    out: Vec::new(),
                                },
                            );
                            most_open = most_open.max(conns.len());
                        }
                        Err(e) if is_would_block(&e) => break,
                        Err(e) => return Err(e),
                    }
                }
                continue;
            }
            let token = ev.token();
            let finished = match conns.get_mut(&token) {
                Some(c) => !matches!(drive(c), Ok(Progress::Open)),
                None => false,
            };
            if finished {
                if let Some(mut c) = conns.remove(&token) {
                    let _ = poll.registry().deregister(&mut c.tls);
                }
                ended += 1;
            }
        }
    }
    eprintln!("served {ended} connections, at most {most_open} at once");
    Ok(most_open)
}

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8443".to_owned());
    let max = std::env::args().nth(2).map(|n| n.parse()).transpose()?;
    let cert = sslsock::x509::create::CertSpec::new("localhost")
        .san("localhost")
        .san("127.0.0.1")
        .self_signed()?;
    let ctx = SslContext::new(
        &sslsock::Options::new()
            .server(true)
            .cert_pem(cert.cert_pem)
            .key_pem(cert.key_pem),
    )?;
    let listener = TcpListener::bind(addr.parse()?)?;
    println!("mio echo server on {}", listener.local_addr()?);
    serve(listener, &ctx, max)?;
    Ok(())
}
