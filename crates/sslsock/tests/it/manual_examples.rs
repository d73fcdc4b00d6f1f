//! The manual's example programs (`examples/`), driven against real servers and clients.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

use sslsock::{SslListener, SslSocket};

use crate::util::*;

#[path = "../../examples/basic_client.rs"]
#[allow(dead_code)]
mod basic_client;
#[path = "../../examples/basic_server.rs"]
#[allow(dead_code)]
mod basic_server;
#[path = "../../examples/sni_server.rs"]
#[allow(dead_code)]
mod sni_server;
#[path = "../../examples/starttls_client.rs"]
#[allow(dead_code)]
mod starttls_client;

#[test]
fn basic_client_fetches_over_verified_tls() {
    let (addr, h) = serve(server_opts(), 1, |mut s| {
        // The whole request head, then the answer.
        let mut line = String::new();
        s.read_line(&mut line).map_err(|e| e.to_string())?;
        let mut rest = String::new();
        while rest != "\r\n" {
            rest.clear();
            if s.read_line(&mut rest).map_err(|e| e.to_string())? == 0 {
                break;
            }
        }
        s.write_all(format!("HTTP/1.0 200 OK\r\n\r\nyou asked {line}").as_bytes())
            .map_err(|e| e.to_string())?;
        s.close().map_err(|e| e.to_string())
    });
    let answer =
        basic_client::fetch(&format!("localhost:{}", addr.port()), &client_opts()).unwrap();
    assert_eq!(
        answer,
        "HTTP/1.0 200 OK\r\n\r\nyou asked GET / HTTP/1.0\r\n"
    );
    h.join().unwrap().remove(0).unwrap();
}

#[test]
fn basic_server_greets_a_client() {
    let listener = SslListener::bind("127.0.0.1:0", &server_opts()).unwrap();
    let addr = listener.local_addr().unwrap();
    let h = std::thread::spawn(move || basic_server::serve(&listener, Some(1)));
    let mut c =
        SslSocket::connect_with(&addr.to_string(), &client_opts().hostname("localhost")).unwrap();
    c.write_all(b"ping\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    assert!(
        line.starts_with("hello 127.0.0.1:") && line.ends_with(", you said ping\n"),
        "{line}"
    );
    h.join().unwrap().unwrap();
}

#[test]
fn starttls_client_upgrades_an_smtp_dialogue() {
    let plain = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = plain.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let (tcp, _) = plain.accept().unwrap();
        let mut r = BufReader::new(tcp.try_clone().unwrap());
        let mut w = tcp.try_clone().unwrap();
        let mut line = String::new();
        w.write_all(b"220 mail.example ESMTP\r\n").unwrap();
        r.read_line(&mut line).unwrap();
        assert!(line.starts_with("EHLO "), "{line}");
        w.write_all(b"250-mail.example\r\n250 STARTTLS\r\n")
            .unwrap();
        line.clear();
        r.read_line(&mut line).unwrap();
        assert_eq!(line, "STARTTLS\r\n");
        w.write_all(b"220 go ahead\r\n").unwrap();
        let mut tls = SslSocket::start_ssl(tcp, &server_opts().server(true))
            .map_err(|e| e.error)
            .unwrap();
        let mut buf = [0u8; 16];
        let n = tls.read(&mut buf).unwrap();
        tls.write_all(&buf[..n]).unwrap();
        let _ = tls.close();
    });
    let mut tls =
        starttls_client::starttls(&addr.to_string(), "localhost", &client_opts()).unwrap();
    assert_eq!(tls.version(), Some("TLSv1_3"));
    tls.write_all(b"QUIT\r\n").unwrap();
    let mut back = String::new();
    tls.read_line(&mut back).unwrap();
    assert_eq!(back, "QUIT\r\n");
    h.join().unwrap();
}

#[test]
fn sni_server_presents_the_certificate_of_the_name() {
    let p = pki();
    let (default_cert, default_key) = (p.file("srv-ec.pem"), p.file("srv-ec.key"));
    let (other_cert, other_key) = (p.file("wrongname.pem"), p.file("wrongname.key"));
    let opts = sni_server::options(
        (&default_cert, &default_key),
        &[("other.example", &other_cert, &other_key)],
    );
    let listener = SslListener::bind("127.0.0.1:0", &opts).unwrap();
    let addr = listener.local_addr().unwrap();
    let h = std::thread::spawn(move || sni_server::serve(&listener, 2));
    let mut seen = Vec::new();
    for name in ["localhost", "other.example"] {
        let opts = client_opts()
            .hostname(name)
            .verifycn_scheme(sslsock::Scheme::named("none").unwrap());
        let mut c = SslSocket::connect_with(&addr.to_string(), &opts).unwrap();
        let mut line = String::new();
        c.read_line(&mut line).unwrap();
        seen.push(line);
    }
    h.join().unwrap().unwrap();
    assert_eq!(seen[0], "localhost /CN=localhost\n");
    assert!(seen[1].starts_with("other.example /CN="), "{seen:?}");
    assert_ne!(seen[1], "other.example /CN=localhost\n", "{seen:?}");
}
