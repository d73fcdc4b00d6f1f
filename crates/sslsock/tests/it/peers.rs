//! Real clients against our server: openssl s_client, curl, Python ssl, Perl IO::Socket::SSL.

use std::io::{BufRead, Write};
use std::process::{Command, Stdio};

use sslsock::SslSocket;

use crate::util::*;

fn echo(mut s: SslSocket) -> Result<(), String> {
    let mut line = String::new();
    s.read_line(&mut line).map_err(|e| e.to_string())?;
    s.write_all(format!("echo:{line}").as_bytes())
        .map_err(|e| e.to_string())?;
    s.close().map_err(|e| e.to_string())
}

#[test]
fn openssl_s_client_verifies_our_server() {
    require("openssl");
    let (addr, h) = serve(server_opts().alpn_protocols(["foo"]), 1, echo);
    let mut peer = Peer::spawn(
        Command::new("openssl")
            .args([
                "s_client",
                "-ign_eof",
                "-connect",
                &addr.to_string(),
                "-servername",
                "localhost",
                "-verify_hostname",
                "localhost",
                "-verify_return_error",
                "-alpn",
                "foo",
                "-CAfile",
            ])
            .arg(&pki().ca)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    peer.child
        .stdin
        .take()
        .unwrap()
        .write_all(b"from s_client\n")
        .unwrap();
    let (out, err, _) = peer.finish(20);
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
    assert!(out.contains("Verify return code: 0 (ok)"), "{out}\n{err}");
    assert!(out.contains("ALPN protocol: foo"), "{out}");
    assert!(out.contains("echo:from s_client"), "{out}");
}

#[test]
fn curl_fetches_from_our_server() {
    require("curl");
    let (addr, h) = serve(server_opts_with("srv-rsa"), 1, |mut s| {
        let mut line = String::new();
        // Read the request head.
        loop {
            line.clear();
            s.read_line(&mut line).map_err(|e| e.to_string())?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
        }
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\nhi curl!\n")
            .map_err(|e| e.to_string())?;
        s.close().map_err(|e| e.to_string())
    });
    let out = Command::new("curl")
        .args([
            "-sS",
            "--http1.1",
            "--resolve",
            &format!("localhost:{}:127.0.0.1", addr.port()),
            "--cacert",
        ])
        .arg(&pki().ca)
        .arg(format!("https://localhost:{}/", addr.port()))
        .output()
        .unwrap();
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hi curl!\n");
}

#[test]
fn python_ssl_client() {
    require("python3");
    let (addr, h) = serve(server_opts().alpn_protocols(["x-test"]), 1, echo);
    let script = r#"
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
ctx.set_alpn_protocols(["x-test"])
with socket.create_connection(("127.0.0.1", int(sys.argv[1]))) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(b"from python\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(100)
            if not chunk: break
            data += chunk
        print(s.version(), s.selected_alpn_protocol(), data.decode().strip())
"#;
    let out = Command::new("python3")
        .args(["-c", script, &addr.port().to_string()])
        .arg(&pki().ca)
        .output()
        .unwrap();
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "TLSv1.3 x-test echo:from python"
    );
}

#[test]
fn perl_io_socket_ssl_client() {
    require_perl_ssl();
    let (addr, h) = serve(server_opts(), 1, echo);
    let script = r#"
use strict; use warnings; use IO::Socket::SSL;
my ($port, $ca) = @ARGV;
my $c = IO::Socket::SSL->new(PeerAddr => "127.0.0.1:$port", SSL_hostname => "localhost",
    SSL_verifycn_name => "localhost", SSL_verifycn_scheme => "http", SSL_ca_file => $ca,
    SSL_version => "TLSv1_2") or die "connect: $SSL_ERROR";
print $c "from perl\n";
my $l = <$c>;
print $c->get_sslversion, " ", $c->get_cipher, " ", $l;
"#;
    let out = Command::new("perl")
        .args(["-e", script, &addr.port().to_string()])
        .arg(&pki().ca)
        .output()
        .unwrap();
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "TLSv1_2 ECDHE-ECDSA-AES128-GCM-SHA256 echo:from perl\n"
    );
}
