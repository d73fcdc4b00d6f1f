//! The STARTTLS dialogues of `sslsock connect --starttls` (the CLI's own reader, included
//! from its source), fed a server that says arbitrary things over loopback.
#![no_main]
use std::io::Write;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/sslsock-cli/src/starttls.rs"]
#[allow(dead_code, unreachable_pub)]
mod starttls;

/// What the CLI's failures are, for the reader: only that one was made.
#[derive(Debug)]
pub struct Failure;

impl Failure {
    fn tls(_: impl Into<String>) -> Failure {
        Failure
    }
    fn unreachable(_: impl Into<String>) -> Failure {
        Failure
    }
    fn network(_: std::io::Error) -> Failure {
        Failure
    }
}

fn context() -> &'static sslsock::SslContext {
    static CTX: OnceLock<sslsock::SslContext> = OnceLock::new();
    CTX.get_or_init(|| {
        sslsock::SslContext::new(&sslsock::Options::new().no_ca().start_handshake(false)).unwrap()
    })
}

fn listener() -> &'static TcpListener {
    static L: OnceLock<TcpListener> = OnceLock::new();
    L.get_or_init(|| TcpListener::bind("127.0.0.1:0").unwrap())
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, said)) = data.split_first() else {
        return;
    };
    let proto = match which % 6 {
        0 => starttls::Protocol::Smtp,
        1 => starttls::Protocol::Imap,
        2 => starttls::Protocol::Pop3,
        3 => starttls::Protocol::Ftp,
        4 => starttls::Protocol::Xmpp,
        _ => starttls::Protocol::Postgres,
    };
    let l = listener();
    let tcp = TcpStream::connect(l.local_addr().unwrap()).unwrap();
    let (mut server, _) = l.accept().unwrap();
    // The server says its piece and stops sending; the dialogue must end, one way or another.
    let _ = server.write_all(said);
    let _ = server.shutdown(Shutdown::Write);
    let Ok(mut sock) = sslsock::SslSocket::new_client(tcp, context(), "fuzz.example") else {
        return;
    };
    // With and without --starttls-host, by the first byte.
    let name = (said.first().copied().unwrap_or(0) & 1 == 1).then_some("client.example");
    let _ = starttls::negotiate(
        &mut sock,
        proto,
        "fuzz.example",
        name,
        Some(Duration::from_secs(2)),
    );
});
