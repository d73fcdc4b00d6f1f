//! A listener's context replaced while it runs: new connections get the new certificate,
//! connections already open keep theirs.

use std::io::{BufRead, BufReader, Write};
use std::sync::Arc;

use sslsock::{CertField, SslContext, SslListener, SslSocket};

use crate::util::*;

fn talk(sock: &mut BufReader<SslSocket>, line: &str) -> String {
    sock.get_mut().write_all(line.as_bytes()).unwrap();
    let mut back = String::new();
    sock.read_line(&mut back).unwrap();
    back
}

#[test]
fn a_listener_swaps_its_context_for_new_connections_only() {
    let listener = Arc::new(SslListener::bind("127.0.0.1:0", &server_opts_with("srv-ec")).unwrap());
    let addr = listener.local_addr().unwrap();
    let acceptor = listener.clone();
    let server = std::thread::spawn(move || {
        let mut workers = Vec::new();
        for _ in 0..2 {
            let (mut s, _) = acceptor.accept().unwrap();
            workers.push(std::thread::spawn(move || {
                let mut line = String::new();
                let mut r = BufReader::new(&mut s);
                while r.read_line(&mut line).unwrap_or(0) > 0 {
                    r.get_mut().write_all(line.as_bytes()).unwrap();
                    line.clear();
                }
            }));
        }
        for w in workers {
            w.join().unwrap();
        }
    });
    let ctx = SslContext::new(&client_opts()).unwrap();
    let connect = || BufReader::new(SslSocket::connect_with(&addr.to_string(), &ctx).unwrap());
    let key_of = |s: &BufReader<SslSocket>| s.get_ref().peer_certificate(CertField::Subject);
    let mut before = connect();
    assert_eq!(talk(&mut before, "one\n"), "one\n");
    let first_cert = before.get_ref().peer_certificate_der().unwrap();

    // A client context is refused, and the current context stays.
    let e = listener
        .set_context(&SslContext::new(&client_opts()).unwrap())
        .unwrap_err();
    assert!(e.to_string().contains("server context"), "{e}");
    listener.set_context(&server_opts_with("srv-rsa")).unwrap();

    let mut after = connect();
    let second_cert = after.get_ref().peer_certificate_der().unwrap();
    assert_ne!(
        first_cert, second_cert,
        "the new connection has the new certificate"
    );
    assert_eq!(talk(&mut after, "two\n"), "two\n");
    // The connection from before keeps its certificate and goes on.
    assert_eq!(talk(&mut before, "three\n"), "three\n");
    assert_eq!(before.get_ref().peer_certificate_der().unwrap(), first_cert);
    assert_eq!(key_of(&before), key_of(&after), "both for localhost");
    drop(before);
    drop(after);
    server.join().unwrap();
}
