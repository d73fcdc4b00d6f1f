//! The SNI table: which configured name (exact, or `*.suffix`) a ClientHello's server name
//! selects, the one lookup order for certificates and per-name settings on both engines.

/// The entry for `host` among entries keyed by configured names: the exact name first, then
/// a wildcard that covers it (the one lookup order for certificates and per-name settings).
pub(crate) fn find_for_host<'a, T>(entries: &'a [(String, T)], host: &str) -> Option<&'a T> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    entries
        .iter()
        .find(|(n, _)| *n == host)
        .or_else(|| entries.iter().find(|(n, _)| name_matches(n, &host)))
        .map(|(_, t)| t)
}

/// True when the configured `pattern` (lower case; `*.suffix` covers exactly one more label,
/// as in a certificate) names `host` (lower case).
pub(crate) fn name_matches(pattern: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.');
    if pattern == host {
        return true;
    }
    match (pattern.strip_prefix("*."), host.split_once('.')) {
        (Some(rest), Some((label, parent))) => !label.is_empty() && rest == parent,
        _ => false,
    }
}
