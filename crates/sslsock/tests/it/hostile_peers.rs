//! Hostile peers over loopback: a ClientHello in 1-byte segments, a huge record length,
//! resets mid-handshake and mid-data, a peer that never reads, half-close, an alert storm.
//! Each ends with a precise error, and the descriptors come back.

use std::io::{BufRead, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use sslsock::{Error, SslListener, SslSocket};

use crate::util::*;

/// The socket inodes this process holds (its descriptors that are sockets).
fn own_socket_inodes() -> std::collections::BTreeSet<u64> {
    std::fs::read_dir("/proc/self/fd")
        .into_iter()
        .flatten()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|target| {
            let t = target.to_string_lossy().into_owned();
            t.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
        })
        .collect()
}

/// The inodes of the TCP sockets with `port` at either end (from /proc/net/tcp and tcp6).
fn tcp_inodes_on_port(port: u16) -> Vec<u64> {
    let hex = format!(":{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .flat_map(|table| {
            table
                .lines()
                .skip(1)
                .filter_map(|line| {
                    let cols: Vec<&str> = line.split_whitespace().collect();
                    let on_port = cols.get(1)?.ends_with(&hex) || cols.get(2)?.ends_with(&hex);
                    on_port.then(|| cols.get(9)?.parse().ok())?
                })
                .collect::<Vec<u64>>()
        })
        .collect()
}

/// No descriptor of this process is still a TCP socket to or from `port` (the test's
/// server): every connection of the test was closed, on both sides. Other tests of this
/// binary open and close descriptors in parallel, so only this port's sockets are looked
/// at; closing may take a moment, so this waits up to 3 s; a leak never closes.
fn assert_no_socket_left_on(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let ours = own_socket_inodes();
        let left: Vec<u64> = tcp_inodes_on_port(port)
            .into_iter()
            .filter(|i| *i != 0 && ours.contains(i))
            .collect();
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "descriptors left open: sockets {left:?} on port {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The leak check sees a socket still open on the port (both ends are this process's), and
/// passes once both are closed.
#[test]
fn the_leak_check_sees_an_open_socket() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (server, _) = listener.accept().unwrap();
    drop(listener);
    let caught = std::panic::catch_unwind(|| assert_no_socket_left_on(port));
    let message = caught.unwrap_err();
    let text = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(text.contains("descriptors left open"), "{text}");
    drop((client, server));
    assert_no_socket_left_on(port);
}

/// Closes `tcp` with a reset (SO_LINGER 0) instead of a FIN.
fn reset(tcp: TcpStream) {
    let sock = socket2::SockRef::from(&tcp);
    sock.set_linger(Some(Duration::ZERO)).unwrap();
    drop(tcp);
}

/// A server accepting `n` connections within 5 s each, returning each accept's outcome.
fn accept_n(
    n: usize,
) -> (
    std::net::SocketAddr,
    std::thread::JoinHandle<Vec<Result<SslSocket, Error>>>,
) {
    let listener = SslListener::bind(
        "127.0.0.1:0",
        &server_opts().timeout(Duration::from_secs(5)),
    )
    .unwrap();
    let addr = listener.local_addr().unwrap();
    let h = std::thread::spawn(move || (0..n).map(|_| listener.accept().map(|(s, _)| s)).collect());
    (addr, h)
}

#[test]
fn a_client_hello_in_one_byte_segments_is_served() {
    let (addr, h) = serve(server_opts(), 1, echo_once);
    // A proxy that hands the server the client's bytes one at a time.
    let proxy = TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy_addr = proxy.local_addr().unwrap();
    let p = std::thread::spawn(move || {
        let (client, _) = proxy.accept().unwrap();
        let server = TcpStream::connect(addr).unwrap();
        server.set_nodelay(true).unwrap();
        let (mut c_read, mut s_write) = (client.try_clone().unwrap(), server.try_clone().unwrap());
        let up = std::thread::spawn(move || {
            let mut b = [0u8; 1];
            while let Ok(1) = c_read.read(&mut b) {
                if s_write.write_all(&b).is_err() {
                    break;
                }
            }
            let _ = s_write.shutdown(std::net::Shutdown::Write);
        });
        let (mut s_read, mut c_write) = (server, client);
        let _ = std::io::copy(&mut s_read, &mut c_write);
        let _ = c_write.shutdown(std::net::Shutdown::Write);
        up.join().unwrap();
    });
    let mut s = SslSocket::connect_with(
        &proxy_addr.to_string(),
        &client_opts().hostname("localhost"),
    )
    .unwrap();
    s.write_all(b"trickled\n").unwrap();
    let mut line = String::new();
    BufRead::read_line(&mut s, &mut line).unwrap();
    assert_eq!(line, "trickled\n");
    let _ = s.close();
    h.join().unwrap().remove(0).unwrap();
    p.join().unwrap();
}

#[test]
fn huge_record_length_resets_and_alert_storm_end_precisely() {
    let (addr, h) = accept_n(4);
    // A record announcing 65535 bytes: more than TLS allows.
    let mut t = TcpStream::connect(addr).unwrap();
    let _ = t.write_all(&[0x16, 0x03, 0x01, 0xff, 0xff]);
    let _ = t.write_all(&[0u8; 1024]);
    let mut sink = Vec::new();
    let _ = t.read_to_end(&mut sink);
    drop(t);
    // A reset in the middle of a ClientHello.
    let mut t = TcpStream::connect(addr).unwrap();
    let _ = t.write_all(&[0x16, 0x03, 0x01, 0x01, 0x00, 0x01, 0x00]);
    std::thread::sleep(Duration::from_millis(100));
    reset(t);
    // Warning alerts, over and over, instead of a ClientHello.
    let mut t = TcpStream::connect(addr).unwrap();
    let storm: Vec<u8> = [0x15u8, 0x03, 0x03, 0x00, 0x02, 0x01, 0x5a].repeat(200);
    let _ = t.write_all(&storm);
    let _ = t.read_to_end(&mut sink);
    drop(t);
    // A fatal alert.
    let mut t = TcpStream::connect(addr).unwrap();
    let _ = t.write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);
    let _ = t.read_to_end(&mut sink);
    drop(t);

    let outcomes: Vec<String> = h
        .join()
        .unwrap()
        .into_iter()
        .map(|r| r.expect_err("a hostile client was accepted").to_string())
        .collect();
    assert!(
        outcomes[0].ends_with("record of 65535 bytes exceeds the TLS maximum"),
        "huge record: {}",
        outcomes[0]
    );
    assert!(
        outcomes[1].contains("Connection reset by peer"),
        "reset mid-handshake: {}",
        outcomes[1]
    );
    assert!(
        outcomes[2].ends_with("the peer broke the protocol (too many warning alerts received)"),
        "alert storm: {}",
        outcomes[2]
    );
    assert!(
        outcomes[3].contains("handshake_failure"),
        "fatal alert: {}",
        outcomes[3]
    );
    for o in &outcomes {
        assert!(
            !o.split(|c: char| !c.is_alphanumeric()).any(|w| w.len() > 3
                && w.chars().next().is_some_and(char::is_uppercase)
                && w.chars().skip(1).any(char::is_uppercase)
                && w.chars().any(char::is_lowercase)),
            "an internal name in: {o}"
        );
    }
    assert_no_socket_left_on(addr.port());
}

#[test]
fn a_reset_mid_data_is_a_precise_read_error() {
    let (addr, h) = serve(server_opts(), 1, |mut s| {
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).map_err(|e| e.to_string())?;
        assert_eq!(&buf[..n], b"hello");
        match s.read(&mut buf) {
            Err(e) => Err(e.to_string()),
            Ok(n) => Err(format!("read {n} bytes after a reset")),
        }
    });
    let mut s =
        SslSocket::connect_with(&addr.to_string(), &client_opts().hostname("localhost")).unwrap();
    s.write_all(b"hello").unwrap();
    std::thread::sleep(Duration::from_millis(200));
    reset(s.close_no_shutdown());
    let e = h.join().unwrap().remove(0).unwrap_err();
    assert!(e.contains("Connection reset by peer"), "{e}");
    assert_no_socket_left_on(addr.port());
}

#[test]
fn a_peer_that_never_reads_meets_the_write_timeout() {
    let (addr, h) = serve(server_opts(), 1, |mut s| {
        s.set_write_timeout(Some(Duration::from_secs(1)))
            .map_err(|e| e.to_string())?;
        let chunk = vec![b'x'; 1 << 20];
        let start = Instant::now();
        loop {
            if let Err(e) = s.write_all(&chunk) {
                return Err(format!("{e} after {:?}", start.elapsed()));
            }
            if start.elapsed() > Duration::from_secs(30) {
                return Ok(());
            }
        }
    });
    // Handshake, then never read.
    let s =
        SslSocket::connect_with(&addr.to_string(), &client_opts().hostname("localhost")).unwrap();
    let e = h.join().unwrap().remove(0).unwrap_err();
    assert!(e.contains("timed out"), "{e}");
    drop(s);
}

#[test]
fn a_half_closed_peer_still_gets_the_answer() {
    let (addr, h) = serve(server_opts(), 1, |mut s| {
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).map_err(|e| e.to_string())?;
        if &buf[..n] != b"0123456789" {
            return Err(format!("read {:?}", &buf[..n]));
        }
        // The client's FIN without close_notify: a truncation, reported as one.
        let eof = match s.read(&mut buf) {
            Err(e) => e.to_string(),
            Ok(n) => return Err(format!("read {n} bytes after the FIN")),
        };
        s.write_all(b"after half-close\n")
            .map_err(|e| e.to_string())?;
        let _ = s.close();
        Err(eof)
    });
    let mut s =
        SslSocket::connect_with(&addr.to_string(), &client_opts().hostname("localhost")).unwrap();
    s.write_all(b"0123456789").unwrap();
    s.get_ref().shutdown(std::net::Shutdown::Write).unwrap();
    let mut line = String::new();
    BufRead::read_line(&mut s, &mut line).unwrap();
    assert_eq!(line, "after half-close\n");
    let eof = h.join().unwrap().remove(0).unwrap_err();
    assert!(eof.contains("close_notify"), "{eof}");
}

#[test]
fn garbage_instead_of_a_client_hello_names_what_came() {
    let (addr, h) = accept_n(1);
    let mut t = TcpStream::connect(addr).unwrap();
    let _ = t.write_all(b"SSH-2.0-OpenSSH_9.6\r\n");
    let mut sink = Vec::new();
    let _ = t.read_to_end(&mut sink);
    let e = h.join().unwrap().remove(0).err().unwrap();
    assert!(matches!(e, Error::NotTls { .. }), "{e:?}");
    assert!(e.to_string().contains("SSH-2.0-OpenSSH"), "{e}");
}

/// A TLS 1.2 ClientHello for localhost (secp256r1, ECDHE-ECDSA suites) with the given
/// ec_point_formats extension body.
fn tls12_hello_with_point_formats(formats: &[u8]) -> Vec<u8> {
    fn ext(kind: u16, data: &[u8]) -> Vec<u8> {
        let mut e = kind.to_be_bytes().to_vec();
        e.extend((data.len() as u16).to_be_bytes());
        e.extend(data);
        e
    }
    let mut exts = Vec::new();
    exts.extend(ext(0, b"\x00\x0c\x00\x00\x09localhost"));
    exts.extend(ext(10, &[0, 2, 0, 23]));
    let mut pf = vec![formats.len() as u8];
    pf.extend(formats);
    exts.extend(ext(11, &pf));
    exts.extend(ext(13, &[0, 4, 4, 3, 8, 4]));
    let mut body = vec![3, 3];
    body.extend([7u8; 32]);
    body.push(0);
    body.extend([0, 4, 0xc0, 0x2b, 0xc0, 0x2c]);
    body.extend([1, 0]);
    body.extend((exts.len() as u16).to_be_bytes());
    body.extend(exts);
    let mut hs = vec![1];
    hs.extend(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend(body);
    let mut rec = vec![0x16, 3, 1];
    rec.extend((hs.len() as u16).to_be_bytes());
    rec.extend(hs);
    rec
}

#[test]
fn a_tls12_hello_without_uncompressed_points_gets_illegal_parameter() {
    let (addr, h) = accept_n(2);
    for (formats, refused) in [(&[1u8][..], true), (&[1u8, 0][..], false)] {
        let mut tcp = TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        tcp.write_all(&tls12_hello_with_point_formats(formats))
            .unwrap();
        let mut head = [0u8; 7];
        tcp.read_exact(&mut head).unwrap();
        if refused {
            // RFC 8422, section 5.1.2: an alert record, fatal illegal_parameter (47).
            assert_eq!(head, [0x15, 3, 3, 0, 2, 2, 47], "{formats:?}");
        } else {
            assert_eq!(head[0], 0x16, "a ServerHello: {head:?}");
        }
    }
    let outcomes = h.join().unwrap();
    assert!(outcomes[0].is_err());
}
