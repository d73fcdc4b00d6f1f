//! `sslsock ocsp`: ask a certificate's OCSP responder about it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use serde::Serialize;
use sslsock::format_system_time;
use sslsock::ocsp::{CertStatus, OcspError};

use crate::out::outln;
use crate::Failure;

#[derive(Args)]
pub(crate) struct OcspArgs {
    /// The certificate (PEM or DER); a PEM file may hold its issuer after it.
    cert: PathBuf,
    /// The issuer's certificate, when CERT does not hold it.
    #[arg(long)]
    issuer: Option<PathBuf>,
    /// The responder URL (default: the certificate's own, from its AIA extension).
    #[arg(long)]
    url: Option<String>,
    /// Seconds to wait for the responder.
    #[arg(long, default_value_t = 10.0)]
    timeout: f64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// The answer, as `--json` prints it.
#[derive(Serialize)]
struct Answer {
    certificate: String,
    serial: String,
    status: &'static str,
    this_update: String,
    next_update: Option<String>,
    revoked_at: Option<String>,
    reason: Option<String>,
    responder: String,
    url: String,
}

fn certificates(path: &Path) -> Result<Vec<Vec<u8>>, Failure> {
    let bytes = Failure::read(path)?;
    let certs = sslsock::x509::parse_certificates(&bytes)
        .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
    Ok(certs.iter().map(|c| c.to_vec()).collect())
}

/// Exit 0 for "good", 1 for "revoked" or "unknown" (and a response that does not verify), 3
/// when the responder cannot be asked.
pub(crate) fn run(a: &OcspArgs) -> Result<(), Failure> {
    let chain = certificates(&a.cert)?;
    let issuer = match &a.issuer {
        Some(p) => certificates(p)?.into_iter().next(),
        None => chain.get(1).cloned(),
    }
    .ok_or_else(|| {
        Failure::usage(format!(
            "{} holds no issuer certificate after the certificate: give --issuer",
            a.cert.display()
        ))
    })?;
    let timeout = crate::args::seconds("--timeout", a.timeout, false)?.unwrap_or(Duration::MAX);
    let (url, v) = sslsock::ocsp::query(&chain[0], &issuer, a.url.as_deref(), timeout).map_err(
        |e| match e {
            OcspError::Http { .. } => Failure::unreachable(e.to_string()),
            OcspError::BadCertificate(_) | OcspError::NoResponder { .. } => {
                Failure::usage(e.to_string())
            }
            e => Failure::tls(e.to_string()),
        },
    )?;
    let (status, revoked_at, reason) = match &v.status {
        CertStatus::Good => ("good", None, None),
        CertStatus::Revoked { time, reason } => {
            ("revoked", Some(format_system_time(*time)), reason.clone())
        }
        _ => ("unknown", None, None),
    };
    let answer = Answer {
        certificate: v.subject.clone(),
        serial: v.serial.clone(),
        status,
        this_update: format_system_time(v.this_update),
        next_update: v.next_update.map(format_system_time),
        revoked_at,
        reason,
        responder: v.responder.clone(),
        url,
    };
    if a.json {
        outln!("{}", serde_json::to_string(&answer).unwrap_or_default());
    } else {
        outln!(
            "certificate: {} (serial {})",
            answer.certificate,
            answer.serial
        );
        outln!("status:      {}", answer.status);
        if let Some(t) = &answer.revoked_at {
            outln!(
                "revoked at:  {t}, reason: {}",
                answer.reason.as_deref().unwrap_or("unspecified")
            );
        }
        outln!("this update: {}", answer.this_update);
        outln!(
            "next update: {}",
            answer.next_update.as_deref().unwrap_or("(none given)")
        );
        outln!(
            "responder:   {} (signed by {})",
            answer.url,
            answer.responder
        );
    }
    match status {
        "good" => Ok(()),
        _ => Err(Failure::silent(1)),
    }
}
