//! The process-wide defaults (`set_default_ca`, `set_default_context`). They live in their own
//! test binary, checked one after the other in one test: changing them while other tests
//! build contexts would change those tests.

use std::io::{BufRead, Write};

use sslsock::{Options, SslContext, SslSocket};
use sslsock_test_support::*;

#[test]
fn process_wide_defaults() {
    default_ca_override_is_used_and_inspectable();
    default_context_serves_the_one_line_connect();
    one_line_connects_resume_each_other();
}

/// Without a default context the one-line connect uses one context for the process, so the
/// second connection resumes the first one's session.
fn one_line_connects_resume_each_other() {
    sslsock::set_default_ca(Some(&[pki().ca.clone()])).unwrap();
    let (addr, h) = serve(server_opts(), 2, echo_once);
    let target = format!("localhost:{}", addr.port());
    let resumed: Vec<bool> = (0..2)
        .map(|_| {
            let mut c = SslSocket::connect(&target).unwrap();
            c.write_all(b"again\n").unwrap();
            let mut line = String::new();
            c.read_line(&mut line).unwrap();
            c.session_reused()
        })
        .collect();
    sslsock::set_default_ca(None).unwrap();
    assert_eq!(resumed, [false, true]);
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

fn default_ca_override_is_used_and_inspectable() {
    sslsock::set_default_ca(Some(&[pki().ca.clone()])).unwrap();
    let ca = sslsock::default_ca();
    assert_eq!(ca.origin, sslsock::CaOrigin::Override);
    assert_eq!(ca.certs.len(), 1);
    assert_eq!(ca.ca_file.as_deref(), Some(pki().ca.as_path()));
    let (addr, h) = serve(server_opts(), 1, echo_once);
    // No CA option at all: the default store, now the override, is used.
    let result = SslSocket::connect_with(&addr.to_string(), &Options::new().hostname("localhost"));
    sslsock::set_default_ca(None).unwrap();
    assert_ne!(
        sslsock::default_ca().origin,
        sslsock::CaOrigin::Override,
        "None forgets the override"
    );
    let mut c = result.unwrap();
    c.write_all(b"default ca\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

fn default_context_serves_the_one_line_connect() {
    let (addr, h) = serve(server_opts(), 1, echo_once);
    sslsock::set_default_context(Some(SslContext::new(&client_opts()).unwrap()));
    let r = SslSocket::connect(&addr.to_string());
    sslsock::set_default_context(None);
    let mut c = r.unwrap();
    c.write_all(b"default\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    assert_eq!(line, "default\n");
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}
