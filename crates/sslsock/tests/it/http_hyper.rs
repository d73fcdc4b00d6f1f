//! hyper over sslsock (feature `hyper`): the connector against nginx (HTTP/2, must-staple)
//! and an HTTP/1.1 server, and a hyper server read by curl with a client certificate.

use std::process::Command;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::Version;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use sslsock::http::{HttpsConnector, TlsInfo};
use sslsock::ocsp::{OcspMode, Revocation};
use sslsock::Options;
use sslsock_test_support::ocsp_lab::{lab, Signer};

use crate::util::*;

/// nginx on a free port serving `leaf` of the OCSP lab over HTTP/2 and HTTP/1.1, stapling
/// `staple` when given.
fn nginx(leaf: &str, staple: Option<&std::path::Path>) -> (Peer, u16) {
    require("nginx");
    let dir = lab().dir.join(format!("nginx-{leaf}-{}", staple.is_some()));
    std::fs::create_dir_all(&dir).unwrap();
    spawn_listening(|port| {
        let d = dir.display();
        let stapling = staple.map_or(String::new(), |s| {
            format!("ssl_stapling on; ssl_stapling_file {};", s.display())
        });
        let conf = format!(
            "daemon off; master_process off; worker_processes 1; pid {d}/nginx.pid;
             error_log {d}/error.log;
             events {{}}
             http {{
               access_log off;
               client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;
               fastcgi_temp_path {d}/fastcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
               server {{
                 listen 127.0.0.1:{port} ssl http2;
                 ssl_certificate {chain}; ssl_certificate_key {key};
                 {stapling}
                 location / {{ return 200 \"hello from nginx\\n\"; }}
               }}
             }}",
            chain = lab().path(&format!("{leaf}-chain.pem")).display(),
            key = lab().path(&format!("{leaf}.key")).display(),
        );
        let conf_file = dir.join("nginx.conf");
        std::fs::write(&conf_file, conf).unwrap();
        let mut cmd = Command::new("nginx");
        cmd.arg("-c").arg(&conf_file).arg("-p").arg(&dir);
        cmd.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        cmd
    })
}

async fn get(connector: HttpsConnector, url: &str) -> Result<(Version, TlsInfo, String), String> {
    let client = Client::builder(TokioExecutor::new()).build::<_, Empty<Bytes>>(connector);
    let response = client
        .get(url.parse().unwrap())
        .await
        .map_err(|e| format!("{e:?}"))?;
    let version = response.version();
    let info = response
        .extensions()
        .get::<TlsInfo>()
        .cloned()
        .expect("the connector's facts");
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Ok((version, info, String::from_utf8_lossy(&body).into_owned()))
}

/// A hyper client with a must-staple policy fetches from nginx over HTTP/2, the staple
/// checked; without a staple the same policy refuses the server.
#[test]
fn hyper_client_fetches_from_nginx_over_http2_with_must_staple() {
    let staple = lab().save(
        "nginx-staple.der",
        &lab().response("int", "staple", Signer::Issuer, 60, false),
    );
    let (_stapling, port) = nginx("staple", Some(&staple));
    let (_bare, bare_port) = nginx("staple", None);
    let opts = Options::new()
        .ca_file(lab().path("root.pem"))
        .ocsp_mode(OcspMode::MUST_STAPLE)
        .engine(test_engine());
    let rt = runtime();
    let (version, info, body) = rt
        .block_on(get(
            HttpsConnector::new(&opts).unwrap(),
            &format!("https://localhost:{port}/"),
        ))
        .unwrap();
    assert_eq!(version, Version::HTTP_2);
    assert_eq!(body, "hello from nginx\n");
    assert_eq!(info.alpn.as_deref(), Some("h2"));
    assert!(
        matches!(info.revocation, Revocation::Good { .. }),
        "{}",
        info.revocation
    );
    assert_eq!(info.peer_certificates.len(), 2);
    let e = rt
        .block_on(get(
            HttpsConnector::new(&opts).unwrap(),
            &format!("https://localhost:{bare_port}/"),
        ))
        .unwrap_err();
    assert!(e.to_lowercase().contains("staple"), "{e}");
}

/// The hyper server of `examples/hyper_server.rs`: HTTP/2 and HTTP/1.1 by ALPN, client
/// certificates required. Read by curl (both versions) and by the connector (plain URIs refused).
#[test]
fn hyper_server_answers_curl_with_client_certificates() {
    require("curl");
    let ctx = crate::hyper_server::context(server_opts(), Some(&pki().file("ca.pem"))).unwrap();
    let rt = runtime();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    rt.spawn(crate::hyper_server::serve(listener, ctx));
    let curl = |extra: &[&str]| {
        let out = Command::new("curl")
            .args(["-sS", "--cacert", &pki().file("ca.pem")])
            .args([
                "--cert",
                &pki().file("client.pem"),
                "--key",
                &pki().file("client.key"),
            ])
            .args(extra)
            .arg(format!("https://localhost:{port}/"))
            .output()
            .unwrap();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (body, err) = curl(&["--http2"]);
    assert_eq!(body, "HTTP/2.0 for /CN=test client\n", "{err}");
    let (body, err) = curl(&["--http1.1"]);
    assert_eq!(body, "HTTP/1.1 for /CN=test client\n", "{err}");
    // No client certificate: no answer.
    let out = Command::new("curl")
        .args(["-sS", "--http2", "--cacert", &pki().file("ca.pem")])
        .arg(format!("https://localhost:{port}/"))
        .output()
        .unwrap();
    assert!(!out.status.success());

    // The connector with a client certificate; http:// is not its business.
    let opts = client_opts()
        .cert_file(pki().path("client.pem"))
        .key_file(pki().path("client.key"));
    let (version, info, body) = rt
        .block_on(get(
            HttpsConnector::new(&opts).unwrap(),
            &format!("https://localhost:{port}/"),
        ))
        .unwrap();
    assert_eq!(version, Version::HTTP_2);
    assert_eq!(body, "HTTP/2.0 for /CN=test client\n");
    assert!(!info.session_reused);
    // Only http/1.1 offered: HTTP/1.1 it is.
    let (version, _, body) = rt
        .block_on(get(
            HttpsConnector::new(&opts.clone().alpn_protocols(["http/1.1"])).unwrap(),
            &format!("https://localhost:{port}/"),
        ))
        .unwrap();
    assert_eq!(version, Version::HTTP_11);
    assert_eq!(body, "HTTP/1.1 for /CN=test client\n");
    let e = rt
        .block_on(get(
            HttpsConnector::new(&opts).unwrap(),
            &format!("http://localhost:{port}/"),
        ))
        .unwrap_err();
    assert!(e.contains("https:// URIs only"), "{e}");
}
