//! `sslsock serve`: a TLS server for trying clients against (echo, sink or http).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sslsock::socket::async_io::AsyncSslSocket;
use sslsock::x509::create::CertSpec;
use sslsock::{
    CertField, FingerprintAlgorithm, Options, SslContext, SslListener, TicketKey, VerifyMode,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::args::IdentityArgs;
use crate::out::{self, outln};
use crate::Failure;

/// What the server does with each connection.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub(crate) enum Mode {
    /// Send back what arrives.
    Echo,
    /// Read and discard, report the byte count.
    Sink,
    /// Answer any request with a small HTTP 200 page.
    Http,
}

/// Arguments of `sslsock serve`.
#[derive(clap::Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:8443 or [::1]:8443 (port 0 picks a free port).
    #[arg(long)]
    listen: String,
    /// The server's certificate, key and password. Without --cert a self-signed certificate
    /// for localhost, 127.0.0.1 and ::1 is created, unless --psk is given (PSK clients only).
    #[command(flatten)]
    identity: IdentityArgs,
    /// ALPN protocols to accept, comma-separated, in preference order.
    #[arg(long)]
    alpn: Option<String>,
    /// Protocol versions, e.g. TLSv1_2, TLSv1_3.
    #[arg(long)]
    version: Option<String>,
    #[command(flatten)]
    ciphers: crate::args::CipherArgs,
    /// What to do with each connection.
    #[arg(long, value_enum, default_value = "echo")]
    mode: Mode,
    /// Exit after this many connections.
    #[arg(long)]
    count: Option<u64>,
    /// Ask clients for a certificate (request) or refuse those without one (require).
    #[arg(long, value_enum, requires = "client_ca")]
    verify_client: Option<VerifyClient>,
    /// CA certificates (PEM or DER) that client certificates must chain to; their names are
    /// sent as the acceptable CA list. The CA to trust is --ca-file in every command.
    #[arg(long = "ca-file", visible_alias = "client-ca")]
    client_ca: Option<PathBuf>,
    /// A certificate for clients asking for NAME with SNI, as NAME=CERT[:KEY]; repeatable.
    /// NAME "" is the default; "*.example.org" works as in a certificate.
    #[arg(
        long = "sni-cert",
        visible_alias = "sni",
        value_name = "NAME=CERT[:KEY]"
    )]
    sni: Vec<String>,
    /// Session tickets under the keys in this file: one "NAME-HEX KEY-HEX" line per key
    /// (16 and 32 bytes), the first is current; tickets under other names do not resume.
    #[arg(long, conflicts_with = "session_store")]
    ticket_key_file: Option<PathBuf>,
    /// Share sessions and session ticket keys with the other servers of a fleet through
    /// Redis: redis://[[USER]:PASSWORD@]HOST[:PORT][/DB], or rediss:// for TLS. A store that
    /// does not answer costs resumption, never a connection.
    #[arg(long, value_name = "URL", requires = "store_key")]
    session_store: Option<String>,
    /// The fleet's store key, the same file on every server: 32 bytes, raw or as 64 hex
    /// digits (`openssl rand -hex 32 > FILE`). What goes to Redis is sealed under it.
    #[arg(long, value_name = "FILE", requires = "session_store")]
    store_key: Option<PathBuf>,
    /// With a rediss:// store: the CA certificates (PEM) that sign the store's certificate
    /// (default: the system's roots).
    #[arg(long, value_name = "FILE", requires = "session_store")]
    store_ca: Option<PathBuf>,
    /// How often the fleet's ticket key changes (90s, 30m, 12h, 2d; default 12h); tickets of
    /// the key before still resume. `off`: TLS 1.3 tickets are kept in the store instead,
    /// each good for one resumption.
    #[arg(long, value_name = "DURATION", requires = "session_store")]
    ticket_rotate: Option<String>,
    /// The longest one call to the store may take, connecting included (250ms, 1s; default
    /// 50ms): past it the call is a miss and the handshake goes on without it.
    #[arg(long, value_name = "DURATION", requires = "session_store")]
    store_deadline: Option<String>,
    /// Sessions the server keeps for resumption (0: none).
    #[arg(long)]
    session_cache: Option<usize>,
    #[command(flatten)]
    limits: crate::args::ServerLimits,
    #[command(flatten)]
    engine: crate::args::EngineArgs,
    /// The identity hint sent to PSK clients in TLS 1.2.
    #[arg(long, value_name = "TEXT", requires = "psk")]
    psk_hint: Option<String>,
    /// An IO::Socket::SSL argument, `SSL_key=value` (repeatable; applied after the flags).
    #[arg(short = 'o', value_name = "KEY=VALUE")]
    perl_args: Vec<String>,
    /// Get the certificate for DOMAIN (repeatable) from an ACME CA (--acme-directory), with
    /// the HTTP-01 challenge, and renew it at two thirds of its lifetime.
    #[arg(
        long,
        value_name = "DOMAIN",
        requires = "acme_directory",
        conflicts_with = "cert"
    )]
    acme: Vec<String>,
    /// The ACME CA's directory URL, e.g. https://acme-v02.api.letsencrypt.org/directory.
    #[arg(long, value_name = "URL", requires = "acme")]
    acme_directory: Option<String>,
    /// The CA certificates (PEM) that sign the directory's HTTPS certificate, for test CAs
    /// (default: the system's roots).
    #[arg(long, value_name = "FILE", requires = "acme")]
    acme_ca: Option<PathBuf>,
    /// Where the HTTP-01 responder listens while the CA validates (default 0.0.0.0:80).
    #[arg(long, value_name = "ADDR", requires = "acme")]
    acme_http: Option<String>,
    /// How the CA checks the domains: http-01 (port 80) or tls-alpn-01 (port 443: the server
    /// answers renewals itself).
    #[arg(long, value_enum, default_value = "http-01", requires = "acme")]
    acme_challenge: AcmeChallenge,
    /// tls-alpn-01: where the first challenge is answered, before the server listens
    /// (default: the --listen address).
    #[arg(long, value_name = "ADDR", requires = "acme")]
    acme_tls: Option<String>,
    /// Keep the ACME account in FILE (written mode 0600), so that a restarted server orders
    /// with the same account instead of registering another (default: a new account per run).
    #[arg(long, value_name = "FILE", requires = "acme")]
    acme_account: Option<PathBuf>,
    /// Staple an OCSP response: FILE (DER, as `openssl ocsp -respout` writes it) or `auto`
    /// (asked from the certificate's responder, renewed before it runs out; with
    /// --session-store, one server of the fleet asks and the others serve its answer).
    #[arg(long)]
    ocsp_staple: Option<String>,
}

/// Reads "NAME-HEX KEY-HEX" lines; the first is the current key.
fn ticket_keys(path: &Path) -> Result<Vec<TicketKey>, Failure> {
    let text = String::from_utf8(Failure::read(path)?)
        .map_err(|_| Failure::usage(format!("{}: not UTF-8 text", path.display())))?;
    let path = path.display();
    let hex = crate::args::hex_bytes;
    let mut keys = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let bad = || {
            Failure::usage(format!(
                "{path}:{}: want \"NAME-HEX KEY-HEX\" (16 and 32 bytes)",
                n + 1
            ))
        };
        let mut parts = line.split_whitespace();
        let name: [u8; 16] = parts
            .next()
            .and_then(hex)
            .and_then(|v| v.try_into().ok())
            .ok_or_else(bad)?;
        let key: [u8; 32] = parts
            .next()
            .and_then(hex)
            .and_then(|v| v.try_into().ok())
            .ok_or_else(bad)?;
        keys.push(TicketKey { name, key });
    }
    if keys.is_empty() {
        return Err(Failure::usage(format!("{path}: no ticket key")));
    }
    Ok(keys)
}

/// `--session-store`: the Redis store, the fleet's ticket keys unless `--ticket-rotate off`,
/// and the line that says so. Made once: a reload keeps them.
struct Fleet {
    store: Arc<sslsock::redis_store::RedisStore>,
    ring: Option<Arc<sslsock::redis_store::RedisTicketKeys>>,
    note: String,
}

fn fleet_store(a: &ServeArgs, url: &str) -> Result<Fleet, Failure> {
    use sslsock::redis_store::{RedisConfig, StoreKey};
    let key_file = a.store_key.as_ref().ok_or_else(|| {
        Failure::usage("--session-store needs --store-key FILE (the fleet's key)")
    })?;
    let store_err = |e: sslsock::redis_store::StoreError| Failure::usage(e.to_string());
    let mut config = RedisConfig::new(url, StoreKey::from_file(key_file).map_err(store_err)?);
    if let Some(ca) = &a.store_ca {
        config = config.ca_file(ca);
    }
    if let Some(text) = &a.store_deadline {
        let millisecond = std::time::Duration::from_millis(1);
        config = config.deadline(crate::args::duration(
            "--store-deadline",
            text,
            millisecond,
        )?);
    }
    let store = Arc::new(config.build().map_err(store_err)?);
    let rotate = match a.ticket_rotate.as_deref() {
        Some("off") => None,
        Some(text) => Some(crate::args::duration(
            "--ticket-rotate",
            text,
            std::time::Duration::from_secs(1),
        )?),
        None => Some(std::time::Duration::from_secs(12 * 3600)),
    };
    let label = store.address().to_owned();
    let mut fleet = match rotate {
        Some(period) => Fleet {
            ring: Some(Arc::new(store.ticket_keys(period))),
            store,
            note: format!(
                "session store {label}: sessions and ticket keys shared (the ticket key rotates every {})",
                humanize(period)
            ),
        },
        None => Fleet {
            ring: None,
            store,
            note: format!(
                "session store {label}: sessions shared (TLS 1.3 tickets kept there, one use each)"
            ),
        },
    };
    if a.ocsp_staple.as_deref() == Some("auto") {
        fleet.note += "; OCSP staples shared (one server asks the responder)";
    }
    Ok(fleet)
}

/// `12h`, `30m`, `90s`, `1500ms`: a period as given.
fn humanize(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match s {
        _ if d.subsec_millis() != 0 => format!("{}ms", d.as_millis()),
        _ if s.is_multiple_of(86_400) => format!("{}d", s / 86_400),
        _ if s.is_multiple_of(3600) => format!("{}h", s / 3600),
        _ if s.is_multiple_of(60) => format!("{}m", s / 60),
        _ => format!("{s}s"),
    }
}

/// Whether the `-o` arguments give the server's certificate (`SSL_cert_file`, `SSL_cert`,
/// `SSL_key_file`, `SSL_key`).
fn names_own_certificate(perl_args: &[String]) -> bool {
    perl_args.iter().any(|a| {
        let key = a.split_once('=').map_or(a.as_str(), |(k, _)| k);
        matches!(
            key,
            "SSL_cert_file" | "SSL_cert" | "SSL_key_file" | "SSL_key"
        )
    })
}

/// `--acme-challenge`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub(crate) enum AcmeChallenge {
    /// HTTP-01: the CA fetches a token over plain HTTP.
    #[value(name = "http-01")]
    Http01,
    /// TLS-ALPN-01: the CA connects with ALPN acme-tls/1.
    #[value(name = "tls-alpn-01")]
    TlsAlpn01,
}

/// How `serve` treats client certificates.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub(crate) enum VerifyClient {
    /// Ask for one; clients without are served too.
    Request,
    /// Refuse clients without a valid certificate.
    Require,
}

pub(crate) fn run(a: &ServeArgs) -> Result<(), Failure> {
    let limits = a.limits.resolve()?;
    let acme = acme_identity(a)?;
    let generated = match acme {
        Some(_) => None,
        None => generated_identity(a)?,
    };
    let fleet = match &a.session_store {
        Some(url) => Some(fleet_store(a, url)?),
        None => None,
    };
    let identity = acme.as_ref();
    let build = || context(a, &limits, generated.as_ref(), identity, fleet.as_ref());
    let ctx = build()?;
    let notes: Vec<String> = generated
        .as_ref()
        .map(|g| {
            format!(
                "self-signed certificate for localhost, 127.0.0.1, ::1: {}",
                g.fingerprint
            )
        })
        .into_iter()
        .chain(fleet.as_ref().map(|f| f.note.clone()))
        .collect();
    let notes = notes
        .into_iter()
        .chain(
            acme.as_ref()
                .map(|state| acme_note("obtained", &state.issued)),
        )
        .collect();
    serve_all(a, &limits, ctx, notes, &build, acme.as_ref())
}

/// `--acme`: the ACME configuration, the certificate now served (replaced by renewals), and
/// with tls-alpn-01 the challenges the running server answers.
struct Acme {
    config: sslsock::acme::AcmeConfig,
    issued: Mutex<sslsock::acme::Certificate>,
    alpn: Option<Arc<sslsock::acme::AlpnChallenges>>,
}

/// `--acme`: the first certificate, before the server listens (it has no other).
fn acme_identity(a: &ServeArgs) -> Result<Option<Acme>, Failure> {
    let Some(directory) = &a.acme_directory else {
        return Ok(None);
    };
    let mut config = sslsock::acme::AcmeConfig::new(directory, a.acme.iter().cloned());
    if let Some(ca) = &a.acme_ca {
        config = config.ca_file(ca);
    }
    if let Some(addr) = &a.acme_http {
        config = config.http_listen(addr);
    }
    if let Some(file) = &a.acme_account {
        config = config.account_file(file);
    }
    if let AcmeChallenge::TlsAlpn01 = a.acme_challenge {
        config = config
            .challenge(sslsock::acme::Challenge::TlsAlpn01)
            .tls_listen(a.acme_tls.as_deref().unwrap_or(&a.listen));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Failure::network)?;
    let issued = runtime
        .block_on(config.obtain())
        .map_err(|e| Failure::usage(e.to_string()))?;
    // Renewals come while the server listens: with tls-alpn-01 it answers them itself.
    let alpn = matches!(a.acme_challenge, AcmeChallenge::TlsAlpn01)
        .then(|| Arc::new(sslsock::acme::AlpnChallenges::new()));
    if let Some(challenges) = &alpn {
        config = config.alpn_challenges(challenges.clone());
    }
    Ok(Some(Acme {
        config,
        issued: Mutex::new(issued),
        alpn,
    }))
}

/// The line that tells what ACME gave.
fn acme_note(what: &str, issued: &Mutex<sslsock::acme::Certificate>) -> String {
    let Ok(c) = issued.lock() else {
        return format!("acme: certificate {what}");
    };
    format!(
        "acme: certificate {what}, valid until {}; renewal at {}",
        unix_time(c.not_after),
        unix_time(c.renew_at())
    )
}

/// A time as `YYYY-MM-DD HH:MM:SS UTC`.
fn unix_time(t: std::time::SystemTime) -> String {
    sslsock::format_system_time(t)
}

/// The certificate made up for a server given none: kept for the life of the process, so
/// that a reload does not change it.
struct Generated {
    cert_pem: String,
    key_pem: String,
    fingerprint: String,
}

fn generated_identity(a: &ServeArgs) -> Result<Option<Generated>, Failure> {
    // A PSK server without --cert serves PSK clients only (as `s_server -psk -nocert`): a
    // made-up certificate would serve clients without the key. With -o the certificate comes
    // from there.
    if a.identity.cert.is_some() || a.engine.psk_given() || names_own_certificate(&a.perl_args) {
        return Ok(None);
    }
    let issued = CertSpec::new("localhost")
        .san("localhost")
        .san("127.0.0.1")
        .san("::1")
        .self_signed()?;
    let fingerprint = sslsock::verify::fingerprint::fingerprint(
        &issued.cert_der,
        FingerprintAlgorithm::Sha256,
        false,
    )?;
    Ok(Some(Generated {
        cert_pem: issued.cert_pem,
        key_pem: issued.key_pem,
        fingerprint,
    }))
}

/// The server's context from the flags and the files they name: at start and at each reload.
fn context(
    a: &ServeArgs,
    limits: &crate::args::Limits,
    generated: Option<&Generated>,
    acme: Option<&Acme>,
    fleet: Option<&Fleet>,
) -> Result<SslContext, Failure> {
    let mut opts = Options::new().server(true).timeout(limits.handshake);
    opts = a.engine.apply(opts, true)?;
    if let Some(hint) = &a.psk_hint {
        opts = opts.psk_identity_hint(hint.as_str());
    }
    if let Some(idle) = limits.idle {
        opts = opts.idle_timeout(idle);
    }
    if a.identity.cert.is_some() {
        opts = a.identity.apply(opts);
    } else if let Some(state) = acme {
        let c = state
            .issued
            .lock()
            .map_err(|_| Failure::usage("acme: the certificate's lock is poisoned"))?;
        opts = opts
            .cert_pem(c.chain_pem.clone())
            .key_pem(c.key_pem.clone());
    } else if let Some(g) = generated {
        opts = opts.cert_pem(g.cert_pem.clone()).key_pem(g.key_pem.clone());
    }
    if let Some(staple) = &a.ocsp_staple {
        opts = opts.ocsp_staple(match staple.as_str() {
            "auto" => sslsock::ocsp::StapleSource::Auto,
            file => sslsock::ocsp::StapleSource::File(file.into()),
        });
    }
    if let Some(list) = &a.alpn {
        opts = opts.alpn_protocols(list.split(',').filter(|p| !p.is_empty()));
    }
    if let Some(v) = &a.version {
        opts = opts.version(v);
    }
    opts = a.ciphers.apply(opts);
    for spec in &a.sni {
        let (name, cert, key) = sni_spec(spec)?;
        opts = opts.sni_cert(name, cert, key);
    }
    if let Some(path) = &a.ticket_key_file {
        let keys = ticket_keys(path)?;
        opts = opts.ticket_keycb(move |name| match name {
            None => keys.first().cloned(),
            Some(n) => keys.iter().find(|k| k.name == *n).cloned(),
        });
    }
    if let Some(f) = fleet {
        opts = opts.server_session_store(f.store.clone());
        if a.ocsp_staple.as_deref() == Some("auto") {
            opts = opts.ocsp_staple_store(f.store.clone());
        }
        if let Some(ring) = &f.ring {
            opts = opts.ticket_key_ring(ring.clone());
        }
    }
    if let Some(n) = a.session_cache {
        opts = opts.session_cache_size(n);
    }
    if let Some(ca) = &a.client_ca {
        let mode = match a.verify_client {
            Some(VerifyClient::Require) => VerifyMode::PEER | VerifyMode::FAIL_IF_NO_PEER_CERT,
            Some(VerifyClient::Request) | None => VerifyMode::PEER,
        };
        opts = opts.ca_file(ca).client_ca_file(ca).verify_mode(mode);
    }
    let opts = crate::args::perl_options(opts, &a.perl_args)?;
    let ctx = SslContext::new(&opts)?;
    // tls-alpn-01 renewals: ClientHellos asking for acme-tls/1 get the pending challenge's
    // certificate, every other one this context.
    match acme.and_then(|state| state.alpn.clone()) {
        Some(challenges) => {
            Ok(ctx.with_client_hello_callback(move |hello| challenges.context_for(hello))?)
        }
        None => Ok(ctx),
    }
}

/// `--sni-cert NAME=CERT[:KEY]`.
fn sni_spec(spec: &str) -> Result<(&str, &str, Option<PathBuf>), Failure> {
    let (name, files) = spec
        .split_once('=')
        .ok_or_else(|| Failure::usage(format!("--sni-cert {spec}: want NAME=CERT[:KEY]")))?;
    Ok(match files.split_once(':') {
        Some((c, k)) => (name, c, Some(PathBuf::from(k))),
        None => (name, files, None),
    })
}

/// The files a reload reads again: a change to any of them reloads the server.
fn watched_files(a: &ServeArgs) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = [
        &a.identity.cert,
        &a.identity.key,
        &a.client_ca,
        &a.ticket_key_file,
    ]
    .into_iter()
    .flatten()
    .cloned()
    .collect();
    if let Some(staple) = a.ocsp_staple.as_deref().filter(|s| *s != "auto") {
        files.push(staple.into());
    }
    for spec in &a.sni {
        if let Ok((_, cert, key)) = sni_spec(spec) {
            files.push(cert.into());
            files.extend(key);
        }
    }
    files
}

/// What is known of each watched file: its modification time and length (`None`: missing).
fn file_states(files: &[PathBuf]) -> Vec<Option<(std::time::SystemTime, u64)>> {
    files
        .iter()
        .map(|f| {
            let m = std::fs::metadata(f).ok()?;
            Some((m.modified().ok()?, m.len()))
        })
        .collect()
}

/// What the threads of one server share: the limits of the whole server and the ids.
struct Shared {
    /// Replaced whole by a reload; each connection takes the one current when it is accepted.
    ctx: std::sync::RwLock<SslContext>,
    mode: Mode,
    /// `--count`: connections the server still takes (each thread takes one before it accepts).
    left: Option<AtomicU64>,
    /// The last connection id given out.
    ids: AtomicU64,
    /// `--max-connections` over all threads.
    slots: Arc<Semaphore>,
    /// Failed accepts (out of descriptors), said once per episode by whichever thread sees it.
    accept_episodes: crate::accept::AcceptEpisodes,
}

fn serve_all(
    a: &ServeArgs,
    limits: &crate::args::Limits,
    ctx: SslContext,
    notes: Vec<String>,
    build: &(dyn Fn() -> Result<SslContext, Failure> + Sync),
    acme: Option<&Acme>,
) -> Result<(), Failure> {
    let std_listener = SslListener::bind(&a.listen, &ctx)?;
    let local = std_listener.local_addr()?;
    let cores = crate::args::Cores::new(limits.threads, std_listener.get_ref())?;
    // SIGHUP reloads from here on (before anyone is told the server listens).
    let watch = ReloadWatch::new();
    outln!("listening on {local}");
    for note in notes {
        outln!("{note}");
    }
    out::flush()?;
    let shared = Arc::new(Shared {
        ctx: std::sync::RwLock::new(ctx),
        mode: a.mode,
        left: a.count.map(AtomicU64::new),
        ids: AtomicU64::new(0),
        slots: Arc::new(Semaphore::new(limits.max_connections)),
        accept_episodes: crate::accept::AcceptEpisodes::default(),
    });
    // Every connection is a task on the thread that accepted it, one thread per core by
    // default (--threads): a client that stalls costs a task, not a thread, and its deadline
    // ends it.
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let watcher = shared.clone();
        let files = watched_files(a);
        let done = &done;
        scope.spawn(move || reload_on_signal_or_change(watch, &watcher, &files, build, acme, done));
        let result = cores.run(move |listener| accept_loop(listener, shared.clone()));
        done.store(true, Ordering::Release);
        result
    })
}

/// When the ACME certificate is renewed next, and the wait after a failure (doubling, at most
/// an hour).
struct Renewal {
    at: std::time::SystemTime,
    backoff: std::time::Duration,
}

impl Renewal {
    fn new(issued: &Mutex<sslsock::acme::Certificate>) -> Renewal {
        Renewal {
            at: issued
                .lock()
                .map_or_else(|_| std::time::SystemTime::now(), |c| c.renew_at()),
            backoff: std::time::Duration::from_secs(1),
        }
    }

    fn due_in(&self) -> std::time::Duration {
        self.at
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_default()
    }

    /// Asks the CA again; true when there is a new certificate to serve. On failure the
    /// certificate there is stays, and the next try waits longer.
    async fn renew(
        &mut self,
        config: &sslsock::acme::AcmeConfig,
        issued: &Mutex<sslsock::acme::Certificate>,
    ) -> bool {
        match config.obtain().await {
            Ok(fresh) => {
                self.at = fresh.renew_at();
                self.backoff = std::time::Duration::from_secs(1);
                if let Ok(mut current) = issued.lock() {
                    *current = fresh;
                }
                say(format_args!("{}", acme_note("renewed", issued)));
                true
            }
            Err(e) => {
                let until = issued
                    .lock()
                    .map_or_else(|_| "?".to_owned(), |c| unix_time(c.not_after));
                log::warn!(
                    "acme renewal failed: {e}; the current certificate stays (valid until {until}); next try in {} s",
                    self.backoff.as_secs()
                );
                self.at = std::time::SystemTime::now() + self.backoff;
                self.backoff = (self.backoff * 2).min(std::time::Duration::from_secs(3600));
                false
            }
        }
    }
}

/// The runtime of the reload watcher and its SIGHUP stream, set up before the server says it
/// listens (a SIGHUP before would end the process).
struct ReloadWatch {
    runtime: tokio::runtime::Runtime,
    hangup: Option<tokio::signal::unix::Signal>,
}

impl ReloadWatch {
    fn new() -> Option<ReloadWatch> {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(r) => r,
            Err(e) => {
                log::warn!("no reloads: cannot start the reload watcher: {e}");
                return None;
            }
        };
        let hangup = {
            let _in = runtime.enter();
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
                Ok(s) => Some(s),
                Err(e) => {
                    log::warn!("no reload on SIGHUP: {e}");
                    None
                }
            }
        };
        Some(ReloadWatch { runtime, hangup })
    }
}

/// Reloads the server's context on SIGHUP and when a file it was made from changes (checked
/// every second), until `done`. A reload that fails keeps the context there was, and says
/// why.
fn reload_on_signal_or_change(
    watch: Option<ReloadWatch>,
    shared: &Shared,
    files: &[PathBuf],
    build: &(dyn Fn() -> Result<SslContext, Failure> + Sync),
    acme: Option<&Acme>,
    done: &AtomicBool,
) {
    let Some(ReloadWatch {
        runtime,
        mut hangup,
    }) = watch
    else {
        return;
    };
    runtime.block_on(async {
        let mut seen = file_states(files);
        let mut renewal = acme.map(|state| Renewal::new(&state.issued));
        while !done.load(Ordering::Acquire) {
            let renew_in = renewal.as_ref().map(Renewal::due_in);
            let why = tokio::select! {
                Some(()) = async { hangup.as_mut()?.recv().await } => "on SIGHUP",
                () = tokio::time::sleep(renew_in.unwrap_or_default()), if renew_in.is_some() => {
                    let (Some(state), Some(r)) = (acme, renewal.as_mut()) else {
                        continue;
                    };
                    if !r.renew(&state.config, &state.issued).await {
                        continue;
                    }
                    "with the renewed ACME certificate"
                }
                () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {
                    let now = file_states(files);
                    if now == seen {
                        continue;
                    }
                    seen = now;
                    "as its files changed"
                }
            };
            match build() {
                Ok(ctx) => {
                    match shared.ctx.write() {
                        Ok(mut current) => *current = ctx,
                        Err(poisoned) => *poisoned.into_inner() = ctx,
                    }
                    say(format_args!(
                        "reloaded {why}: new connections get the new certificate"
                    ));
                }
                Err(e) => log::warn!(
                    "reload {why} failed, the previous certificate stays: {}",
                    e.message()
                ),
            }
        }
    });
}

/// Takes one more connection under `--count`; false when the count is used up.
fn take_one(left: &Option<AtomicU64>) -> bool {
    left.as_ref().is_none_or(|l| {
        l.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok()
    })
}

/// One thread's accept loop.
async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) -> Result<(), Failure> {
    let mut tasks = tokio::task::JoinSet::new();
    let mut paced = crate::accept::Paced::new(&shared.accept_episodes);
    while take_one(&shared.left) {
        // At the limit, a slot must free before the next client is taken.
        let Ok(slot) = shared.slots.clone().acquire_owned().await else {
            break;
        };
        let (tcp, peer) = paced
            .accept(&listener, || while tasks.try_join_next().is_some() {})
            .await;
        let _ = tcp.set_nodelay(true);
        let id = shared.ids.fetch_add(1, Ordering::Relaxed) + 1;
        let ctx = match shared.ctx.read() {
            Ok(ctx) => ctx.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        let mode = shared.mode;
        tasks.spawn(async move {
            handle(id, tcp, peer, ctx, mode).await;
            drop(slot);
        });
        // Without --count the server runs until killed; reap finished tasks as it goes.
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    Ok(())
}

async fn handle(id: u64, tcp: TcpStream, peer: std::net::SocketAddr, ctx: SslContext, mode: Mode) {
    // The whole handshake is under one deadline (--handshake-timeout).
    let mut s = match AsyncSslSocket::accept_with(tcp, &ctx).await {
        Ok(s) => s,
        Err(e) => {
            say(format_args!(
                "connection {id} from {peer}: handshake failed: {e}"
            ));
            return;
        }
    };
    let sock = s.socket();
    say(format_args!(
        "connection {id} from {peer}: {} {}{}{}{}{}",
        sock.version().unwrap_or("?"),
        sock.cipher().unwrap_or("?"),
        if sock.session_reused() {
            " resumed"
        } else {
            ""
        },
        sock.servername()
            .map(|n| format!(" sni={n}"))
            .unwrap_or_default(),
        sock.alpn_selected()
            .map(|p| format!(" alpn={p}"))
            .unwrap_or_default(),
        sock.peer_certificate(CertField::Subject)
            .map(|c| format!(" client={c}"))
            .unwrap_or_default(),
    ));
    let result = match mode {
        Mode::Echo => echo(&mut s).await,
        Mode::Sink => sink(&mut s)
            .await
            .map(|total| say(format_args!("connection {id}: received {total} bytes"))),
        Mode::Http => http(&mut s).await,
    };
    match result {
        Ok(()) => {
            let _ = s.shutdown().await;
        }
        Err(e) => say(format_args!("connection {id}: {e}")),
    }
}

/// A line of the connection log on standard output. The server goes on serving when nobody
/// reads it any more.
fn say(args: std::fmt::Arguments<'_>) {
    let _ = out::line(args);
}

async fn echo(s: &mut AsyncSslSocket) -> std::io::Result<()> {
    let mut buf = vec![0u8; 16_384];
    loop {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        s.write_all(&buf[..n]).await?;
        s.flush().await?;
    }
}

async fn sink(s: &mut AsyncSslSocket) -> std::io::Result<u64> {
    let mut buf = vec![0u8; 16_384];
    let mut total = 0u64;
    loop {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            return Ok(total);
        }
        total += n as u64;
    }
}

/// The largest request head read.
const MAX_HEAD: usize = 65_536;

/// Answers requests with a small page, as long as the client keeps the connection (HTTP/1.1
/// keep-alive, unless it says `Connection: close`; HTTP/1.0 only with `Connection:
/// keep-alive`). A body (Content-Length, or chunked) is read and discarded, after a
/// `100 Continue` when the client waits for one (curl does, for bodies over 1 MB); bytes past
/// it are the next request's.
async fn http(s: &mut AsyncSslSocket) -> std::io::Result<()> {
    let mut data = Vec::new();
    loop {
        let Some(head_end) = read_head(s, &mut data).await? else {
            return Ok(());
        };
        let head = String::from_utf8_lossy(&data[..head_end]).to_ascii_lowercase();
        let request = Request::of(&head);
        data.drain(..head_end);
        if request.expects_continue {
            s.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
            s.flush().await?;
        }
        discard_body(s, &mut data, &request).await?;
        let sock = s.socket();
        let page = format!(
            "<html><body><h1>sslsock</h1><p>{} {}</p></body></html>\n",
            sock.version().unwrap_or("?"),
            sock.cipher().unwrap_or("?")
        );
        let reply = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n{page}",
            page.len(),
            if request.keep_alive { "keep-alive" } else { "close" }
        );
        s.write_all(reply.as_bytes()).await?;
        s.flush().await?;
        if !request.keep_alive {
            return Ok(());
        }
    }
}

/// What the server needs to know of a request head (lower-cased).
struct Request {
    keep_alive: bool,
    expects_continue: bool,
    chunked: bool,
    length: u64,
}

impl Request {
    fn of(head: &str) -> Request {
        let header = |name: &str| {
            head.lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.trim() == name)
                .map(|(_, v)| v.trim().to_owned())
        };
        let http10 = head.lines().next().is_some_and(|l| l.ends_with("http/1.0"));
        let connection = header("connection").unwrap_or_default();
        Request {
            keep_alive: if http10 {
                connection.contains("keep-alive")
            } else {
                !connection.contains("close")
            },
            expects_continue: header("expect").is_some_and(|v| v == "100-continue"),
            chunked: header("transfer-encoding").is_some_and(|v| v.contains("chunked")),
            length: header("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
        }
    }
}

/// Reads until `data` holds a whole request head; its length, or `None` when the client
/// closed before sending one.
async fn read_head(s: &mut AsyncSslSocket, data: &mut Vec<u8>) -> std::io::Result<Option<usize>> {
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = head_end(data) {
            return Ok(Some(end));
        }
        if data.len() > MAX_HEAD {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "request head larger than 64 KiB",
            ));
        }
        let n = s.read(&mut buf).await?;
        if n == 0 {
            // A head cut short is still answered, as before keep-alive.
            return Ok((!data.is_empty()).then_some(data.len()));
        }
        data.extend_from_slice(&buf[..n]);
    }
}

/// Reads and drops the body; what follows it stays in `data`.
async fn discard_body(
    s: &mut AsyncSslSocket,
    data: &mut Vec<u8>,
    request: &Request,
) -> std::io::Result<()> {
    let mut buf = [0u8; 16_384];
    if request.chunked {
        // The last chunk is "0" and an empty line (no trailers expected).
        while !data.windows(5).any(|w| w == b"0\r\n\r\n") {
            let n = s.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            data.extend_from_slice(&buf[..n]);
        }
        let end = data.windows(5).position(|w| w == b"0\r\n\r\n").unwrap_or(0) + 5;
        data.drain(..end.min(data.len()));
        return Ok(());
    }
    let mut left = request.length;
    let held = (data.len() as u64).min(left);
    data.drain(..held as usize);
    left -= held;
    while left > 0 {
        let n = s.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        let body = (n as u64).min(left);
        left -= body;
        data.extend_from_slice(&buf[body as usize..n]);
    }
    Ok(())
}

/// Where the head ends (after its empty line), if it has.
fn head_end(data: &[u8]) -> Option<usize> {
    let crlf = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4);
    let lf = data.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn head_ends() {
        assert_eq!(super::head_end(b"GET / HTTP/1.0\r\n\r\nbody"), Some(18));
        assert_eq!(super::head_end(b"GET / HTTP/1.0\n\n"), Some(16));
        assert_eq!(super::head_end(b"GET / HTTP/1.0\r\nHost: x\r\n"), None);
    }
}
