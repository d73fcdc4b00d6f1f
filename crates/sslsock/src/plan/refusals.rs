//! What a context refuses before anything is read: options of the other side, and what the
//! chosen engine does not have. Each refusal names the option and where it is available;
//! nothing is ignored.

use crate::error::ConfigError;
use crate::options::{Engine, Options, VerifyMode};

/// An option of the other side is a configuration error naming it, not a silent no-op.
pub(crate) fn side(opts: &Options) -> Result<(), ConfigError> {
    let (set, side, other): (Vec<&str>, &str, &str) = if opts.server {
        let mut set = Vec::new();
        if opts.hostname.is_some() {
            set.push("hostname (SSL_hostname)");
        }
        if opts.verifycn_name.is_some() {
            set.push("verifycn_name");
        }
        if opts.verifycn_scheme.is_some() {
            set.push("verifycn_scheme");
        }
        if opts.public_suffix.is_some() {
            set.push("verifycn_publicsuffix");
        }
        if opts.session_key.is_some() {
            set.push("session_key");
        }
        if opts.session_cache.is_some() {
            set.push("session_cache (a client session cache)");
        }
        if opts.use_cert.is_some() {
            set.push("use_cert");
        }
        if opts.local_addr.is_some() {
            set.push("local_addr");
        }
        if opts.ocsp_mode.is_some() {
            set.push("ocsp_mode");
        }
        if opts.ocsp_staple_callback.is_some() {
            set.push("ocsp_staple_callback");
        }
        if opts.ocsp_cache.is_some() {
            set.push("ocsp_cache");
        }
        if opts.crl_fetch {
            set.push("crl_fetch");
        }
        if opts
            .ech
            .as_ref()
            .is_some_and(|m| *m != crate::ech::EchMode::Off)
        {
            set.push("ech (Encrypted Client Hello is client-side here)");
        }
        (set, "server", "client")
    } else {
        let mut set = Vec::new();
        if !opts.sni_certs.is_empty() {
            set.push("sni_cert");
        }
        if opts.ticket_keycb.is_some() {
            set.push("ticket_keycb");
        }
        if opts.server_session_store.is_some() {
            set.push("server_session_store");
        }
        if opts.honor_cipher_order.is_some() {
            set.push("honor_cipher_order");
        }
        if !opts.client_ca_files.is_empty() || !opts.client_ca_certs.is_empty() {
            set.push("client_ca");
        }
        if !opts.per_name_ciphers.is_empty() {
            set.push("per-name cipher lists");
        }
        if opts.alpn_strict {
            set.push("alpn_strict");
        }
        if opts.ocsp_staple.is_some() {
            set.push("ocsp_staple");
        }
        if opts.ocsp_staple_store.is_some() {
            set.push("ocsp_staple_store");
        }
        if opts
            .verify_mode
            .is_some_and(|m| m.contains(VerifyMode::FAIL_IF_NO_PEER_CERT))
        {
            set.push("verify_mode FAIL_IF_NO_PEER_CERT");
        }
        (set, "client", "server")
    };
    match set.as_slice() {
        [] => Ok(()),
        names => Err(ConfigError::Invalid(format!(
            "{} {} only for a {other} context; this is a {side} context{}",
            names.join(", "),
            if names.len() == 1 {
                "is an option"
            } else {
                "are options"
            },
            if opts.server { " (server(true))" } else { "" }
        ))),
    }
}

/// What the chosen engine lacks, refused by name, never handed to it silently.
pub(crate) fn engine(opts: &Options, engine: Engine) -> Result<(), ConfigError> {
    let lacking: &[(bool, &str)] = match engine {
        Engine::OpenSsl => &[
            (
                opts.ech
                    .as_ref()
                    .is_some_and(|m| *m != crate::ech::EchMode::Off),
                "ECH is not available on the openssl engine (OpenSSL 3.0 has none); use the default engine",
            ),
            #[cfg(feature = "unstable-engine-config")]
            (
                opts.engine_hook.is_some(),
                "engine_callback configures the default engine (rustls); it cannot apply to the openssl engine",
            ),
            (
                opts.dh_params.is_some() && !opts.server,
                "dh_file/dh (SSL_dh_file, SSL_dh) are for a server context",
            ),
            (
                opts.server_session_store.is_some(),
                "server_session_store: the openssl engine keeps a server's sessions in OpenSSL's own cache; a shared store is the default engine's (or share ticket keys with ticket_keycb)",
            ),
        ],
        _ => &[
            (
                opts.psk.is_some(),
                "PSK (psk, psk_server): not available on the default engine; the openssl engine has it (the `openssl` feature, Options::engine(Engine::OpenSsl), --engine openssl)",
            ),
            (
                opts.dh_params.is_some(),
                "DH parameters (SSL_dh_file, SSL_dh): not available on the default engine; the openssl engine has it (the `openssl` feature, Options::engine(Engine::OpenSsl), --engine openssl)",
            ),
            (
                !opts.npn_protocols.is_empty(),
                "NPN (next protocol negotiation) is obsolete and not available on the default engine; use ALPN (alpn_protocols), or the openssl engine (the `openssl` feature, Options::engine(Engine::OpenSsl), --engine openssl)",
            ),
        ],
    };
    match lacking.iter().find(|(set, _)| *set) {
        Some((_, why)) => Err(ConfigError::Invalid((*why).to_owned())),
        None => Ok(()),
    }
}

/// An option that only means something with another is refused without it, not kept idle.
pub(crate) fn companions(opts: &Options) -> Result<(), ConfigError> {
    if opts.ocsp_staple_store.is_some()
        && opts.server
        && opts.ocsp_staple != Some(crate::ocsp::StapleSource::Auto)
    {
        return Err(ConfigError::Invalid(
            "ocsp_staple_store shares staples fetched from the responder: it needs ocsp_staple(StapleSource::Auto)".to_owned(),
        ));
    }
    Ok(())
}
