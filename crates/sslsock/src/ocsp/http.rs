//! HTTP for OCSP requests and CRL downloads, with the proxy variables honoured
//! (`http_proxy`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`).

use std::time::Duration;

use base64ct::{Base64, Encoding};

/// Responses larger than this are refused: an OCSP response is a few kilobytes, a CRL can be
/// large but not unbounded.
pub(crate) const MAX_BODY: u64 = 16 * 1024 * 1024;

/// RFC 5019 2.1.1: requests whose base64 form is shorter than this go as GET (cacheable).
const GET_LIMIT: usize = 255;

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .into()
}

/// Sends an OCSP request to `url`: GET when small (RFC 6960 A.1), POST otherwise.
pub(crate) fn ocsp(url: &str, request: &[u8], timeout: Duration) -> Result<Vec<u8>, String> {
    let b64 = Base64::encode_string(request);
    let agent = agent(timeout);
    let response = if b64.len() < GET_LIMIT {
        let path = percent_encode(&b64);
        let sep = if url.ends_with('/') { "" } else { "/" };
        agent.get(format!("{url}{sep}{path}")).call()
    } else {
        agent
            .post(url)
            .header("Content-Type", "application/ocsp-request")
            .send(request)
    };
    body(response)
}

/// Downloads `url` (a CRL distribution point).
pub(crate) fn get(url: &str, timeout: Duration) -> Result<Vec<u8>, String> {
    body(agent(timeout).get(url).call())
}

fn body(
    response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<Vec<u8>, String> {
    let mut response = response.map_err(|e| e.to_string())?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("HTTP status {status}"));
    }
    response
        .body_mut()
        .with_config()
        .limit(MAX_BODY)
        .read_to_vec()
        .map_err(|e| e.to_string())
}

/// Percent-encodes the characters of base64 that cannot stand in a URL path.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '+' => out.push_str("%2B"),
            '/' => out.push_str("%2F"),
            '=' => out.push_str("%3D"),
            c => out.push(c),
        }
    }
    out
}
