//! The manual's SNI server: a certificate per name (`SSL_cert_file => { name => file }`),
//! chosen by the name the client sends.
//!
//! Run: `cargo run -p sslsock --example sni_server -- 127.0.0.1:8443 default.pem default.key NAME=CERT:KEY...`

use std::io::Write;

use sslsock::{Error, Options, SslListener};

/// Server options: the default certificate and one per name.
pub fn options(default: (&str, &str), per_name: &[(&str, &str, &str)]) -> Options {
    per_name.iter().fold(
        Options::new()
            .server(true)
            .cert_file(default.0)
            .key_file(default.1),
        |o, (name, cert, key)| o.sni_cert(name, *cert, Some((*key).into())),
    )
}

/// Tells `count` clients which name they asked for and which certificate they got.
pub fn serve(listener: &SslListener, count: usize) -> Result<(), Error> {
    for _ in 0..count {
        let (mut client, _) = listener.accept()?;
        let asked = client.servername().unwrap_or("(none)").to_owned();
        let got = client
            .sock_certificate_info()
            .map_or_else(String::new, |c| c.subject_line);
        writeln!(client, "{asked} {got}").map_err(Error::Io)?;
        let _ = client.close();
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, cert, key, rest @ ..] = &args[..] else {
        return Err("usage: sni_server ADDR CERT KEY [NAME=CERT:KEY...]".into());
    };
    let per_name: Vec<(&str, &str, &str)> = rest
        .iter()
        .filter_map(|a| {
            let (name, files) = a.split_once('=')?;
            let (c, k) = files.split_once(':')?;
            Some((name, c, k))
        })
        .collect();
    let listener = SslListener::bind(addr, &options((cert, key), &per_name))?;
    println!("listening on {}", listener.local_addr()?);
    serve(&listener, usize::MAX)?;
    Ok(())
}
