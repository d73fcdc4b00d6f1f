//! Exported keying material (RFC 5705, RFC 8446 7.5) and the tls-exporter channel binding
//! (RFC 9266): the same bytes as OpenSSL's on the other end, both directions, TLS 1.2 and
//! 1.3, with and without a context.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use sslsock::{SslContext, SslSocket};

use crate::server_features::s_client;
use crate::util::*;

const LABEL: &str = "EXPERIMENTAL-sslsock-test";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The hex after `Keying material: ` in an openssl s_server or s_client output.
fn openssl_keymat(out: &str) -> String {
    out.lines()
        .find_map(|l| l.trim().strip_prefix("Keying material: "))
        .unwrap_or_else(|| panic!("no keying material in {out}"))
        .trim()
        .to_owned()
}

fn client_for(version: &str) -> SslContext {
    SslContext::new(&client_opts().version(version)).unwrap()
}

/// Our client against `openssl s_server -keymatexport`: the same bytes, TLS 1.2 and 1.3.
#[test]
fn client_exports_what_openssl_s_server_exports() {
    require("openssl");
    for (version, len) in [("TLSv1_2", 48usize), ("TLSv1_3", 48), ("TLSv1_3", 20)] {
        let (peer, port, printed) = s_server_keymat("srv-ec", LABEL, len);
        let mut sock =
            SslSocket::connect_with(&format!("localhost:{port}"), &client_for(version)).unwrap();
        let ours = sock.export_keying_material(LABEL, None, len).unwrap();
        assert_eq!(ours.len(), len);
        // Another label, or a context, gives other bytes.
        assert_ne!(
            sock.export_keying_material("EXPERIMENTAL-other", None, len)
                .unwrap(),
            ours
        );
        assert_ne!(
            sock.export_keying_material(LABEL, Some(b"ctx"), len)
                .unwrap(),
            ours
        );
        sock.write_all(b"bye\n").unwrap();
        let theirs = next_keymat(&printed);
        drop(sock);
        drop(peer);
        assert_eq!(theirs, hex(&ours), "{version}");
    }
}

/// `openssl s_client -keymatexport` against our server: the server writes what it exported,
/// and s_client prints both.
#[test]
fn server_exports_what_openssl_s_client_exports() {
    require("openssl");
    for (version, flag) in [("TLSv1.2", "-tls1_2"), ("TLSv1.3", "-tls1_3")] {
        let (addr, h) = serve(server_opts(), 1, |mut s: SslSocket| {
            let k = s
                .export_keying_material(LABEL, None, 32)
                .map_err(|e| e.to_string())?;
            s.write_all(format!("server: {}\n", hex(&k)).as_bytes())
                .map_err(|e| e.to_string())?;
            echo_once(s)
        });
        let out = s_client(
            &addr,
            &[
                "-ign_eof",
                "-servername",
                "localhost",
                flag,
                "-keymatexport",
                LABEL,
                "-keymatexportlen",
                "32",
            ],
        );
        let server_line = out
            .lines()
            .find_map(|l| l.strip_prefix("server: "))
            .unwrap_or_else(|| panic!("{out}"));
        assert_eq!(openssl_keymat(&out), server_line.trim(), "{version}: {out}");
        assert!(
            out.contains(&format!("Protocol  : {version}")) || out.contains(version),
            "{out}"
        );
        for r in h.join().unwrap() {
            r.unwrap();
        }
    }
}

/// With a context, and without: the same bytes as OpenSSL's `SSL_export_keying_material`
/// (through Perl's Net::SSLeay) on a Perl IO::Socket::SSL server, and the RFC 9266
/// `tls-exporter` binding for TLS 1.3 (refused over TLS 1.2).
#[test]
fn context_and_channel_binding_match_openssl_through_perl() {
    require_perl_ssl();
    let srv = pki().pair("srv-ec");
    let script = r#"
        use IO::Socket::SSL; use Net::SSLeay;
        my ($cert, $key, $version) = @ARGV;
        my $l = IO::Socket::SSL->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1,
            SSL_cert_file => $cert, SSL_key_file => $key, SSL_version => $version) or die "$SSL_ERROR";
        $| = 1; print $l->sockport, "\n";
        my $c = $l->accept or die "accept: $SSL_ERROR";
        my $ssl = $c->_get_ssl_object;
        for my $ctx ("a context", "", undef) {
            my $k = Net::SSLeay::export_keying_material($ssl, 40, 'EXPERIMENTAL-sslsock-test', $ctx);
            print $c unpack('H*', $k), "\n";
        }
        my $cb = Net::SSLeay::export_keying_material($ssl, 32, 'EXPORTER-Channel-Binding', undef);
        print $c unpack('H*', $cb), "\n";
        <$c>;
    "#;
    for version in ["TLSv1_2", "TLSv1_3"] {
        let mut perl = Peer::spawn(
            Command::new("perl")
                .args(["-e", script])
                .arg(&srv.cert)
                .arg(&srv.key)
                .arg(version)
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit()),
        );
        let mut first = String::new();
        BufReader::new(perl.child.stdout.as_mut().unwrap())
            .read_line(&mut first)
            .unwrap();
        let port: u16 = first.trim().parse().unwrap_or_else(|_| panic!("{first}"));
        let sock =
            SslSocket::connect_with(&format!("localhost:{port}"), &client_for(version)).unwrap();
        let mut reader = BufReader::new(sock);
        let mut theirs = Vec::new();
        for _ in 0..4 {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            theirs.push(line.trim().to_uppercase());
        }
        let sock = reader.get_mut();
        let ours = [
            sock.export_keying_material(LABEL, Some(b"a context"), 40)
                .unwrap(),
            sock.export_keying_material(LABEL, Some(b""), 40).unwrap(),
            sock.export_keying_material(LABEL, None, 40).unwrap(),
        ];
        for (i, k) in ours.iter().enumerate() {
            assert_eq!(hex(k), theirs[i], "{version}, case {i}");
        }
        if version == "TLSv1_2" {
            // RFC 5705: no context and an empty context are different inputs.
            assert_ne!(ours[1], ours[2]);
            let e = sock.channel_binding().unwrap_err().to_string();
            assert!(e.contains("TLS 1.3 connections only"), "{e}");
        } else {
            // RFC 8446 7.5: they are the same.
            assert_eq!(ours[1], ours[2]);
            assert_eq!(hex(&sock.channel_binding().unwrap()), theirs[3]);
        }
        sock.write_all(b"done\n").unwrap();
        let _ = perl.finish(20);
    }
}

/// Before a handshake, or for no bytes: a precise error, not a panic.
#[test]
fn keying_material_needs_a_finished_handshake() {
    let (addr, h) = serve(server_opts(), 1, echo_once);
    let mut sock = SslSocket::connect_with(
        &addr.to_string(),
        &SslContext::new(&client_opts().hostname("localhost").start_handshake(false)).unwrap(),
    )
    .unwrap();
    let e = sock.export_keying_material(LABEL, None, 32).unwrap_err();
    assert!(e.to_string().contains("finished handshake"), "{e}");
    sock.connect_ssl().unwrap();
    let e = sock.export_keying_material(LABEL, None, 0).unwrap_err();
    assert!(e.to_string().contains("length 0"), "{e}");
    assert_eq!(
        sock.export_keying_material(LABEL, None, 16).unwrap().len(),
        16
    );
    sock.write_all(b"x\n").unwrap();
    let mut echo = String::new();
    sock.read_line(&mut echo).unwrap();
    assert_eq!(echo, "x\n");
    let _ = sock.close();
    for r in h.join().unwrap() {
        r.unwrap();
    }
}

/// TLS 1.2 labels that begin as the PRF's own are refused (RFC 5705 section 4, as OpenSSL
/// does), on both ends; TLS 1.3 reserves none of them.
#[test]
fn tls12_refuses_the_prf_labels() {
    for version in ["TLSv1_2", "TLSv1_3"] {
        let (addr, h) = serve(server_opts(), 1, |mut s| {
            let refused = s.export_keying_material("master secret", None, 48);
            let mut line = String::new();
            s.read_line(&mut line).map_err(|e| e.to_string())?;
            s.write_all(format!("{}\n", refused.is_err()).as_bytes())
                .map_err(|e| e.to_string())
        });
        let mut sock = SslSocket::connect_with(&addr.to_string(), &client_for(version)).unwrap();
        for label in [
            "client finished",
            "server finished",
            "master secret",
            "extended master secret",
            "key expansion",
            "key expansion-2",
        ] {
            let got = sock.export_keying_material(label, None, 32);
            if version == "TLSv1_2" {
                let e = got.unwrap_err().to_string();
                assert!(e.contains("RFC 5705 reserves"), "{label}: {e}");
            } else {
                assert_eq!(got.unwrap().len(), 32, "{label} over TLS 1.3");
            }
        }
        // A label that only contains one of them is anyone's.
        assert!(sock
            .export_keying_material("EXPERIMENTAL key expansion", None, 32)
            .is_ok());
        sock.write_all(b"?\n").unwrap();
        let mut line = String::new();
        sock.read_line(&mut line).unwrap();
        assert_eq!(
            line,
            format!("{}\n", version == "TLSv1_2"),
            "the server's side"
        );
        for r in h.join().unwrap() {
            r.unwrap();
        }
    }
}
