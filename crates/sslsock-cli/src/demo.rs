//! `sslsock demo`: an offline tour on loopback that reports each step's outcome.

use std::io::{BufRead, Write};
use std::net::TcpStream;
use std::time::Instant;

use sslsock::x509::create::{CertSpec, Issued};
use sslsock::{CertInfo, FingerprintAlgorithm, Options, SslListener, SslSocket};

use crate::out::outln;
use crate::Failure;

struct Report {
    passed: usize,
    total: usize,
}

impl Report {
    fn step(&mut self, title: &str, outcome: Result<String, String>) -> Result<(), Failure> {
        self.total += 1;
        let n = self.total;
        match outcome {
            Ok(detail) => {
                self.passed += 1;
                outln!("[{n}] {title:<58} ok");
                for line in detail.lines() {
                    outln!("      {line}");
                }
            }
            Err(why) => {
                outln!("[{n}] {title:<58} FAILED");
                outln!("      {why}");
            }
        }
        Ok(())
    }
}

fn line(s: &mut impl BufRead) -> Result<String, String> {
    let mut l = String::new();
    s.read_line(&mut l).map_err(|e| e.to_string())?;
    Ok(l)
}

fn send(s: &mut impl Write, text: &str) -> Result<(), String> {
    s.write_all(text.as_bytes())
        .and_then(|_| s.flush())
        .map_err(|e| e.to_string())
}

pub(crate) fn run() -> Result<(), Failure> {
    outln!("sslsock demo: everything runs on loopback (127.0.0.1), nothing leaves this machine");
    outln!();
    let mut report = Report {
        passed: 0,
        total: 0,
    };

    let started = Instant::now();
    let pki = (|| -> Result<(Issued, Issued), sslsock::ConfigError> {
        let ca = CertSpec::new("sslsock demo CA")
            .subject("O", "sslsock demo")
            .ca()
            .self_signed()?;
        let leaf = CertSpec::new("localhost")
            .san("localhost")
            .san("127.0.0.1")
            .signed_by(&ca)?;
        Ok((ca, leaf))
    })();
    let (ca, leaf) = match pki {
        Ok(p) => p,
        Err(e) => {
            report.step("create a CA and a server certificate", Err(e.to_string()))?;
            return Err(Failure::tls("demo stopped: no certificates"));
        }
    };
    let leaf_info = CertInfo::from_der(&leaf.cert_der, FingerprintAlgorithm::Sha256)?;
    let fp = sslsock::verify::fingerprint::fingerprint(
        &leaf.cert_der,
        FingerprintAlgorithm::Sha256,
        false,
    )?;
    report.step(
        "create a CA and a server certificate",
        Ok(format!(
            "CA {} signed {} for {}\nserver certificate {fp}",
            CertInfo::from_der(&ca.cert_der, FingerprintAlgorithm::Sha256)?.subject_line,
            leaf_info.subject_line,
            leaf_info
                .subject_alt_names
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        )),
    )?;

    let server_opts = Options::new()
        .cert_pem(leaf.cert_pem.clone())
        .key_pem(leaf.key_pem.clone())
        .alpn_protocols(["demo/1"]);
    let tls_listener = SslListener::bind("127.0.0.1:0", &server_opts)?;
    let tls_addr = tls_listener.local_addr()?;
    let plain_listener =
        SslListener::bind("127.0.0.1:0", &server_opts.clone().start_handshake(false))?;
    let plain_addr = plain_listener.local_addr()?;
    // TLS server: echoes one line per connection in upper case; failed handshakes are reported.
    std::thread::spawn(move || loop {
        // Refused handshakes are the point of two steps; the client side reports them.
        if let Ok((mut s, _)) = tls_listener.accept() {
            if let Ok(l) = line(&mut s) {
                let _ = send(&mut s, &l.to_uppercase());
            }
            let _ = s.close();
        }
    });
    // STARTTLS server: plain greeting, upgrade, echo, downgrade, plain goodbye.
    std::thread::spawn(move || {
        while let Ok((mut s, _)) = plain_listener.accept() {
            let _ = starttls_server(&mut s);
        }
    });
    report.step(
        "start a TLS server and a STARTTLS server",
        Ok(format!("TLS on {tls_addr}, plain-then-TLS on {plain_addr}")),
    )?;

    let client = Options::new()
        .ca_cert(ca.cert_pem.clone())
        .hostname("localhost")
        .alpn_protocols(["demo/1"]);
    report.step("connect with full verification and exchange data", (|| {
        let mut c = SslSocket::connect_with(&tls_addr.to_string(), &client).map_err(|e| e.to_string())?;
        send(&mut c, "hello over tls\n")?;
        let reply = line(&mut c)?;
        if reply != "HELLO OVER TLS\n" {
            return Err(format!("unexpected reply {reply:?}"));
        }
        Ok(format!(
            "{} {} group {} alpn {}\nverified: chain to the demo CA, name \"localhost\" (scheme default)\nsent \"hello over tls\", got {:?}",
            c.version().unwrap_or("?"),
            c.cipher().unwrap_or("?"),
            c.group().unwrap_or_default(),
            c.alpn_selected().unwrap_or_default(),
            reply.trim_end()
        ))
    })())?;

    report.step(
        "STARTTLS: upgrade, exchange, downgrade, go on in plain",
        (|| {
            let tcp = TcpStream::connect(plain_addr).map_err(|e| e.to_string())?;
            let mut c = SslSocket::new_plain(tcp, &client.clone().start_handshake(false))
                .map_err(|e| e.to_string())?;
            let mut log = vec![format!("plain  < {}", line(&mut c)?.trim_end())];
            send(&mut c, "STARTTLS\r\n")?;
            log.push("plain  > STARTTLS".into());
            log.push(format!("plain  < {}", line(&mut c)?.trim_end()));
            c.connect_ssl().map_err(|e| e.to_string())?;
            log.push(format!(
                "       TLS up: {} {}",
                c.version().unwrap_or("?"),
                c.cipher().unwrap_or("?")
            ));
            send(&mut c, "secret\r\n")?;
            log.push(format!("tls    < {}", line(&mut c)?.trim_end()));
            c.stop_ssl().map_err(|e| e.to_string())?;
            log.push("       TLS down: close_notify sent and received".into());
            let after = line(&mut c)?;
            if after != "plain again\r\n" {
                return Err(format!(
                    "lost the plain bytes after close_notify: got {after:?}"
                ));
            }
            log.push(format!("plain  < {}", after.trim_end()));
            Ok(log.join("\n"))
        })(),
    )?;

    report.step(
        "refuse a server that does not match the expected name",
        expect_refusal(
            &tls_addr.to_string(),
            &client.clone().verifycn_name("wrong.example"),
        ),
    )?;
    report.step(
        "refuse a server signed by an unknown CA",
        expect_refusal(
            &tls_addr.to_string(),
            &Options::new().no_ca().hostname("localhost"),
        ),
    )?;

    // One line at a time: a line's control characters are shown escaped.
    outln!();
    outln!(
        "{} of {} steps as expected ({} ms)",
        report.passed,
        report.total,
        started.elapsed().as_millis()
    );
    if report.passed == report.total {
        Ok(())
    } else {
        Err(Failure::tls(format!(
            "{} demo step(s) failed",
            report.total - report.passed
        )))
    }
}

fn starttls_server(s: &mut SslSocket) -> Result<(), String> {
    send(s, "220 demo ready, say STARTTLS\r\n")?;
    if line(s)? != "STARTTLS\r\n" {
        return send(s, "500 expected STARTTLS\r\n");
    }
    send(s, "220 go ahead\r\n")?;
    s.accept_ssl().map_err(|e| e.to_string())?;
    let l = line(s)?;
    send(s, &format!("you said {}", l))?;
    s.stop_ssl().map_err(|e| e.to_string())?;
    send(s, "plain again\r\n")
}

fn expect_refusal(addr: &str, opts: &Options) -> Result<String, String> {
    match SslSocket::connect_with(addr, opts) {
        Ok(_) => Err("connected although verification should fail".into()),
        Err(e @ sslsock::Error::Verify(_)) => Ok(format!("refused as expected: {e}")),
        Err(e) => Err(format!("refused for another reason: {e}")),
    }
}
