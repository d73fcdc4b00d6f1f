//! IO::Socket::SSL-style arguments: `("SSL_verify_mode", "SSL_VERIFY_PEER")` pairs, as a Perl
//! program writes them, turned into [`Options`].
//!
//! Every `SSL_*` key of the manual is known here ([`KEYS`]): it is mapped to an `Options`
//! setter, or refused with the reason (a callback or an object cannot be written as text; the
//! engine has no finite-field DH nor NPN). Unknown keys and bad values are a configuration
//! error naming the key.
//!
//! Values: booleans as `1`/`0`/`true`/`false`/`yes`/`no`; lists separated by `,` (ALPN,
//! fingerprints, CRL files); `SSL_verify_mode` and `SSL_ocsp_mode` as numbers or as their
//! constants joined by `|` (`SSL_VERIFY_PEER|SSL_VERIFY_FAIL_IF_NO_PEER_CERT`). A per-SNI
//! hash, Perl's `SSL_cert_file => { "" => "a.pem", "b.example" => "b.pem" }`, is written
//! `SSL_cert_file=a.pem;b.example=b.pem` (a part without `NAME=` is the default), the same
//! for `SSL_key_file`.
//!
//! ```
//! use sslsock::args::from_args;
//! let opts = from_args([
//!     ("SSL_verify_mode", "SSL_VERIFY_PEER"),
//!     ("SSL_version", "SSLv23:!TLSv1:!TLSv1_1"),
//!     ("SSL_alpn_protocols", "h2,http/1.1"),
//!     ("SSL_hostname", "example.org"),
//! ])?;
//! # Ok::<(), sslsock::ConfigError>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::error::ConfigError;
use crate::ocsp::OcspMode;
use crate::options::{Options, VerifyMode};
use crate::verify::hostname::Scheme;
use crate::verify::public_suffix::PublicSuffix;

/// What becomes of a key of the manual.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Support {
    /// Taken as text, mapped to this `Options` spelling.
    Mapped(&'static str),
    /// Not taken as text: why, and what to use instead.
    Refused(&'static str),
}

/// Every `SSL_*` key of the manual (and the IO::Socket keys a Perl program passes with them).
pub const KEYS: &[(&str, Support)] = &[
    ("SSL_server", Support::Mapped("Options::server")),
    ("SSL_hostname", Support::Mapped("Options::hostname (\"\" sends no SNI)")),
    ("SSL_startHandshake", Support::Mapped("Options::start_handshake")),
    ("SSL_keepSocketOnError", Support::Mapped("Options::keep_socket_on_error")),
    ("SSL_ca", Support::Mapped("Options::ca_cert (PEM text)")),
    ("SSL_ca_file", Support::Mapped("Options::ca_file")),
    ("SSL_ca_path", Support::Mapped("Options::ca_path")),
    ("SSL_client_ca", Support::Mapped("Options::client_ca (PEM text)")),
    ("SSL_client_ca_file", Support::Mapped("Options::client_ca_file")),
    ("SSL_fingerprint", Support::Mapped("Options::fingerprint (a list)")),
    ("SSL_cert_file", Support::Mapped("Options::cert_file, or Options::sni_cert per name")),
    ("SSL_cert", Support::Mapped("Options::cert_pem (PEM text)")),
    ("SSL_key_file", Support::Mapped("Options::key_file, or Options::sni_cert per name")),
    ("SSL_key", Support::Mapped("Options::key_pem (PEM text)")),
    ("SSL_passwd_cb", Support::Refused("a callback (use Options::passwd_cb, or SSL_key_password for a fixed password)")),
    ("SSL_key_password", Support::Mapped("Options::key_password")),
    ("SSL_use_cert", Support::Mapped("Options::use_cert")),
    ("SSL_version", Support::Mapped("Options::version (TLS 1.2 and 1.3; TLSv1 and TLSv1_1 on the openssl engine only)")),
    ("SSL_cipher_list", Support::Mapped("Options::cipher_list")),
    ("SSL_ciphersuites", Support::Mapped("Options::ciphersuites")),
    ("SSL_honor_cipher_order", Support::Mapped("Options::honor_cipher_order")),
    ("SSL_dh_file", Support::Mapped("Options::dh_file (a server on the openssl engine; the default engine has no finite-field DHE and refuses it, naming that engine)")),
    ("SSL_dh", Support::Mapped("Options::dh_pem (PEM text; a server on the openssl engine, as SSL_dh_file)")),
    ("SSL_ecdh_curve", Support::Mapped("Options::ecdh_curve")),
    ("SSL_verify_mode", Support::Mapped("Options::verify_mode")),
    ("SSL_verify_callback", Support::Refused("a callback (use Options::verify_callback)")),
    ("SSL_verifycn_scheme", Support::Mapped("Options::verifycn_scheme")),
    ("SSL_verifycn_publicsuffix", Support::Mapped("Options::verifycn_publicsuffix (\"\" for none, else a list file)")),
    ("SSL_verifycn_name", Support::Mapped("Options::verifycn_name")),
    ("SSL_check_crl", Support::Mapped("Options::check_crl")),
    ("SSL_crl_file", Support::Mapped("Options::crl_file (a list)")),
    ("SSL_ocsp_mode", Support::Mapped("Options::ocsp_mode")),
    ("SSL_ocsp_staple_callback", Support::Refused("a callback (use Options::ocsp_staple_callback)")),
    ("SSL_ocsp_cache", Support::Refused("an object (use Options::ocsp_cache with an OcspCache, or OcspCache::with_store for a cache object of your own)")),
    ("SSL_reuse_ctx", Support::Refused("an object (build an SslContext and pass it to the constructors)")),
    ("SSL_create_ctx_callback", Support::Refused("a callback (Options::engine_callback, behind the unstable-engine-config feature)")),
    ("SSL_session_cache_size", Support::Mapped("Options::session_cache_size")),
    ("SSL_session_cache", Support::Refused("an object (use Options::session_cache with a SessionCache, or SessionCache::with_store for a cache object of your own)")),
    ("SSL_session_key", Support::Mapped("Options::session_key")),
    ("SSL_session_id_context", Support::Mapped("accepted and not needed: the engine ties a server's sessions and tickets to its own configuration (a warning says so)")),
    ("SSL_error_trap", Support::Refused("a callback (use Options::error_trap)")),
    ("SSL_npn_protocols", Support::Mapped("Options::npn_protocols (a list; the openssl engine only: the default engine refuses it, naming that engine)")),
    ("SSL_alpn_protocols", Support::Mapped("Options::alpn_protocols (a list)")),
    ("SSL_ticket_keycb", Support::Refused("a callback (use Options::ticket_keycb)")),
    ("SSL_mode_release_buffers", Support::Mapped("Options::release_buffers")),
    ("SSL_ocsp_staple", Support::Mapped("Options::ocsp_staple (a DER file, or auto)")),
    ("SSL_crl_fetch", Support::Mapped("Options::crl_fetch")),
    ("SSL_idle_timeout", Support::Mapped("Options::idle_timeout (seconds)")),
    ("SSL_no_shutdown", Support::Refused("an argument of close/stop_SSL, not of new: SslSocket::close_no_shutdown")),
    ("SSL_fast_shutdown", Support::Refused("an argument of close/stop_SSL, not of new: SslSocket::close is fast (sends close_notify, does not wait), SslSocket::stop_ssl waits")),
    ("PeerAddr", Support::Mapped("Options::peer")),
    ("PeerHost", Support::Mapped("Options::peer")),
    ("PeerPort", Support::Mapped("Options::peer_port")),
    ("Timeout", Support::Mapped("Options::timeout (seconds)")),
];

/// What becomes of `key` (exact spelling, as in the manual); `None` for an unknown key.
pub fn support(key: &str) -> Option<Support> {
    KEYS.iter().find(|(k, _)| *k == key).map(|(_, s)| *s)
}

/// Options from key/value pairs, applied in order (a later key overrides an earlier one).
pub fn from_args<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Options, ConfigError> {
    apply_args(Options::new(), pairs)
}

/// `opts` with the key/value pairs applied in order.
pub fn apply_args<'a>(
    opts: Options,
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Options, ConfigError> {
    let mut b = Builder {
        opts,
        per_name: BTreeMap::new(),
    };
    for (key, value) in pairs {
        b.apply(key, value)?;
    }
    b.finish()
}

struct Builder {
    opts: Options,
    /// Per-SNI certificate and key files, by name ("" for the default).
    per_name: BTreeMap<String, (Option<PathBuf>, Option<PathBuf>)>,
}

fn bad(key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Argument {
        key: key.to_owned(),
        reason: reason.into(),
    }
}

fn boolean(key: &str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "" | "false" | "no" | "off" => Ok(false),
        _ => Err(bad(
            key,
            format!("\"{v}\" is not a boolean (1/0, true/false, yes/no)"),
        )),
    }
}

fn list(v: &str) -> impl Iterator<Item = &str> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty())
}

fn seconds(key: &str, v: &str) -> Result<Duration, ConfigError> {
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| *s >= 0.0)
        .map(|s| Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX))
        .ok_or_else(|| bad(key, format!("\"{v}\" is not a number of seconds")))
}

/// `SSL_VERIFY_*` constants joined by `|`, or a number.
fn verify_mode(key: &str, v: &str) -> Result<VerifyMode, ConfigError> {
    if let Ok(n) = v.trim().parse::<u8>() {
        return Ok(VerifyMode::from_bits(n));
    }
    let mut mode = VerifyMode::NONE;
    for word in v.split('|').map(str::trim) {
        mode = mode
            | match word {
                "SSL_VERIFY_NONE" | "VERIFY_NONE" => VerifyMode::NONE,
                "SSL_VERIFY_PEER" | "VERIFY_PEER" => VerifyMode::PEER,
                "SSL_VERIFY_FAIL_IF_NO_PEER_CERT" => VerifyMode::FAIL_IF_NO_PEER_CERT,
                "SSL_VERIFY_CLIENT_ONCE" => VerifyMode::CLIENT_ONCE,
                other => {
                    return Err(bad(
                        key,
                        format!("unknown verify mode \"{other}\" (SSL_VERIFY_NONE, SSL_VERIFY_PEER, SSL_VERIFY_FAIL_IF_NO_PEER_CERT, SSL_VERIFY_CLIENT_ONCE or a number)"),
                    ))
                }
            };
    }
    Ok(mode)
}

/// `SSL_OCSP_*` constants joined by `|`, a number, or the names `OcspMode::parse` takes.
fn ocsp_mode(key: &str, v: &str) -> Result<OcspMode, ConfigError> {
    if let Ok(n) = v.trim().parse::<u32>() {
        return OcspMode::from_bits(n).ok_or_else(|| bad(key, format!("{n} has unknown bits")));
    }
    let words: Vec<&str> = v
        .split('|')
        .map(str::trim)
        .map(|w| match w {
            "SSL_OCSP_NO_STAPLE" => "no-staple",
            "SSL_OCSP_TRY_STAPLE" => "try",
            "SSL_OCSP_MUST_STAPLE" => "must",
            "SSL_OCSP_FAIL_HARD" => "hard",
            "SSL_OCSP_FULL_CHAIN" => "full-chain",
            other => other,
        })
        .collect();
    OcspMode::parse(&words.join("|")).map_err(|e| bad(key, e.to_string()))
}

impl Builder {
    fn apply(&mut self, key: &str, v: &str) -> Result<(), ConfigError> {
        let Some(support) = support(key) else {
            return Err(bad(
                key,
                "unknown key (the keys of the manual are listed in sslsock::args::KEYS)",
            ));
        };
        if let Support::Refused(why) = support {
            return Err(bad(key, format!("refused: {why}")));
        }
        let o = std::mem::take(&mut self.opts);
        self.opts = match key {
            "SSL_server" => o.server(boolean(key, v)?),
            "SSL_hostname" => o.hostname(v),
            "SSL_startHandshake" => o.start_handshake(boolean(key, v)?),
            "SSL_keepSocketOnError" => o.keep_socket_on_error(boolean(key, v)?),
            "SSL_ca" => o.ca_cert(v.as_bytes().to_vec()),
            "SSL_ca_file" if v.is_empty() => o,
            "SSL_ca_file" => o.ca_file(v),
            "SSL_ca_path" if v.is_empty() => o,
            "SSL_ca_path" => o.ca_path(v),
            "SSL_client_ca" => o.client_ca(v.as_bytes().to_vec()),
            "SSL_client_ca_file" => o.client_ca_file(v),
            "SSL_fingerprint" => {
                let mut o = o;
                for pin in list(v) {
                    crate::verify::fingerprint::Pin::parse(pin)
                        .map_err(|e| bad(key, e.to_string()))?;
                    o = o.fingerprint(pin);
                }
                o
            }
            "SSL_cert_file" | "SSL_key_file" => {
                for part in v.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                    let (name, path) = match part.split_once('=') {
                        Some((n, p)) => (n.trim().trim_matches('"').to_owned(), p.trim()),
                        None => (String::new(), part),
                    };
                    let entry = self.per_name.entry(name).or_default();
                    if key == "SSL_cert_file" {
                        entry.0 = Some(PathBuf::from(path));
                    } else {
                        entry.1 = Some(PathBuf::from(path));
                    }
                }
                o
            }
            "SSL_cert" => o.cert_pem(v.as_bytes().to_vec()),
            "SSL_key" => o.key_pem(v.as_bytes().to_vec()),
            "SSL_key_password" => o.key_password(v),
            "SSL_use_cert" => o.use_cert(boolean(key, v)?),
            "SSL_version" => {
                if o.engine == Some(crate::options::Engine::OpenSsl) {
                    crate::engine::suites::parse_all_versions(v)
                } else {
                    crate::engine::suites::parse_versions(v).map(|_| Default::default())
                }
                .map_err(|e| bad(key, e.to_string()))?;
                o.version(v)
            }
            "SSL_npn_protocols" if o.engine != Some(crate::options::Engine::OpenSsl) => {
                return Err(bad(
                    key,
                    "NPN is obsolete and not available on the default engine; use SSL_alpn_protocols, or the openssl engine (the `openssl` feature, Options::engine(Engine::OpenSsl), --engine openssl)".to_owned(),
                ))
            }
            "SSL_npn_protocols" => o.npn_protocols(list(v)),
            "SSL_dh_file" | "SSL_dh" if o.engine != Some(crate::options::Engine::OpenSsl) => {
                return Err(bad(
                    key,
                    "finite-field DHE is not available on the default engine; the openssl engine has it (the `openssl` feature, Options::engine(Engine::OpenSsl), --engine openssl)".to_owned(),
                ))
            }
            "SSL_dh_file" => o.dh_file(v),
            "SSL_dh" => o.dh_pem(v.as_bytes().to_vec()),
            "SSL_cipher_list" => o.cipher_list(v),
            "SSL_ciphersuites" => o.ciphersuites(v),
            "SSL_honor_cipher_order" => o.honor_cipher_order(boolean(key, v)?),
            "SSL_ecdh_curve" => o.ecdh_curve(v),
            "SSL_verify_mode" => o.verify_mode(verify_mode(key, v)?),
            "SSL_verifycn_scheme" => o.verifycn_scheme(Scheme::parse(v).map_err(|e| bad(key, e.to_string()))?),
            "SSL_verifycn_publicsuffix" if v.is_empty() => o.verifycn_publicsuffix(None),
            "SSL_verifycn_publicsuffix" => {
                o.verifycn_publicsuffix(Some(Arc::new(PublicSuffix::from_file(v)?)))
            }
            "SSL_verifycn_name" => o.verifycn_name(v),
            "SSL_check_crl" => o.check_crl(boolean(key, v)?),
            "SSL_crl_file" => list(v).fold(o, |o, f| o.crl_file(f)),
            "SSL_crl_fetch" => o.crl_fetch(boolean(key, v)?),
            "SSL_ocsp_mode" => o.ocsp_mode(ocsp_mode(key, v)?),
            "SSL_ocsp_staple" => o.ocsp_staple(match v {
                "auto" => crate::ocsp::StapleSource::Auto,
                file => crate::ocsp::StapleSource::File(file.into()),
            }),
            "SSL_session_cache_size" => o.session_cache_size(
                v.trim()
                    .parse()
                    .map_err(|_| bad(key, format!("\"{v}\" is not a number")))?,
            ),
            "SSL_session_key" => o.session_key(v),
            "SSL_session_id_context" => {
                log::warn!("SSL_session_id_context is not needed: the TLS engine ties a server's sessions and tickets to its own configuration");
                o
            }
            "SSL_alpn_protocols" => o.alpn_protocols(list(v)),
            "SSL_mode_release_buffers" => o.release_buffers(boolean(key, v)?),
            "SSL_idle_timeout" => o.idle_timeout(seconds(key, v)?),
            "PeerAddr" | "PeerHost" => o.peer(v),
            "PeerPort" => o.peer_port(v),
            "Timeout" => o.timeout(seconds(key, v)?),
            _ => return Err(bad(key, "known but not taken as text")),
        };
        Ok(())
    }

    fn finish(self) -> Result<Options, ConfigError> {
        let mut o = self.opts;
        for (name, (cert, key)) in self.per_name {
            let Some(cert) = cert else {
                return Err(bad(
                    "SSL_key_file",
                    format!("a key for \"{name}\" without a certificate (SSL_cert_file)"),
                ));
            };
            o = if name.is_empty() {
                let o = o.cert_file(cert);
                match key {
                    Some(k) => o.key_file(k),
                    None => o,
                }
            } else {
                o.sni_cert(&name, cert, key)
            };
        }
        Ok(o)
    }
}

/// Process-wide defaults, as key/value pairs: for every context, for clients, for servers.
#[derive(Default)]
struct Layers {
    global: Vec<(String, String)>,
    client: Vec<(String, String)>,
    server: Vec<(String, String)>,
    filter: Option<ArgsFilter>,
}

static LAYERS: RwLock<Option<Layers>> = RwLock::new(None);

/// The manual's short names for `set_defaults`: `mode`, `callback`, `scheme`, `name`.
fn long_key(key: &str) -> &str {
    match key {
        "mode" => "SSL_verify_mode",
        "callback" => "SSL_verify_callback",
        "scheme" => "SSL_verifycn_scheme",
        "name" => "SSL_verifycn_name",
        other => other,
    }
}

fn set_layer<'a>(
    which: fn(&mut Layers) -> &mut Vec<(String, String)>,
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<(), ConfigError> {
    let pairs: Vec<(String, String)> = pairs
        .into_iter()
        .map(|(k, v)| (long_key(k).to_owned(), v.to_owned()))
        .collect();
    // Checked now: a bad default is the caller's error, not every later connection's.
    apply_args(
        Options::new(),
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    )?;
    let mut guard = LAYERS
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    *which(guard.get_or_insert_with(Layers::default)) = pairs;
    crate::defaults::changed();
    Ok(())
}

/// `IO::Socket::SSL::set_defaults`: defaults for every context made afterwards, in the
/// argument form of this module (the manual's short names `mode`, `callback`, `scheme`,
/// `name` too). An option given explicitly wins over the client or server defaults, which win
/// over these, which win over the built-in defaults. An empty list removes them.
///
/// ```
/// sslsock::args::set_defaults([("SSL_verifycn_scheme", "strict")])?;
/// # sslsock::args::set_defaults([])?;
/// # Ok::<(), sslsock::ConfigError>(())
/// ```
pub fn set_defaults<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<(), ConfigError> {
    set_layer(|l| &mut l.global, pairs)
}

/// `IO::Socket::SSL::set_client_defaults`: like [`set_defaults`], for client contexts only.
pub fn set_client_defaults<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<(), ConfigError> {
    set_layer(|l| &mut l.client, pairs)
}

/// `IO::Socket::SSL::set_server_defaults`: like [`set_defaults`], for server contexts only.
pub fn set_server_defaults<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<(), ConfigError> {
    set_layer(|l| &mut l.server, pairs)
}

/// `IO::Socket::SSL::set_args_filter_hack`: a last word on the options of every context made
/// afterwards. Contexts are made once and shared here, so the filter runs per context (with
/// [`SslSocket::connect`](crate::SslSocket::connect) and the other one-call constructors, per
/// connection).
#[derive(Clone)]
#[non_exhaustive]
pub enum ArgsFilter {
    /// Sees (is it a server?, the options after the defaults) and may change them.
    Callback(FilterCallback),
    /// The manual's `'use_defaults'`: the defaults win over explicit options.
    UseDefaults,
}

impl fmt::Debug for ArgsFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ArgsFilter::Callback(_) => "ArgsFilter::Callback",
            ArgsFilter::UseDefaults => "ArgsFilter::UseDefaults",
        })
    }
}

/// The args filter's callback: (is it a server?, the options after the defaults).
pub type FilterCallback = Arc<dyn Fn(bool, &mut Options) + Send + Sync>;

/// Installs (or with `None` removes) the args filter; see [`ArgsFilter`].
///
/// ```
/// use sslsock::args::{set_args_filter, ArgsFilter};
/// // A program that turns verification off everywhere, overruled.
/// set_args_filter(Some(ArgsFilter::Callback(std::sync::Arc::new(|is_server, opts| {
///     if !is_server {
///         *opts = std::mem::take(opts).verify_mode(sslsock::VerifyMode::PEER);
///     }
/// }))));
/// # set_args_filter(None);
/// ```
pub fn set_args_filter(filter: Option<ArgsFilter>) {
    let mut guard = LAYERS
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    guard.get_or_insert_with(Layers::default).filter = filter;
    crate::defaults::changed();
}

/// True when a filter callback is installed: it runs once per context, so the one-line
/// constructors make a context per connection for it to see each one.
pub(crate) fn has_filter_callback() -> bool {
    let guard = LAYERS
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    matches!(
        guard.as_ref().and_then(|l| l.filter.as_ref()),
        Some(ArgsFilter::Callback(_))
    )
}

/// `explicit` with the defaults layers and the args filter applied (itself when none is set).
pub(crate) fn effective(explicit: &Options) -> Result<Options, ConfigError> {
    let guard = LAYERS
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some(layers) = guard.as_ref() else {
        return Ok(explicit.clone());
    };
    let side = if explicit.server {
        &layers.server
    } else {
        &layers.client
    };
    let pairs = || {
        layers
            .global
            .iter()
            .chain(side.iter())
            .map(|(k, v)| (k.as_str(), v.as_str()))
    };
    let mut opts = match &layers.filter {
        Some(ArgsFilter::UseDefaults) => apply_args(explicit.clone(), pairs())?,
        _ if layers.global.is_empty() && side.is_empty() => explicit.clone(),
        _ => explicit
            .clone()
            .or_defaults(apply_args(Options::new(), pairs())?),
    };
    // The side is the caller's, whatever the defaults say.
    opts.server = explicit.server;
    if let Some(ArgsFilter::Callback(f)) = &layers.filter {
        f(explicit.server, &mut opts);
    }
    Ok(opts)
}
