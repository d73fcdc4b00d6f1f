//! Measures the memory an idle established TLS connection holds: opens N connections on
//! loopback (both ends in this process), lets them settle, and prints the growth of the
//! resident set per connection, with and without `release_buffers`.
//!
//! Run: `cargo run --release -p sslsock --example idle_memory -- [N]`

use std::io::{Read, Write};
use std::time::Duration;

use sslsock::x509::create::CertSpec;
use sslsock::{Options, SslContext, SslListener, SslSocket};

/// Resident set size in KiB, from /proc/self/status.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Opens `n` connections, exchanges one small message on each, keeps them all open and
/// returns the resident set growth per connection (both ends), in bytes.
fn measure(n: usize, release: bool) -> Result<u64, Box<dyn std::error::Error>> {
    let cert = CertSpec::new("localhost")
        .san("localhost")
        .san("127.0.0.1")
        .self_signed()?;
    let server_opts = Options::new()
        .cert_pem(cert.cert_pem.clone())
        .key_pem(cert.key_pem)
        .release_buffers(release);
    let listener = SslListener::bind("127.0.0.1:0", &server_opts)?;
    let addr = listener.local_addr()?.to_string();
    let client = SslContext::new(
        &Options::new()
            .ca_cert(cert.cert_pem)
            .hostname("localhost")
            .release_buffers(release),
    )?;
    let server = std::thread::spawn(move || {
        let mut held = Vec::with_capacity(n);
        for _ in 0..n {
            let (mut s, _) = listener.accept().expect("accept");
            let mut b = [0u8; 5];
            s.read_exact(&mut b).expect("read");
            s.write_all(&b).expect("write");
            held.push(s);
        }
        held
    });
    let before = rss_kib();
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        let mut c = SslSocket::connect_with(&addr, &client)?;
        c.write_all(b"hello")?;
        let mut b = [0u8; 5];
        c.read_exact(&mut b)?;
        clients.push(c);
    }
    let servers = server.join().map_err(|_| "server thread failed")?;
    std::thread::sleep(Duration::from_millis(200));
    let after = rss_kib();
    let per = (after.saturating_sub(before)) * 1024 / n as u64;
    drop(clients);
    drop(servers);
    Ok(per)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1000);
    match std::env::args().nth(2).as_deref() {
        Some(mode) => {
            let release = mode == "release";
            let per = measure(n, release)?;
            println!(
                "{n} idle connections, release_buffers={release}: {per} bytes resident per connection (client and server ends together)"
            );
        }
        // Each mode in a fresh process, so memory freed by one cannot flatter the other.
        None => {
            for mode in ["keep", "release"] {
                let status = std::process::Command::new(std::env::current_exe()?)
                    .args([n.to_string(), mode.to_owned()])
                    .status()?;
                if !status.success() {
                    return Err(format!("measurement {mode} failed").into());
                }
            }
        }
    }
    Ok(())
}
