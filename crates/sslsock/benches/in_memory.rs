//! In-process benchmarks, no sockets: both ends of a connection in one thread over an
//! in-memory pipe, so regressions in handshake cost, record throughput and the host name
//! check show without the noise of the loopback.
//!
//! Run: `cargo bench -p sslsock --bench in_memory` (add `-- quick` for a short run).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::hint::black_box;
use std::io::{self, Read, Write};
use std::rc::Rc;
use std::time::{Duration, Instant};

use aws_lc_rs::aead;
use sslsock::verify::hostname::{verify_hostname, Scheme};
use sslsock::x509::create::CertSpec;
use sslsock::{Error, Options, SslContext, SslSocket};

type Bytes = Rc<RefCell<VecDeque<u8>>>;

/// One end of an in-memory byte pipe: reads what the other end wrote, `WouldBlock` when
/// nothing is there, so both TLS ends can run in one thread.
struct End {
    inbox: Bytes,
    outbox: Bytes,
}

fn pipe() -> (End, End) {
    let (a, b): (Bytes, Bytes) = Default::default();
    (
        End {
            inbox: a.clone(),
            outbox: b.clone(),
        },
        End {
            inbox: b,
            outbox: a,
        },
    )
}

impl sslsock::socket::Transport for End {}

impl Read for End {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut inbox = self.inbox.borrow_mut();
        if inbox.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        inbox.read(buf)
    }
}

impl Write for End {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.outbox.borrow_mut().extend(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn would_block(e: &Error) -> bool {
    matches!(e, Error::Io(io) if io.kind() == io::ErrorKind::WouldBlock)
}

/// Runs both handshakes to the end, alternating between the ends.
fn handshake(client: &SslContext, server: &SslContext) -> (SslSocket<End>, SslSocket<End>) {
    let (a, b) = pipe();
    let mut c = SslSocket::new_plain(a, client).unwrap();
    let mut s = SslSocket::new_plain(b, server).unwrap();
    let (mut c_done, mut s_done) = (false, false);
    for _ in 0..100 {
        if !c_done {
            match c.connect_ssl() {
                Ok(()) => c_done = true,
                Err(e) if would_block(&e) => {}
                Err(e) => panic!("client handshake: {e}"),
            }
        }
        if !s_done {
            match s.accept_ssl() {
                Ok(()) => s_done = true,
                Err(e) if would_block(&e) => {}
                Err(e) => panic!("server handshake: {e}"),
            }
        }
        if c_done && s_done {
            return (c, s);
        }
    }
    panic!("handshake did not finish in 100 rounds");
}

/// Runs `f` for about `budget` (at least 3 times) and returns the mean time per call.
fn time_per_call(budget: Duration, mut f: impl FnMut()) -> Duration {
    f(); // warm up
    let started = Instant::now();
    let mut n = 0u32;
    while n < 3 || started.elapsed() < budget {
        f();
        n += 1;
    }
    started.elapsed() / n
}

/// Seconds per 16 KiB record written by a client and read by the server, and the suite.
fn record_cost(budget: Duration, client: &SslContext, server: &SslContext) -> (f64, String) {
    let (mut c, mut s) = handshake(client, server);
    let chunk = vec![0x5au8; 16 * 1024];
    let mut sink = vec![0u8; 16 * 1024];
    let rounds = 64;
    let t = time_per_call(budget, || {
        for _ in 0..rounds {
            c.write_all(&chunk).expect("write");
            let mut got = 0;
            while got < chunk.len() {
                got += s.read(&mut sink[got..]).expect("read");
            }
        }
    });
    let suite = c.cipher().unwrap_or("?").to_owned();
    (t.as_secs_f64() / f64::from(rounds), suite)
}

/// Seconds to seal and open 16 KiB in place with `alg`: what a record costs at the least.
fn aead_cost(budget: Duration, alg: &'static aead::Algorithm) -> f64 {
    let key =
        aead::LessSafeKey::new(aead::UnboundKey::new(alg, &vec![7u8; alg.key_len()]).expect("key"));
    let mut data = vec![0x5au8; 16 * 1024];
    let rounds = 64u32;
    let t = time_per_call(budget, || {
        for i in 0..rounds {
            let mut nonce = [0u8; aead::NONCE_LEN];
            nonce[..4].copy_from_slice(&i.to_be_bytes());
            let tag = key
                .seal_in_place_separate_tag(
                    aead::Nonce::assume_unique_for_key(nonce),
                    aead::Aad::empty(),
                    &mut data,
                )
                .expect("seal");
            data.extend_from_slice(tag.as_ref());
            let n = key
                .open_in_place(
                    aead::Nonce::assume_unique_for_key(nonce),
                    aead::Aad::empty(),
                    &mut data,
                )
                .expect("open")
                .len();
            data.truncate(n);
        }
    });
    t.as_secs_f64() / f64::from(rounds)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let quick = std::env::args().any(|a| a == "quick");
    let budget = Duration::from_millis(if quick { 200 } else { 2000 });
    let cert = CertSpec::new("localhost")
        .san("localhost")
        .san("www.example.org")
        .self_signed()?;
    let server_opts = Options::new()
        .server(true)
        .cert_pem(cert.cert_pem.clone())
        .key_pem(cert.key_pem.clone());
    let client_opts = Options::new()
        .ca_cert(cert.cert_pem.clone())
        .hostname("localhost");

    for version in ["TLSv1_3", "TLSv1_2"] {
        let server = SslContext::new(&server_opts.clone().version(version))?;
        // Full handshakes: a context without a session cache.
        let full = SslContext::new(&client_opts.clone().version(version).session_cache_size(0))?;
        let t = time_per_call(budget, || {
            black_box(handshake(&full, &server));
        });
        println!(
            "handshake full     {version} ECDSA P-256  {:>9.1} us per handshake (both ends)",
            t.as_secs_f64() * 1e6
        );
        let resuming = SslContext::new(&client_opts.clone().version(version))?;
        let (mut calls, mut resumed) = (0u32, 0u32);
        let t = time_per_call(budget, || {
            let (mut c, _s) = handshake(&resuming, &server);
            // TLS 1.3 tickets follow the handshake: let the client take them in.
            let mut b = [0u8; 1];
            let _ = c.read(&mut b);
            calls += 1;
            resumed += u32::from(c.session_reused());
        });
        println!(
            "handshake resumed  {version}               {:>9.1} us per handshake (both ends; {resumed} of {calls} resumed)",
            t.as_secs_f64() * 1e6
        );

        // Records: 16 KiB writes, encrypted by one end and decrypted by the other, for each
        // AEAD, beside the floor: the same AEAD sealing and opening 16 KiB in place.
        for (suite, cipher_list, aead) in [
            (
                "TLS_AES_128_GCM_SHA256",
                "ECDHE-ECDSA-AES128-GCM-SHA256",
                &aead::AES_128_GCM,
            ),
            (
                "TLS_AES_256_GCM_SHA384",
                "ECDHE-ECDSA-AES256-GCM-SHA384",
                &aead::AES_256_GCM,
            ),
            (
                "TLS_CHACHA20_POLY1305_SHA256",
                "ECDHE-ECDSA-CHACHA20-POLY1305",
                &aead::CHACHA20_POLY1305,
            ),
        ] {
            let only = SslContext::new(
                &client_opts
                    .clone()
                    .version(version)
                    .session_cache_size(0)
                    .ciphersuites(suite)
                    .cipher_list(cipher_list),
            )?;
            let (per_record, negotiated) = record_cost(budget, &only, &server);
            let floor = aead_cost(budget, aead);
            println!(
                "record 16 KiB      {version} {:<29} {:>6.2} us encrypt+decrypt, AEAD floor {:>6.2} us ({:.2}x)",
                negotiated,
                per_record * 1e6,
                floor * 1e6,
                per_record / floor
            );
        }
    }

    let scheme = Scheme::named("http").ok_or("no http scheme")?;
    let t = time_per_call(budget, || {
        for host in ["www.example.org", "localhost", "other.example.org"] {
            let _ = black_box(verify_hostname(&cert.cert_der, host, &scheme));
        }
    });
    println!(
        "hostname check     http scheme               {:>9.2} us per check",
        t.as_secs_f64() * 1e6 / 3.0
    );
    Ok(())
}
