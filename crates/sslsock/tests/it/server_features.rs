//! SNI certificates, RSA+ECDSA alternates, ALPN, session caches and tickets.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

use sslsock::x509::create::{CertSpec, KeyType};
use sslsock::{Error, Options, SessionCache, SslContext, SslSocket, TlsError};

use crate::util::*;

/// Certificates for several names, signed by the test CA, written once.
fn sni_pki() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = pki().path("sni");
        std::fs::create_dir_all(&d).unwrap();
        let ca = sslsock::x509::create::Issued::from_parts(
            &std::fs::read(&pki().ca).unwrap(),
            &std::fs::read(pki().path("ca.key")).unwrap(),
            &sslsock::x509::Password::None,
        )
        .unwrap();
        for (file, cn, kt) in [
            ("a", "a.test", KeyType::EcP256),
            ("wild", "*.wild.test", KeyType::EcP256),
            ("dual-ec", "dual.test", KeyType::EcP256),
            ("dual-rsa", "dual.test", KeyType::Rsa2048),
        ] {
            let i = CertSpec::new(cn)
                .san(cn)
                .key_type(kt)
                .signed_by(&ca)
                .unwrap();
            std::fs::write(d.join(format!("{file}.pem")), &i.cert_pem).unwrap();
            std::fs::write(d.join(format!("{file}.key")), &i.key_pem).unwrap();
        }
        d
    })
}

fn sni_server() -> Options {
    let d = sni_pki();
    server_opts()
        .sni_cert("a.test", d.join("a.pem"), Some(d.join("a.key")))
        .sni_cert("*.wild.test", d.join("wild.pem"), Some(d.join("wild.key")))
        .sni_cert(
            "dual.test",
            d.join("dual-rsa.pem"),
            Some(d.join("dual-rsa.key")),
        )
        .sni_cert(
            "dual.test%ecc",
            d.join("dual-ec.pem"),
            Some(d.join("dual-ec.key")),
        )
}

/// Runs `openssl s_client` with `args` against `addr` and returns its output.
pub(crate) fn s_client(addr: &std::net::SocketAddr, args: &[&str]) -> String {
    require("openssl");
    let mut p = Peer::spawn(
        Command::new("openssl")
            .args(["s_client", "-connect", &addr.to_string(), "-CAfile"])
            .arg(&pki().ca)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    // One line and an empty one: enough for the echo and the HTTP handlers alike.
    p.child.stdin.take().unwrap().write_all(b"x\n\n").unwrap();
    let (out, err, _) = p.finish(20);
    out + &err
}

fn reply_with_name(mut s: SslSocket) -> Result<(), String> {
    let mut line = String::new();
    s.read_line(&mut line).map_err(|e| e.to_string())?;
    let name = s.servername().unwrap_or("-").to_owned();
    s.write_all(format!("sni={name}\n").as_bytes())
        .map_err(|e| e.to_string())?;
    s.close().map_err(|e| e.to_string())
}

#[test]
fn sni_picks_the_certificate_by_name() {
    let (addr, h) = serve(sni_server(), 5, reply_with_name);
    for (name, subject) in [
        (Some("a.test"), "CN = a.test"),
        (Some("x.wild.test"), "CN = *.wild.test"),
        (Some("unknown.test"), "CN = localhost"),
        (Some("a.b.wild.test"), "CN = localhost"),
        (None, "CN = localhost"),
    ] {
        let mut args = vec!["-ign_eof"];
        match name {
            Some(n) => args.extend(["-servername", n]),
            None => args.push("-noservername"),
        }
        let out = s_client(&addr, &args);
        assert!(
            out.contains(&format!("subject={subject}")) || out.contains(&format!("s:{subject}")),
            "{name:?}: {out}"
        );
        assert!(
            out.contains(&format!("sni={}", name.unwrap_or("-"))),
            "{name:?}: servername() {out}"
        );
    }
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

#[test]
fn rsa_and_ecdsa_clients_each_get_a_certificate_they_can_verify() {
    let (addr, h) = serve(sni_server(), 4, reply_with_name);
    for (sigalgs, version, want) in [
        (
            "rsa_pss_rsae_sha256",
            "-tls1_3",
            "Server public key is 2048 bit",
        ),
        (
            "ecdsa_secp256r1_sha256",
            "-tls1_3",
            "Server public key is 256 bit",
        ),
        ("RSA+SHA256", "-tls1_2", "Server public key is 2048 bit"),
        ("ECDSA+SHA256", "-tls1_2", "Server public key is 256 bit"),
    ] {
        let out = s_client(
            &addr,
            &[
                "-ign_eof",
                "-servername",
                "dual.test",
                "-sigalgs",
                sigalgs,
                version,
                "-verify_return_error",
            ],
        );
        assert!(out.contains(want), "{sigalgs}: {out}");
        assert!(
            out.contains("Verify return code: 0 (ok)"),
            "{sigalgs}: {out}"
        );
    }
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

#[test]
fn cipher_lists_per_sni_name() {
    let opts = sni_server()
        .ciphers_for(
            "a.test",
            Some("ECDHE+CHACHA20"),
            Some("TLS_CHACHA20_POLY1305_SHA256"),
        )
        .ciphers_for(
            "*.wild.test",
            Some("ECDHE+AES128"),
            Some("TLS_AES_128_GCM_SHA256"),
        );
    let (addr, h) = serve(opts, 6, reply_with_name);
    for (name, version, want) in [
        ("a.test", "-tls1_3", "TLS_CHACHA20_POLY1305_SHA256"),
        ("a.test", "-tls1_2", "ECDHE-ECDSA-CHACHA20-POLY1305"),
        ("x.wild.test", "-tls1_3", "TLS_AES_128_GCM_SHA256"),
        ("x.wild.test", "-tls1_2", "ECDHE-ECDSA-AES128-GCM-SHA256"),
        ("other.test", "-tls1_3", "TLS_AES_128_GCM_SHA256"),
        ("other.test", "-tls1_2", "ECDHE-ECDSA-AES128-GCM-SHA256"),
    ] {
        let out = s_client(&addr, &["-ign_eof", "-servername", name, version]);
        assert!(
            out.contains(&format!("Cipher is {want}")),
            "{name} {version}: {out}"
        );
        assert!(out.contains(&format!("sni={name}")), "{name}: {out}");
    }
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

#[test]
fn alpn_with_openssl_curl_and_ours() {
    let (addr, h) = serve(
        server_opts().alpn_protocols(["h2", "http/1.1"]),
        3,
        |mut s| {
            let mut line = String::new();
            loop {
                line.clear();
                if s.read_line(&mut line).map_err(|e| e.to_string())? == 0 || line.trim().is_empty()
                {
                    break;
                }
            }
            let alpn = s.alpn_selected().unwrap_or_else(|| "-".into());
            let body = format!("alpn={alpn}\n");
            let _ = s.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
            let _ = s.close();
            Ok(())
        },
    );
    // openssl s_client offering both gets the server's first choice.
    let out = s_client(
        &addr,
        &[
            "-ign_eof",
            "-servername",
            "localhost",
            "-alpn",
            "http/1.1,h2",
        ],
    );
    assert!(out.contains("ALPN protocol: h2"), "{out}");
    // curl: --http1.1 offers only http/1.1; --http2 offers h2 first.
    require("curl");
    let curl = |flag: &str| {
        Command::new("curl")
            .args([
                "-sv",
                flag,
                "--resolve",
                &format!("localhost:{}:127.0.0.1", addr.port()),
                "--cacert",
            ])
            .arg(&pki().ca)
            .arg(format!("https://localhost:{}/", addr.port()))
            .output()
            .unwrap()
    };
    let o = curl("--http1.1");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "alpn=http/1.1\n",
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = curl("--http2");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("ALPN: server accepted h2"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    h.join().unwrap();
}

#[test]
fn strict_alpn_without_overlap_fails_and_without_offer_proceeds() {
    // alpn_strict: the default goes on without ALPN (context_boundary tests it).
    let (addr, h) = serve(
        server_opts().alpn_protocols(["x-one"]).alpn_strict(true),
        2,
        echo_once,
    );
    let err = SslSocket::connect_with(&addr.to_string(), &client_opts().alpn_protocols(["x-two"]))
        .unwrap_err();
    assert!(
        matches!(&err, Error::Tls(TlsError::AlertReceived(a)) if a.name() == Some("no_application_protocol")),
        "{err:?}"
    );
    let mut c = SslSocket::connect_with(&addr.to_string(), &client_opts()).unwrap();
    assert_eq!(c.alpn_selected(), None);
    c.write_all(b"no alpn\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    let results = h.join().unwrap();
    assert!(
        results[0]
            .as_ref()
            .unwrap_err()
            .contains("application protocol"),
        "{results:?}"
    );
    let npn = SslContext::new(
        &client_opts()
            .engine(sslsock::Engine::Rustls)
            .npn_protocols(["http/1.1"]),
    )
    .unwrap_err();
    assert!(
        npn.to_string().contains("NPN") && npn.to_string().contains("obsolete"),
        "{npn}"
    );
    // NPN is the openssl engine's, when it is built in.
    assert!(!sslsock::Engine::Rustls.can_npn());
    assert_eq!(sslsock::can_npn(), cfg!(feature = "openssl"));
    assert!(sslsock::can_alpn() && sslsock::can_server_sni());
}

/// Connects twice with `ctx` (reading a reply so TLS 1.3 tickets arrive); returns whether
/// each connection resumed.
fn twice(addr: &str, ctx: &SslContext) -> Vec<bool> {
    (0..2)
        .map(|_| {
            let mut c = SslSocket::connect_with(addr, ctx).unwrap();
            c.write_all(b"r\n").unwrap();
            let mut line = String::new();
            c.read_line(&mut line).unwrap();
            c.session_reused()
        })
        .collect()
}

/// One connection through `ctx` that waits for the reply (and so for TLS 1.3 tickets);
/// whether it resumed.
fn connect_once(addr: &str, ctx: &SslContext) -> bool {
    let mut c = SslSocket::connect_with(addr, ctx).unwrap();
    c.write_all(b"r\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    c.session_reused()
}

#[test]
fn resumption_ours_to_ours_in_tls12_and_tls13() {
    for version in ["TLSv1_2", "TLSv1_3"] {
        let (addr, h) = serve(server_opts(), 7, echo_once);
        let ctx = SslContext::new(&client_opts().version(version)).unwrap();
        assert_eq!(twice(&addr.to_string(), &ctx), [false, true], "{version}");
        // A cache of size 0 never resumes.
        let none = SslContext::new(&client_opts().version(version).session_cache_size(0)).unwrap();
        assert_eq!(twice(&addr.to_string(), &none), [false, false], "{version}");
        // A shared cache resumes across contexts of the same verification policy...
        let cache = SessionCache::new(10);
        let c1 = SslContext::new(&client_opts().version(version).session_cache(&cache)).unwrap();
        let c2 = SslContext::new(&client_opts().version(version).session_cache(&cache)).unwrap();
        assert!(!connect_once(&addr.to_string(), &c1), "{version}: first");
        assert!(
            connect_once(&addr.to_string(), &c2),
            "{version}: another context, the same policy, the shared cache"
        );
        // ... and never across policies: another hostname scheme is another verification.
        let c3 = SslContext::new(
            &client_opts()
                .version(version)
                .session_cache(&cache)
                .verifycn_scheme(sslsock::Scheme::named("strict").unwrap()),
        )
        .unwrap();
        assert!(
            !connect_once(&addr.to_string(), &c3),
            "{version}: another policy"
        );
        h.join().unwrap().into_iter().for_each(|r| r.unwrap());
    }
}

/// Two listeners sharing one server context (one session store), on two ports.
fn two_ports(counts: [usize; 2]) -> (u16, u16, Vec<std::thread::JoinHandle<()>>) {
    let ctx = SslContext::new(&server_opts().server(true)).unwrap();
    let mut ports = Vec::new();
    let mut handles = Vec::new();
    for count in counts {
        let l = sslsock::SslListener::bind("127.0.0.1:0", &ctx).unwrap();
        ports.push(l.local_addr().unwrap().port());
        handles.push(std::thread::spawn(move || {
            for _ in 0..count {
                if let Ok((s, _)) = l.accept() {
                    let _ = echo_once(s);
                }
            }
        }));
    }
    (ports[0], ports[1], handles)
}

fn resumed(port: u16, ctx: &SslContext) -> bool {
    let mut c = SslSocket::connect_with(&format!("127.0.0.1:{port}"), ctx).unwrap();
    c.write_all(b"k\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    c.session_reused()
}

#[test]
fn sessions_are_keyed_by_host_and_port_unless_a_session_key_is_given() {
    let (p1, p2, handles) = two_ports([4, 2]);
    // Default: host:port. The second port is a new session although the name is the same.
    let ctx = SslContext::new(&client_opts()).unwrap();
    assert_eq!(
        [resumed(p1, &ctx), resumed(p1, &ctx), resumed(p2, &ctx)],
        [false, true, false]
    );
    // session_key shares the session across the ports (the FTPS case).
    let keyed = SessionCache::new(10);
    let ctx = SslContext::new(
        &client_opts()
            .session_key("ftp.example")
            .session_cache(&keyed),
    )
    .unwrap();
    assert_eq!([resumed(p1, &ctx), resumed(p2, &ctx)], [false, true]);
    // del forgets them.
    keyed.del("ftp.example");
    assert!(!resumed(p1, &ctx));
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn sessions_move_between_keys_with_get_and_add() {
    for version in ["TLSv1_2", "TLSv1_3"] {
        let (p1, p2, handles) = two_ports([1, 1]);
        let cache = SessionCache::new(10);
        let ctx = SslContext::new(&client_opts().version(version).session_cache(&cache)).unwrap();
        assert!(cache.get(&format!("127.0.0.1:{p2}")).is_none());
        assert!(!resumed(p1, &ctx), "{version}");
        let session = cache
            .get(&format!("127.0.0.1:{p1}"))
            .unwrap_or_else(|| panic!("{version}: no session filed under host:port"));
        assert_eq!(session.version(), version);
        // Filed under the second port, the first port's session resumes there.
        cache.add(&format!("127.0.0.1:{p2}"), session);
        assert!(
            resumed(p2, &ctx),
            "{version}: the added session did not resume"
        );
        for h in handles {
            h.join().unwrap();
        }
    }
}

#[test]
fn resumption_ours_to_openssl_s_server() {
    require("openssl");
    for v in ["-tls1_2", "-tls1_3"] {
        let p = pki().pair("srv-ec");
        let (_peer, port) = spawn_listening(|port| {
            let mut cmd = Command::new("openssl");
            cmd.args([
                "s_server",
                "-accept",
                &format!("127.0.0.1:{port}"),
                "-www",
                v,
                "-cert",
            ])
            .arg(&p.cert)
            .arg("-key")
            .arg(&p.key)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
            cmd
        });
        let ctx = SslContext::new(&client_opts()).unwrap();
        let resumed: Vec<bool> = (0..3)
            .map(|_| {
                let mut c = SslSocket::connect_with(&format!("127.0.0.1:{port}"), &ctx).unwrap();
                c.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
                let _ = read_all(&mut c);
                c.session_reused()
            })
            .collect();
        assert_eq!(resumed, [false, true, true], "{v}");
    }
}

#[test]
fn openssl_s_client_resumes_with_ours_and_not_after_key_rotation() {
    require("openssl");
    // Ticket keys: the current one and the retired ones, changeable while serving.
    let keys: Arc<Mutex<(u8, Vec<u8>)>> = Arc::new(Mutex::new((1, vec![1])));
    let k = keys.clone();
    let opts = server_opts()
        .session_cache_size(0)
        .ticket_keycb(move |name| {
            let (current, valid) = &*k.lock().unwrap();
            let key_for = |n: u8| sslsock::TicketKey {
                name: [n; 16],
                key: [n; 32],
            };
            match name {
                None => Some(key_for(*current)),
                Some(n) if valid.contains(&n[0]) => Some(key_for(n[0])),
                Some(_) => None,
            }
        });
    let (addr, h) = serve(opts, 5, echo_once);
    let sess = pki().path("s_client.sess");
    let run = |args: &[&str]| {
        s_client(
            &addr,
            &[&["-ign_eof", "-servername", "localhost"], args].concat(),
        )
    };
    let out = run(&["-sess_out", sess.to_str().unwrap()]);
    assert!(out.contains("New, TLSv1.3"), "{out}");
    let out = run(&["-sess_in", sess.to_str().unwrap()]);
    assert!(
        out.contains("Reused, TLSv1.3"),
        "second connection resumes: {out}"
    );
    // Rotate: key 2 is current, key 1 still accepted (and its tickets replaced).
    *keys.lock().unwrap() = (2, vec![1, 2]);
    let out = run(&[
        "-sess_in",
        sess.to_str().unwrap(),
        "-sess_out",
        sess.to_str().unwrap(),
    ]);
    assert!(
        out.contains("Reused, TLSv1.3"),
        "old key still valid: {out}"
    );
    // Key 1 retired: the saved session (under key 2 now) resumes; an old one would not.
    *keys.lock().unwrap() = (3, vec![3]);
    let out = run(&["-sess_in", sess.to_str().unwrap()]);
    assert!(
        out.contains("New, TLSv1.3"),
        "retired key does not resume: {out}"
    );
    let _ = run(&[]);
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

#[cfg(feature = "unstable-engine-config")]
#[test]
fn engine_callback_sees_the_config() {
    let seen = Arc::new(Mutex::new(false));
    let s2 = seen.clone();
    let ctx = SslContext::new(&client_opts().engine_callback(move |cfg| {
        if let sslsock::advanced::EngineConfigMut::Client(c) = cfg {
            c.alpn_protocols = vec![b"x-hook".to_vec()];
            *s2.lock().unwrap() = true;
        }
    }))
    .unwrap();
    assert!(*seen.lock().unwrap());
    let (addr, h) = serve(server_opts().alpn_protocols(["x-hook"]), 1, echo_once);
    let mut c = SslSocket::connect_with(&addr.to_string(), &ctx).unwrap();
    assert_eq!(c.alpn_selected().as_deref(), Some("x-hook"));
    c.write_all(b"x\n").unwrap();
    let mut line = String::new();
    c.read_line(&mut line).unwrap();
    h.join().unwrap().into_iter().for_each(|r| r.unwrap());
}

/// Servers given one session store resume each other's sessions: a client that saved its
/// session at server A resumes at server B, with TLS 1.2 session IDs and TLS 1.3 stateful
/// tickets (good for one use); a server with a store of its own does not. The openssl engine
/// refuses the option, naming it.
#[test]
fn servers_sharing_a_session_store_resume_each_others_sessions() {
    require("openssl");
    let store = Arc::new(sslsock::MemorySessionStore::new(100));
    let shared = || server_opts().server_session_store(store.clone());
    if test_engine() == sslsock::Engine::OpenSsl {
        let e = SslContext::new(&shared().server(true)).unwrap_err();
        assert!(
            e.to_string()
                .contains("server_session_store: the openssl engine"),
            "{e}"
        );
        return;
    }
    let (a, ha) = serve(shared(), 3, echo_once);
    let (b, hb) = serve(shared(), 2, echo_once);
    let (c, hc) = serve(server_opts(), 1, echo_once);
    let asking = shared()
        .client_ca_file(&pki().ca)
        .verify_mode(sslsock::VerifyMode::PEER);
    let (d, hd) = serve(asking, 1, echo_once);
    let run = |addr: &std::net::SocketAddr, args: &[&str]| {
        s_client(
            addr,
            &[&["-ign_eof", "-servername", "localhost"], args].concat(),
        )
    };
    for (version, flags) in [
        ("TLSv1.2", &["-tls1_2", "-no_ticket"][..]),
        ("TLSv1.3", &["-tls1_3"][..]),
    ] {
        let sess = pki().path(&format!("fleet-{version}.sess"));
        let sess = sess.to_str().unwrap();
        let out = run(&a, &[flags, &["-sess_out", sess]].concat());
        assert!(
            out.contains(&format!("New, {version}")),
            "{version} at A: {out}"
        );
        let out = run(&b, &[flags, &["-sess_in", sess]].concat());
        assert!(
            out.contains(&format!("Reused, {version}")),
            "{version} at B: {out}"
        );
        if version == "TLSv1.3" {
            // The ticket was taken at B: A does not take it again.
            let out = run(&a, &[flags, &["-sess_in", sess]].concat());
            assert!(out.contains("New, TLSv1.3"), "a used ticket at A: {out}");
            // A server with its own cache knows nothing of the fleet's sessions.
            let out = run(&c, &[flags, &["-sess_in", sess]].concat());
            assert!(out.contains("New, TLSv1.3"), "outside the fleet: {out}");
        } else {
            // A server that checks clients otherwise (it asks for a certificate) does not
            // resume a session accepted without one, though it shares the store.
            let out = run(&d, &[flags, &["-sess_in", sess]].concat());
            assert!(out.contains("New, TLSv1.2"), "another client policy: {out}");
        }
    }
    assert!(!store.is_empty());
    for h in [ha, hb, hc, hd] {
        for r in h.join().unwrap() {
            r.unwrap();
        }
    }
}

/// Servers sharing a rotating ticket key ring open each other's tickets; a ticket from
/// before one rotation still resumes, from before two it does not.
#[test]
fn a_shared_ticket_key_ring_resumes_across_servers_until_two_rotations() {
    require("openssl");
    let ring = Arc::new(sslsock::TicketKeyRing::new(std::time::Duration::from_secs(
        3600,
    )));
    let with_ring = || server_opts().ticket_key_ring(ring.clone());
    let (a, ha) = serve(with_ring(), 2, echo_once);
    let (b, hb) = serve(with_ring(), 2, echo_once);
    let sess = pki().path("ring.sess");
    let sess = sess.to_str().unwrap();
    let run = |addr: &std::net::SocketAddr, args: &[&str]| {
        s_client(
            addr,
            &[&["-ign_eof", "-servername", "localhost", "-tls1_3"], args].concat(),
        )
    };
    let out = run(&a, &["-sess_out", sess]);
    assert!(out.contains("New, TLSv1.3"), "{out}");
    let out = run(&b, &["-sess_in", sess]);
    assert!(
        out.contains("Reused, TLSv1.3"),
        "another server of the ring: {out}"
    );
    // A server of the same ring that requires client certificates does not resume a ticket
    // issued without one: the client has to show a certificate, and has none.
    let requiring = with_ring()
        .client_ca_file(&pki().ca)
        .ca_file(&pki().ca)
        .verify_mode(sslsock::VerifyMode::PEER | sslsock::VerifyMode::FAIL_IF_NO_PEER_CERT);
    let (d, hd) = serve(requiring, 1, echo_once);
    let out = run(&d, &["-sess_in", sess]);
    assert!(
        !out.contains("Reused"),
        "another client policy resumed: {out}"
    );
    let refused = hd.join().unwrap().remove(0).unwrap_err();
    assert!(refused.contains("certificate"), "{refused}");
    ring.rotate();
    let out = run(&b, &["-sess_in", sess]);
    assert!(out.contains("Reused, TLSv1.3"), "one rotation later: {out}");
    ring.rotate();
    let out = run(&a, &["-sess_in", sess]);
    assert!(out.contains("New, TLSv1.3"), "two rotations later: {out}");
    for h in [ha, hb] {
        for r in h.join().unwrap() {
            r.unwrap();
        }
    }
}

/// A ClientHello callback chooses the server's context by what the client offers: its ALPN
/// protocols, its signature schemes; `None` keeps the listening context; a client context is
/// an error of that handshake. The openssl engine refuses the option by name.
#[test]
fn a_client_hello_callback_chooses_the_context() {
    require("openssl");
    let rsa = SslContext::new(&server_opts_with("srv-rsa").server(true)).unwrap();
    let der = |pair: &str| {
        openssl_in(
            &pki().dir,
            &["x509", "-in", &format!("{pair}.pem"), "-outform", "DER"],
        )
    };
    let client_ctx = SslContext::new(&client_opts()).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let chooser = move |hello: &sslsock::ClientHello| {
        log.lock().unwrap().push(hello.clone());
        let alpn: Vec<&[u8]> = hello.alpn().collect();
        if alpn.contains(&&b"x-bad"[..]) {
            Some(client_ctx.clone())
        } else if alpn.contains(&&b"x-rsa"[..]) || !hello.accepts_ecdsa() {
            Some(rsa.clone())
        } else {
            None
        }
    };
    let listening = SslContext::new(&server_opts().server(true)).unwrap();
    let chosen = listening.with_client_hello_callback(chooser);
    if test_engine() == sslsock::Engine::OpenSsl {
        let e = chosen.unwrap_err();
        assert!(
            e.to_string()
                .contains("with_client_hello_callback: the openssl engine"),
            "{e}"
        );
        return;
    }
    let e = SslContext::new(&client_opts())
        .unwrap()
        .with_client_hello_callback(|_| None)
        .unwrap_err();
    assert!(e.to_string().contains("for a server context"), "{e}");
    let opts = chosen.unwrap();
    // What each connection says it presented (sock_certificate).
    let presented = Arc::new(Mutex::new(Vec::new()));
    let record = presented.clone();
    let handle = move |s: SslSocket| {
        record
            .lock()
            .unwrap()
            .push(s.sock_certificate().map(|c| c.to_vec()));
        echo_once(s)
    };
    let listener = sslsock::SslListener::bind("127.0.0.1:0", &opts).unwrap();
    let addr = listener.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        (0..4)
            .map(|_| match listener.accept() {
                Ok((s, _)) => handle(s),
                Err(e) => Err(e.to_string()),
            })
            .collect::<Vec<_>>()
    });
    let bits = |out: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix("Server public key is "))
            .unwrap_or("none")
            .to_owned()
    };
    let out = s_client(&addr, &["-servername", "localhost"]);
    assert_eq!(bits(&out), "256 bit", "{out}");
    let out = s_client(&addr, &["-servername", "localhost", "-alpn", "x-rsa,h2"]);
    assert_eq!(bits(&out), "2048 bit", "{out}");
    let out = s_client(
        &addr,
        &[
            "-servername",
            "localhost",
            "-tls1_3",
            "-sigalgs",
            "rsa_pss_rsae_sha256",
        ],
    );
    assert_eq!(bits(&out), "2048 bit", "no ECDSA offered: {out}");
    let out = s_client(&addr, &["-servername", "localhost", "-alpn", "x-bad"]);
    assert_eq!(bits(&out), "none", "{out}");
    let results = h.join().unwrap();
    assert!(results[..3].iter().all(Result::is_ok), "{results:?}");
    let e = results[3].as_ref().unwrap_err();
    assert!(e.contains("not a server's"), "{e}");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 4);
    assert_eq!(seen[0].server_name(), Some("localhost"));
    assert!(seen[0].accepts_ecdsa());
    assert_eq!(
        seen[1].alpn().collect::<Vec<_>>(),
        [&b"x-rsa"[..], &b"h2"[..]]
    );
    assert_eq!(seen[2].signature_schemes(), [0x0804]);
    let presented = presented.lock().unwrap();
    assert_eq!(presented[0].as_deref(), Some(der("srv-ec").as_slice()));
    assert_eq!(presented[1].as_deref(), Some(der("srv-rsa").as_slice()));
    assert_eq!(presented[2].as_deref(), Some(der("srv-rsa").as_slice()));
}
