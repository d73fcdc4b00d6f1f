//! Connects with full verification, sends a line, prints what comes back.
//!
//! Run: `cargo run -p sslsock --example simple_client -- HOST:PORT [CA_FILE]`

use std::io::{Read, Write};

use sslsock::{Options, SslSocket};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args
        .next()
        .ok_or("usage: simple_client HOST:PORT [CA_FILE]")?;
    let mut options = Options::new();
    if let Some(ca) = args.next() {
        options = options.ca_file(ca);
    }
    let mut sock = SslSocket::connect_with(&addr, &options)?;
    println!(
        "{} {} peer {}",
        sock.version().unwrap_or("?"),
        sock.cipher().unwrap_or("?"),
        sock.peer_certificate(sslsock::CertField::Subject)
            .unwrap_or_default()
    );
    sock.write_all(b"hello from sslsock\n")?;
    let mut buf = [0u8; 4096];
    let n = sock.read(&mut buf)?;
    println!("{}", String::from_utf8_lossy(&buf[..n]));
    sock.close()?;
    Ok(())
}
