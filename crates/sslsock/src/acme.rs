//! Certificates from an ACME CA (RFC 8555: Let's Encrypt, pebble, ...) with the HTTP-01 or
//! TLS-ALPN-01 challenge (feature `acme`).
//!
//! [`AcmeConfig::obtain`] registers an account (kept for later orders), orders a certificate
//! for the domains, proves control of them, and returns the chain with a fresh P-256 key.
//! HTTP-01 is answered from a small plain HTTP responder of its own (port 80 of the domains,
//! or [`AcmeConfig::http_listen`]); TLS-ALPN-01 ([`Challenge::TlsAlpn01`], RFC 8737) from a
//! TLS responder of its own ([`AcmeConfig::tls_listen`]) or by a running server through
//! [`AlpnChallenges`]. The CA's directory is fetched over sslsock, verified as any server is: with the
//! system's roots, or [`AcmeConfig::ca_file`] for a test CA. Renew at
//! [`Certificate::renew_at`] (two thirds of the lifetime) and hand the new certificate to a
//! running server with [`SslListener::set_context`](crate::SslListener::set_context); `sslsock
//! serve --acme` does both.
//!
//! ```no_run
//! use sslsock::acme::AcmeConfig;
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let issued = AcmeConfig::new("https://acme-staging-v02.api.letsencrypt.org/directory", ["example.org"])
//!     .contact("mailto:admin@example.org")
//!     .obtain()
//!     .await?;
//! let opts = sslsock::Options::new()
//!     .cert_pem(issued.chain_pem.clone())
//!     .key_pem(issued.key_pem.clone());
//! println!("renew at {:?}", issued.renew_at());
//! # let _ = opts;
//! # Ok(())
//! # }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use http_body_util::BodyExt as _;
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use instant_acme::{
    Account, AuthorizationStatus, BodyWrapper, BytesResponse, ChallengeType, HttpClient,
    Identifier, NewAccount, NewOrder, OrderStatus, RetryPolicy,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::http::HttpsConnector;
use crate::Options;

/// What went wrong while obtaining a certificate.
#[derive(Debug)]
#[non_exhaustive]
pub enum AcmeError {
    /// The configuration cannot work (no domain, an unreadable CA file, ...).
    Config(String),
    /// A challenge responder (HTTP-01 or TLS-ALPN-01) could not listen.
    Http01 {
        /// The address it was to listen on.
        addr: String,
        /// Why not.
        source: std::io::Error,
    },
    /// The CA refused, did not answer, or answered something unusable.
    Protocol(String),
}

impl fmt::Display for AcmeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AcmeError::Config(why) => write!(f, "acme: {why}"),
            AcmeError::Http01 { addr, source } => {
                write!(
                    f,
                    "acme: the HTTP-01 responder cannot listen on {addr}: {source}"
                )
            }
            AcmeError::Protocol(why) => write!(f, "acme: {why}"),
        }
    }
}

impl std::error::Error for AcmeError {}

fn protocol(step: &str) -> impl Fn(instant_acme::Error) -> AcmeError + '_ {
    move |e| AcmeError::Protocol(format!("{step}: {e}"))
}

/// An issued certificate: the chain (leaf first) and its key, in PEM.
#[derive(Clone)]
#[non_exhaustive]
pub struct Certificate {
    /// The certificate chain, leaf first, as the CA sent it.
    pub chain_pem: String,
    /// The leaf's private key (PKCS#8).
    pub key_pem: String,
    /// The leaf's notBefore.
    pub not_before: SystemTime,
    /// The leaf's notAfter.
    pub not_after: SystemTime,
}

impl Certificate {
    /// When to renew: two thirds of the way through the certificate's lifetime.
    pub fn renew_at(&self) -> SystemTime {
        let life = self
            .not_after
            .duration_since(self.not_before)
            .unwrap_or_default();
        self.not_before + life.mul_f64(2.0 / 3.0)
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .field("key_pem", &"(redacted)")
            .finish_non_exhaustive()
    }
}

/// Where and what to ask an ACME CA for. The account registered by the first
/// [`obtain`](Self::obtain) is kept for the next ones (renewals and retries), shared by clones.
#[derive(Clone, Debug)]
pub struct AcmeConfig {
    directory: String,
    domains: Vec<String>,
    ca_file: Option<PathBuf>,
    http_listen: String,
    contact: Vec<String>,
    account: KeptAccount,
    account_file: Option<PathBuf>,
    challenge: Challenge,
    tls_listen: String,
    alpn_challenges: Option<Arc<AlpnChallenges>>,
}

/// How the CA checks that the domains are ours.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Challenge {
    /// HTTP-01: the CA fetches `http://DOMAIN/.well-known/acme-challenge/TOKEN` (port 80).
    #[default]
    Http01,
    /// TLS-ALPN-01 (RFC 8737): the CA connects to port 443 of the domain with ALPN
    /// `acme-tls/1` and checks a certificate made for the challenge. A running server answers
    /// through [`AlpnChallenges`], so no other port is needed.
    TlsAlpn01,
}

/// TLS-ALPN-01 answers waiting for the CA, by domain. A server that is running on the port
/// the CA checks answers them itself: give it to [`AcmeConfig::alpn_challenges`] and consult
/// [`context_for`](Self::context_for) from the server's
/// [`SslContext::with_client_hello_callback`](crate::SslContext::with_client_hello_callback);
/// only ClientHellos that offer `acme-tls/1` for a pending domain get the challenge's
/// certificate.
#[derive(Default)]
pub struct AlpnChallenges {
    pending: Mutex<HashMap<String, crate::SslContext>>,
}

impl AlpnChallenges {
    /// No answer pending yet.
    pub fn new() -> AlpnChallenges {
        AlpnChallenges::default()
    }

    /// The challenge's context for this ClientHello: when it offers `acme-tls/1` and names a
    /// domain whose answer is pending; `None` for every other connection.
    pub fn context_for(&self, hello: &crate::ClientHello) -> Option<crate::SslContext> {
        if !hello.alpn().any(|p| p == ACME_TLS_ALPN) {
            return None;
        }
        let name = hello.server_name()?;
        self.pending.lock().ok()?.get(name).cloned()
    }

    fn insert(&self, domain: String, ctx: crate::SslContext) {
        if let Ok(mut p) = self.pending.lock() {
            p.insert(domain, ctx);
        }
    }

    fn remove(&self, domain: &str) {
        if let Ok(mut p) = self.pending.lock() {
            p.remove(domain);
        }
    }
}

impl fmt::Debug for AlpnChallenges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.pending.lock().map_or(0, |p| p.len());
        f.debug_struct("AlpnChallenges")
            .field("pending", &n)
            .finish()
    }
}

/// The ALPN protocol of TLS-ALPN-01 (RFC 8737).
const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// The context that answers a TLS-ALPN-01 challenge for `domain`: a self-signed certificate
/// with the critical acmeIdentifier extension (the SHA-256 of the key authorization), and
/// ALPN `acme-tls/1` only.
fn alpn_challenge_context(domain: &str, digest: &[u8]) -> Result<crate::SslContext, AcmeError> {
    let bad = |e: String| AcmeError::Protocol(format!("the TLS-ALPN-01 certificate: {e}"));
    let key = rcgen::KeyPair::generate().map_err(|e| bad(e.to_string()))?;
    let mut params =
        rcgen::CertificateParams::new(vec![domain.to_owned()]).map_err(|e| bad(e.to_string()))?;
    params.custom_extensions = vec![rcgen::CustomExtension::new_acme_identifier(digest)];
    let cert = params.self_signed(&key).map_err(|e| bad(e.to_string()))?;
    crate::SslContext::new(
        &Options::new()
            .server(true)
            .cert_pem(crate::x509::pem::encode("CERTIFICATE", cert.der()))
            .key_pem(crate::x509::pem::encode(
                "PRIVATE KEY",
                &key.serialize_der(),
            ))
            .alpn_protocols(["acme-tls/1"])
            .alpn_strict(true),
    )
    .map_err(|e| bad(e.to_string()))
}

/// The account of earlier orders (CAs limit how many accounts one address may create).
#[derive(Clone, Default)]
struct KeptAccount(Arc<Mutex<Option<Account>>>);

impl fmt::Debug for KeptAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kept = self.0.lock().is_ok_and(|a| a.is_some());
        f.write_str(if kept {
            "(an account)"
        } else {
            "(no account yet)"
        })
    }
}

impl AcmeConfig {
    /// A certificate for `domains` (the first is the subject's name) from the CA whose ACME
    /// directory is at `directory`.
    pub fn new<I, D>(directory: impl Into<String>, domains: I) -> AcmeConfig
    where
        I: IntoIterator<Item = D>,
        D: Into<String>,
    {
        AcmeConfig {
            directory: directory.into(),
            domains: domains.into_iter().map(Into::into).collect(),
            ca_file: None,
            http_listen: "0.0.0.0:80".to_owned(),
            contact: Vec::new(),
            account: KeptAccount::default(),
            account_file: None,
            challenge: Challenge::Http01,
            tls_listen: "0.0.0.0:443".to_owned(),
            alpn_challenges: None,
        }
    }

    /// How the CA checks the domains: HTTP-01 (the default) or TLS-ALPN-01.
    pub fn challenge(mut self, challenge: Challenge) -> Self {
        self.challenge = challenge;
        self
    }

    /// TLS-ALPN-01 without a running server: where the responder listens while the CA
    /// validates (`0.0.0.0:443` by default: the CA asks port 443 of each domain).
    pub fn tls_listen(mut self, addr: impl Into<String>) -> Self {
        self.tls_listen = addr.into();
        self
    }

    /// TLS-ALPN-01 answered by a running server through `challenges` instead of a listener of
    /// this config's own.
    pub fn alpn_challenges(mut self, challenges: Arc<AlpnChallenges>) -> Self {
        self.alpn_challenges = Some(challenges);
        self
    }

    /// Trust the CA certificates in `path` (PEM) for the directory's HTTPS server, instead of
    /// the system's roots (test CAs such as pebble).
    pub fn ca_file(mut self, path: impl AsRef<Path>) -> Self {
        self.ca_file = Some(path.as_ref().to_path_buf());
        self
    }

    /// Where the HTTP-01 responder listens while the CA validates (`0.0.0.0:80` by default:
    /// the CA asks port 80 of each domain).
    pub fn http_listen(mut self, addr: impl Into<String>) -> Self {
        self.http_listen = addr.into();
        self
    }

    /// Keep the account in `path` (its URL and private key, as JSON, written with mode
    /// 0600), so that a restarted program orders with the same account instead of
    /// registering another (CAs limit new accounts). A file for another directory, or an
    /// account the CA no longer knows, is replaced by a new account (warned); a file that is
    /// not an account is an error. Defaults to none: the account lives as long as the config.
    pub fn account_file(mut self, path: impl AsRef<Path>) -> Self {
        self.account_file = Some(path.as_ref().to_path_buf());
        self
    }

    /// A contact URL for the account (`mailto:...`), repeatable.
    pub fn contact(mut self, url: impl Into<String>) -> Self {
        self.contact.push(url.into());
        self
    }

    /// Registers an account, orders, proves control of each domain over HTTP-01, and returns
    /// the certificate.
    pub async fn obtain(&self) -> Result<Certificate, AcmeError> {
        if self.domains.is_empty() {
            return Err(AcmeError::Config(
                "no domain to ask a certificate for".into(),
            ));
        }
        let ids: Vec<Identifier> = self.domains.iter().cloned().map(Identifier::Dns).collect();
        let mut kept = self.account.0.lock().ok().and_then(|a| a.clone());
        if kept.is_none() {
            kept = self.account_from_file().await?;
        }
        let (account, mut order) = match kept {
            Some(account) => match account.new_order(&NewOrder::new(&ids)).await {
                Ok(order) => (account, order),
                // The CA may have forgotten the account (a test CA restarted): a new one.
                Err(_) => self.order_with_new_account(&ids).await?,
            },
            None => self.order_with_new_account(&ids).await?,
        };
        drop(account);
        let answers = Arc::new(Mutex::new(HashMap::new()));
        let alpn = self.alpn_challenges.clone().unwrap_or_default();
        let mut responders = Responders::default();
        let mut published = Vec::new();
        let mut authorizations = order.authorizations();
        while let Some(next) = authorizations.next().await {
            let mut authz = next.map_err(protocol("reading an authorization"))?;
            match authz.status {
                AuthorizationStatus::Pending => {}
                AuthorizationStatus::Valid => continue,
                other => {
                    return Err(AcmeError::Protocol(format!(
                        "an authorization is {other:?}"
                    )))
                }
            }
            let kind = match self.challenge {
                Challenge::Http01 => ChallengeType::Http01,
                Challenge::TlsAlpn01 => ChallengeType::TlsAlpn01,
            };
            let mut challenge = authz.challenge(kind.clone()).ok_or_else(|| {
                AcmeError::Protocol(format!("the CA offers no {kind:?} challenge"))
            })?;
            let key_authorization = challenge.key_authorization();
            match self.challenge {
                Challenge::Http01 => {
                    if let Ok(mut a) = answers.lock() {
                        a.insert(
                            challenge.token.clone(),
                            key_authorization.as_str().to_owned(),
                        );
                    }
                    if responders.http.is_none() {
                        responders.http =
                            Some(http_01_responder(&self.http_listen, answers.clone()).await?);
                    }
                }
                Challenge::TlsAlpn01 => {
                    let domain = challenge.identifier().to_string();
                    let ctx = alpn_challenge_context(&domain, key_authorization.digest().as_ref())?;
                    alpn.insert(domain.clone(), ctx.clone());
                    published.push(domain);
                    if self.alpn_challenges.is_none() && responders.tls.is_none() {
                        responders.tls =
                            Some(tls_alpn_01_responder(&self.tls_listen, ctx, alpn.clone()).await?);
                    }
                }
            }
            challenge
                .set_ready()
                .await
                .map_err(protocol("answering the challenge"))?;
        }
        let status = order
            .poll_ready(&RetryPolicy::default())
            .await
            .map_err(protocol("waiting for validation"))?;
        drop(responders);
        for domain in &published {
            alpn.remove(domain);
        }
        if status != OrderStatus::Ready {
            let listen = match self.challenge {
                Challenge::Http01 => &self.http_listen,
                Challenge::TlsAlpn01 => &self.tls_listen,
            };
            return Err(AcmeError::Protocol(format!(
                "the order is {status:?}, not ready (did the CA reach {listen} for each domain?)"
            )));
        }
        let key = rcgen::KeyPair::generate()
            .map_err(|e| AcmeError::Protocol(format!("making the key: {e}")))?;
        let csr = rcgen::CertificateParams::new(self.domains.clone())
            .and_then(|p| p.serialize_request(&key))
            .map_err(|e| AcmeError::Protocol(format!("making the request: {e}")))?;
        order
            .finalize_csr(csr.der())
            .await
            .map_err(protocol("finalizing"))?;
        let chain_pem = order
            .poll_certificate(&RetryPolicy::default())
            .await
            .map_err(protocol("fetching the certificate"))?;
        let (not_before, not_after) = validity(&chain_pem)?;
        Ok(Certificate {
            chain_pem,
            key_pem: crate::x509::pem::encode("PRIVATE KEY", &key.serialize_der()),
            not_before,
            not_after,
        })
    }
}

impl AcmeConfig {
    /// The HTTPS client for the CA's directory.
    fn http(&self) -> Result<Box<AcmeHttp>, AcmeError> {
        let mut opts = Options::new();
        if let Some(ca) = &self.ca_file {
            opts = opts.ca_file(ca);
        }
        let connector = HttpsConnector::new(&opts)
            .map_err(|e| AcmeError::Config(format!("the directory's TLS client: {e}")))?;
        Ok(Box::new(AcmeHttp(
            Client::builder(TokioExecutor::new()).build(connector),
        )))
    }

    /// The account kept in [`account_file`](Self::account_file), when there is one for this
    /// directory (and it is then kept in memory too).
    async fn account_from_file(&self) -> Result<Option<Account>, AcmeError> {
        let Some(path) = &self.account_file else {
            return Ok(None);
        };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(AcmeError::Config(format!(
                    "account file {}: {e}",
                    path.display()
                )))
            }
        };
        let kept: KeptFile = serde_json::from_str(&text).map_err(|e| {
            AcmeError::Config(format!(
                "account file {}: not an ACME account ({e}); remove it to register a new one",
                path.display()
            ))
        })?;
        if kept.directory != self.directory {
            log::warn!(
                "acme: the account in {} is for {}, not {}: registering a new one",
                path.display(),
                kept.directory,
                self.directory
            );
            return Ok(None);
        }
        let account = Account::builder_with_http(self.http()?)
            .from_credentials(kept.credentials)
            .await
            .map_err(protocol("restoring the account"))?;
        if let Ok(mut memory) = self.account.0.lock() {
            *memory = Some(account.clone());
        }
        Ok(Some(account))
    }

    /// Writes a new account to [`account_file`](Self::account_file): a temporary file of mode
    /// 0600, renamed over the old one. A failure is warned about: the order goes on, and
    /// the account lasts as long as the program.
    fn save_account(&self, credentials: instant_acme::AccountCredentials) {
        let Some(path) = &self.account_file else {
            return;
        };
        let kept = KeptFile {
            directory: self.directory.clone(),
            credentials,
        };
        let written = serde_json::to_vec_pretty(&kept)
            .map_err(std::io::Error::other)
            .and_then(|json| {
                let tmp = path.with_extension("tmp");
                // Made anew, so that its mode is ours whatever an old one had.
                let _ = std::fs::remove_file(&tmp);
                let mut file = private_file(&tmp)?;
                std::io::Write::write_all(&mut file, &json)?;
                file.sync_all()?;
                std::fs::rename(&tmp, path)
            });
        if let Err(e) = written {
            log::warn!(
                "acme: cannot keep the account in {}: {e}; a restarted program registers a new one",
                path.display()
            );
        }
    }

    /// Registers an account (kept for later orders) and places the order.
    async fn order_with_new_account(
        &self,
        ids: &[Identifier],
    ) -> Result<(Account, instant_acme::Order), AcmeError> {
        let contact: Vec<&str> = self.contact.iter().map(String::as_str).collect();
        let (account, credentials) = Account::builder_with_http(self.http()?)
            .create(
                &NewAccount {
                    contact: &contact,
                    terms_of_service_agreed: true,
                    only_return_existing: false,
                },
                self.directory.clone(),
                None,
            )
            .await
            .map_err(protocol("creating the account"))?;
        if let Ok(mut kept) = self.account.0.lock() {
            *kept = Some(account.clone());
        }
        self.save_account(credentials);
        let order = account
            .new_order(&NewOrder::new(ids))
            .await
            .map_err(protocol("ordering"))?;
        Ok((account, order))
    }
}

/// What an account file holds: the directory the account is for, and the account.
#[derive(serde::Serialize, serde::Deserialize)]
struct KeptFile {
    directory: String,
    credentials: instant_acme::AccountCredentials,
}

/// A new file only its owner can read (it holds a private key).
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// The validity of the first certificate in `chain_pem`.
fn validity(chain_pem: &str) -> Result<(SystemTime, SystemTime), AcmeError> {
    let bad = |why: String| AcmeError::Protocol(format!("the issued certificate: {why}"));
    let block = crate::x509::pem::find_block(chain_pem.as_bytes(), |l| l == "CERTIFICATE")
        .ok_or_else(|| bad("no certificate in the CA's answer".into()))?;
    let (_, cert) =
        x509_parser::parse_x509_certificate(&block.der).map_err(|e| bad(e.to_string()))?;
    let at = |t: x509_parser::time::ASN1Time| {
        SystemTime::UNIX_EPOCH + Duration::from_secs(t.timestamp().max(0) as u64)
    };
    Ok((
        at(cert.validity().not_before),
        at(cert.validity().not_after),
    ))
}

/// instant-acme's HTTP through sslsock's connector.
struct AcmeHttp(Client<HttpsConnector, BodyWrapper<Bytes>>);

impl HttpClient for AcmeHttp {
    fn request(
        &self,
        req: http::Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, instant_acme::Error>> + Send>> {
        let sent = self.0.request(req);
        Box::pin(async move {
            let response = sent.await.map_err(|e| {
                // hyper-util's error names the step only; the cause (a certificate that did
                // not verify, a refused connection) is in its sources.
                instant_acme::Error::Other(with_sources(&e).into())
            })?;
            // Read here, so that a body that fails to arrive is this call's error.
            let (parts, body) = response.into_parts();
            let bytes = body
                .collect()
                .await
                .map_err(|e| instant_acme::Error::Other(Box::new(e)))?
                .to_bytes();
            Ok(BytesResponse::from(http::Response::from_parts(
                parts,
                http_body_util::Full::new(bytes),
            )))
        })
    }
}

/// An error's message followed by its sources'.
fn with_sources(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let more = cause.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        next = cause.source();
    }
    text
}

/// The responders of one order, stopped when it is dropped.
#[derive(Default)]
struct Responders {
    http: Option<Responder>,
    tls: Option<Responder>,
}

/// A challenge responder: a listener whose every connection gets a task of its own, until
/// it is dropped.
struct Responder {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Responder {
    /// Listens on `addr` and hands each connection to `answer`.
    async fn start<F, Fut>(addr: &str, answer: F) -> Result<Responder, AcmeError>
    where
        F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| AcmeError::Http01 {
                addr: addr.to_owned(),
                source,
            })?;
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                tokio::spawn(answer(tcp));
            }
        });
        Ok(Responder { task })
    }
}

/// The TLS-ALPN-01 responder of a config without a running server: completes the handshake
/// of each connection with the challenge context its ClientHello asks for.
async fn tls_alpn_01_responder(
    addr: &str,
    first: crate::SslContext,
    pending: Arc<AlpnChallenges>,
) -> Result<Responder, AcmeError> {
    let ctx = first
        .with_client_hello_callback(move |hello| pending.context_for(hello))
        .map_err(|e| AcmeError::Config(e.to_string()))?;
    Responder::start(addr, move |tcp| {
        let ctx = ctx.clone();
        async move {
            if let Ok(mut tls) = crate::AsyncSslSocket::accept_with(tcp, &ctx).await {
                let _ = tls.shutdown().await;
            }
        }
    })
    .await
}

/// The HTTP-01 responder: answers `/.well-known/acme-challenge/TOKEN` with the key
/// authorization, anything else with 404.
async fn http_01_responder(
    addr: &str,
    answers: Arc<Mutex<HashMap<String, String>>>,
) -> Result<Responder, AcmeError> {
    Responder::start(addr, move |mut tcp| {
        let answers = answers.clone();
        async move {
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 8192 {
                match tcp.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let text = String::from_utf8_lossy(&head);
            let path = text.split_whitespace().nth(1).unwrap_or("");
            let answer = path
                .strip_prefix("/.well-known/acme-challenge/")
                .and_then(|token| answers.lock().ok()?.get(token).cloned());
            let reply = match answer {
                Some(body) => format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                ),
                None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned(),
            };
            let _ = tcp.write_all(reply.as_bytes()).await;
            let _ = tcp.shutdown().await;
        }
    })
    .await
}
