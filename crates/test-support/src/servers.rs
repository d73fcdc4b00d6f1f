//! Loopback servers run by the tests, and small I/O helpers.

use std::io::{BufRead, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::Duration;

use sslsock::{Options, SslListener, SslSocket};

/// Runs `handler` for each of `n` accepted TLS connections in a thread.
pub fn serve<F>(
    opts: Options,
    n: usize,
    handler: F,
) -> (SocketAddr, JoinHandle<Vec<Result<(), String>>>)
where
    F: Fn(SslSocket) -> Result<(), String> + Send + 'static,
{
    let listener = SslListener::bind("127.0.0.1:0", &opts).unwrap();
    let addr = listener.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        (0..n)
            .map(|_| match listener.accept() {
                Ok((s, _)) => handler(s),
                Err(e) => Err(e.to_string()),
            })
            .collect()
    });
    (addr, h)
}

/// Runs `handler` on `n` plain TCP connections.
pub fn serve_tcp<F>(n: usize, handler: F) -> (SocketAddr, JoinHandle<()>)
where
    F: Fn(TcpStream) + Send + 'static,
{
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        for _ in 0..n {
            let (s, _) = l.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            handler(s);
        }
    });
    (addr, h)
}

/// Reads until EOF, close_notify or an unclean close; returns what arrived.
pub fn read_all<R: Read>(r: &mut R) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match r.read(&mut buf) {
            Ok(0) | Err(_) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}

/// Writes `s` and flushes.
pub fn write_line<W: Write>(w: &mut W, s: &str) {
    w.write_all(s.as_bytes()).unwrap();
    w.flush().unwrap();
}

/// Server handler: echo one line, then close.
pub fn echo_once(mut s: SslSocket) -> Result<(), String> {
    let mut line = String::new();
    s.read_line(&mut line).map_err(|e| e.to_string())?;
    s.write_all(line.as_bytes()).map_err(|e| e.to_string())?;
    s.close().map_err(|e| e.to_string())
}
