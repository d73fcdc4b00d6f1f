//! The manual's basic client: connect with verification and SNI, send a request, print the
//! answer.
//!
//! Run: `cargo run -p sslsock --example basic_client -- www.example.com:443 [CA_FILE]`

use std::io::{Read, Write};

use sslsock::{Error, Options, SslSocket};

/// Sends an HTTP/1.0 request for `/` to `addr` and returns the answer.
pub fn fetch(addr: &str, opts: &Options) -> Result<String, Error> {
    let mut client = SslSocket::connect_with(addr, opts)?;
    let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
    // One write, one record: the request goes out whole.
    let request = format!("GET / HTTP/1.0\r\nHost: {host}\r\n\r\n");
    client.write_all(request.as_bytes()).map_err(Error::Io)?;
    let mut answer = Vec::new();
    match client.read_to_end(&mut answer) {
        Ok(_) => {}
        // A server that closes without close_notify: keep what came.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {}
        Err(e) => return Err(Error::Io(e)),
    }
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args
        .next()
        .unwrap_or_else(|| "www.example.com:443".to_owned());
    let opts = match args.next() {
        Some(ca) => Options::new().ca_file(ca),
        None => Options::new(),
    };
    print!("{}", fetch(&addr, &opts)?);
    Ok(())
}
