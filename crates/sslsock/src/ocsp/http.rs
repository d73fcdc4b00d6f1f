//! HTTP for OCSP requests and CRL downloads (plain `http://` URLs): through the proxy of
//! the lower-case `http_proxy` unless `no_proxy` names the host, as curl does (the
//! upper-case `HTTP_PROXY` can be set by a request header in CGI programs: "httpoxy"), and
//! never following a redirect (an answer is taken from the URL the certificate names).

use std::time::Duration;

use base64ct::{Base64, Encoding};
use ureq::http::Response;

/// Responses larger than this are refused: an OCSP response is a few kilobytes, a CRL can be
/// large but not unbounded.
pub(crate) const MAX_BODY: u64 = 16 * 1024 * 1024;

/// RFC 5019 2.1.1: requests whose base64 form is shorter than this go as GET (cacheable).
const GET_LIMIT: usize = 255;

fn agent(url: &str, timeout: Duration) -> Result<ureq::Agent, String> {
    let proxy = match proxy_for(url, |k| std::env::var(k).ok()) {
        Some(p) => Some(ureq::Proxy::new(&p).map_err(|e| format!("http_proxy \"{p}\": {e}"))?),
        None => None,
    };
    Ok(ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(proxy)
        .build()
        .into())
}

/// The proxy for `url` from the environment `env`: `http_proxy` (lower case only) unless
/// `no_proxy` (lower case) names its host, a domain above it, or is `*`.
fn proxy_for(url: &str, env: impl Fn(&str) -> Option<String>) -> Option<String> {
    let proxy = env("http_proxy").filter(|p| !p.trim().is_empty())?;
    let host = url
        .strip_prefix("http://")
        .unwrap_or(url)
        .split(['/', '?'])
        .next()
        .unwrap_or("");
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let bypassed = env("no_proxy").is_some_and(|list| {
        list.split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .any(|e| {
                let e = e.trim_start_matches('.').to_ascii_lowercase();
                e == "*" || host == e || host.ends_with(&format!(".{e}"))
            })
    });
    (!bypassed).then_some(proxy)
}

/// Sends an OCSP request to `url`: GET when small (RFC 6960 A.1), POST otherwise.
pub(crate) fn ocsp(url: &str, request: &[u8], timeout: Duration) -> Result<Vec<u8>, String> {
    let b64 = Base64::encode_string(request);
    let agent = agent(url, timeout)?;
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
    body(agent(url, timeout)?.get(url).call())
}

fn body(response: Result<Response<ureq::Body>, ureq::Error>) -> Result<Vec<u8>, String> {
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

/// The characters of base64 that cannot stand in a URL path as they are (RFC 6960 A.1:
/// the GET form is the base64 of the request, URL-encoded).
const BASE64_IN_PATH: &percent_encoding::AsciiSet =
    &percent_encoding::CONTROLS.add(b'+').add(b'/').add(b'=');

fn percent_encode(b64: &str) -> String {
    percent_encoding::utf8_percent_encode(b64, BASE64_IN_PATH).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn get_path_escapes_what_base64_has_beyond_a_path() {
        assert_eq!(percent_encode("MEow+SD/x=="), "MEow%2BSD%2Fx%3D%3D");
    }

    #[test]
    fn only_the_lower_case_proxy_variables_count() {
        let url = "http://ocsp.example.org/x";
        assert_eq!(
            proxy_for(url, env(&[("HTTP_PROXY", "http://evil:1")])),
            None
        );
        assert_eq!(proxy_for(url, env(&[("ALL_PROXY", "http://evil:1")])), None);
        let set = [("http_proxy", "http://proxy:3128")];
        assert_eq!(
            proxy_for(url, env(&set)).as_deref(),
            Some("http://proxy:3128")
        );
        for no in [
            "example.org",
            ".example.org",
            "ocsp.example.org",
            "*",
            "a, example.org",
        ] {
            let vars = [("http_proxy", "http://proxy:3128"), ("no_proxy", no)];
            assert_eq!(proxy_for(url, env(&vars)), None, "{no}");
        }
        // NO_PROXY (upper case) does not count either; another domain does not match.
        let vars = [
            ("http_proxy", "http://p:1"),
            ("NO_PROXY", "*"),
            ("no_proxy", "ample.org"),
        ];
        assert_eq!(
            proxy_for("http://ocsp.example.org:8080/", env(&vars)).as_deref(),
            Some("http://p:1")
        );
    }

    #[test]
    fn a_redirect_is_not_followed() {
        // The "real" answer sits elsewhere; the URL asked answers 302 toward it.
        let real = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let real_port = real.local_addr().unwrap().port();
        let asked = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let asked_port = asked.local_addr().unwrap().port();
        std::thread::spawn(move || {
            if let Ok((s, _)) = asked.accept() {
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut line = String::new();
                while r.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let mut s = s;
                let _ = write!(
                    s,
                    "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{real_port}/x.crl\r\nContent-Length: 0\r\n\r\n"
                );
            }
        });
        let e = get(
            &format!("http://127.0.0.1:{asked_port}/x.crl"),
            Duration::from_secs(5),
        )
        .unwrap_err();
        assert!(e.contains("302"), "{e}");
        real.set_nonblocking(true).unwrap();
        assert!(real.accept().is_err(), "the redirect was followed");
    }
}
