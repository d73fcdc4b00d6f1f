//! `sslsock connect`: handshake with a server and report what was negotiated and verified.

use std::io::{ErrorKind, Read, Write};
use std::time::Duration;

use serde_json::json;
use sslsock::{
    CertSummary, Family, FingerprintAlgorithm, Options, SslContext, SslSocket, VerifyMode,
};

use crate::starttls::{self, Protocol};
use crate::Failure;

/// Arguments of `sslsock connect`.
#[derive(clap::Args)]
pub(crate) struct ConnectArgs {
    /// Server as HOST:PORT ([v6]:PORT; the port may be a service name such as https).
    addr: String,
    /// Trust the CA certificates in this PEM file instead of the default CA store.
    #[arg(long)]
    ca_file: Option<String>,
    /// Trust the CA certificates in these directories (':'-separated).
    #[arg(long)]
    ca_path: Option<String>,
    /// Do not verify the server (dangerous: anyone can impersonate it).
    #[arg(long)]
    no_verify: bool,
    /// Verify the certificate against this name instead of the host.
    #[arg(long)]
    verify_name: Option<String>,
    /// Send this name in SNI (default: the host).
    #[arg(long, conflicts_with = "no_sni")]
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
    /// TLS 1.2 cipher string in OpenSSL syntax.
    #[arg(long)]
    ciphers: Option<String>,
    /// TLS 1.3 cipher suites, ':'-separated.
    #[arg(long)]
    ciphersuites: Option<String>,
    /// Key exchange groups, e.g. X25519:P-256.
    #[arg(long)]
    groups: Option<String>,
    /// Client certificate (PEM or DER; may hold the key too).
    #[arg(long)]
    cert: Option<String>,
    /// Client private key.
    #[arg(long, requires = "cert")]
    key: Option<String>,
    /// Password of an encrypted client key or PKCS#12 --cert.
    #[arg(long, requires = "cert")]
    key_password: Option<String>,
    /// Send this text after the handshake (\r, \n and \t are honoured) and print the reply.
    #[arg(long)]
    send: Option<String>,
    /// Talk this protocol in plain first and upgrade with STARTTLS.
    #[arg(long, value_enum)]
    starttls: Option<Protocol>,
    /// Seconds for connect, handshake and each read of the reply.
    #[arg(long)]
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
    /// Hostname scheme: strict (SAN only, for new code), default, http, www, rfc2818, smtp, imap, ldap, sip, gist, none, ...
    #[arg(long)]
    scheme: Option<String>,
    /// CRL file (PEM or DER) to check revocation with; implies --check-crl.
    #[arg(long)]
    crl_file: Vec<String>,
    /// Check revocation with CRLs (from --crl-file, else from the CA file and directories).
    #[arg(long)]
    check_crl: bool,
    /// Connect this many times through one context (sessions resume) and report which did.
    #[arg(long, default_value_t = 1)]
    reconnect: u32,
    /// Print the negotiated key exchange group.
    #[arg(long)]
    show_groups: bool,
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
    if let Some(p) = &a.ca_path {
        o = o.ca_path(p);
    }
    if a.no_verify {
        eprintln!(
            "sslsock: warning: --no-verify: the server's identity is NOT checked (dangerous)"
        );
        o = o.verify_mode(VerifyMode::NONE);
    }
    if let Some(n) = &a.verify_name {
        o = o.verifycn_name(n);
    }
    if let Some(n) = &a.sni {
        o = o.hostname(n);
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
    if let Some(c) = &a.ciphers {
        o = o.cipher_list(c);
    }
    if let Some(c) = &a.ciphersuites {
        o = o.ciphersuites(c);
    }
    if let Some(g) = &a.groups {
        o = o.ecdh_curve(g);
    }
    if let Some(c) = &a.cert {
        o = o.cert_file(c);
    }
    if let Some(k) = &a.key {
        o = o.key_file(k);
    }
    if let Some(pw) = &a.key_password {
        o = o.key_password(pw);
    }
    if let Some(t) = a.timeout {
        if !(t.is_finite() && t > 0.0) {
            return Err(Failure::usage(format!(
                "--timeout {t}: must be a positive number of seconds"
            )));
        }
        o = o.timeout(Duration::from_secs_f64(t));
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
    // On the command line a pin names the one certificate expected: it is mandatory.
    for fp in &a.fingerprints {
        o = o.fingerprint(fp);
    }
    o = o.force_fingerprint(!a.fingerprints.is_empty());
    if let Some(name) = &a.scheme {
        let scheme = sslsock::Scheme::named(name)
            .ok_or_else(|| Failure::usage(format!("unknown hostname scheme \"{name}\"")))?;
        o = o.verifycn_scheme(scheme);
    }
    for f in &a.crl_file {
        o = o.crl_file(f);
    }
    o = o.check_crl(a.check_crl);
    Ok(o)
}

pub(crate) fn run(a: &ConnectArgs) -> Result<(), Failure> {
    let opts = options(a)?;
    // One context for every connection: with --reconnect, later ones resume its sessions.
    let ctx = SslContext::new(&opts)?;
    if a.reconnect == 0 {
        return Err(Failure::usage("--reconnect must be at least 1"));
    }
    let mut reports = Vec::new();
    for n in 1..=a.reconnect {
        reports.push(connect_once(a, &ctx, n)?);
    }
    if a.json {
        if reports.len() == 1 {
            println!("{}", reports[0]);
        } else {
            let resumed: Vec<u32> = reports
                .iter()
                .filter(|r| r["session_reused"] == true)
                .filter_map(|r| r["connection"].as_u64().map(|n| n as u32))
                .collect();
            println!("{}", json!({ "connections": reports, "resumed": resumed }));
        }
    } else if reports.len() > 1 {
        let resumed: Vec<String> = reports
            .iter()
            .filter(|r| r["session_reused"] == true)
            .map(|r| r["connection"].to_string())
            .collect();
        println!(
            "resumed: {} of {} connections ({})",
            resumed.len(),
            reports.len(),
            if resumed.is_empty() {
                "none".to_owned()
            } else {
                resumed.join(", ")
            }
        );
    }
    Ok(())
}

/// The full connect routine (handshake, --send, report) for connection `n`.
fn connect_once(a: &ConnectArgs, ctx: &SslContext, n: u32) -> Result<serde_json::Value, Failure> {
    let mut sock = SslSocket::connect_with(&a.addr, ctx)?;
    let io_timeout = a
        .timeout
        .map(Duration::from_secs_f64)
        .or_else(|| a.send.as_ref().map(|_| Duration::from_secs(5)));
    sock.get_ref().set_read_timeout(io_timeout)?;
    if let Some(proto) = a.starttls {
        let host = a.addr.rsplit_once(':').map_or(a.addr.as_str(), |(h, _)| h);
        starttls::negotiate(
            &mut sock,
            proto,
            host.trim_start_matches('[').trim_end_matches(']'),
        )?;
        sock.connect_ssl()?;
    }
    settle(&mut sock)?;
    let chain: Vec<CertSummary> = sock
        .peer_certificates()
        .iter()
        .filter_map(|c| CertSummary::from_der(c).ok())
        .collect();
    let fingerprint = sock.fingerprint(FingerprintAlgorithm::Sha256, false).ok();
    let verification = if a.no_verify {
        "disabled (--no-verify)"
    } else if !a.fingerprints.is_empty() {
        "ok (pinned fingerprint)"
    } else {
        "ok"
    };
    let reply = match &a.send {
        Some(text) => Some(exchange(&mut sock, &unescape(text))?),
        None => None,
    };
    let report = json!({
        "connection": n,
        "address": a.addr,
        "version": sock.version(),
        "version_int": sock.version_int(),
        "cipher": sock.cipher(),
        "cipher_iana": sock.cipher_iana(),
        "group": sock.group(),
        "alpn": sock.alpn_selected(),
        "session_reused": sock.session_reused(),
        "chain": chain.iter().map(|c| json!({"subject": c.subject, "issuer": c.issuer})).collect::<Vec<_>>(),
        "fingerprint": fingerprint,
        "verification": verification,
        "reply": reply.as_ref().map(|r| String::from_utf8_lossy(&r.0).into_owned()),
    });
    if !a.json {
        if a.reconnect > 1 {
            println!(
                "connection {n}:   {}",
                if sock.session_reused() {
                    "resumed"
                } else {
                    "full handshake"
                }
            );
        }
        println!("connected:    {}", a.addr);
        println!("version:      {}", sock.version().unwrap_or("?"));
        println!(
            "cipher:       {} ({})",
            sock.cipher().unwrap_or("?"),
            sock.cipher_iana().unwrap_or("?")
        );
        if a.show_groups || a.reconnect == 1 {
            println!(
                "group:        {}",
                sock.group().unwrap_or_else(|| "-".into())
            );
        }
        println!(
            "alpn:         {}",
            sock.alpn_selected().unwrap_or_else(|| "-".into())
        );
        println!(
            "resumed:      {}",
            if sock.session_reused() { "yes" } else { "no" }
        );
        println!("peer chain:");
        for (i, c) in chain.iter().enumerate() {
            println!("  {i} subject: {}", c.subject);
            println!("    issuer:  {}", c.issuer);
        }
        println!("fingerprint:  {}", fingerprint.as_deref().unwrap_or("-"));
        println!("verification: {verification}");
        if let Some((bytes, note)) = &reply {
            std::io::stdout().write_all(bytes)?;
            if let Some(n) = note {
                eprintln!("sslsock: note: {n}");
            }
        }
    }
    let _ = sock.close();
    Ok(report)
}

/// In TLS 1.3 a server refuses a client certificate (or its absence) only after the client
/// has finished its handshake. Wait briefly for such an alert so that success is not claimed
/// for a connection the server has already rejected. Data that arrives instead stays unread.
fn settle(sock: &mut SslSocket) -> Result<(), Failure> {
    if sock.version() != Some("TLSv1_3") {
        return Ok(());
    }
    let before = sock.get_ref().read_timeout()?;
    sock.get_ref()
        .set_read_timeout(Some(Duration::from_millis(150)))?;
    let outcome = sock.peek(&mut [0u8; 1]);
    sock.get_ref().set_read_timeout(before)?;
    match outcome {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Sends `text` and collects the reply until EOF, close_notify or a read timeout.
fn exchange(sock: &mut SslSocket, text: &str) -> Result<(Vec<u8>, Option<&'static str>), Failure> {
    sock.write_all(text.as_bytes())?;
    sock.flush()?;
    let mut out = Vec::new();
    let mut buf = [0u8; 16_384];
    loop {
        match sock.read(&mut buf) {
            Ok(0) => return Ok((out, None)),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Ok((out, Some("stopped reading at the timeout")))
            }
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                return Ok((
                    out,
                    Some("server closed the connection without close_notify"),
                ))
            }
            Err(e) => return Err(e.into()),
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
