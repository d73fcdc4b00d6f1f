//! A TLS echo server that accepts plain TCP in one thread and does each handshake in a
//! worker, so a slow client never holds the accept loop (the manual's advice).
//!
//! Run: `cargo run -p sslsock --example worker_server -- 127.0.0.1:8443`
//! Try: `openssl s_client -connect 127.0.0.1:8443` (the certificate is self-signed).

use std::io::{Read, Write};
use std::time::Duration;

use sslsock::x509::create::CertSpec;
use sslsock::{FingerprintAlgorithm, Options, SslListener, SslSocket};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8443".to_owned());
    let cert = CertSpec::new("localhost")
        .san("localhost")
        .san("127.0.0.1")
        .self_signed()?;
    let fp = sslsock::verify::fingerprint::fingerprint(
        &cert.cert_der,
        FingerprintAlgorithm::Sha256,
        false,
    )?;
    let options = Options::new().cert_pem(cert.cert_pem).key_pem(cert.key_pem);
    let listener = SslListener::bind(&addr, &options)?;
    println!(
        "echo server on {} with certificate {fp}",
        listener.local_addr()?
    );
    loop {
        let (tcp, peer) = listener.accept_tcp()?;
        let ctx = listener.context();
        std::thread::spawn(move || {
            // A handshake that takes longer than this is cut off.
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
            let mut tls = match SslSocket::start_ssl(tcp, &ctx) {
                Ok(s) => s,
                Err(e) => return eprintln!("{peer}: {e}"),
            };
            let _ = tls.get_ref().set_read_timeout(None);
            println!(
                "{peer}: {} {}",
                tls.version().unwrap_or("?"),
                tls.cipher().unwrap_or("?")
            );
            let mut buf = [0u8; 16_384];
            while let Ok(n) = tls.read(&mut buf) {
                if n == 0 || tls.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            let _ = tls.close();
        });
    }
}
