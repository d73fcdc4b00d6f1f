//! The manual's STARTTLS: talk SMTP in plain, ask for TLS, then upgrade the same connection
//! with `start_ssl` (`IO::Socket::SSL->start_SSL`).
//!
//! Run: `cargo run -p sslsock --example starttls_client -- mail.example.com:25 mail.example.com`

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

use sslsock::{Error, Options, SslSocket};

/// Reads an SMTP reply (continuation lines too) and checks its code.
fn expect(r: &mut BufReader<TcpStream>, code: &str) -> Result<(), Error> {
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).map_err(Error::Io)? == 0 {
            return Err(Error::State("the server closed the connection"));
        }
        if !line.starts_with(code) {
            return Err(Error::State("the server refused STARTTLS"));
        }
        if line.as_bytes().get(3) != Some(&b'-') {
            return Ok(());
        }
    }
}

/// Connects to an SMTP server at `addr`, negotiates STARTTLS and returns the TLS socket,
/// verified for `name`.
pub fn starttls(addr: &str, name: &str, opts: &Options) -> Result<SslSocket, Error> {
    let tcp = TcpStream::connect(addr).map_err(Error::Io)?;
    // A reader that takes whole lines; the server says nothing more before TLS.
    let mut r = BufReader::new(tcp.try_clone().map_err(Error::Io)?);
    let mut w = tcp;
    expect(&mut r, "220")?;
    w.write_all(b"EHLO client.example\r\n").map_err(Error::Io)?;
    expect(&mut r, "250")?;
    w.write_all(b"STARTTLS\r\n").map_err(Error::Io)?;
    expect(&mut r, "220")?;
    SslSocket::start_ssl(w, &opts.clone().hostname(name)).map_err(|e| e.error)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args
        .next()
        .ok_or("usage: starttls_client HOST:PORT NAME [CA_FILE]")?;
    let name = args
        .next()
        .ok_or("usage: starttls_client HOST:PORT NAME [CA_FILE]")?;
    let opts = match args.next() {
        Some(ca) => Options::new().ca_file(ca),
        None => Options::new(),
    };
    let tls = starttls(&addr, &name, &opts)?;
    println!(
        "{} {}",
        tls.version().unwrap_or("?"),
        tls.cipher().unwrap_or("?")
    );
    Ok(())
}
