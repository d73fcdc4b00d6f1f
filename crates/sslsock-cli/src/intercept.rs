//! `sslsock intercept`: an HTTP CONNECT proxy that opens the TLS inside the tunnel with a
//! certificate forged by a local CA, for clients that trust that CA.

use std::io::Write as _;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use clap::Args;
use sslsock::intercept::Interceptor;
use sslsock::{AsyncSslSocket, Options, SslContext, VerifyMode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use crate::out::{self, outln};
use crate::Failure;

#[derive(Args)]
pub(crate) struct InterceptArgs {
    /// Address to listen on for CONNECT requests.
    #[arg(long)]
    listen: String,
    /// The proxy CA certificate (make one with `sslsock cert create --ca`).
    #[arg(long)]
    ca_cert: PathBuf,
    /// The proxy CA key.
    #[arg(long)]
    ca_key: PathBuf,
    /// The proxy CA key's password: TEXT, pass:TEXT, env:VARIABLE or file:PATH.
    #[arg(long, value_parser = crate::args::secret)]
    ca_password: Option<String>,
    /// Trust these CAs for the upstream servers (default: the system's); --ca-file as in
    /// every command.
    #[arg(long = "ca-file", visible_alias = "upstream-ca")]
    upstream_ca: Option<PathBuf>,
    /// Do not verify the upstream servers (dangerous: anyone between us and them is believed).
    #[arg(long = "no-verify", short = 'k', visible_aliases = ["insecure-upstream", "insecure"])]
    insecure_upstream: bool,
    /// Write each connection's plaintext, both ways, to a file in this directory (made
    /// 0700; each file 0600: it holds decrypted traffic).
    #[arg(long)]
    log_dir: Option<PathBuf>,
    /// Ports a CONNECT may reach (repeatable; default 443 only).
    #[arg(long = "allow-port", value_name = "PORT")]
    allow_ports: Vec<u16>,
    #[command(flatten)]
    limits: crate::args::ServerLimits,
}

/// What the proxy shares between tunnels.
struct Proxy {
    forger: Interceptor,
    /// Options of the upstream connections (and of the client side's idle timeout).
    upstream: Options,
    log_dir: Option<PathBuf>,
    allow_ports: Vec<u16>,
    handshake_timeout: std::time::Duration,
    idle_timeout: Option<std::time::Duration>,
}

pub(crate) fn run(a: &InterceptArgs) -> Result<(), Failure> {
    let forger = Interceptor::from_files(&a.ca_cert, &a.ca_key, a.ca_password.as_deref())?;
    let mut upstream = Options::new();
    if let Some(ca) = &a.upstream_ca {
        upstream = upstream.ca_file(ca);
    }
    if a.insecure_upstream {
        upstream = upstream.verify_mode(VerifyMode::NONE);
    }
    let limits = a.limits.resolve()?;
    if let Some(idle) = limits.idle {
        upstream = upstream.idle_timeout(idle);
    }
    // Checked once, so that a bad CA file is a usage error now rather than 502s later.
    SslContext::new(&upstream)?;
    if let Some(d) = &a.log_dir {
        private_dir(d).map_err(|e| Failure::usage(format!("{}: {e}", d.display())))?;
    }
    let proxy = Arc::new(Proxy {
        forger,
        upstream,
        log_dir: a.log_dir.clone(),
        allow_ports: if a.allow_ports.is_empty() {
            vec![443]
        } else {
            a.allow_ports.clone()
        },
        handshake_timeout: limits.handshake,
        idle_timeout: limits.idle,
    });
    let runtime = crate::args::runtime(limits.threads)?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(&a.listen)
            .await
            .map_err(|e| Failure::usage(format!("cannot listen on {}: {e}", a.listen)))?;
        outln!(
            "listening on {}",
            listener.local_addr().map_err(Failure::network)?
        );
        out::flush()?;
        let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
        let episodes = crate::accept::AcceptEpisodes::default();
        let mut paced = crate::accept::Paced::new(&episodes);
        let mut n: u64 = 0;
        loop {
            // At the limit, a tunnel must end before the next client is taken.
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return Ok(());
            };
            let (tcp, peer) = paced.accept(&listener, || {}).await;
            n += 1;
            let proxy = proxy.clone();
            tokio::spawn(async move {
                if let Err(e) = tunnel(n, tcp, proxy).await {
                    let _ = out::line(format_args!("tunnel {n} from {peer}: {e}"));
                }
                drop(slot);
            });
        }
    })
}

/// Makes `dir` (if needed) readable by its owner only: the logs hold decrypted traffic.
fn private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// A new log file readable by its owner only.
fn private_file(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// A plain HTTP answer with a one-line body.
async fn answer(tcp: &mut TcpStream, status: &str, body: &str) {
    let body = format!("sslsock intercept: {body}\n");
    let _ = tcp
        .write_all(
            format!(
                "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
        .await;
}

/// Why an upstream failed, in words of ours only: its own bytes (a banner of a service
/// that is not TLS, names from its certificate) stay out of the answer to the client.
fn upstream_failure(e: &sslsock::Error) -> &'static str {
    use sslsock::Error;
    match e {
        Error::Verify(_) => "its certificate did not verify",
        Error::Resolve { .. } => "its name does not resolve",
        Error::Timeout(_) => "it timed out",
        Error::Io(_) | Error::Connect { .. } => "it could not be reached",
        _ => "the TLS handshake with it failed",
    }
}

/// Reads the CONNECT request head (at most 8 KiB); its `host:port`.
async fn connect_target(tcp: &mut TcpStream) -> Result<String, String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 8192 {
            return Err("the request head is longer than 8 KiB".to_owned());
        }
        if tcp.read(&mut byte).await.map_err(|e| e.to_string())? == 0 {
            return Err("the client closed before its request".to_owned());
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head);
    let mut words = text.split_whitespace();
    match (words.next(), words.next()) {
        (Some("CONNECT"), Some(target)) if target.contains(':') => Ok(target.to_owned()),
        _ => {
            let _ = tcp
                .write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                .await;
            Err(format!(
                "not a CONNECT request: {}",
                sslsock::escape_control(text.lines().next().unwrap_or(""))
            ))
        }
    }
}

/// Reads one TLS record (the ClientHello) whole.
async fn first_record(tcp: &mut TcpStream) -> Result<Vec<u8>, String> {
    let mut rec = vec![0u8; 5];
    tcp.read_exact(&mut rec).await.map_err(|e| e.to_string())?;
    if rec[0] != 0x16 {
        return Err("the client did not start TLS inside the tunnel".to_owned());
    }
    let len = usize::from(u16::from_be_bytes([rec[3], rec[4]]));
    if len > 16_384 + 2048 {
        return Err("the client's first record is too long".to_owned());
    }
    rec.resize(5 + len, 0);
    tcp.read_exact(&mut rec[5..])
        .await
        .map_err(|e| e.to_string())?;
    Ok(rec)
}

/// The SNI name and the ALPN protocols of a ClientHello record (None where absent or cut).
fn hello_names(rec: &[u8]) -> (Option<String>, Vec<String>) {
    let mut sni = None;
    let mut alpn = Vec::new();
    let mut parse = || -> Option<()> {
        let body = rec.get(5..)?;
        (body.first()? == &1).then_some(())?;
        let mut i = 4 + 2 + 32;
        i += 1 + usize::from(*body.get(i)?);
        i += 2 + usize::from(u16::from_be_bytes([*body.get(i)?, *body.get(i + 1)?]));
        i += 1 + usize::from(*body.get(i)?);
        let ext_len = usize::from(u16::from_be_bytes([*body.get(i)?, *body.get(i + 1)?]));
        let exts = body.get(i + 2..i + 2 + ext_len)?;
        let mut j = 0;
        while j + 4 <= exts.len() {
            let kind = u16::from_be_bytes([exts[j], exts[j + 1]]);
            let len = usize::from(u16::from_be_bytes([exts[j + 2], exts[j + 3]]));
            let data = exts.get(j + 4..j + 4 + len)?;
            match kind {
                0 if data.len() > 5 && data[2] == 0 => {
                    let n = usize::from(u16::from_be_bytes([data[3], data[4]]));
                    sni = data
                        .get(5..5 + n)
                        .map(|b| String::from_utf8_lossy(b).into_owned());
                }
                16 if data.len() > 2 => {
                    let mut k = 2;
                    while k < data.len() {
                        let n = usize::from(data[k]);
                        if let Some(p) = data.get(k + 1..k + 1 + n) {
                            alpn.push(String::from_utf8_lossy(p).into_owned());
                        }
                        k += 1 + n;
                    }
                }
                _ => {}
            }
            j += 4 + len;
        }
        Some(())
    };
    let _ = parse();
    (sni, alpn)
}

async fn tunnel(n: u64, tcp: TcpStream, proxy: Arc<Proxy>) -> Result<(), String> {
    // Everything up to the end of the client's handshake under one deadline.
    let opened = tokio::time::timeout(proxy.handshake_timeout, open(n, tcp, &proxy))
        .await
        .map_err(|_| "timed out before the tunnel was open (--handshake-timeout)".to_owned())??;
    relay(n, opened, &proxy).await
}

/// A tunnel ready to relay: the client's TLS, the upstream's, and the name for the log.
struct Opened {
    client: AsyncSslSocket<Replayed>,
    upstream: AsyncSslSocket<TcpStream>,
    name: String,
}

async fn open(n: u64, mut tcp: TcpStream, proxy: &Arc<Proxy>) -> Result<Opened, String> {
    let target = connect_target(&mut tcp).await?;
    let (host, port) = match target.rsplit_once(':') {
        Some((h, p)) => (h, p.parse::<u16>().ok()),
        None => (target.as_str(), None),
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    if !port.is_some_and(|p| proxy.allow_ports.contains(&p)) {
        let allowed: Vec<String> = proxy.allow_ports.iter().map(u16::to_string).collect();
        let why = format!(
            "port of {} is not allowed (allowed: {}; --allow-port)",
            sslsock::escape_control(&target),
            allowed.join(", ")
        );
        answer(&mut tcp, "403 Forbidden", &why).await;
        return Err(why);
    }
    // The upstream is checked before the tunnel opens, so that a refusal can be a 502.
    if let Err(e) = AsyncSslSocket::connect_with(&target, &proxy.upstream).await {
        let why = upstream_failure(&e);
        answer(
            &mut tcp,
            "502 Bad Gateway",
            &format!("upstream {target}: {why}"),
        )
        .await;
        return Err(format!(
            "upstream {target}: {e}; answered 502, nothing forged"
        ));
    }
    tcp.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await
        .map_err(|e| e.to_string())?;
    let hello = first_record(&mut tcp).await?;
    let (sni, alpn) = hello_names(&hello);
    let name = sni.unwrap_or(host);
    let upstream_opts = proxy
        .upstream
        .clone()
        .hostname(name.clone())
        .alpn_protocols(alpn.iter().map(String::as_str));
    let upstream = AsyncSslSocket::connect_with(&target, &upstream_opts)
        .await
        .map_err(|e| format!("upstream {target}: {e}"))?;
    let leaf = upstream
        .socket()
        .peer_certificate_der()
        .ok_or("the upstream sent no certificate")?;
    let forged = match proxy.forger.cached_clone(&leaf) {
        Some(forged) => forged,
        None => {
            // A new clone makes a key (RSA-4096 takes a second): off the runtime's threads,
            // so that the other tunnels go on meanwhile.
            let _ = out::line(format_args!("tunnel {n}: forging a certificate for {name}"));
            let started = std::time::Instant::now();
            let forger = proxy.clone();
            let forged = tokio::task::spawn_blocking(move || forger.forger.clone_cert(&leaf))
                .await
                .map_err(|e| format!("forging a certificate: {e}"))?
                .map_err(|e| e.to_string())?;
            let _ = out::line(format_args!(
                "tunnel {n}: forged in {:.2} s",
                started.elapsed().as_secs_f64()
            ));
            forged
        }
    };
    let chosen = upstream.socket().alpn_selected();
    let mut server = Options::new()
        .server(true)
        .cert_pem(format!("{}{}", forged.cert_pem, proxy.forger.ca_pem()))
        .key_pem(forged.key_pem.clone());
    if let Some(p) = &chosen {
        server = server.alpn_protocols([p.as_str()]);
    }
    if let Some(idle) = proxy.idle_timeout {
        server = server.idle_timeout(idle);
    }
    let replay = Replayed {
        head: hello,
        at: 0,
        inner: tcp,
    };
    let mut client = AsyncSslSocket::new_plain(replay, &server).map_err(|e| e.to_string())?;
    client
        .accept_ssl()
        .await
        .map_err(|e| format!("client handshake: {e}"))?;
    let _ = out::line(format_args!(
        "tunnel {n}: {target} (SNI {name}, ALPN {})",
        chosen.as_deref().unwrap_or("-")
    ));
    Ok(Opened {
        client,
        upstream,
        name,
    })
}

async fn relay(n: u64, opened: Opened, proxy: &Proxy) -> Result<(), String> {
    let Opened {
        mut client,
        mut upstream,
        name,
    } = opened;
    match &proxy.log_dir {
        None => {
            tokio::io::copy_bidirectional(&mut client, &mut upstream)
                .await
                .map_err(|e| e.to_string())?;
        }
        Some(dir) => {
            let file = private_file(&dir.join(format!("{n}-{}.log", safe_file_name(&name))))
                .map_err(|e| e.to_string())?;
            let file = Arc::new(std::sync::Mutex::new(file));
            let mut c = Logged {
                inner: client,
                file: file.clone(),
                mark: b">>> client\n",
            };
            let mut u = Logged {
                inner: upstream,
                file,
                mark: b"<<< server\n",
            };
            tokio::io::copy_bidirectional(&mut c, &mut u)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// `name` (from the client's SNI) as a file name: no path separators, no control bytes.
fn safe_file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The client's stream with its first record given back.
struct Replayed {
    head: Vec<u8>,
    at: usize,
    inner: TcpStream,
}

impl AsyncRead for Replayed {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.at < this.head.len() {
            let n = (this.head.len() - this.at).min(buf.remaining());
            buf.put_slice(&this.head[this.at..this.at + n]);
            this.at += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

/// Writes go straight to the inner stream.
macro_rules! write_through {
    ($t:ty $(, $bound:ident)?) => {
        impl$(<$bound: AsyncWrite + Unpin>)? AsyncWrite for $t {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<std::io::Result<usize>> {
                Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
            }
            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
                Pin::new(&mut self.get_mut().inner).poll_flush(cx)
            }
            fn poll_shutdown(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
            ) -> Poll<std::io::Result<()>> {
                Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
            }
        }
    };
}

write_through!(Replayed);
write_through!(Logged<S>, S);

/// A stream whose reads are also written to the connection's log, marked by direction.
struct Logged<S> {
    inner: S,
    file: Arc<std::sync::Mutex<std::fs::File>>,
    mark: &'static [u8],
}

impl<S: AsyncRead + Unpin> AsyncRead for Logged<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        let new = &buf.filled()[before..];
        if !new.is_empty() {
            if let Ok(mut f) = this.file.lock() {
                let _ = f.write_all(this.mark).and_then(|()| f.write_all(new));
            }
        }
        polled
    }
}
