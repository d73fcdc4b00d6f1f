//! Record-exact reads, peek, pending, record-sized writes, line reading, lazy handshakes.

use std::io::{BufRead, Read, Write};

use sslsock::SslSocket;

use crate::util::*;

#[test]
fn read_returns_at_most_one_record_and_peek_pending_are_exact() {
    let (addr, h) = serve(server_opts(), 1, |mut s| {
        // Three writes are three records.
        for part in [&b"aaa"[..], b"bbbb", b"cc"] {
            s.write_all(part).unwrap();
        }
        let mut ack = [0u8; 1];
        s.read_exact(&mut ack).unwrap();
        s.close().map_err(|e| e.to_string())
    });
    let mut c = SslSocket::connect_with(&addr.to_string(), &client_opts()).unwrap();
    assert_eq!(c.pending(), 0);
    let mut buf = [0u8; 100];
    let n = c.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"aaa", "one record per read");
    let mut p = [0u8; 100];
    let n = c.peek(&mut p).unwrap();
    assert_eq!(&p[..n], b"bbbb");
    let n = c.peek(&mut p).unwrap();
    assert_eq!(&p[..n], b"bbbb", "peek does not consume");
    let n = c.read(&mut buf[..2]).unwrap();
    assert_eq!(&buf[..n], b"bb");
    assert!(
        c.pending() >= 2,
        "rest of the record is pending: {}",
        c.pending()
    );
    let n = c.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"bb", "rest of the same record, not the next");
    let n = c.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"cc");
    assert_eq!(c.pending(), 0);
    c.write_all(b"!").unwrap();
    assert_eq!(c.read(&mut buf).unwrap(), 0);
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

#[test]
fn a_read_of_16_kib_leaves_nothing_pending() {
    let (addr, h) = serve(server_opts(), 1, |mut s| {
        for fill in [b'a', b'b', b'c'] {
            s.write_all(&[fill; 10_000]).unwrap();
        }
        let mut ack = [0u8; 1];
        s.read_exact(&mut ack).unwrap();
        s.close().map_err(|e| e.to_string())
    });
    let mut c = SslSocket::connect_with(&addr.to_string(), &client_opts()).unwrap();
    let mut buf = vec![0u8; 16_384];
    let mut seen = Vec::new();
    while seen.len() < 30_000 {
        let n = c.read(&mut buf).unwrap();
        assert_eq!(c.pending(), 0, "after a 16 KiB read nothing stays pending");
        assert!(buf[..n].iter().all(|&b| b == buf[0]), "one record per read");
        seen.extend_from_slice(&buf[..n]);
    }
    c.write_all(b"!").unwrap();
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

#[test]
fn write_sends_at_most_one_record_and_write_all_moves_megabytes() {
    const TOTAL: usize = 3 * 1024 * 1024 + 17;
    let (addr, h) = serve(server_opts(), 1, |mut s| {
        let mut got = 0usize;
        let mut sum = 0u64;
        let mut buf = vec![0u8; 65536];
        let mut max_read = 0;
        while got < TOTAL {
            let n = s.read(&mut buf).map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("early EOF".into());
            }
            max_read = max_read.max(n);
            sum += buf[..n].iter().map(|&b| u64::from(b)).sum::<u64>();
            got += n;
        }
        if max_read > 16384 {
            return Err(format!(
                "a read returned {max_read} bytes, more than one record"
            ));
        }
        s.write_all(format!("{got} {sum}\n").as_bytes()).unwrap();
        s.close().map_err(|e| e.to_string())
    });
    let mut c = SslSocket::connect_with(&addr.to_string(), &client_opts()).unwrap();
    let data: Vec<u8> = (0..TOTAL).map(|i| (i * 7 % 251) as u8).collect();
    let expected: u64 = data.iter().map(|&b| u64::from(b)).sum();
    let n = c.write(&data).unwrap();
    assert_eq!(n, 16384, "one write is one record at most");
    c.write_all(&data[n..]).unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    assert_eq!(line, format!("{TOTAL} {expected}\n"));
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

#[test]
fn line_reading_across_records() {
    let (addr, h) = serve(server_opts(), 1, |mut s| {
        s.write_all(b"first li").unwrap();
        s.write_all(b"ne\nsecond\nthi").unwrap();
        s.write_all(b"rd\n").unwrap();
        s.close().map_err(|e| e.to_string())
    });
    let c = SslSocket::connect_with(&addr.to_string(), &client_opts()).unwrap();
    let lines: Vec<String> = c.lines().map(|l| l.unwrap()).collect();
    assert_eq!(lines, ["first line", "second", "third"]);
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

#[test]
fn lazy_handshake_talks_plain_first() {
    let (addr, h) = serve(server_opts().start_handshake(false), 1, |mut s| {
        assert!(!s.is_tls());
        let mut line = String::new();
        s.read_line(&mut line).unwrap();
        if line != "STARTTLS\n" {
            return Err(format!("got {line:?}"));
        }
        s.write_all(b"GO\n").unwrap();
        s.accept_ssl().map_err(|e| e.to_string())?;
        assert!(s.is_tls());
        echo_once(s)
    });
    let mut c =
        SslSocket::connect_with(&addr.to_string(), &client_opts().start_handshake(false)).unwrap();
    assert!(!c.is_tls());
    assert_eq!(c.version(), None);
    c.write_all(b"STARTTLS\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    assert_eq!(line, "GO\n");
    c.connect_ssl().unwrap();
    assert!(c.is_tls());
    assert!(c.version().is_some());
    c.write_all(b"secret\n").unwrap();
    line.clear();
    c.read_line(&mut line).unwrap();
    assert_eq!(line, "secret\n");
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

#[test]
fn unclean_close_is_reported_not_hidden() {
    let (addr, h) = serve(server_opts(), 1, |mut s| {
        s.write_all(b"partial").unwrap();
        // Drop without close_notify.
        drop(s.close_no_shutdown());
        Ok(())
    });
    let mut c = SslSocket::connect_with(&addr.to_string(), &client_opts()).unwrap();
    let mut buf = [0u8; 64];
    let n = c.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"partial");
    let err = c.read(&mut buf).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
    assert!(
        c.errstr().unwrap().contains("close_notify"),
        "{:?}",
        c.errstr()
    );
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

#[test]
fn options_reused_through_a_shared_context() {
    let (addr, h) = serve(server_opts(), 3, echo_once);
    let ctx = sslsock::SslContext::new(&client_opts()).unwrap();
    for i in 0..3 {
        let mut c = SslSocket::connect_with(&addr.to_string(), &ctx).unwrap();
        c.write_all(format!("n{i}\n").as_bytes()).unwrap();
        let mut line = String::new();
        c.read_line(&mut line).unwrap();
        assert_eq!(line, format!("n{i}\n"));
    }
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}
