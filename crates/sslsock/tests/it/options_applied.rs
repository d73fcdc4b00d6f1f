//! Options are applied on every path that accepts them, or refused with a reason: each test
//! here is one option that was once accepted and then not (or wrongly) applied.

use std::io::{BufRead, Write};

use sslsock::{Options, SslContext, SslSocket};

use crate::util::*;

#[test]
fn a_ca_path_list_needs_one_readable_directory() {
    let good = scratch_dir("ca-path-good");
    std::fs::copy(&pki().ca, good.join("ca.pem")).unwrap();
    let list = format!("/nonexistent-sslsock-ca-dir:{}", good.display());
    let opts = Options::new()
        .ca_path(&list)
        .hostname("localhost")
        .engine(test_engine());
    let (addr, h) = serve(server_opts(), 1, echo_once);
    let mut c = SslSocket::connect_with(&addr.to_string(), &opts).unwrap();
    c.write_all(b"hi\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    assert_eq!(line, "hi\n");
    drop(c);
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
    // None readable: an error naming each.
    let e = SslContext::new(&Options::new().ca_path("/nonexistent-a:/nonexistent-b")).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("/nonexistent-a") && text.contains("/nonexistent-b"),
        "{text}"
    );
}

#[test]
fn a_misspelled_suite_name_is_a_configuration_error_on_both_engines() {
    let misspelled = "ECDHE-ECDSA-AES128-GCM-SHA257:ECDHE-ECDSA-AES128-GCM-SHA256";
    for engine in engines() {
        let e = SslContext::new(&client_opts().engine(engine).cipher_list(misspelled)).unwrap_err();
        assert!(
            e.to_string().contains("ECDHE-ECDSA-AES128-GCM-SHA257"),
            "{engine:?}: {e}"
        );
    }
    // A name OpenSSL has: the default engine drops it with a warning, the openssl engine
    // offers it.
    for engine in engines() {
        let ctx = SslContext::new(
            &client_opts()
                .engine(engine)
                .cipher_list("DHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-GCM-SHA256"),
        )
        .unwrap();
        assert_eq!(
            ctx.unavailable_names()
                .iter()
                .any(|n| n == "DHE-RSA-AES128-SHA"),
            engine == sslsock::Engine::Rustls,
            "{engine:?}"
        );
    }
}

/// The engines built in.
fn engines() -> Vec<sslsock::Engine> {
    let mut all = vec![sslsock::Engine::Rustls];
    if cfg!(feature = "openssl") {
        all.push(sslsock::Engine::OpenSsl);
    }
    all
}

/// tokio's `new_client`/`new_plain` and then `connect_ssl`/`accept_ssl` keep the context's
/// timeout, as `connect_with` and `accept_with` do.
#[cfg(feature = "tokio")]
#[test]
fn tokio_starttls_handshakes_keep_the_timeout() {
    use sslsock::AsyncSslSocket;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // A peer that accepts and says nothing.
        let quiet = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = quiet.local_addr().unwrap();
        let held = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = quiet.accept().await {
                held.push(s);
            }
        });
        let short = std::time::Duration::from_millis(300);
        // Client side.
        let ctx = SslContext::new(&client_opts().timeout(short)).unwrap();
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut c = AsyncSslSocket::new_client(tcp, &ctx, "localhost").unwrap();
        let outcome =
            tokio::time::timeout(std::time::Duration::from_secs(10), c.connect_ssl()).await;
        match outcome {
            Ok(Err(sslsock::Error::Timeout(_))) => {}
            other => panic!("connect_ssl: {other:?}"),
        }
        // Server side: a client that connects and says nothing.
        let sctx = SslContext::new(&server_opts().server(true).timeout(short)).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server_addr = listener.local_addr().unwrap();
        let _silent = tokio::net::TcpStream::connect(server_addr).await.unwrap();
        let (tcp, _) = listener.accept().await.unwrap();
        let mut s = AsyncSslSocket::new_plain(tcp, &sctx).unwrap();
        let outcome =
            tokio::time::timeout(std::time::Duration::from_secs(10), s.accept_ssl()).await;
        match outcome {
            Ok(Err(sslsock::Error::Timeout(_))) => {}
            other => panic!("accept_ssl: {other:?}"),
        }
        held.abort();
    });
}

/// The manual: a key inside a PKCS#12 certificate file wins over `SSL_key_file`.
#[test]
fn the_key_in_a_pkcs12_file_wins_over_a_key_file() {
    let d = scratch_dir("p12-key");
    let p = pki().pair("srv-ec");
    let p12 = d.join("srv.p12");
    openssl_in(
        &d,
        &[
            "pkcs12".as_ref(),
            "-export".as_ref(),
            "-in".as_ref(),
            p.cert.as_os_str(),
            "-inkey".as_ref(),
            p.key.as_os_str(),
            "-passout".as_ref(),
            "pass:secret".as_ref(),
            "-out".as_ref(),
            p12.as_os_str(),
        ],
    );
    // Another certificate's key beside it: not the one used.
    let other_key = pki().pair("srv-rsa").key;
    let opts = Options::new()
        .cert_file(&p12)
        .key_file(other_key)
        .key_password("secret")
        .engine(test_engine());
    let (addr, h) = serve(opts, 1, echo_once);
    let mut c = SslSocket::connect_with(&addr.to_string(), &client_opts()).unwrap();
    c.write_all(b"p12\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    assert_eq!(line, "p12\n");
    drop(c);
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}
