//! How peers are checked, read once from the options: the chain policy (trust anchors, pins,
//! CRLs, the verify callback), the hostname scheme and the OCSP policy of a client, the
//! client-certificate requirement of a server.

use std::sync::Arc;

use crate::defaults;
use crate::error::ConfigError;
use crate::ocsp::{OcspCache, OcspMode, StaplePolicy};
use crate::options::{Options, VerifyMode};
use crate::peer::{ClientCheck, ServerCheck};
use crate::plan::roots;
use crate::verify::chain::ChainPolicy;
use crate::verify::crl::CrlSet;
use crate::verify::fingerprint::Pin;
use crate::verify::hostname::Scheme;

/// The policy peers are verified with, when they are.
type PolicyUsed = Option<Arc<ChainPolicy>>;

/// The chain policy of `opts`: trusted CAs, pins, CRLs, callback.
fn chain_policy(opts: &Options) -> Result<ChainPolicy, ConfigError> {
    let certs = if opts.no_ca {
        Arc::new(Vec::new())
    } else if opts.ca_files.is_empty() && opts.ca_paths.is_empty() && opts.ca_certs.is_empty() {
        roots::default_ca().certs.clone()
    } else {
        Arc::new(roots::load_ca(
            &opts.ca_files,
            &opts.ca_paths,
            &opts.ca_certs,
        )?)
    };
    let pins = opts
        .fingerprints
        .iter()
        .map(|p| Pin::parse(p))
        .collect::<Result<Vec<_>, _>>()?;
    let mut policy = ChainPolicy::new(&certs).with_pins(pins, opts.force_fingerprint);
    if opts.check_crl || !opts.crl_files.is_empty() {
        policy = policy.with_crls(CrlSet::load(
            &opts.crl_files,
            &opts.ca_files,
            &opts.ca_paths,
        )?);
    }
    if let Some(cb) = &opts.verify_callback {
        policy = policy.with_callback(cb.clone());
    }
    Ok(policy)
}

/// The hostname scheme of `opts`, with its public suffix setting.
fn scheme(opts: &Options) -> Scheme {
    let scheme = opts
        .verifycn_scheme
        .clone()
        .unwrap_or_else(|| Scheme::named(defaults::HOSTNAME_SCHEME).unwrap_or_default());
    match &opts.public_suffix {
        None => scheme,
        Some(None) => scheme.without_public_suffix(),
        Some(Some(list)) => scheme.with_public_suffix(list.clone()),
    }
}

/// The OCSP settings of a client context.
fn staple_policy(opts: &Options, mode: VerifyMode) -> StaplePolicy {
    let ocsp_mode = opts.ocsp_mode.unwrap_or_default();
    if mode.verifies() && ocsp_mode.contains(OcspMode::NO_CHECK) {
        log::warn!("dangerous: OCSP revocation checks are off; must-staple certificates are accepted without a staple");
    }
    StaplePolicy {
        mode: ocsp_mode,
        callback: opts.ocsp_staple_callback.clone(),
        cache: opts
            .ocsp_cache
            .clone()
            .unwrap_or_else(OcspCache::process_default),
        crl_fetch: opts.crl_fetch,
    }
}

/// Client: how the server is checked, and the chain policy when it is verified.
pub(super) fn server_check(
    opts: &Options,
    mode: VerifyMode,
) -> Result<(ServerCheck, PolicyUsed), ConfigError> {
    let policy = if mode.verifies() {
        Arc::new(chain_policy(opts)?)
    } else {
        log::warn!("dangerous: peer verification is off; the server is not authenticated");
        Arc::new(ChainPolicy::default())
    };
    let check = ServerCheck {
        policy: policy.clone(),
        mode,
        scheme: scheme(opts),
        identity: opts.verifycn_name.clone(),
        ocsp: staple_policy(opts, mode),
        ech_public_names: match &opts.ech {
            Some(crate::ech::EchMode::Config(list)) => list.public_names().into(),
            _ => Arc::from([]),
        },
    };
    Ok((check, mode.verifies().then_some(policy)))
}

/// Server: how client certificates are checked, when they are asked for.
pub(super) fn client_check(
    opts: &Options,
    mode: VerifyMode,
) -> Result<(Option<ClientCheck>, PolicyUsed), ConfigError> {
    if !mode.verifies() {
        return Ok((None, None));
    }
    let policy = chain_policy(opts)?;
    if policy.trusts_nothing() {
        return Err(ConfigError::Invalid(
            "verify_mode asks to verify clients but no CA (ca_file/ca_path) or fingerprint is configured"
                .to_owned(),
        ));
    }
    let policy = Arc::new(policy);
    let check = ClientCheck {
        policy: policy.clone(),
        mandatory: mode.contains(VerifyMode::FAIL_IF_NO_PEER_CERT),
    };
    Ok((Some(check), Some(policy)))
}
