//! `sslsock cert create` and `sslsock cert show`.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sslsock::x509::create::{CertSpec, Issued};
use sslsock::x509::info::CertInfo;
use sslsock::x509::pkcs12::Pkcs12Encryption;
use sslsock::x509::{save, Password};
use sslsock::FingerprintAlgorithm;

use crate::args::{secret, FingerprintDigest, KeyTypeArg, SignatureDigest};
use crate::out::outln;
use crate::Failure;

/// `sslsock cert ...`
#[derive(clap::Subcommand)]
pub(crate) enum CertCommand {
    /// Create a key and a certificate, self-signed or signed by a CA.
    Create(Box<CreateArgs>),
    /// Show the contents of each certificate in a PEM, DER or PKCS#12 file.
    Show(ShowArgs),
}

/// Arguments of `sslsock cert create`.
#[derive(clap::Args)]
pub(crate) struct CreateArgs {
    /// Where to write the certificate (PEM).
    #[arg(long)]
    out_cert: PathBuf,
    /// Where to write the private key (PKCS#8 PEM).
    #[arg(long)]
    out_key: PathBuf,
    /// Sign with this CA certificate (otherwise self-signed).
    #[arg(long, requires = "ca_key")]
    ca_cert: Option<PathBuf>,
    /// The CA's private key.
    #[arg(long, requires = "ca_cert")]
    ca_key: Option<PathBuf>,
    /// Password of an encrypted CA key (TEXT, pass:TEXT, env:VARIABLE or file:PATH).
    #[arg(long, value_parser = secret)]
    ca_password: Option<String>,
    /// Subject, e.g. "CN=example.org,O=Example,C=DE" or "/CN=example.org/O=Example"; kept in order.
    #[arg(long)]
    subject: Option<String>,
    /// subjectAltNames, e.g. DNS:a.example,IP:192.0.2.1,email:x@example.org,URI:https://example.org/
    #[arg(long)]
    san: Vec<String>,
    /// Days of validity from now.
    #[arg(long, default_value_t = sslsock::defaults::CERT_DAYS)]
    days: u32,
    /// Type of the new key.
    #[arg(long, value_enum, default_value_t = sslsock::defaults::CERT_KEY_TYPE.into())]
    key_type: KeyTypeArg,
    /// Signature digest for RSA issuers.
    #[arg(long, value_enum, default_value_t = sslsock::defaults::CERT_DIGEST.into())]
    digest: SignatureDigest,
    /// Serial number (default: random, 64 bits).
    #[arg(long)]
    serial: Option<u64>,
    /// Make a CA certificate.
    #[arg(long)]
    ca: bool,
    /// Purposes: server, client, email, objsign, CA, sslCA, emailCA, objCA, keyUsage and
    /// extendedKeyUsage names; "-name" removes one.
    #[arg(long)]
    purpose: Vec<String>,
    /// OCSP responder URL (authorityInfoAccess).
    #[arg(long)]
    ocsp_url: Vec<String>,
    /// CA issuers URL (authorityInfoAccess).
    #[arg(long)]
    ca_issuers_url: Vec<String>,
    /// CRL distribution point URL.
    #[arg(long)]
    crl_url: Vec<String>,
    /// Add the TLS feature extension status_request (OCSP must-staple).
    #[arg(long)]
    must_staple: bool,
    /// Also write key and chain as PKCS#12 to this file (needs --password).
    #[arg(long, requires = "password")]
    pkcs12: Option<PathBuf>,
    /// Password of the PKCS#12 file (TEXT, pass:TEXT, env:VARIABLE or file:PATH).
    #[arg(long, value_parser = secret)]
    password: Option<String>,
    /// Encrypt the key file with this password (PBES2, AES-256; TEXT, pass:TEXT,
    /// env:VARIABLE or file:PATH).
    #[arg(long, value_parser = secret)]
    key_password: Option<String>,
}

/// Arguments of `sslsock cert show`.
#[derive(clap::Args)]
pub(crate) struct ShowArgs {
    /// A PEM (one or several certificates), DER or PKCS#12 file.
    file: PathBuf,
    /// Password of a PKCS#12 file (TEXT, pass:TEXT, env:VARIABLE or file:PATH).
    #[arg(long, value_parser = secret)]
    password: Option<String>,
    /// Digest of the fingerprints.
    #[arg(long, value_enum, default_value_t = sslsock::defaults::FINGERPRINT_DIGEST.into())]
    digest: FingerprintDigest,
    /// Print JSON lines: one object per certificate, in file order, whatever their number.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(cmd: &CertCommand) -> Result<(), Failure> {
    match cmd {
        CertCommand::Create(a) => create(a),
        CertCommand::Show(a) => show(a),
    }
}

/// Splits "CN=a,O=b" or "/CN=a/O=b" into attributes; `\,` and `\/` escape the separator.
fn parse_subject(s: &str) -> Result<Vec<(String, String)>, Failure> {
    let (sep, body) = match s.strip_prefix('/') {
        Some(rest) => ('/', rest),
        None => (',', s),
    };
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => cur.extend(chars.next()),
            c if c == sep => parts.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    parts.push(cur);
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => Ok((k.trim().to_owned(), v.trim().to_owned())),
            None => Err(Failure::usage(format!(
                "subject part \"{p}\" is not KEY=VALUE"
            ))),
        })
        .collect()
}

fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    Failure::read(path)
}

fn create(a: &CreateArgs) -> Result<(), Failure> {
    let sans: Vec<String> = a
        .san
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let subject = match &a.subject {
        Some(s) => parse_subject(s)?,
        None => {
            let cn = sans
                .iter()
                .find_map(|s| {
                    s.strip_prefix("DNS:")
                        .or_else(|| (!s.contains(':')).then_some(s.as_str()))
                })
                .unwrap_or("sslsock certificate");
            vec![("CN".to_owned(), cn.to_owned())]
        }
    };
    if subject.is_empty() {
        return Err(Failure::usage("the subject is empty"));
    }
    let attrs: Vec<(&str, &str)> = subject
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let now = SystemTime::now();
    let mut spec = CertSpec::with_subject(&attrs)
        .key_type(a.key_type.into())
        .digest(a.digest.into())
        .validity(
            now - Duration::from_secs(60),
            now + Duration::from_secs(u64::from(a.days) * 86_400),
        );
    for s in &sans {
        spec = spec.san(s);
    }
    if a.ca {
        spec = spec.ca();
    }
    for p in &a.purpose {
        spec = spec.purpose(p);
    }
    if let Some(n) = a.serial {
        spec = spec.serial(n);
    }
    for u in &a.ocsp_url {
        spec = spec.ocsp_url(u);
    }
    for u in &a.ca_issuers_url {
        spec = spec.ca_issuers_url(u);
    }
    for u in &a.crl_url {
        spec = spec.crl_url(u);
    }
    if a.must_staple {
        spec = spec.must_staple();
    }
    let issued = match (&a.ca_cert, &a.ca_key) {
        (Some(cert), Some(key)) => {
            let password = a
                .ca_password
                .as_deref()
                .map_or(Password::None, Password::from);
            let issuer = Issued::from_parts(&read(cert)?, &read(key)?, &password)?;
            spec.signed_by(&issuer)?
        }
        _ => spec.self_signed()?,
    };
    let key = sslsock::x509::parse_private_key(issued.key_pem.as_bytes(), &Password::None)
        .map_err(|e| Failure::tls(format!("created key unreadable: {e}")))?;
    save::write_file(&a.out_cert, issued.cert_pem.as_bytes(), false)?;
    let key_pem = save::key_to_pem(&key, a.key_password.as_deref())?;
    save::write_file(&a.out_key, key_pem.as_bytes(), true)?;
    let mut chain = vec![issued.cert_der.clone().into()];
    if let Some(ca) = &a.ca_cert {
        chain.extend(
            sslsock::x509::load_certificates(&read(ca)?, &Password::None).unwrap_or_default(),
        );
    }
    if let (Some(p12), Some(pw)) = (&a.pkcs12, &a.password) {
        let bytes = save::to_pkcs12(&chain, &key, pw, Pkcs12Encryption::Aes256)?;
        save::write_file(p12, &bytes, true)?;
    }
    let info = CertInfo::from_der(&issued.cert_der, FingerprintAlgorithm::Sha256)?;
    outln!("certificate: {}", a.out_cert.display());
    outln!("key:         {}", a.out_key.display());
    if let Some(p12) = &a.pkcs12 {
        outln!("pkcs12:      {}", p12.display());
    }
    outln!("subject:     {}", name_text(&info.subject));
    outln!("issuer:      {}", name_text(&info.issuer));
    outln!("serial:      {}", info.serial);
    outln!("valid until: {}", info.not_after_text);
    outln!("sha256:      {}", info.fingerprint);
    Ok(())
}

fn name_text(attrs: &[(String, String)]) -> String {
    attrs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn show(a: &ShowArgs) -> Result<(), Failure> {
    let digest: FingerprintAlgorithm = a.digest.into();
    let password = a.password.as_deref().map_or(Password::None, Password::from);
    let bytes = read(&a.file)?;
    let certs = sslsock::x509::load_certificates(&bytes, &password).map_err(|e| match e {
        sslsock::x509::LoadError::NeedPassword | sslsock::x509::LoadError::WrongPassword => {
            Failure::usage(format!("{}: {e}", a.file.display()))
        }
        other => Failure::usage(format!("{}: {other}", a.file.display())),
    })?;
    let infos = certs
        .iter()
        .map(|c| CertInfo::from_der(c, digest))
        .collect::<Result<Vec<_>, _>>()?;
    if a.json {
        for info in &infos {
            outln!("{}", info.to_json());
        }
        return Ok(());
    }
    for (i, info) in infos.iter().enumerate() {
        if i > 0 {
            outln!();
        }
        outln!("certificate {}:", i + 1);
        outln!("  subject:     {}", name_text(&info.subject));
        outln!("  issuer:      {}", name_text(&info.issuer));
        outln!("  serial:      {} ({})", info.serial, info.serial_hex);
        outln!(
            "  validity:    {} .. {}",
            info.not_before_text,
            info.not_after_text
        );
        outln!("  signature:   {}", info.signature_algorithm);
        let curve = info
            .pubkey_curve
            .as_deref()
            .map(|c| format!(" {c}"))
            .unwrap_or_default();
        outln!(
            "  public key:  {} {} bit{curve}",
            info.pubkey_type,
            info.pubkey_size
        );
        if !info.subject_alt_names.is_empty() {
            let sans: Vec<String> = info
                .subject_alt_names
                .iter()
                .map(|n| {
                    let (kind, value) = n.kind_and_value();
                    format!("{kind}:{value}")
                })
                .collect();
            outln!("  alt names:   {}", sans.join(", "));
        }
        outln!("  {}:  {}", info.digest, info.fingerprint);
        for e in &info.extensions {
            outln!(
                "  {}{}: {}",
                e.name,
                if e.critical { " (critical)" } else { "" },
                e.value
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_subject;

    #[test]
    fn subjects() {
        let s = parse_subject("CN=a.example, O=Example\\, Inc.,C=DE").unwrap();
        assert_eq!(
            s,
            [
                ("CN".into(), "a.example".into()),
                ("O".into(), "Example, Inc.".into()),
                ("C".into(), "DE".into())
            ]
        );
        let s = parse_subject("/CN=x/OU=y").unwrap();
        assert_eq!(s.len(), 2);
        assert!(parse_subject("CN").is_err());
    }
}
