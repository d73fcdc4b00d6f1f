//! `sslsock bench`: the roles of the benchmark harness (`bench/README.md` in the shared kit):
//! a sink server and handshake, bulk and idle clients printing the `RESULT` line.

use std::io::{ErrorKind, Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use sslsock::socket::async_io::AsyncSslSocket;
use sslsock::{Options, SslContext, SslSocket, VerifyMode};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

use crate::Failure;

/// The benchmark roles.
#[derive(clap::Subcommand)]
pub(crate) enum BenchCommand {
    /// Sink server: handshake, read to EOF, discard, close; many connections at once.
    Server(ServerArgs),
    /// Handshake client: connect, handshake, close, in a loop.
    Handshake(HandshakeArgs),
    /// Bulk client: one connection, write MiB in chunks, close_notify, wait for the server.
    Bulk(BulkArgs),
    /// Idle client: open K connections and hold them.
    Idle(IdleArgs),
}

/// Arguments of `sslsock bench server`.
#[derive(clap::Args)]
pub(crate) struct ServerArgs {
    /// The port to listen on.
    #[arg(long)]
    port: u16,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// The server's certificate (as `serve --cert`).
    #[arg(long, alias = "cert-file")]
    cert: PathBuf,
    /// Its key (as `serve --key`).
    #[arg(long, alias = "key-file")]
    key: PathBuf,
    /// The protocol versions: default (TLS 1.2 and 1.3), 1.2 or 1.3.
    #[arg(long, value_enum, default_value = "default")]
    tls: Tls,
    #[command(flatten)]
    suites: Suites,
    /// Exit after this many seconds.
    #[arg(long, default_value_t = 3600)]
    max_seconds: u64,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
}

/// Arguments of `sslsock bench handshake`.
#[derive(clap::Args)]
pub(crate) struct HandshakeArgs {
    /// The server's port.
    #[arg(long)]
    port: u16,
    /// The server's host (name or address).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Stop after this many seconds.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Stop after this many handshakes.
    #[arg(long, default_value_t = 1_000_000)]
    n: u64,
    /// The protocol versions: default (TLS 1.2 and 1.3), 1.2 or 1.3.
    #[arg(long, value_enum, default_value = "default")]
    tls: Tls,
    #[command(flatten)]
    suites: Suites,
    /// Resume the session of the previous connection.
    #[arg(long)]
    reuse: bool,
    /// Wait for the server's TLS 1.3 ticket before closing, as a resuming client must: the
    /// full-handshake baseline with the same close as --reuse (the plain loop closes right
    /// after its Finished, before the tickets arrive, and its connection ends in a reset).
    #[arg(long)]
    wait_ticket: bool,
    /// Verify the server (off by default, like s_time).
    #[arg(long)]
    verify: bool,
    /// Another server of the same fleet, on this port (repeatable): connections go to
    /// --port and these in turn, each offering the session of the one before.
    #[arg(long, value_name = "PORT")]
    also: Vec<u16>,
}

/// Arguments of `sslsock bench bulk`.
#[derive(clap::Args)]
pub(crate) struct BulkArgs {
    /// The server's port.
    #[arg(long)]
    port: u16,
    /// The server's host (name or address).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// MiB to send (progress goes to stderr each second when it is a terminal).
    #[arg(long, default_value_t = 1024)]
    mib: u64,
    /// Bytes per write (one TLS record holds at most 16384).
    #[arg(long, default_value_t = 16_384)]
    chunk: usize,
    /// The protocol versions: default (TLS 1.2 and 1.3), 1.2 or 1.3.
    #[arg(long, value_enum, default_value = "default")]
    tls: Tls,
    #[command(flatten)]
    suites: Suites,
}

/// Arguments of `sslsock bench idle`.
#[derive(clap::Args)]
pub(crate) struct IdleArgs {
    /// The server's port.
    #[arg(long)]
    port: u16,
    /// The server's host (name or address).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Connections to open and hold.
    #[arg(long, default_value_t = 1000)]
    conns: usize,
    /// The protocol versions: default (TLS 1.2 and 1.3), 1.2 or 1.3.
    #[arg(long, value_enum, default_value = "default")]
    tls: Tls,
    /// Seconds to hold the connections.
    #[arg(long, default_value_t = 3600)]
    hold_seconds: u64,
}

/// The cipher suites of a benchmark run, as `connect --ciphersuites/--ciphers`.
#[derive(clap::Args, Default)]
pub(crate) struct Suites {
    /// TLS 1.3 suites in order of preference, e.g. TLS_CHACHA20_POLY1305_SHA256.
    #[arg(long)]
    ciphersuites: Option<String>,
    /// TLS 1.2 suites (an OpenSSL cipher string).
    #[arg(long)]
    ciphers: Option<String>,
}

impl Suites {
    fn apply(&self, mut o: Options) -> Options {
        if let Some(c) = &self.ciphersuites {
            o = o.ciphersuites(c);
        }
        if let Some(c) = &self.ciphers {
            o = o.cipher_list(c);
        }
        o
    }
}

/// The protocol versions of a benchmark run (the harness's `--tls`).
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub(crate) enum Tls {
    /// TLS 1.2 and 1.3.
    Default,
    /// TLS 1.2 only.
    #[value(name = "1.2")]
    V12,
    /// TLS 1.3 only.
    #[value(name = "1.3")]
    V13,
}

fn version(tls: Tls) -> Option<&'static str> {
    match tls {
        Tls::Default => None,
        Tls::V12 => Some("TLSv1_2"),
        Tls::V13 => Some("TLSv1_3"),
    }
}

fn client_ctx(tls: Tls, suites: &Suites, verify: bool, reuse: bool) -> Result<SslContext, Failure> {
    Ok(SslContext::new(&client_options(
        tls, suites, verify, reuse,
    ))?)
}

fn client_options(tls: Tls, suites: &Suites, verify: bool, reuse: bool) -> Options {
    // Without reuse no session is kept, so every connection is a full handshake.
    let mut o = Options::new()
        .hostname("localhost")
        .session_cache_size(if reuse { 16 } else { 0 });
    if !verify {
        o = o.verify_mode(VerifyMode::NONE);
    }
    if let Some(v) = version(tls) {
        o = o.version(v);
    }
    suites.apply(o)
}

pub(crate) fn run(cmd: &BenchCommand) -> Result<(), Failure> {
    match cmd {
        BenchCommand::Server(a) => server(a),
        BenchCommand::Handshake(a) => handshake(a),
        BenchCommand::Bulk(a) => bulk(a),
        BenchCommand::Idle(a) => idle(a),
    }
}

fn server(a: &ServerArgs) -> Result<(), Failure> {
    let mut o = Options::new()
        .server(true)
        .cert_file(&a.cert)
        .key_file(&a.key)
        .release_buffers(true);
    if let Some(v) = version(a.tls) {
        o = o.version(v);
    }
    let ctx = SslContext::new(&a.suites.apply(o))?;
    let addr = std::net::SocketAddr::new(a.host, a.port);
    let max = Duration::from_secs(a.max_seconds);
    let serve = move |listener: tokio::net::TcpListener| {
        let ctx = ctx.clone();
        async move {
            let stop = tokio::time::sleep(max);
            tokio::pin!(stop);
            loop {
                tokio::select! {
                    _ = &mut stop => return Ok(()),
                    accepted = listener.accept() => {
                        let Ok((tcp, _)) = accepted else { continue };
                        let _ = tcp.set_nodelay(true);
                        let ctx = ctx.clone();
                        tokio::spawn(async move {
                            if let Ok(mut tls) = AsyncSslSocket::accept_with(tcp, &ctx).await {
                                // Discarded where the engine decrypted it: no copy, and no
                                // buffer held by an idle connection.
                                while let Ok(chunk) = tls.fill_buf().await {
                                    let n = chunk.len();
                                    if n == 0 {
                                        break;
                                    }
                                    tls.consume(n);
                                }
                                let _ = tls.shutdown().await;
                            }
                        });
                    }
                }
            }
        }
    };
    let listener = std::net::TcpListener::bind(addr).map_err(Failure::network)?;
    crate::args::Cores::new(a.threads, &listener)?.run(serve)
}

fn handshake(a: &HandshakeArgs) -> Result<(), Failure> {
    let mut addrs = vec![host_port(&a.host, a.port)];
    addrs.extend(a.also.iter().map(|p| host_port(&a.host, *p)));
    let mut o = client_options(a.tls, &a.suites, a.verify, a.reuse);
    if addrs.len() > 1 {
        // One session for the whole fleet, whichever server made it.
        o = o.session_key("bench-fleet");
    }
    let ctx = SslContext::new(&o)?;
    let started = Instant::now();
    let (mut conns, mut reused) = (0u64, 0u64);
    let (mut version, mut cipher) = (String::new(), String::new());
    while conns < a.n && started.elapsed().as_secs_f64() < a.seconds {
        let addr = &addrs[(conns % addrs.len() as u64) as usize];
        let mut s = SslSocket::connect_with(addr, &ctx)?;
        if s.session_reused() {
            reused += 1;
        }
        if (a.reuse || a.wait_ticket) && s.version() == Some("TLSv1_3") {
            wait_for_ticket(&mut s)?;
        }
        version = s.version().unwrap_or("?").to_owned();
        cipher = s.cipher().unwrap_or("?").to_owned();
        let _ = s.close();
        conns += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    crate::out::outln!(
        "RESULT impl=sslsock conns={conns} seconds={secs:.3} rate={:.1} reused={reused} version={version} cipher={cipher}",
        conns as f64 / secs
    );
    Ok(())
}

/// TLS 1.3 tickets come after the handshake; wait up to a second for one. The wait blocks in
/// the kernel (a peek on the TCP socket) and the socket then reads without blocking, so the
/// ticket is taken as soon as it arrives, with no polling.
fn wait_for_ticket(s: &mut SslSocket) -> Result<(), Failure> {
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut buf = [0u8; 64];
    s.set_blocking(false)?;
    while s.tickets_received() == 0 {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            break;
        };
        let tcp = s.get_ref();
        tcp.set_nonblocking(false).map_err(Failure::network)?;
        tcp.set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .map_err(Failure::network)?;
        let arrived = tcp.peek(&mut buf[..1]);
        tcp.set_nonblocking(true).map_err(Failure::network)?;
        match arrived {
            Ok(0) | Err(_) => break,
            Ok(_) => match s.read(&mut buf) {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => break,
            },
        }
    }
    s.get_ref()
        .set_read_timeout(None)
        .map_err(Failure::network)?;
    s.set_blocking(true)?;
    Ok(())
}

fn bulk(a: &BulkArgs) -> Result<(), Failure> {
    let ctx = client_ctx(a.tls, &a.suites, false, false)?;
    let mut s = SslSocket::connect_with(&host_port(&a.host, a.port), &ctx)?;
    let chunk = vec![0x5au8; a.chunk.max(1)];
    let total = a.mib * 1024 * 1024;
    let started = Instant::now();
    let mut sent = 0u64;
    let mut progress = Progress::new(total);
    while sent < total {
        let n = ((total - sent) as usize).min(chunk.len());
        s.write_all(&chunk[..n]).map_err(Failure::network)?;
        sent += n as u64;
        progress.note(sent);
    }
    progress.done();
    s.shutdown_tls()?;
    let _ = s.get_ref().shutdown(std::net::Shutdown::Write);
    // Wait for the server to close.
    let mut buf = [0u8; 1024];
    while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
    let secs = started.elapsed().as_secs_f64();
    crate::out::outln!(
        "RESULT impl=sslsock bytes={sent} seconds={secs:.3} MBps={:.1} version={} cipher={}",
        sent as f64 / secs / 1e6,
        s.version().unwrap_or("?"),
        s.cipher().unwrap_or("?")
    );
    Ok(())
}

fn idle(a: &IdleArgs) -> Result<(), Failure> {
    let ctx = client_ctx(a.tls, &Suites::default(), false, false)?;
    let addr = host_port(&a.host, a.port);
    let mut held = Vec::with_capacity(a.conns);
    for _ in 0..a.conns {
        held.push(SslSocket::connect_with(&addr, &ctx)?);
    }
    crate::out::outln!("RESULT impl=sslsock conns={}", held.len());
    crate::out::flush()?;
    std::thread::sleep(Duration::from_secs(a.hold_seconds));
    Ok(())
}

/// `host:port`, an IPv6 address in brackets.
fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// A bulk run's progress on stderr, once a second, when stderr is a terminal (the harness
/// reads stdout, and its logs stay clean).
struct Progress {
    total: u64,
    started: Instant,
    next: Instant,
    shown: bool,
    on: bool,
}

impl Progress {
    fn new(total: u64) -> Progress {
        let now = Instant::now();
        Progress {
            total,
            started: now,
            next: now + Duration::from_secs(1),
            shown: false,
            on: std::io::IsTerminal::is_terminal(&std::io::stderr()),
        }
    }

    /// Called after each write; looks at the clock once per MiB sent.
    fn note(&mut self, sent: u64) {
        if !self.on || sent % (1 << 20) >= 16_384 || Instant::now() < self.next {
            return;
        }
        self.next += Duration::from_secs(1);
        let secs = self.started.elapsed().as_secs_f64();
        eprint!(
            "\rbench: {} of {} MiB sent, {:.0} MB/s ",
            sent >> 20,
            self.total >> 20,
            sent as f64 / secs / 1e6
        );
        self.shown = true;
    }

    fn done(&self) {
        if self.shown {
            eprintln!();
        }
    }
}
