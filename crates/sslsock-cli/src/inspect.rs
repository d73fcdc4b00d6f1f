//! Commands that look at certificates and names without a connection:
//! `verify-hostname`, `public-suffix`, `fingerprint`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::json;
use sslsock::verify::fingerprint::fingerprint;
use sslsock::verify::hostname::{verify_hostname, Scheme};
use sslsock::verify::public_suffix::PublicSuffix;

use crate::args::FingerprintDigest;
use crate::out::outln;
use crate::Failure;

/// Arguments of `sslsock verify-hostname`.
#[derive(clap::Args)]
pub(crate) struct VerifyHostnameArgs {
    /// The certificate (PEM or DER); the first certificate of a PEM file is used.
    #[arg(long)]
    cert: PathBuf,
    /// Hostname scheme: strict (SAN only, for new code), default, http, smtp, ldap, ... (see
    /// the README's table).
    #[arg(long, default_value = sslsock::defaults::HOSTNAME_SCHEME, value_parser = crate::args::scheme_names(), ignore_case = true)]
    scheme: String,
    /// Public suffix list to check wildcards against (publicsuffix.org format).
    #[arg(long, conflicts_with = "no_public_suffix")]
    public_suffix: Option<PathBuf>,
    /// Do not check wildcards against public suffixes.
    #[arg(long)]
    no_public_suffix: bool,
    /// The host name or IP address to check.
    host: String,
}

/// Arguments of `sslsock public-suffix`.
#[derive(clap::Args)]
pub(crate) struct PublicSuffixArgs {
    /// Public suffix list file (publicsuffix.org format) instead of the built-in one.
    #[arg(long)]
    list: Option<PathBuf>,
    /// Labels taken as the suffix when no rule matches.
    #[arg(long, default_value_t = 1)]
    min_suffix: usize,
    /// Extend the suffix by this many labels (1: the registrable domain).
    #[arg(long, default_value_t = 0)]
    add: usize,
    /// Print {"rest": ..., "suffix": ...}.
    #[arg(long)]
    json: bool,
    /// The name to split.
    name: String,
}

/// Arguments of `sslsock fingerprint`.
#[derive(clap::Args)]
pub(crate) struct FingerprintArgs {
    /// Digest of the fingerprint.
    #[arg(long, value_enum, default_value_t = sslsock::defaults::FINGERPRINT_DIGEST.into(), alias = "algo")]
    digest: FingerprintDigest,
    /// Hash the public key (SubjectPublicKeyInfo) instead of the certificate.
    #[arg(long)]
    pubkey: bool,
    /// The certificate (PEM or DER); the first certificate of a PEM file is used.
    file: PathBuf,
}

fn load_cert(path: &Path) -> Result<Vec<u8>, Failure> {
    let bytes = Failure::read(path)?;
    let certs = sslsock::x509::parse_certificates(&bytes)
        .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
    Ok(certs[0].to_vec())
}

pub(crate) fn verify_hostname_cmd(a: &VerifyHostnameArgs) -> Result<(), Failure> {
    let mut scheme = Scheme::parse(&a.scheme).map_err(|e| Failure::usage(e.to_string()))?;
    if a.no_public_suffix {
        scheme = scheme.without_public_suffix();
    } else if let Some(list) = &a.public_suffix {
        scheme = scheme.with_public_suffix(Arc::new(PublicSuffix::from_file(list)?));
    }
    let cert = load_cert(&a.cert)?;
    match verify_hostname(&cert, &a.host, &scheme) {
        Ok(()) => {
            outln!("match");
            Ok(())
        }
        Err(e) => {
            outln!("mismatch: {e}");
            Err(Failure::silent(1))
        }
    }
}

pub(crate) fn public_suffix_cmd(a: &PublicSuffixArgs) -> Result<(), Failure> {
    let list = match &a.list {
        Some(path) => PublicSuffix::from_file(path)?,
        None => (*PublicSuffix::builtin()).clone(),
    }
    .with_min_suffix(a.min_suffix);
    let split = list.public_suffix(&a.name, a.add);
    if a.json {
        let Some(s) = &split else {
            return Err(invalid_name(&a.name));
        };
        let (rest, suffix) = (json!(s.rest), json!(s.suffix));
        outln!("{}", json!({"rest": rest, "suffix": suffix}));
    } else {
        match &split {
            Some(s) => {
                outln!("rest: {}", s.rest);
                outln!("suffix: {}", s.suffix);
            }
            None => return Err(invalid_name(&a.name)),
        }
    }
    Ok(())
}

/// Why a name has no public suffix, without echoing an endless name.
fn invalid_name(name: &str) -> Failure {
    use sslsock::verify::public_suffix::{MAX_LABEL, MAX_NAME};
    if name.trim_end_matches('.').len() > MAX_NAME {
        return Failure::usage(format!(
            "a name of {} bytes is not a valid domain name (at most {MAX_NAME})",
            name.len()
        ));
    }
    if name.split('.').any(|l| l.len() > MAX_LABEL) {
        return Failure::usage(format!(
            "\"{name}\" is not a valid domain name (a label is longer than {MAX_LABEL} bytes)"
        ));
    }
    Failure::usage(format!("\"{name}\" is not a valid domain name"))
}

pub(crate) fn fingerprint_cmd(a: &FingerprintArgs) -> Result<(), Failure> {
    let cert = load_cert(&a.file)?;
    outln!("{}", fingerprint(&cert, a.digest.into(), a.pubkey)?);
    Ok(())
}
