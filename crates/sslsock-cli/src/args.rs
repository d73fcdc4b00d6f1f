//! Arguments shared by several subcommands: one flag per concept, the same everywhere.

use std::path::{Path, PathBuf};

use sslsock::x509::create::{Digest, KeyType};
use sslsock::{FingerprintAlgorithm, Options};

/// The local identity: a certificate, its key and their password (`connect`, `serve`).
#[derive(clap::Args, Debug, Default)]
pub(crate) struct IdentityArgs {
    /// Certificate chain (PEM, DER or PKCS#12; a PEM may hold the key too).
    #[arg(long)]
    pub(crate) cert: Option<PathBuf>,
    /// Private key for --cert (PEM or DER; PKCS#8, PKCS#1 or SEC1).
    #[arg(long, requires = "cert")]
    pub(crate) key: Option<PathBuf>,
    /// Password of an encrypted key or PKCS#12 --cert: TEXT, pass:TEXT, env:VARIABLE or
    /// file:PATH (its first line).
    #[arg(long, requires = "cert", alias = "key-password", value_parser = secret)]
    pub(crate) password: Option<String>,
}

impl IdentityArgs {
    /// Adds the identity, if any, to `opts`.
    pub(crate) fn apply(&self, mut opts: Options) -> Options {
        if let Some(c) = &self.cert {
            opts = opts.cert_file(c);
        }
        if let Some(k) = &self.key {
            opts = opts.key_file(k);
        }
        if let Some(pw) = &self.password {
            opts = opts.key_password(pw);
        }
        opts
    }
}

/// The cipher suites and groups of `connect` and `serve` (s_client's and s_server's -cipher,
/// -ciphersuites, -groups).
#[derive(clap::Args)]
pub(crate) struct CipherArgs {
    /// TLS 1.2 cipher string in OpenSSL syntax.
    #[arg(long, visible_alias = "cipher")]
    pub(crate) ciphers: Option<String>,
    /// TLS 1.3 cipher suites, ':'-separated.
    #[arg(long)]
    pub(crate) ciphersuites: Option<String>,
    /// Key exchange groups, in preference order, e.g. X25519:P-256.
    #[arg(long, visible_alias = "curves")]
    pub(crate) groups: Option<String>,
}

impl CipherArgs {
    /// Adds the lists given to `opts`.
    pub(crate) fn apply(&self, mut opts: Options) -> Options {
        if let Some(c) = &self.ciphers {
            opts = opts.cipher_list(c);
        }
        if let Some(c) = &self.ciphersuites {
            opts = opts.ciphersuites(c);
        }
        if let Some(g) = &self.groups {
            opts = opts.ecdh_curve(g);
        }
        opts
    }
}

/// A password given as `TEXT`, `pass:TEXT`, `env:VARIABLE` or `file:PATH` (the file's first
/// line), so that it need not stand in the process list.
pub(crate) fn secret(value: &str) -> Result<String, String> {
    if let Some(text) = value.strip_prefix("pass:") {
        return Ok(text.to_owned());
    }
    if let Some(var) = value.strip_prefix("env:") {
        return std::env::var(var).map_err(|_| format!("environment variable {var} is not set"));
    }
    if let Some(path) = value.strip_prefix("file:") {
        let bytes =
            sslsock::x509::read_capped(Path::new(path)).map_err(|e| format!("{path}: {e}"))?;
        let text = String::from_utf8_lossy(&bytes);
        return Ok(text.lines().next().unwrap_or_default().to_owned());
    }
    Ok(value.to_owned())
}

/// A digest for fingerprints.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub(crate) enum FingerprintDigest {
    /// MD5 (legacy).
    Md5,
    /// SHA-1 (legacy).
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl From<FingerprintDigest> for FingerprintAlgorithm {
    fn from(d: FingerprintDigest) -> Self {
        match d {
            FingerprintDigest::Md5 => FingerprintAlgorithm::Md5,
            FingerprintDigest::Sha1 => FingerprintAlgorithm::Sha1,
            FingerprintDigest::Sha224 => FingerprintAlgorithm::Sha224,
            FingerprintDigest::Sha256 => FingerprintAlgorithm::Sha256,
            FingerprintDigest::Sha384 => FingerprintAlgorithm::Sha384,
            FingerprintDigest::Sha512 => FingerprintAlgorithm::Sha512,
        }
    }
}

/// The type of a new key.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub(crate) enum KeyTypeArg {
    /// RSA, 2048 bits.
    Rsa2048,
    /// RSA, 3072 bits.
    Rsa3072,
    /// RSA, 4096 bits.
    Rsa4096,
    /// ECDSA on P-256.
    Ec256,
    /// ECDSA on P-384.
    Ec384,
    /// Ed25519.
    Ed25519,
}

impl From<KeyTypeArg> for KeyType {
    fn from(k: KeyTypeArg) -> Self {
        match k {
            KeyTypeArg::Rsa2048 => KeyType::Rsa2048,
            KeyTypeArg::Rsa3072 => KeyType::Rsa3072,
            KeyTypeArg::Rsa4096 => KeyType::Rsa4096,
            KeyTypeArg::Ec256 => KeyType::EcP256,
            KeyTypeArg::Ec384 => KeyType::EcP384,
            KeyTypeArg::Ed25519 => KeyType::Ed25519,
        }
    }
}

/// The digest a certificate is signed with (RSA and ECDSA issuers).
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub(crate) enum SignatureDigest {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl From<SignatureDigest> for Digest {
    fn from(d: SignatureDigest) -> Self {
        match d {
            SignatureDigest::Sha256 => Digest::Sha256,
            SignatureDigest::Sha384 => Digest::Sha384,
            SignatureDigest::Sha512 => Digest::Sha512,
        }
    }
}

/// The host name schemes, for `--scheme`.
pub(crate) fn scheme_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(sslsock::Scheme::NAMES)
}

impl From<KeyType> for KeyTypeArg {
    fn from(k: KeyType) -> Self {
        match k {
            KeyType::Rsa2048 => KeyTypeArg::Rsa2048,
            KeyType::Rsa3072 => KeyTypeArg::Rsa3072,
            KeyType::Rsa4096 => KeyTypeArg::Rsa4096,
            KeyType::EcP384 => KeyTypeArg::Ec384,
            KeyType::Ed25519 => KeyTypeArg::Ed25519,
            _ => KeyTypeArg::Ec256,
        }
    }
}

impl From<Digest> for SignatureDigest {
    fn from(d: Digest) -> Self {
        match d {
            Digest::Sha384 => SignatureDigest::Sha384,
            Digest::Sha512 => SignatureDigest::Sha512,
            _ => SignatureDigest::Sha256,
        }
    }
}

impl From<FingerprintAlgorithm> for FingerprintDigest {
    fn from(a: FingerprintAlgorithm) -> Self {
        match a {
            FingerprintAlgorithm::Md5 => FingerprintDigest::Md5,
            FingerprintAlgorithm::Sha1 => FingerprintDigest::Sha1,
            FingerprintAlgorithm::Sha224 => FingerprintDigest::Sha224,
            FingerprintAlgorithm::Sha384 => FingerprintDigest::Sha384,
            FingerprintAlgorithm::Sha512 => FingerprintDigest::Sha512,
            _ => FingerprintDigest::Sha256,
        }
    }
}

/// `--ocsp`: the OCSP mode names.
pub(crate) fn ocsp_mode(s: &str) -> Result<sslsock::ocsp::OcspMode, String> {
    sslsock::ocsp::OcspMode::parse(s).map_err(|e| e.to_string())
}

/// Seconds given on the command line: a positive number (`0` only where `zero_is_none`,
/// meaning no limit). Values past what a duration holds mean no practical limit.
pub(crate) fn seconds(
    flag: &str,
    value: f64,
    zero_is_none: bool,
) -> Result<Option<std::time::Duration>, crate::Failure> {
    if value == 0.0 && zero_is_none {
        return Ok(None);
    }
    if value.is_nan() || value <= 0.0 {
        return Err(crate::Failure::usage(format!(
            "{flag} {value}: must be a positive number of seconds{}",
            if zero_is_none { " (0 for none)" } else { "" }
        )));
    }
    Ok(Some(
        std::time::Duration::try_from_secs_f64(value).unwrap_or(std::time::Duration::MAX),
    ))
}

/// A duration as `250ms`, `90s`, `30m`, `12h`, `2d` or plain seconds (`3600`), at least
/// `min`.
pub(crate) fn duration(
    flag: &str,
    text: &str,
    min: std::time::Duration,
) -> Result<std::time::Duration, crate::Failure> {
    let bad = || {
        crate::Failure::usage(format!(
            "{flag} {text}: want a duration such as 250ms, 90s, 30m, 12h or 2d"
        ))
    };
    let t = text.trim();
    let (number, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => t.split_at(i),
        None => (t, "s"),
    };
    let millis_per_unit: u64 = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(bad()),
    };
    let millis = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(millis_per_unit))
        .filter(|&ms| ms > 0)
        .ok_or_else(bad)?;
    let d = std::time::Duration::from_millis(millis);
    if d < min {
        return Err(crate::Failure::usage(format!(
            "{flag} {text}: too short, want at least {}ms",
            min.as_millis()
        )));
    }
    Ok(d)
}

/// `-o KEY=VALUE` arguments applied to `opts` with the library's IO::Socket::SSL parser.
pub(crate) fn perl_options(opts: Options, args: &[String]) -> Result<Options, crate::Failure> {
    let pairs = args
        .iter()
        .map(|a| {
            a.split_once('=').ok_or_else(|| {
                crate::Failure::usage(format!("-o {a}: want KEY=VALUE (e.g. SSL_version=TLSv1_2)"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(sslsock::args::apply_args(opts, pairs)?)
}

/// The tokio runtime of `intercept`: `threads` workers (default:
/// one per core); one thread runs on the current-thread scheduler, which costs nothing to hand
/// tasks between threads.
pub(crate) fn runtime(threads: Option<usize>) -> Result<tokio::runtime::Runtime, crate::Failure> {
    let n = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .max(1);
    let mut builder = if n == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(n);
        b
    };
    builder
        .enable_all()
        .build()
        .map_err(crate::Failure::runtime)
}

/// One listener served from `threads` threads (default: one per core), each a current-thread
/// runtime with its own handle on the listener. A connection stays on the thread that
/// accepted it, so no task moves between cores and no thread wakes another; measured here it
/// beat one multi-thread runtime by about a tenth in handshakes per second and CPU per
/// handshake (`bench/parallel.py`), and SO_REUSEPORT listeners per thread did no better than
/// the one shared accept queue, which loses no connection when a thread stops.
///
/// Everything a thread needs is made by [`Cores::new`], before the server says it listens, so
/// a server short of descriptors fails at once rather than losing a thread later.
pub(crate) struct Cores {
    workers: Vec<(tokio::runtime::Runtime, tokio::net::TcpListener)>,
}

impl Cores {
    pub(crate) fn new(
        threads: Option<usize>,
        listener: &std::net::TcpListener,
    ) -> Result<Self, crate::Failure> {
        let n = threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
            .max(1);
        listener
            .set_nonblocking(true)
            .map_err(crate::Failure::network)?;
        let mut workers = Vec::with_capacity(n);
        for _ in 0..n {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(crate::Failure::runtime)?;
            let handle = listener.try_clone().map_err(crate::Failure::network)?;
            let handle = {
                let _context = rt.enter();
                tokio::net::TcpListener::from_std(handle).map_err(crate::Failure::network)?
            };
            workers.push((rt, handle));
        }
        Ok(Self { workers })
    }

    /// Runs `serve` on every thread until all have returned; the first error is the result.
    pub(crate) fn run<F, Fut>(self, serve: F) -> Result<(), crate::Failure>
    where
        F: Fn(tokio::net::TcpListener) -> Fut + Send + Clone + 'static,
        Fut: std::future::Future<Output = Result<(), crate::Failure>>,
    {
        let mut threads = Vec::with_capacity(self.workers.len());
        for (i, (rt, listener)) in self.workers.into_iter().enumerate() {
            let serve = serve.clone();
            let thread = std::thread::Builder::new()
                .name(format!("sslsock-{i}"))
                .spawn(move || rt.block_on(serve(listener)))
                .map_err(crate::Failure::runtime)?;
            threads.push(thread);
        }
        let mut result = Ok(());
        for t in threads {
            // A panic in a worker is a bug: pass it on rather than hide it.
            let r = t.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            if result.is_ok() {
                result = r;
            }
        }
        result
    }
}

/// `serve` and `intercept`: how long a connection may stay silent after its handshake
/// (`--idle-timeout`, `0` for none). The library has none unless `idle_timeout` is given.
pub(crate) const SERVE_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// `serve` and `intercept`: connections served at once (`--max-connections`); more wait in
/// the listen queue.
pub(crate) const SERVE_MAX_CONNECTIONS: usize = 1000;

/// `--engine`: rustls or openssl.
pub(crate) fn engine(s: &str) -> Result<sslsock::Engine, String> {
    s.parse::<sslsock::Engine>().map_err(|e| e.to_string())
}

/// `--psk HEX`: the key's bytes.
pub(crate) fn hex_key(hex: &str) -> Result<Vec<u8>, crate::Failure> {
    let hex = hex.trim();
    let bad = || {
        crate::Failure::usage(format!(
            "--psk \"{hex}\" is not an even number of hex digits"
        ))
    };
    hex_bytes(hex).filter(|k| !k.is_empty()).ok_or_else(bad)
}

/// Upper-case hex, as openssl prints bytes.
pub(crate) fn hex_upper(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            // Writing to a String cannot fail.
            let _ = write!(s, "{b:02X}");
            s
        })
}

/// The bytes of an even number of hex digits; `None` for anything else.
pub(crate) fn hex_bytes(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}

/// `--engine` and the pre-shared key of `connect` and `serve`.
#[derive(clap::Args)]
pub(crate) struct EngineArgs {
    /// The TLS engine: rustls (the default) or openssl (for legacy peers: TLSv1/TLSv1_1,
    /// OpenSSL cipher strings, PSK, NPN, DH parameters; needs a build with the `openssl`
    /// feature).
    #[arg(long, value_parser = engine)]
    engine: Option<sslsock::Engine>,
    /// A pre-shared key (hex) instead of certificates (openssl engine): a client's key, or the
    /// key a server accepts for --psk-identity.
    #[arg(long, value_name = "HEX", requires = "psk_identity")]
    psk: Option<String>,
    /// The identity of --psk.
    #[arg(long, value_name = "ID", requires = "psk")]
    psk_identity: Option<String>,
}

impl EngineArgs {
    /// Whether a pre-shared key is given (`--psk`).
    pub(crate) fn psk_given(&self) -> bool {
        self.psk.is_some()
    }

    /// Applies the flags; `server` takes the key as one it accepts.
    pub(crate) fn apply(&self, mut o: Options, server: bool) -> Result<Options, crate::Failure> {
        if let Some(e) = self.engine {
            o = o.engine(e);
        }
        if let (Some(key), Some(id)) = (&self.psk, &self.psk_identity) {
            let key = hex_key(key)?;
            o = if server {
                o.psk_server([(id.as_str(), key)])
            } else {
                o.psk(id.as_str(), key)
            };
        }
        Ok(o)
    }
}

/// The limits of a server command (`serve`, `intercept`): the handshake and idle deadlines,
/// the connection cap and the worker threads.
#[derive(clap::Args)]
pub(crate) struct ServerLimits {
    /// Seconds a client may take from connecting to the end of its handshake (for
    /// `intercept`: the CONNECT request, the upstream's handshake and the client's).
    #[arg(long, default_value_t = 30.0)]
    handshake_timeout: f64,
    /// Close a connection neither side has used for this many seconds after the handshake
    /// (default 300; 0 for never).
    #[arg(long)]
    idle_timeout: Option<f64>,
    /// Serve at most this many connections at once; more wait in the listen queue
    /// (default 1000).
    #[arg(long, default_value_t = SERVE_MAX_CONNECTIONS)]
    max_connections: usize,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
}

/// [`ServerLimits`] checked and in durations.
pub(crate) struct Limits {
    /// The handshake deadline (`Duration::MAX` for none).
    pub(crate) handshake: std::time::Duration,
    /// The idle deadline, if any.
    pub(crate) idle: Option<std::time::Duration>,
    /// Connections served at once (at least one).
    pub(crate) max_connections: usize,
    /// Worker threads (`None`: one per core).
    pub(crate) threads: Option<usize>,
}

impl ServerLimits {
    /// The limits, or a usage error naming the flag at fault.
    pub(crate) fn resolve(&self) -> Result<Limits, crate::Failure> {
        let handshake = seconds("--handshake-timeout", self.handshake_timeout, false)?
            .unwrap_or(std::time::Duration::MAX);
        let idle = match self.idle_timeout {
            None => Some(SERVE_IDLE_TIMEOUT),
            Some(t) => seconds("--idle-timeout", t, true)?,
        };
        if self.max_connections == 0 {
            return Err(crate::Failure::usage(
                "--max-connections must be at least 1",
            ));
        }
        Ok(Limits {
            handshake,
            idle,
            max_connections: self.max_connections,
            threads: self.threads,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::duration;
    use std::time::Duration;

    #[test]
    fn durations_in_units() {
        let d = |t| duration("--x", t, Duration::from_secs(1)).map_err(|e| e.message().to_owned());
        assert_eq!(d("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(d("1500ms"), Ok(Duration::from_millis(1500)));
        assert_eq!(d("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(d("12h"), Ok(Duration::from_secs(43_200)));
        assert_eq!(d("2d"), Ok(Duration::from_secs(172_800)));
        assert_eq!(d("3600"), Ok(Duration::from_secs(3600)));
        for bad in [
            "",
            "0",
            "0s",
            "h",
            "12x",
            "-5s",
            "1.5h",
            "99999999999999999999d",
        ] {
            let e = d(bad).unwrap_err();
            assert!(e.contains("want a duration"), "{bad}: {e}");
        }
        let e = d("999ms").unwrap_err();
        assert!(e.contains("too short, want at least 1000ms"), "{e}");
        let fine = duration("--x", "5ms", Duration::from_millis(1)).unwrap();
        assert_eq!(fine, Duration::from_millis(5));
    }
}
