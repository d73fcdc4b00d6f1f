//! The socket's record reader and the handshake, fed arbitrary bytes as the server's side.
#![no_main]
use std::io::{self, Read, Write};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sslsock::{Options, SslContext, SslSocket, Transport};

/// The server's bytes, then EOF; what the client writes goes nowhere.
struct Replay<'a>(&'a [u8]);

impl Read for Replay<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for Replay<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Transport for Replay<'_> {}

fn context() -> &'static SslContext {
    static CTX: OnceLock<SslContext> = OnceLock::new();
    CTX.get_or_init(|| {
        SslContext::new(
            &Options::new()
                .no_ca()
                .fingerprint(format!("sha256${}", "00".repeat(32))),
        )
        .unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(mut s) = SslSocket::new_client(Replay(data), context(), "fuzz.example") else {
        return;
    };
    if s.connect_ssl().is_ok() {
        let mut buf = [0u8; 512];
        while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
    }
});
