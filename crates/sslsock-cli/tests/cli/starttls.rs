//! STARTTLS dialogues: SMTP, XMPP, bounds on the plain phase.

use super::common::*;

#[test]
fn connect_starttls_smtp_against_a_plain_then_tls_peer() {
    // A tiny SMTP-ish server made of our library: plain dialogue, then TLS.
    let listener = sslsock::SslListener::bind(
        "127.0.0.1:0",
        &sslsock::Options::new()
            .cert_file(f("srv-ec.pem"))
            .key_file(f("srv-ec.key"))
            .start_handshake(false),
    )
    .unwrap();
    let addr = listener.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut line = String::new();
        s.write_all(b"220-first\r\n220 smtp ready\r\n").unwrap();
        s.read_line(&mut line).unwrap();
        assert!(line.starts_with("EHLO "), "{line}");
        s.write_all(b"250-hello\r\n250 STARTTLS\r\n").unwrap();
        line.clear();
        s.read_line(&mut line).unwrap();
        assert_eq!(line, "STARTTLS\r\n");
        s.write_all(b"220 go ahead\r\n").unwrap();
        s.accept_ssl().unwrap();
        line.clear();
        s.read_line(&mut line).unwrap();
        s.write_all(format!("250 got {line}").as_bytes()).unwrap();
        s.close().unwrap();
    });
    let o = sslsock(&[
        "connect",
        &addr.to_string(),
        "--starttls",
        "smtp",
        "--ca-file",
        &f("ca.pem"),
        "--sni",
        "localhost",
        "--send",
        r"NOOP\r\n",
    ]);
    h.join().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.contains("250 got NOOP"), "{out}");
}

#[test]
fn starttls_timeout_is_the_handshake_timeout() {
    // An SMTP server that agrees to STARTTLS and then says nothing until the client leaves.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(tcp.try_clone().unwrap());
        let mut tcp = tcp;
        let mut line = String::new();
        tcp.write_all(b"220 stall.example ESMTP\r\n").unwrap();
        reader.read_line(&mut line).unwrap();
        tcp.write_all(b"250 stall.example\r\n").unwrap();
        line.clear();
        reader.read_line(&mut line).unwrap();
        assert_eq!(line, "STARTTLS\r\n");
        tcp.write_all(b"220 go ahead\r\n").unwrap();
        // Read the ClientHello and whatever follows, answering nothing, until the client closes.
        let _ = Read::read_to_end(&mut reader, &mut Vec::new());
    });
    let o = sslsock(&[
        "connect",
        &format!("127.0.0.1:{port}"),
        "--starttls",
        "smtp",
        "--timeout",
        "1",
        "--ca-file",
        &f("ca.pem"),
    ]);
    one_line_error(
        &o,
        3,
        "timed out while waiting for the peer during the TLS handshake",
    );
    server.join().unwrap();
}

#[test]
fn starttls_plain_phase_is_bounded() {
    let smtp = |port: u16, timeout: &str| {
        let start = Instant::now();
        let o = sslsock(&[
            "connect",
            &format!("127.0.0.1:{port}"),
            "--starttls",
            "smtp",
            "--timeout",
            timeout,
            "--ca-file",
            &f("ca.pem"),
        ]);
        (o, start.elapsed())
    };
    // One endless line: refused once it passes the line limit, memory stays small.
    let port = plain_talker(|t| {
        let chunk = vec![b'2'; 65_536];
        while t.write_all(&chunk).is_ok() {}
    });
    let (o, _) = smtp(port, "10");
    one_line_error(
        &o,
        1,
        "the server's greeting is a line longer than 8192 bytes (STARTTLS)",
    );

    // Endless continuation lines: cut by the line count.
    let port = plain_talker(|t| while t.write_all(b"220-still going\r\n").is_ok() {});
    let (o, took) = smtp(port, "3");
    one_line_error(
        &o,
        1,
        "the server's greeting runs over 1000 lines (STARTTLS)",
    );
    assert!(took < Duration::from_secs(3), "{took:?}");

    // Continuation lines trickled slowly: the deadline covers the whole dialogue.
    let port = plain_talker(|t| loop {
        if t.write_all(b"220-slowly\r\n").is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    });
    let (o, took) = smtp(port, "1");
    one_line_error(
        &o,
        3,
        "timed out after 1.0 s waiting for the server's greeting (STARTTLS)",
    );
    assert!(took < Duration::from_secs(3), "{took:?}");

    // No greeting at all.
    let port = plain_talker(|_| {});
    let (o, _) = smtp(port, "1");
    one_line_error(
        &o,
        3,
        "timed out after 1.0 s waiting for the server's greeting (STARTTLS)",
    );

    // A greeting that is not text: a protocol error, control bytes escaped.
    let port = plain_talker(|t| {
        let _ = t.write_all(b"220 \xff\xfe\x1b[2J\r\n");
    });
    let (o, _) = smtp(port, "5");
    one_line_error(&o, 1, "the server's greeting is not text");
    assert!(!stderr(&o).contains('\x1b'), "{}", stderr(&o));
}

/// `-o Timeout` bounds the plain STARTTLS dialogue as `--timeout` does.
#[test]
fn perl_timeout_bounds_the_starttls_dialogue() {
    let port = plain_talker(|_| {});
    let o = sslsock(&[
        "connect",
        &format!("127.0.0.1:{port}"),
        "--starttls",
        "smtp",
        "-o",
        "Timeout=1",
        "--ca-file",
        &f("ca.pem"),
    ]);
    one_line_error(
        &o,
        3,
        "timed out after 1.0 s waiting for the server's greeting (STARTTLS)",
    );
}

/// A plain-text peer for one connection: answers what `reply` says to what it read, and
/// returns everything it read.
fn fake_starttls(
    reply: impl Fn(&str) -> Option<&'static str> + Send + 'static,
) -> (u16, std::thread::JoinHandle<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut seen = String::new();
        if let Some(greeting) = reply("") {
            s.write_all(greeting.as_bytes()).unwrap();
        }
        let mut buf = [0u8; 4096];
        loop {
            let n = match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
            match reply(&seen) {
                Some("") => break,
                Some(answer) => s.write_all(answer.as_bytes()).unwrap(),
                None => {}
            }
        }
        seen
    });
    (port, h)
}

/// --starttls-host is the XMPP domain asked for and SMTP's EHLO name; an XMPP stream error
/// is reported with its condition.
#[test]
fn starttls_host_and_xmpp_stream_errors() {
    // XMPP: the server does not serve the domain asked for.
    let (port, h) = fake_starttls(|seen| {
        seen.contains("<stream:stream").then_some(
            "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'><stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>",
        )
    });
    let o = sslsock(&[
        "connect",
        &format!("127.0.0.1:{port}"),
        "--starttls",
        "xmpp",
        "--starttls-host",
        "chat.example",
        "--timeout",
        "5",
    ]);
    one_line_error(
        &o,
        1,
        "the XMPP server ended the stream with the error <host-unknown/>",
    );
    assert!(h.join().unwrap().contains("to='chat.example'"));
    // SMTP: the EHLO name.
    let (port, h) = fake_starttls(|seen| {
        if seen.is_empty() {
            Some("220 fake ESMTP\r\n")
        } else if seen.contains("EHLO") && !seen.contains("STARTTLS") {
            Some("250 fake\r\n")
        } else if seen.contains("STARTTLS") {
            Some("")
        } else {
            None
        }
    });
    let o = sslsock(&[
        "connect",
        &format!("127.0.0.1:{port}"),
        "--starttls",
        "smtp",
        "--starttls-host",
        "client.example",
        "--timeout",
        "5",
    ]);
    assert!(!o.status.success());
    assert!(h.join().unwrap().starts_with("EHLO client.example\r\n"));
    // --starttls-host needs --starttls.
    assert_eq!(
        sslsock(&["connect", "127.0.0.1:1", "--starttls-host", "x"])
            .status
            .code(),
        Some(2)
    );
}
