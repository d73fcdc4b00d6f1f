//! `sslsock connect`: handshake with a server and report what was negotiated and verified.

use std::io::{ErrorKind, Read, Write};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::Serialize;
use sslsock::ech::{EchConfigList, EchMode};
use sslsock::{Family, FingerprintAlgorithm, Options, SslContext, SslSocket, VerifyMode};

use crate::args::IdentityArgs;
use crate::out::{self, outln};
use crate::starttls::{self, Protocol};
use crate::Failure;

/// Arguments of `sslsock connect`.
#[derive(clap::Args)]
pub(crate) struct ConnectArgs {
    /// Server as HOST:PORT ([v6]:PORT; the port may be a service name such as https) or as a
    /// URL (https://HOST[:PORT]/...); may be left out when `-o PeerAddr=HOST:PORT` gives it.
    addr: Option<String>,
    /// Connect to ADDR when the server is HOST:PORT, keeping HOST as the name sent and
    /// verified (curl's --resolve). May be given several times.
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    resolve: Vec<String>,
    /// Trust the CA certificates in this PEM file instead of the default CA store.
    #[arg(long, visible_alias = "cacert")]
    ca_file: Option<PathBuf>,
    /// Trust the CA certificates in these directories (':'-separated).
    #[arg(long, visible_alias = "capath", value_delimiter = ':')]
    ca_path: Vec<PathBuf>,
    /// Do not verify the server (dangerous: anyone can impersonate it).
    #[arg(long, short = 'k', visible_alias = "insecure")]
    no_verify: bool,
    /// Verify the certificate against this name instead of the host.
    #[arg(long)]
    verify_name: Option<String>,
    /// Send this name in SNI (default: the host).
    #[arg(long, visible_alias = "servername", conflicts_with = "no_sni")]
    sni: Option<String>,
    /// Send no SNI.
    #[arg(long)]
    no_sni: bool,
    /// ALPN protocols to offer, comma-separated.
    #[arg(long)]
    alpn: Option<String>,
    /// Protocol versions, e.g. TLSv1_2, TLSv1_3, "SSLv23:!TLSv1_3".
    #[arg(long)]
    version: Option<String>,
    #[command(flatten)]
    ciphers: crate::args::CipherArgs,
    /// The client certificate, its key and password.
    #[command(flatten)]
    identity: IdentityArgs,
    /// Send this text after the handshake (\r, \n and \t are honoured) and print the reply.
    #[arg(long, conflicts_with = "stdin")]
    send: Option<String>,
    /// Send standard input to the server and print what it sends, until either side ends
    /// (after standard input ends, until the server closes or is silent for --timeout,
    /// 5 s by default).
    #[arg(long)]
    stdin: bool,
    /// Talk this protocol in plain first and upgrade with STARTTLS.
    #[arg(long, value_enum)]
    starttls: Option<Protocol>,
    /// With --starttls: the XMPP domain asked for (`to=`, s_client's -xmpphost; default the
    /// --sni name, else the host) and the name SMTP's EHLO gives (default sslsock.invalid).
    #[arg(long, value_name = "NAME", requires = "starttls")]
    starttls_host: Option<String>,
    /// Seconds for the TCP connect, the STARTTLS dialogue and the handshake (default 30, 0
    /// for none), and for each read of the reply to --send.
    #[arg(long, visible_alias = "connect-timeout")]
    timeout: Option<f64>,
    /// Use IPv4 only.
    #[arg(short = '4', conflicts_with = "ipv6")]
    ipv4: bool,
    /// Use IPv6 only.
    #[arg(short = '6')]
    ipv6: bool,
    /// Accept the server if its certificate matches this fingerprint (algo$hex, algo$pub$hex
    /// or hex); may be repeated. The certificate must then match one of them.
    #[arg(long = "fingerprint")]
    fingerprints: Vec<String>,
    /// Hostname scheme: strict (SAN only, for new code), default (the default), http, smtp,
    /// ldap, ... (see the README's table).
    #[arg(long, value_parser = crate::args::scheme_names(), ignore_case = true)]
    scheme: Option<String>,
    /// CRL file (PEM or DER) to check revocation with; implies --check-crl.
    #[arg(long)]
    crl_file: Vec<PathBuf>,
    /// Check revocation with CRLs (from --crl-file, else from the CA file and directories).
    #[arg(long)]
    check_crl: bool,
    /// Revocation checks with OCSP: none, no-staple, try (check a staple when one is sent),
    /// must (a valid staple is required), hard (also ask the responder; every failure is
    /// fatal), full-chain (ask the responders about every certificate of the chain); several
    /// joined by commas.
    #[arg(long, default_value = "try", value_parser = crate::args::ocsp_mode)]
    ocsp: sslsock::ocsp::OcspMode,
    /// When no staple settled the leaf, fetch its CRL from the certificate's distribution
    /// point.
    #[arg(long)]
    crl_fetch: bool,
    #[command(flatten)]
    engine: crate::args::EngineArgs,
    /// Encrypted Client Hello: the server's ECHConfigList, as a file (wire form or base64) or
    /// as base64 (the `ech=` of its DNS HTTPS record). The server name travels encrypted; a
    /// server that rejects it ends the connection (the name is never sent in the clear).
    #[arg(long, value_name = "FILE|BASE64", conflicts_with = "ech_grease")]
    ech_config: Option<String>,
    /// Send a GREASE ECH extension (looks like ECH; the name is sent in the clear as usual).
    #[arg(long)]
    ech_grease: bool,
    /// An IO::Socket::SSL argument, `SSL_key=value` (repeatable; applied after the flags).
    #[arg(short = 'o', value_name = "KEY=VALUE")]
    perl_args: Vec<String>,
    /// Connect this many times through one context (sessions resume) and report which did.
    #[arg(long, default_value_t = 1)]
    reconnect: u32,
    /// With --reconnect: another server of the fleet behind ADDR (repeatable). Connections
    /// go to ADDR and these in turn, all offering the last session, and the report says on
    /// which server each one resumed.
    #[arg(long, value_name = "HOST:PORT")]
    also: Vec<String>,
    /// Export keying material for LABEL (RFC 5705, RFC 8446 7.5; s_client's -keymatexport):
    /// LEN bytes (default 32), printed in hex as `keying material:`.
    #[arg(long, value_name = "LABEL[:LEN]")]
    keymat: Option<String>,
    /// The context of --keymat, in hex (default: none; in TLS 1.2 no context and an empty
    /// one give different bytes).
    #[arg(long, value_name = "HEX", requires = "keymat")]
    keymat_context: Option<String>,
    /// Print the negotiated key exchange group.
    #[arg(long)]
    show_groups: bool,
    /// Print the server's certificate chain as PEM.
    #[arg(long)]
    showcerts: bool,
    /// Print one line: version, cipher, peer subject and verification.
    #[arg(long, conflicts_with = "json")]
    brief: bool,
    /// Print no report: only the reply to --send or --stdin, and errors (s_client's -quiet).
    #[arg(long, short = 'q', conflicts_with_all = ["json", "brief"])]
    quiet: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Turns the escapes \r, \n, \t and \\ into their characters.
pub(crate) fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('r') => out.push('\r'),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn options(a: &ConnectArgs) -> Result<Options, Failure> {
    let mut o = Options::new();
    if let Some(f) = &a.ca_file {
        o = o.ca_file(f);
    }
    for p in &a.ca_path {
        o = o.ca_path(p.to_string_lossy());
    }
    if a.no_verify {
        use sslsock::ocsp::OcspMode;
        // A staple or a responder's answer speaks for a certificate that was verified; with
        // nothing verified, what --ocsp demands could not be honoured.
        let demands = [
            OcspMode::MUST_STAPLE,
            OcspMode::FAIL_HARD,
            OcspMode::FULL_CHAIN,
        ];
        if demands.into_iter().any(|d| a.ocsp.contains(d)) {
            return Err(Failure::usage(
                "--ocsp must, hard and full-chain check the certificate of a verified server: drop --no-verify, or drop --ocsp",
            ));
        }
        // The library warns that nothing is verified.
        o = o.verify_mode(VerifyMode::NONE);
    }
    if let Some(n) = &a.verify_name {
        o = o.verifycn_name(n);
    }
    if let Some(n) = &a.sni {
        o = o.hostname(n);
    } else if let Some((_, name)) = dial(a)?.filter(|_| !a.no_sni) {
        // --resolve: the server's own name stays the one sent and verified.
        o = o.hostname(name);
    }
    if a.no_sni {
        o = o.hostname("");
    }
    if let Some(list) = &a.alpn {
        o = o.alpn_protocols(list.split(',').filter(|p| !p.is_empty()));
    }
    if let Some(v) = &a.version {
        o = o.version(v);
    }
    o = a.ciphers.apply(o);
    o = a.identity.apply(o);
    if let Some(t) = limit(a)? {
        o = o.timeout(t);
    }
    if a.ipv4 {
        o = o.family(Family::V4);
    }
    if a.ipv6 {
        o = o.family(Family::V6);
    }
    if a.starttls.is_some() {
        o = o.start_handshake(false);
    }
    if let (false, Some(addr)) = (a.also.is_empty(), &a.addr) {
        // The fleet's servers share sessions: one is filed for all (each still verified for
        // its name).
        o = o.session_key(format!("fleet:{}", from_url(addr)));
    }
    // On the command line a pin names the one certificate expected: it is mandatory.
    for fp in &a.fingerprints {
        o = o.fingerprint(fp);
    }
    o = o.force_fingerprint(!a.fingerprints.is_empty());
    if let Some(name) = &a.scheme {
        let scheme = sslsock::Scheme::parse(name).map_err(|e| Failure::usage(e.to_string()))?;
        o = o.verifycn_scheme(scheme);
    }
    for f in &a.crl_file {
        o = o.crl_file(f);
    }
    o = o.check_crl(a.check_crl);
    o = o.ocsp_mode(a.ocsp).crl_fetch(a.crl_fetch);
    o = a.engine.apply(o, false)?;
    if let Some(config) = &a.ech_config {
        o = o.ech(EchMode::Config(ech_config(config)?));
    } else if a.ech_grease {
        o = o.ech(EchMode::Grease);
    }
    crate::args::perl_options(o, &a.perl_args)
}

/// `--ech-config`: a file when one is there, else base64.
fn ech_config(arg: &str) -> Result<EchConfigList, Failure> {
    let path = std::path::Path::new(arg);
    Ok(if path.is_file() {
        EchConfigList::from_file(path).map_err(sslsock::Error::from)?
    } else {
        EchConfigList::from_base64(arg).map_err(|e| {
            Failure::usage(format!(
                "--ech-config \"{arg}\" is neither a file nor a base64 ECH configuration list ({e})"
            ))
        })?
    })
}

/// What one connection negotiated and verified (`--json`).
#[derive(Serialize)]
struct Report {
    connection: u32,
    address: String,
    version: Option<&'static str>,
    version_int: Option<u16>,
    cipher: Option<&'static str>,
    cipher_iana: Option<&'static str>,
    group: Option<String>,
    alpn: Option<String>,
    /// The protocol agreed by NPN (the openssl engine, TLS 1.2), if any.
    npn: Option<String>,
    session_reused: bool,
    /// Names, session key and deadline of the connection.
    target: TargetReport,
    /// The server's chain as sent, leaf first.
    chain: Vec<ChainEntry>,
    /// The same certificates in PEM, with --showcerts.
    #[serde(skip_serializing_if = "Option::is_none")]
    chain_pem: Option<Vec<String>>,
    fingerprint: Option<String>,
    verification: String,
    /// What is known about the revocation of the server's certificates, and from where.
    revocation: String,
    /// Encrypted Client Hello: accepted, grease or off (a rejection fails the connection).
    ech: &'static str,
    /// The server's answer to --send (lossy UTF-8).
    reply: Option<String>,
    /// --keymat: what was exported.
    #[serde(skip_serializing_if = "Option::is_none")]
    keying_material: Option<KeyingMaterial>,
}

/// Keying material exported for `--keymat`.
#[derive(Serialize)]
struct KeyingMaterial {
    label: String,
    /// The context in hex, when one was given.
    context: Option<String>,
    length: usize,
    /// The bytes, in upper-case hex (as openssl prints them).
    hex: String,
}

/// What `--keymat` asks for.
struct KeymatRequest {
    label: String,
    context: Option<Vec<u8>>,
    length: usize,
}

/// `--keymat LABEL[:LEN]` (LEN 32 when not given) with `--keymat-context HEX`.
fn keymat_request(a: &ConnectArgs) -> Result<Option<KeymatRequest>, Failure> {
    let Some(spec) = &a.keymat else {
        return Ok(None);
    };
    let (label, len) = match spec.rsplit_once(':') {
        Some((label, len)) if len.bytes().all(|b| b.is_ascii_digit()) && !len.is_empty() => {
            let n = len
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=65_536).contains(n));
            let n = n.ok_or_else(|| {
                Failure::usage(format!("--keymat {spec}: LEN must be 1 to 65536 bytes"))
            })?;
            (label.to_owned(), n)
        }
        _ => (spec.clone(), 32),
    };
    if label.is_empty() {
        return Err(Failure::usage(format!(
            "--keymat {spec}: the label is empty"
        )));
    }
    let context = match &a.keymat_context {
        None => None,
        Some(h) => Some(crate::args::hex_bytes(h).ok_or_else(|| {
            Failure::usage(format!(
                "--keymat-context {h}: want hex digits, e.g. 0a1b2c"
            ))
        })?),
    };
    Ok(Some(KeymatRequest {
        label,
        context,
        length: len,
    }))
}

/// The connection's identity as resolved by the library: what was sent and checked, what
/// the session is filed under and the deadline.
#[derive(Serialize)]
struct TargetReport {
    sni: Option<String>,
    verify_name: Option<String>,
    session_key: Option<String>,
    timeout_ms: Option<u128>,
}

impl TargetReport {
    fn of(t: &sslsock::Target) -> TargetReport {
        TargetReport {
            sni: t.sni().map(str::to_owned),
            verify_name: t.verify_name().map(str::to_owned),
            session_key: t.session_key().map(str::to_owned),
            timeout_ms: t.timeout().map(|d| d.as_millis()),
        }
    }
}

/// One certificate of the chain.
#[derive(Serialize)]
struct ChainEntry {
    subject: String,
    issuer: String,
    /// notBefore and notAfter, `YYYY-MM-DD HH:MM:SS UTC`.
    not_before: String,
    not_after: String,
    /// subjectAltNames as `DNS:name`, `IP:addr`, ...
    names: Vec<String>,
    /// The key: `EC 256 bits (prime256v1)`, `RSA 2048 bits`.
    key: String,
    /// The algorithm the issuer signed it with.
    signature: String,
}

impl ChainEntry {
    fn of(c: sslsock::CertInfo) -> ChainEntry {
        let key = match &c.pubkey_curve {
            Some(curve) => format!("{} {} bits ({curve})", c.pubkey_type, c.pubkey_size),
            None => format!("{} {} bits", c.pubkey_type, c.pubkey_size),
        };
        ChainEntry {
            names: c
                .subject_alt_names
                .iter()
                .map(ToString::to_string)
                .collect(),
            subject: c.subject_line,
            issuer: c.issuer_line,
            not_before: c.not_before_text,
            not_after: c.not_after_text,
            key,
            signature: c.signature_algorithm,
        }
    }
}

/// `--json` with `--reconnect`: every connection, and which of them resumed.
#[derive(Serialize)]
struct Reconnects<'a> {
    connections: &'a [Report],
    resumed: Vec<u32>,
}

pub(crate) fn run(a: &ConnectArgs) -> Result<(), Failure> {
    let mut reports = Vec::new();
    let result = run_into(a, &mut reports);
    match result {
        Err(f) if a.json && f.kind() != "silent" => {
            // Stdout gets an object for the failure too; stderr keeps its one line.
            let text = serde_json::to_string(&FailureReport {
                error: ErrorReport {
                    kind: f.kind(),
                    message: f.message(),
                    exit_code: f.code(),
                },
                address: a.addr.as_deref().map(from_url),
                completed: &reports,
            })
            .map_err(|e| Failure::usage(format!("cannot write the report: {e}")))?;
            outln!("{text}");
            Err(f)
        }
        other => other,
    }
}

/// `--json` when the command fails: what went wrong, and what was learned before.
#[derive(Serialize)]
struct FailureReport<'a> {
    error: ErrorReport<'a>,
    /// The server as given (a URL as HOST:PORT).
    address: Option<String>,
    /// The connections that completed before the failure (with --reconnect).
    completed: &'a [Report],
}

#[derive(Serialize)]
struct ErrorReport<'a> {
    /// usage, config, verify, tls, not_tls, handshake_eof, timeout, resolve, network, other.
    kind: &'static str,
    message: &'a str,
    exit_code: u8,
}

fn run_into(a: &ConnectArgs, reports: &mut Vec<Report>) -> Result<(), Failure> {
    let opts = options(a)?;
    // Checked before any connection is made.
    keymat_request(a)?;
    // One context for every connection: with --reconnect, later ones resume its sessions.
    let ctx = SslContext::new(&opts)?;
    if a.reconnect == 0 {
        return Err(Failure::usage("--reconnect must be at least 1"));
    }
    if !a.also.is_empty() && a.reconnect < 2 {
        return Err(Failure::usage(
            "--also names more servers to reconnect to: add --reconnect N (N at least 2)",
        ));
    }
    if a.stdin && a.reconnect > 1 {
        return Err(Failure::usage(
            "--stdin talks over one connection: drop --reconnect",
        ));
    }
    for n in 1..=a.reconnect {
        reports.push(connect_once(a, &ctx, n)?);
    }
    let resumed: Vec<u32> = reports
        .iter()
        .filter(|r| r.session_reused)
        .map(|r| r.connection)
        .collect();
    // With --also, where each resumed: the servers differ.
    let at = |n: &u32| match a.also.is_empty() {
        true => n.to_string(),
        false => format!("{n} at {}", reports[*n as usize - 1].address),
    };
    if a.json {
        let text = if reports.len() == 1 {
            serde_json::to_string(&reports[0])
        } else {
            serde_json::to_string(&Reconnects {
                connections: reports,
                resumed,
            })
        }
        .map_err(|e| Failure::usage(format!("cannot write the report: {e}")))?;
        outln!("{text}");
    } else if reports.len() > 1 {
        let list: Vec<String> = resumed.iter().map(at).collect();
        outln!(
            "resumed: {} of {} connections ({})",
            list.len(),
            reports.len(),
            if list.is_empty() {
                "none".to_owned()
            } else {
                list.join(", ")
            }
        );
    }
    Ok(())
}

/// The limit for connect, STARTTLS dialogue and handshake: `--timeout`, else the default.
fn limit(a: &ConnectArgs) -> Result<Option<Duration>, Failure> {
    match a.timeout {
        None => Ok(Some(sslsock::defaults::CONNECT_TIMEOUT)),
        Some(t) => crate::args::seconds("--timeout", t, true),
    }
}

/// The wait for each read of a reply: `--timeout` when given, else `quiet`.
fn read_wait(a: &ConnectArgs, quiet: Duration) -> Result<Option<Duration>, Failure> {
    match a.timeout {
        None => Ok(Some(quiet)),
        Some(t) => crate::args::seconds("--timeout", t, true),
    }
}

/// With --no-verify: what verification would have said of the server's chain, as s_client's
/// default run tells (`would pass`, or `would fail: why`).
fn would_verify(a: &ConnectArgs, sock: &SslSocket) -> Result<String, Failure> {
    let checking = SslContext::new(&options(a)?.verify_mode(VerifyMode::PEER))?;
    let Some(name) = sock.target().verify_name() else {
        return Ok("it would fail: no name to verify the certificate against".to_owned());
    };
    Ok(
        match checking.verify_server_chain(&sock.peer_certificates(), name) {
            Ok(()) => "it would pass".to_owned(),
            Err(sslsock::Error::Verify(why)) => format!("it would fail: {why}"),
            Err(other) => format!("it would fail: {other}"),
        },
    )
}

/// A URL pasted as the address (`https://host:port/path`) as `host:port`; the scheme is the
/// port when the URL has none (`https://example.org/` is `example.org:https`).
fn from_url(addr: &str) -> String {
    let Some((scheme, rest)) = addr.split_once("://") else {
        return addr.to_owned();
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let has_port = match authority.strip_prefix('[') {
        Some(v6) => v6.split_once(']').is_some_and(|(_, p)| p.starts_with(':')),
        None => authority.contains(':'),
    };
    if has_port {
        authority.to_owned()
    } else {
        format!("{authority}:{}", scheme.to_ascii_lowercase())
    }
}

/// With `--resolve HOST:PORT:ADDR` matching the server: the address to connect to and the
/// server's name. A malformed entry is a usage error.
fn dial(a: &ConnectArgs) -> Result<Option<(String, String)>, Failure> {
    let Some(addr) = a.addr.as_deref().map(from_url) else {
        return Ok(None);
    };
    let (host, port) = match addr.strip_prefix('[') {
        Some(v6) => v6.split_once("]:").unwrap_or((v6, "")),
        None => addr.rsplit_once(':').unwrap_or((&addr, "")),
    };
    for entry in &a.resolve {
        let bad = || {
            Failure::usage(format!(
                "--resolve \"{entry}\": expected HOST:PORT:ADDR, e.g. example.org:443:127.0.0.1"
            ))
        };
        let (name, rest) = entry.split_once(':').ok_or_else(bad)?;
        let (wanted_port, to) = rest.split_once(':').ok_or_else(bad)?;
        if name.is_empty() || wanted_port.is_empty() || to.is_empty() {
            return Err(bad());
        }
        if name.eq_ignore_ascii_case(host) && wanted_port == port {
            let to = to.trim_start_matches('[').trim_end_matches(']');
            let to = if to.contains(':') {
                format!("[{to}]:{port}")
            } else {
                format!("{to}:{port}")
            };
            return Ok(Some((to, host.to_owned())));
        }
    }
    Ok(None)
}

/// The full connect routine (handshake, --send or --stdin, report) for connection `n`.
fn connect_once(a: &ConnectArgs, ctx: &SslContext, n: u32) -> Result<Report, Failure> {
    let target = match dial(a)? {
        Some((addr, _)) => addr,
        None => a.addr.as_deref().map(from_url).unwrap_or_default(),
    };
    // --also: connection n goes to the n-th server of the fleet, ADDR first.
    let fleet = a.also.len() + 1;
    let target = match (n as usize - 1) % fleet {
        0 => target,
        i => a.also[i - 1].clone(),
    };
    let mut sock = SslSocket::connect_with(&target, ctx)?;
    let (host, port) = sock
        .target()
        .address()
        .map(|(h, p)| (h.to_owned(), p))
        .unwrap_or_default();
    if let Some(proto) = a.starttls {
        // The connection's deadline (--timeout, or -o Timeout) bounds the plain dialogue too.
        let deadline = sock.target().timeout();
        // XMPP asks for the domain the certificate is checked for: --sni when given.
        let server = a.sni.as_deref().unwrap_or(&host);
        starttls::negotiate(
            &mut sock,
            proto,
            server,
            a.starttls_host.as_deref(),
            deadline,
        )?;
        sock.connect_ssl()?;
    } else if sock.version().is_none() {
        // -o SSL_startHandshake=0: the library leaves the connection plain, to be upgraded
        // later; this command has no later.
        return Err(Failure::usage(
            "SSL_startHandshake=0 leaves the connection plain, and connect makes TLS connections: use --starttls PROTO for a plain dialogue before the upgrade",
        ));
    }
    let io_timeout = if a.send.is_some() {
        read_wait(a, Duration::from_secs(5))?
    } else {
        a.timeout
            .map(|t| crate::args::seconds("--timeout", t, true))
            .transpose()?
            .flatten()
    };
    sock.get_ref()
        .set_read_timeout(io_timeout)
        .map_err(Failure::network)?;
    let closed = settle(&mut sock)?;
    let certs = sock.peer_certificates();
    let chain: Vec<ChainEntry> = certs
        .iter()
        .filter_map(|c| sslsock::CertInfo::from_der(c, FingerprintAlgorithm::Sha256).ok())
        .map(ChainEntry::of)
        .collect();
    let chain_pem = a.showcerts.then(|| {
        certs
            .iter()
            .map(|c| sslsock::x509::save::certs_to_pem(std::slice::from_ref(c)))
            .collect::<Vec<_>>()
    });
    let fingerprint = sock.fingerprint(FingerprintAlgorithm::Sha256, false).ok();
    let verification = if a.no_verify {
        format!("disabled (--no-verify; {})", would_verify(a, &sock)?)
    } else if a.engine.psk_given() && certs.is_empty() {
        // No certificate was exchanged: the pre-shared key is what authenticated the server.
        "psk (authenticated by the pre-shared key, no certificate)".to_owned()
    } else if !a.fingerprints.is_empty() {
        "ok (pinned fingerprint)".to_owned()
    } else {
        "ok".to_owned()
    };
    let revocation = revocation(a, ctx, &sock)?;
    let keying_material = match keymat_request(a)? {
        None => None,
        Some(KeymatRequest {
            label,
            context,
            length,
        }) => {
            let bytes = sock.export_keying_material(&label, context.as_deref(), length)?;
            Some(KeyingMaterial {
                label,
                context: context.map(|c| crate::args::hex_upper(&c)),
                length,
                hex: crate::args::hex_upper(&bytes),
            })
        }
    };
    let report = Report {
        keying_material,
        revocation,
        ech: sock.ech_status().as_str(),
        connection: n,
        address: if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        },
        target: TargetReport::of(sock.target()),
        version: sock.version(),
        version_int: sock.version_int(),
        cipher: sock.cipher(),
        cipher_iana: sock.cipher_iana(),
        group: sock.group(),
        alpn: sock.alpn_selected(),
        npn: sock.next_proto_negotiated(),
        session_reused: sock.session_reused(),
        chain,
        chain_pem,
        fingerprint,
        verification,
        reply: None,
    };
    if a.brief {
        outln!(
            "{} {} {} verification: {} revocation: {}{}",
            report.version.unwrap_or("?"),
            report.cipher.unwrap_or("?"),
            report.chain.first().map_or("-", |c| c.subject.as_str()),
            report.verification,
            report.revocation,
            report
                .npn
                .as_deref()
                .map(|p| format!(" npn: {p}"))
                .unwrap_or_default()
        );
        if let Some(k) = &report.keying_material {
            outln!("keying material: {}", k.hex);
        }
    } else if !a.json && !a.quiet {
        print_report(a, &report)?;
    }
    if let Some(note) = closed {
        if a.send.is_some() || a.stdin {
            return Err(Failure::network(std::io::Error::new(
                ErrorKind::UnexpectedEof,
                format!("{note}: nothing can be sent"),
            )));
        }
        log::warn!("{note}");
        let _ = sock.close();
        return Ok(report);
    }
    // Text output streams the reply as it comes; JSON keeps it, up to MAX_JSON_REPLY.
    let mut kept: Option<Vec<u8>> = None;
    if let Some(text) = &a.send {
        let mut reply = Vec::new();
        let mut truncated = false;
        let note = exchange(&mut sock, &unescape(text), |chunk| {
            if !a.json {
                return out::bytes(chunk);
            }
            let room = MAX_JSON_REPLY.saturating_sub(reply.len());
            truncated |= chunk.len() > room;
            reply.extend_from_slice(&chunk[..chunk.len().min(room)]);
            Ok(())
        })?;
        if let Some(n) = note {
            log::warn!("{n}");
        }
        if truncated {
            log::warn!(
                "the reply is longer than {} KiB; the JSON output holds its beginning",
                MAX_JSON_REPLY / 1024
            );
        }
        kept = Some(reply);
    }
    if a.stdin {
        pump_stdin(
            &mut sock,
            read_wait(a, Duration::from_secs(5))?.unwrap_or(Duration::MAX),
        )?;
    }
    let _ = sock.close();
    Ok(Report {
        reply: kept
            .filter(|_| a.json)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
        ..report
    })
}

/// The text report of one connection.
fn print_report(a: &ConnectArgs, r: &Report) -> Result<(), Failure> {
    if a.reconnect > 1 {
        outln!(
            "connection {}:   {}{}",
            r.connection,
            if r.session_reused {
                "resumed"
            } else {
                "full handshake"
            },
            if a.also.is_empty() {
                String::new()
            } else {
                format!(" at {}", r.address)
            }
        );
    }
    outln!("connected:    {}", r.address);
    outln!("version:      {}", r.version.unwrap_or("?"));
    outln!(
        "cipher:       {} ({})",
        r.cipher.unwrap_or("?"),
        r.cipher_iana.unwrap_or("?")
    );
    if a.show_groups || a.reconnect == 1 {
        outln!("group:        {}", r.group.as_deref().unwrap_or("-"));
    }
    outln!("alpn:         {}", r.alpn.as_deref().unwrap_or("-"));
    if let Some(p) = &r.npn {
        outln!("npn:          {p}");
    }
    outln!(
        "resumed:      {}",
        if r.session_reused { "yes" } else { "no" }
    );
    outln!("peer chain:");
    for (i, c) in r.chain.iter().enumerate() {
        outln!("  {i} subject: {}", c.subject);
        outln!("    issuer:  {}", c.issuer);
        outln!("    valid:   {} to {}", c.not_before, c.not_after);
        if !c.names.is_empty() {
            outln!("    names:   {}", c.names.join(", "));
        }
        outln!("    key:     {}, signed with {}", c.key, c.signature);
    }
    for pem in r.chain_pem.iter().flatten() {
        out::bytes(pem.as_bytes())?;
    }
    outln!("fingerprint:  {}", r.fingerprint.as_deref().unwrap_or("-"));
    outln!("verification: {}", r.verification);
    // Unpadded: "revocation: good (stapled)" is the line scripts look for.
    outln!("revocation: {}", r.revocation);
    outln!("ech:          {}", r.ech);
    if let Some(k) = &r.keying_material {
        outln!("keying material: {}", k.hex);
    }
    Ok(())
}

/// The revocation status after the handshake; with `--ocsp hard` or `full-chain` the
/// responders are asked about what the staple did not settle (a revoked certificate, or any
/// failure under `hard`, fails the command).
fn revocation(a: &ConnectArgs, ctx: &SslContext, sock: &SslSocket) -> Result<String, Failure> {
    use sslsock::ocsp::{OcspMode, Revocation};
    if a.engine.psk_given() && sock.peer_certificates().is_empty() {
        return Ok(
            "not applicable (no certificate: the pre-shared key authenticated the server)"
                .to_owned(),
        );
    }
    let known = sock.revocation();
    // The mode in force: --ocsp, or -o SSL_ocsp_mode over it.
    let mode = ctx.options().ocsp_mode_value().unwrap_or(a.ocsp);
    let asks = mode.contains(OcspMode::FAIL_HARD) || mode.contains(OcspMode::FULL_CHAIN);
    if !asks || known == Revocation::Off {
        return Ok(known.to_string());
    }
    let timeout = match a.timeout {
        Some(_) => limit(a)?.unwrap_or(Duration::MAX),
        None => sslsock::defaults::OCSP_TIMEOUT,
    };
    let mut resolver = sock.ocsp_resolver();
    resolver
        .resolve_blocking(timeout)
        .map_err(sslsock::Error::Verify)?;
    let soft = resolver.soft_errors();
    if !soft.is_empty() {
        let words: Vec<String> = soft.iter().map(ToString::to_string).collect();
        return Ok(format!("unknown ({})", words.join("; ")));
    }
    Ok(match (resolver.good().len(), &known) {
        (0, _) => known.to_string(),
        (n, Revocation::Good { .. }) => format!("{known}, and {n} more by the responders"),
        (1, _) => "good (responder)".to_owned(),
        (n, _) => format!("good (responders, {n} certificates)"),
    })
}

/// How often the loop of [`pump_stdin`] looks at standard input while waiting for the server.
const STDIN_POLL: Duration = Duration::from_millis(50);

/// Standard input to the server, the server's bytes to standard output, until the server
/// closes; after standard input ends, until the server closes or is silent for `quiet`.
fn pump_stdin(sock: &mut SslSocket, quiet: Duration) -> Result<(), Failure> {
    // A thread reads standard input (it blocks, on a terminal until a line is typed); the
    // socket is read with a short timeout, so that input is sent while the server is silent.
    let (tx, rx) = mpsc::channel::<Option<Vec<u8>>>();
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = vec![0u8; 16_384];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = tx.send(None);
                    return;
                }
                Ok(n) => {
                    if tx.send(Some(buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
            }
        }
    });
    sock.get_ref()
        .set_read_timeout(Some(STDIN_POLL))
        .map_err(Failure::network)?;
    let mut input_open = true;
    let mut last_heard = Instant::now();
    let mut buf = vec![0u8; 16_384];
    loop {
        while input_open {
            match rx.try_recv() {
                Ok(Some(data)) => {
                    sock.write_all(&data).map_err(Failure::network)?;
                    sock.flush().map_err(Failure::network)?;
                }
                Ok(None) | Err(mpsc::TryRecvError::Disconnected) => {
                    input_open = false;
                    last_heard = Instant::now();
                }
                Err(mpsc::TryRecvError::Empty) => break,
            }
        }
        match sock.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                out::bytes(&buf[..n])?;
                last_heard = Instant::now();
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if !input_open && last_heard.elapsed() >= quiet {
                    return Ok(());
                }
            }
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                log::warn!("server closed the connection without close_notify");
                return Ok(());
            }
            Err(e) => return Err(Failure::network(e)),
        }
    }
}

/// In TLS 1.3 a server refuses a client certificate (or its absence) only after the client
/// has finished its handshake. Wait briefly for such an alert so that success is not claimed
/// for a connection the server has already rejected. Data that arrives instead stays unread.
/// A server that closes at once without close_notify (some embedded ones, `bssl-tool server`)
/// completed the handshake all the same: that is a note for after the report, not a failure.
fn settle(sock: &mut SslSocket) -> Result<Option<&'static str>, Failure> {
    if sock.version() != Some("TLSv1_3") {
        return Ok(None);
    }
    let before = sock.get_ref().read_timeout().map_err(Failure::network)?;
    sock.get_ref()
        .set_read_timeout(Some(Duration::from_millis(150)))
        .map_err(Failure::network)?;
    let outcome = sock.peek(&mut [0u8; 1]);
    sock.get_ref()
        .set_read_timeout(before)
        .map_err(Failure::network)?;
    match outcome {
        Ok(_) => Ok(None),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Ok(None),
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => Ok(Some(CLOSED_AFTER_HANDSHAKE)),
        Err(e) => Err(Failure::network(e)),
    }
}

/// What a server that hung up right after the handshake did.
const CLOSED_AFTER_HANDSHAKE: &str =
    "the server closed the connection right after the handshake, without close_notify";

/// The most of a reply to --send that the JSON output holds.
const MAX_JSON_REPLY: usize = 1024 * 1024;

/// Sends `text` and hands the reply to `sink` chunk by chunk, until EOF, close_notify or a
/// read timeout; how it ended when not cleanly.
fn exchange(
    sock: &mut SslSocket,
    text: &str,
    mut sink: impl FnMut(&[u8]) -> Result<(), Failure>,
) -> Result<Option<&'static str>, Failure> {
    sock.write_all(text.as_bytes()).map_err(Failure::network)?;
    sock.flush().map_err(Failure::network)?;
    let mut buf = [0u8; 16_384];
    loop {
        match sock.read(&mut buf) {
            Ok(0) => return Ok(None),
            Ok(n) => sink(&buf[..n])?,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Ok(Some("stopped reading at the timeout"))
            }
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                return Ok(Some("server closed the connection without close_notify"))
            }
            Err(e) => return Err(Failure::network(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn unescapes() {
        assert_eq!(
            super::unescape(r"GET / HTTP/1.0\r\n\r\n"),
            "GET / HTTP/1.0\r\n\r\n"
        );
        assert_eq!(super::unescape(r"a\tb\\c\q"), "a\tb\\c\\q");
    }
}
