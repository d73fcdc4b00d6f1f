//! Non-blocking sockets: WouldBlock and want(), exact pending(), tickets, deadlines.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sslsock::{Error, SslContext, SslListener, SslSocket, Want};

use crate::util::*;

/// A connected loopback pair, both non-blocking, wrapped without TLS yet.
fn nonblocking_pair() -> (SslSocket, SslSocket) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (s, _) = l.accept().unwrap();
    for t in [&c, &s] {
        t.set_nonblocking(true).unwrap();
        t.set_nodelay(true).unwrap();
    }
    let cctx = SslContext::new(&client_opts()).unwrap();
    let sctx = SslContext::new(&server_opts().server(true)).unwrap();
    (
        SslSocket::new_plain(c, &cctx).unwrap(),
        SslSocket::new_plain(s, &sctx).unwrap(),
    )
}

fn would_block<T: std::fmt::Debug>(r: Result<T, Error>) -> bool {
    match r {
        Err(Error::Io(e)) => e.kind() == std::io::ErrorKind::WouldBlock,
        Ok(_) => false,
        Err(e) => panic!("unexpected error {e}"),
    }
}

fn io_would_block<T: std::fmt::Debug>(r: &std::io::Result<T>) -> bool {
    matches!(r, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

#[test]
fn both_ends_nonblocking_in_one_thread_handshake_bulk_and_close() {
    let (mut client, mut server) = nonblocking_pair();
    // The server speaks second: before the ClientHello it can only wait to read.
    assert!(would_block(server.accept_ssl()));
    assert_eq!(server.want(), Want::Read);
    // The client sends its hello, then waits for the answer.
    assert!(would_block(client.connect_ssl()));
    assert_eq!(client.want(), Want::Read);
    let (mut c_done, mut s_done) = (false, false);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !(c_done && s_done) {
        assert!(Instant::now() < deadline, "handshake does not progress");
        if !s_done {
            s_done = !would_block(server.accept_ssl());
            if !s_done {
                assert_eq!(server.want(), Want::Read);
            }
        }
        if !c_done {
            c_done = !would_block(client.connect_ssl());
            if !c_done {
                assert_eq!(client.want(), Want::Read);
            }
        }
    }
    assert!(client.is_tls() && server.is_tls());

    // 64 MiB from client to server, both sides stepping each other.
    const TOTAL: usize = 64 << 20;
    let chunk: Vec<u8> = (0..65_536u32).map(|i| (i * 31 % 253) as u8).collect();
    let (mut sent, mut received) = (0usize, 0usize);
    let (mut sum_sent, mut sum_received) = (0u64, 0u64);
    let mut saw_write_block = false;
    let mut buf = vec![0u8; 65_536];
    while received < TOTAL {
        while sent < TOTAL {
            let want = (TOTAL - sent).min(chunk.len());
            let r = client.write(&chunk[..want]);
            if io_would_block(&r) {
                assert_eq!(client.want(), Want::Write);
                saw_write_block = true;
                break;
            }
            let n = r.unwrap();
            sum_sent += chunk[..n].iter().map(|&b| u64::from(b)).sum::<u64>();
            sent += n;
        }
        let _ = client.flush();
        loop {
            let r = server.read(&mut buf);
            if io_would_block(&r) {
                assert_eq!(server.want(), Want::Read);
                break;
            }
            let n = r.unwrap();
            assert!(n > 0 && n <= 16_384);
            sum_received += buf[..n].iter().map(|&b| u64::from(b)).sum::<u64>();
            received += n;
        }
    }
    assert_eq!((received, sum_received), (TOTAL, sum_sent));
    assert!(
        saw_write_block,
        "64 MiB must fill the socket buffers at some point"
    );

    // Close: the client's close_notify reads as EOF on the server.
    loop {
        match client.shutdown_tls() {
            Ok(()) => break,
            Err(e) => assert!(would_block::<()>(Err(e))),
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match server.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => panic!("{n} unexpected bytes"),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(Instant::now() < deadline)
            }
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn readline_on_a_nonblocking_socket_returns_what_it_has() {
    let go = Arc::new(std::sync::Barrier::new(2));
    let go2 = go.clone();
    let (addr, h) = serve(server_opts(), 1, move |mut s| {
        s.write_all(b"first line\npart")
            .map_err(|e| e.to_string())?;
        go2.wait();
        go2.wait();
        s.write_all(b"ial line\n").map_err(|e| e.to_string())?;
        s.close().map_err(|e| e.to_string())
    });
    let mut sock = nonblocking_client(addr);
    nonblocking_handshake(&mut sock);
    go.wait();
    let mut line = Vec::new();
    let read_line = |sock: &mut SslSocket, line: &mut Vec<u8>| loop {
        match sock.readline(line) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                wait_readable(sock, Duration::from_secs(5));
            }
            other => return other.unwrap(),
        }
    };
    assert_eq!(read_line(&mut sock, &mut line), 11);
    assert_eq!(line, b"first line\n");
    line.clear();
    // Only "part" is there: it comes back at once instead of blocking.
    assert_eq!(read_line(&mut sock, &mut line), 4);
    assert_eq!(line, b"part");
    go.wait();
    line.clear();
    assert_eq!(read_line(&mut sock, &mut line), 9);
    assert_eq!(line, b"ial line\n");
    line.clear();
    assert_eq!(read_line(&mut sock, &mut line), 0, "EOF");
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

#[test]
fn blocking_64_mib_checksum_matches() {
    const TOTAL: usize = 64 << 20;
    let (addr, h) = serve(server_opts(), 1, |mut s| {
        let mut buf = vec![0u8; 65_536];
        let (mut got, mut sum) = (0usize, 0u64);
        while got < TOTAL {
            let n = s.read(&mut buf).map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("early EOF".into());
            }
            sum += buf[..n].iter().map(|&b| u64::from(b)).sum::<u64>();
            got += n;
        }
        s.write_all(format!("{sum}\n").as_bytes())
            .map_err(|e| e.to_string())?;
        s.close().map_err(|e| e.to_string())
    });
    let mut c = SslSocket::connect_with(&addr.to_string(), &client_opts()).unwrap();
    let chunk: Vec<u8> = (0..65_536u32).map(|i| (i * 31 % 253) as u8).collect();
    let mut sum = 0u64;
    for _ in 0..TOTAL / chunk.len() {
        c.write_all(&chunk).unwrap();
        sum += chunk.iter().map(|&b| u64::from(b)).sum::<u64>();
    }
    let mut line = Vec::new();
    c.readline(&mut line).unwrap();
    assert_eq!(String::from_utf8(line).unwrap(), format!("{sum}\n"));
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

#[test]
fn slow_loris_is_cut_off_while_others_are_served() {
    const TIMEOUT: Duration = Duration::from_millis(1500);
    const GAP: Duration = Duration::from_millis(50);
    let listener = SslListener::bind("127.0.0.1:0", &server_opts().timeout(TIMEOUT)).unwrap();
    let addr = listener.local_addr().unwrap();
    let ctx = listener.context();
    // Set when the slow client's handshake ends (the first connection accepted).
    let loris_done = Arc::new(AtomicBool::new(false));
    let done = loris_done.clone();
    let (accepted, loris_accepted) = std::sync::mpsc::channel();
    let h = std::thread::spawn(move || {
        let mut workers = Vec::new();
        for i in 0..2 {
            let (tcp, _) = listener.accept_tcp().unwrap();
            if i == 0 {
                accepted.send(()).unwrap();
            }
            let ctx = ctx.clone();
            let done = done.clone();
            workers.push(std::thread::spawn(move || {
                let r = SslSocket::accept_with(tcp, &ctx);
                if i == 0 {
                    done.store(true, Ordering::SeqCst);
                }
                let r = r.and_then(|mut s| {
                    let mut line = [0u8; 6];
                    s.read_exact(&mut line)?;
                    s.write_all(&line)?;
                    s.close()
                });
                r.map_err(|e| e.to_string())
            }));
        }
        workers
            .into_iter()
            .map(|w| w.join().unwrap())
            .collect::<Vec<_>>()
    });
    // The slow client: a valid-looking ClientHello header, then one byte at a time, far more
    // often than the timeout, until the server has given up on it and the socket fails.
    let mut loris = TcpStream::connect(addr).unwrap();
    loris.write_all(&[22, 3, 1, 1, 0]).unwrap();
    let trickle = std::thread::spawn(move || {
        let mut last = Instant::now();
        let mut widest = Duration::ZERO;
        // Fewer than the 256 bytes of ClientHello body announced: the record never completes.
        for _ in 0..255 {
            if loris.write_all(&[0]).is_err() {
                return (true, widest);
            }
            widest = widest.max(last.elapsed());
            last = Instant::now();
            std::thread::sleep(GAP);
        }
        (false, widest)
    });
    // A normal client, once the slow one holds the server, is served at once.
    loris_accepted.recv().unwrap();
    let mut c = SslSocket::connect_with(&addr.to_string(), &client_opts()).unwrap();
    c.write_all(b"hello\n").unwrap();
    let mut echo = [0u8; 6];
    c.read_exact(&mut echo).unwrap();
    assert_eq!(&echo, b"hello\n");
    assert!(
        !loris_done.load(Ordering::SeqCst),
        "served while the slow client's handshake is still open"
    );
    let results = h.join().unwrap();
    let err = results[0].as_ref().unwrap_err();
    assert!(
        err.contains("timed out while waiting for the peer during the TLS handshake"),
        "{err}"
    );
    assert!(results[1].is_ok(), "{:?}", results[1]);
    // The trickle stopped because the server cut it off, though no gap between its bytes came
    // near the timeout: a timeout renewed by every byte would never have fired.
    let (cut_off, widest) = trickle.join().unwrap();
    assert!(
        cut_off,
        "the server never closed the slow client's connection"
    );
    assert!(
        widest < TIMEOUT,
        "a gap of {widest:?} between bytes: this run cannot tell a renewed timeout from a deadline"
    );
}

#[test]
fn blocking_read_timeout_reads_as_timed_out() {
    let (timed_out, client_timed_out) = std::sync::mpsc::channel::<()>();
    let client_timed_out = std::sync::Mutex::new(client_timed_out);
    let (addr, h) = serve(server_opts(), 1, move |mut s| {
        // Nothing is sent until the client has seen its read time out.
        client_timed_out.lock().unwrap().recv().unwrap();
        s.write_all(b"late\n").map_err(|e| e.to_string())?;
        s.close().map_err(|e| e.to_string())
    });
    let mut c = SslSocket::connect_with(&addr.to_string(), &client_opts()).unwrap();
    c.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let err = c.read(&mut [0u8; 8]).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    timed_out.send(()).unwrap();
    // Nothing was lost: the data still arrives.
    c.set_read_timeout(None).unwrap();
    let mut line = [0u8; 5];
    c.read_exact(&mut line).unwrap();
    assert_eq!(&line, b"late\n");
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

/// A non-blocking client socket connected to `addr`, TLS not started.
fn nonblocking_client(addr: std::net::SocketAddr) -> SslSocket {
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_nonblocking(true).unwrap();
    SslSocket::new_plain(tcp, &SslContext::new(&client_opts()).unwrap()).unwrap()
}

/// Level-triggered poll(2) on the socket's fd, as a select/poll loop does. True when ready.
fn wait_readable(sock: &SslSocket, timeout: Duration) -> bool {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    let mut fds = [PollFd::new(sock.get_ref(), PollFlags::IN)];
    let t = Timespec {
        tv_sec: timeout.as_secs() as i64,
        tv_nsec: i64::from(timeout.subsec_nanos()),
    };
    poll(&mut fds, Some(&t)).unwrap() > 0
}

/// The manual's poll loop: wait for the fd only when `pending()` says nothing is buffered,
/// one read per round. Reads until close_notify or until `until` bytes arrived.
fn poll_read(sock: &mut SslSocket, until: Option<usize>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while until.is_none_or(|u| out.len() < u) {
        if sock.pending() == 0 {
            assert!(
                wait_readable(sock, Duration::from_secs(5)),
                "stalled: nothing pending and the fd not readable"
            );
        }
        match sock.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("{e}"),
        }
    }
    out
}

fn poll_read_all(sock: &mut SslSocket) -> Vec<u8> {
    poll_read(sock, None)
}

fn nonblocking_handshake(sock: &mut SslSocket) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match sock.connect_ssl() {
            Ok(()) => return,
            Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {
                assert_eq!(sock.want(), Want::Read);
                assert!(Instant::now() < deadline);
                wait_readable(sock, Duration::from_secs(10));
            }
            Err(e) => panic!("{e}"),
        }
    }
}

/// A stream that holds writes while corked and sends them in one go when uncorked.
struct Corked {
    inner: TcpStream,
    held: Vec<u8>,
    corked: bool,
}

impl sslsock::socket::Transport for Corked {}

impl Read for Corked {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf)
    }
}

impl Write for Corked {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.corked {
            self.held.extend_from_slice(buf);
            return Ok(buf.len());
        }
        self.inner.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.write_all(&std::mem::take(&mut self.held))?;
        self.inner.flush()
    }
}

#[test]
fn poll_loop_reads_many_small_records_without_stalling() {
    const N: usize = 2000;
    let expected: String = (0..N).map(|i| format!("record {i}\n")).collect();
    let total = expected.len();
    let (addr, h) = serve_tcp(1, move |tcp| {
        let corked = Corked {
            inner: tcp,
            held: Vec::new(),
            corked: false,
        };
        let mut s = SslSocket::start_ssl(corked, &server_opts().server(true)).unwrap();
        // Many small records in one flight, then silence: they land in the client's buffer
        // together while its fd has nothing more to say.
        s.get_mut().corked = true;
        for i in 0..N {
            s.write_all(format!("record {i}\n").as_bytes()).unwrap();
        }
        s.get_mut().corked = false;
        s.flush().unwrap();
        let mut ack = [0u8; 1];
        s.read_exact(&mut ack).unwrap();
        s.close().unwrap();
    });
    let mut sock = nonblocking_client(addr);
    nonblocking_handshake(&mut sock);
    let text = String::from_utf8(poll_read(&mut sock, Some(total))).unwrap();
    assert_eq!(text, expected);
    sock.write_all(b"!").unwrap();
    sock.flush().unwrap();
    assert!(poll_read_all(&mut sock).is_empty());
    h.join().unwrap();
}

#[test]
fn tickets_alone_give_would_block_not_an_error() {
    let go = Arc::new(std::sync::Barrier::new(2));
    let go2 = go.clone();
    let (addr, h) = serve(server_opts().version("TLSv1_3"), 1, move |mut s| {
        // The server sent its session tickets right after the handshake; now it waits.
        go2.wait();
        s.write_all(b"data\n").map_err(|e| e.to_string())?;
        s.close().map_err(|e| e.to_string())
    });
    let mut sock = nonblocking_client(addr);
    nonblocking_handshake(&mut sock);
    // The fd turns readable because of the tickets only.
    assert!(
        wait_readable(&sock, Duration::from_secs(10)),
        "tickets make the fd readable"
    );
    let mut buf = [0u8; 64];
    let r = sock.read(&mut buf);
    assert!(
        matches!(&r, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "{r:?}"
    );
    assert_eq!(sock.want(), Want::Read);
    assert_eq!(sock.pending(), 0);
    go.wait();
    assert_eq!(poll_read_all(&mut sock), b"data\n");
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

#[cfg(feature = "mio")]
mod with_mio {
    use std::io::{Read, Write};
    use std::sync::{Arc, Barrier};

    use sslsock::{SslContext, SslSocket};

    use crate::util::*;

    use crate::mio_echo;

    #[test]
    fn mio_connect_in_progress_then_handshake_and_echo() {
        use mio::{Events, Interest, Poll, Token};
        let listener = mio::net::TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let sctx = SslContext::new(&server_opts().server(true)).unwrap();
        let server = std::thread::spawn(move || mio_echo::serve(listener, &sctx, Some(1)).unwrap());
        // A non-blocking connect returns at once; the handshake starts while it is in progress.
        let tcp = mio::net::TcpStream::connect(addr).unwrap();
        let mut tls = SslSocket::new_plain(tcp, &SslContext::new(&client_opts()).unwrap()).unwrap();
        let mut poll = Poll::new().unwrap();
        poll.registry()
            .register(&mut tls, Token(0), Interest::READABLE | Interest::WRITABLE)
            .unwrap();
        let mut events = Events::with_capacity(8);
        let mut sent = false;
        let mut got = Vec::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while got.len() < 5 {
            assert!(std::time::Instant::now() < deadline, "no progress");
            poll.poll(&mut events, Some(std::time::Duration::from_millis(200)))
                .unwrap();
            if !tls.is_tls() {
                match tls.connect_ssl() {
                    Ok(()) => {}
                    Err(sslsock::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        continue
                    }
                    Err(e) => panic!("{e}"),
                }
            }
            if !sent {
                tls.write_all(b"ping\n").unwrap();
                sent = true;
            }
            let _ = tls.flush();
            let mut buf = [0u8; 64];
            loop {
                match tls.read(&mut buf) {
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("{e}"),
                }
            }
        }
        assert_eq!(got, b"ping\n");
        let _ = tls.shutdown_tls();
        drop(tls);
        server.join().unwrap();
    }

    /// A handshake driven by mio until it ends (bounded: `no progress` after 20 s).
    fn mio_handshake(
        addr: std::net::SocketAddr,
        ctx: &SslContext,
        name: &str,
    ) -> Result<SslSocket<mio::net::TcpStream>, sslsock::Error> {
        use mio::{Events, Interest, Poll, Token};
        let tcp = mio::net::TcpStream::connect(addr).unwrap();
        let mut tls = SslSocket::new_client(tcp, ctx, name)?;
        let mut poll = Poll::new().unwrap();
        poll.registry()
            .register(&mut tls, Token(0), Interest::READABLE | Interest::WRITABLE)
            .unwrap();
        let mut events = Events::with_capacity(8);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            assert!(std::time::Instant::now() < deadline, "no progress");
            poll.poll(&mut events, Some(std::time::Duration::from_millis(200)))
                .unwrap();
            match tls.connect_ssl() {
                Ok(()) => return Ok(tls),
                Err(e) if e.is_would_block() => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// mio gives the outcome the blocking socket gives: the name sent in SNI, and the same
    /// words for a name that does not match.
    #[test]
    fn mio_and_blocking_agree() {
        let listener = sslsock::SslListener::bind("127.0.0.1:0", &server_opts()).unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            (0..3)
                .map(|_| match listener.accept() {
                    Ok((s, _)) => Ok(s.servername().map(str::to_owned)),
                    Err(e) => Err(e.to_string()),
                })
                .collect::<Vec<_>>()
        });
        let ctx = SslContext::new(&sslsock::Options::new().ca_file(&pki().ca)).unwrap();
        drop(mio_handshake(addr, &ctx, "localhost").unwrap());
        let mio_err = mio_handshake(addr, &ctx, "other.example")
            .unwrap_err()
            .to_string();
        let tcp = std::net::TcpStream::connect(addr).unwrap();
        let mut blocking = SslSocket::new_client(tcp, &ctx, "other.example").unwrap();
        let blocking_err = blocking.connect_ssl().unwrap_err().to_string();
        assert_eq!(mio_err, blocking_err);
        assert!(
            mio_err.contains("\"other.example\" does not match"),
            "{mio_err}"
        );
        let seen = server.join().unwrap();
        assert_eq!(seen[0].as_ref().unwrap().as_deref(), Some("localhost"));
    }

    #[test]
    fn mio_server_serves_1000_concurrent_clients() {
        const CLIENTS: usize = 1000;
        let listener = mio::net::TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let ctx = SslContext::new(&server_opts().server(true)).unwrap();
        let server =
            std::thread::spawn(move || mio_echo::serve(listener, &ctx, Some(CLIENTS)).unwrap());
        let ctx = SslContext::new(&client_opts()).unwrap();
        let barrier = Arc::new(Barrier::new(CLIENTS));
        let clients: Vec<_> = (0..CLIENTS)
            .map(|i| {
                let (ctx, barrier) = (ctx.clone(), barrier.clone());
                std::thread::Builder::new()
                    .stack_size(256 * 1024)
                    .spawn(move || {
                        let mut c = SslSocket::connect_with(&addr.to_string(), &ctx).unwrap();
                        // Every client holds its connection until all are connected.
                        barrier.wait();
                        let msg = format!("client {i}\n");
                        c.write_all(msg.as_bytes()).unwrap();
                        let mut back = vec![0u8; msg.len()];
                        c.read_exact(&mut back).unwrap();
                        assert_eq!(back, msg.as_bytes());
                        c.close().unwrap();
                    })
                    .unwrap()
            })
            .collect();
        for c in clients {
            c.join().unwrap();
        }
        let most = server.join().unwrap();
        println!("mio server: {CLIENTS} clients served, {most} connections open at once");
        assert_eq!(most, CLIENTS);
    }
}
