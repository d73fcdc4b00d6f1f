//! The manual's basic server: a listening socket that greets every client over TLS.
//!
//! Run: `cargo run -p sslsock --example basic_server -- 127.0.0.1:8443 cert.pem key.pem`

use std::io::{BufRead, Write};

use sslsock::{Error, Options, SslListener};

/// Answers `count` clients (or every client) with "hello" and the line they sent.
pub fn serve(listener: &SslListener, count: Option<usize>) -> Result<(), Error> {
    let mut served = 0;
    while count.is_none_or(|c| served < c) {
        let (mut client, peer) = match listener.accept() {
            Ok(c) => c,
            Err(e) => {
                eprintln!("handshake failed: {e}");
                continue;
            }
        };
        served += 1;
        let mut line = String::new();
        client.read_line(&mut line).map_err(Error::Io)?;
        write!(client, "hello {peer}, you said {line}").map_err(Error::Io)?;
        let _ = client.close();
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, cert, key] = &args[..] else {
        return Err("usage: basic_server ADDR CERT KEY".into());
    };
    let opts = Options::new().server(true).cert_file(cert).key_file(key);
    let listener = SslListener::bind(addr, &opts)?;
    println!("listening on {}", listener.local_addr()?);
    serve(&listener, None)?;
    Ok(())
}
