//! `serve --session-store`: two server processes sharing one `redis-server`.

use crate::common::*;
use sslsock_test_support::redis::RedisServer;

/// A store key file, the same for the whole fleet.
fn store_key() -> String {
    let path = pki().path("fleet-store.key");
    std::fs::write(&path, format!("{}\n", "c3".repeat(32))).unwrap();
    path.display().to_string()
}

/// One server of the fleet on `redis`, with `extra` flags.
fn member(
    redis: &RedisServer,
    extra: &[&str],
) -> (Peer, u16, BufReader<std::process::ChildStdout>) {
    let url = redis.url(0);
    let key = store_key();
    let (cert, key_file) = (f("srv-ec.pem"), f("srv-ec.key"));
    let args = [
        &[
            "--cert",
            cert.as_str(),
            "--key",
            key_file.as_str(),
            "--session-store",
            url.as_str(),
            "--store-key",
            key.as_str(),
            "--mode",
            "http",
        ][..],
        extra,
    ]
    .concat();
    // A second, not 50 ms: a busy test machine must not turn a slow answer into a miss.
    let deadline: &[&str] = if extra.contains(&"--store-deadline") {
        &[]
    } else {
        &["--store-deadline", "1s"]
    };
    serve(&[&args[..], deadline].concat())
}

/// `openssl s_client` to the server on `port` with `args`: one HTTP/1.0 request, then the
/// server closes (after the tickets have arrived).
fn s_client(port: u16, args: &[&str]) -> String {
    let out = run_with_input(
        Command::new("openssl")
            .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
            .args([
                "-servername",
                "localhost",
                "-CAfile",
                &f("ca.pem"),
                "-ign_eof",
            ])
            .args(args)
            .stderr(Stdio::null()),
        b"GET / HTTP/1.0\r\n\r\n",
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `s_client -sess_out` at server A, `-sess_in` at server B: `Reused` for TLS 1.2 session
/// IDs and TLS 1.3 tickets; `connect --reconnect --also` says on which server each
/// connection resumed, and each server's log says which it resumed.
#[test]
fn two_serve_processes_resume_each_others_sessions() {
    require("openssl");
    let redis = RedisServer::start();
    let (_a, pa, mut out_a) = member(&redis, &[]);
    let (_b, pb, mut out_b) = member(&redis, &[]);
    let mut line = String::new();
    out_a.read_line(&mut line).unwrap();
    assert!(
        line.contains(&format!(
            "session store {}: sessions and ticket keys shared (the ticket key rotates every 12h)",
            redis.url(0)
        )),
        "{line}"
    );
    for (version, flags) in [
        ("TLSv1.2", &["-tls1_2", "-no_ticket"][..]),
        ("TLSv1.3", &["-tls1_3"][..]),
    ] {
        let sess = pki().file(&format!("cli-fleet-{version}.sess"));
        let out = s_client(pa, &[flags, &["-sess_out", &sess]].concat());
        assert!(
            out.contains(&format!("New, {version}")),
            "{version} at A: {out}"
        );
        let out = s_client(pb, &[flags, &["-sess_in", &sess]].concat());
        assert!(
            out.contains(&format!("Reused, {version}")),
            "{version} at B: {out}"
        );
    }
    let a_addr = format!("127.0.0.1:{pa}");
    let b_addr = format!("127.0.0.1:{pb}");
    for version in ["TLSv1_2", "TLSv1_3"] {
        let report = run_ok(&[
            "connect",
            &a_addr,
            "--also",
            &b_addr,
            "--reconnect",
            "3",
            "--cacert",
            &f("ca.pem"),
            "--servername",
            "localhost",
            "--version",
            version,
        ]);
        assert!(
            report.contains(&format!("connection 2:   resumed at {b_addr}"))
                && report.contains(&format!(
                    "resumed: 2 of 3 connections (2 at {b_addr}, 3 at {a_addr})"
                )),
            "{version}: {report}"
        );
    }
    // Each server's log marks the connections it resumed.
    let log = |out: &mut BufReader<std::process::ChildStdout>, n: usize| {
        (0..n)
            .map(|_| {
                let mut l = String::new();
                out.read_line(&mut l).unwrap();
                l
            })
            .filter(|l| l.contains(" resumed"))
            .count()
    };
    // A: s_client x2 (new), connect x4 (1 new, 1 resumed per version).
    assert_eq!(log(&mut out_a, 6), 2);
    // B: its store line, then s_client x2 (resumed), connect x2 (resumed).
    out_b.read_line(&mut String::new()).unwrap();
    assert_eq!(log(&mut out_b, 4), 4);
}

/// `--ticket-rotate 2s`: a ticket from before one rotation resumes at the other server, from
/// before two it does not.
#[test]
fn rotation_retires_a_ticket_after_two_periods() {
    require("openssl");
    let redis = RedisServer::start();
    let (_a, pa, _out_a) = member(&redis, &["--ticket-rotate", "2s"]);
    let (_b, pb, _out_b) = member(&redis, &["--ticket-rotate", "2s"]);
    let sess = pki().file("cli-fleet-rotate.sess");
    let out = s_client(pa, &["-tls1_3", "-sess_out", &sess]);
    assert!(out.contains("New, TLSv1.3"), "{out}");
    assert_eq!(redis.cli(&["GET", "sslsock:tk:current"]).trim(), "1");
    // Past one period: B rotates (the key is due) and still opens the ticket.
    std::thread::sleep(Duration::from_millis(2500));
    let out = s_client(pb, &["-tls1_3", "-sess_in", &sess]);
    assert!(out.contains("Reused, TLSv1.3"), "after one rotation: {out}");
    assert_eq!(redis.cli(&["GET", "sslsock:tk:current"]).trim(), "2");
    // Past another: A rotates again, and the first key is retired.
    std::thread::sleep(Duration::from_millis(2500));
    let out = s_client(pa, &["-tls1_3", "-sess_in", &sess]);
    assert!(out.contains("New, TLSv1.3"), "after two rotations: {out}");
    assert_eq!(redis.cli(&["GET", "sslsock:tk:current"]).trim(), "3");
}

/// A store that is not there: the server serves (full handshakes) and says so once.
#[test]
fn a_store_that_does_not_answer_costs_resumption_only() {
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}/0");
    let key = store_key();
    let (mut server, pa, _out) = serve(&["--session-store", &url, "--store-key", &key]);
    let addr = format!("127.0.0.1:{pa}");
    let report = run_ok(&["connect", &addr, "-k", "--reconnect", "3"]);
    assert!(
        report.contains("resumed: 0 of 3 connections (none)"),
        "{report}"
    );
    server.child.kill().unwrap();
    let mut err = String::new();
    server
        .child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let warned: Vec<&str> = err.lines().filter(|l| l.contains(&url)).collect();
    assert_eq!(warned.len(), 1, "{err}");
    assert!(warned[0].contains("handshakes are full"), "{err}");
}

/// A stalled store (SIGSTOP): a call to it ends at `--store-deadline`, the connections are
/// served (full handshakes, no resumption), and the warning says what was waited for.
#[test]
fn a_stalled_store_costs_its_deadline() {
    let redis = RedisServer::start();
    let url = redis.url(0);
    // Stateful tickets: every full handshake puts one in the store.
    let flags = ["--store-deadline", "1500ms", "--ticket-rotate", "off"];
    let (mut server, pa, _out) = member(&redis, &flags);
    let warnings = line_feed(Box::new(server.child.stderr.take().unwrap()));
    let addr = format!("127.0.0.1:{pa}");
    // Connections while the store answers, so that the kept connection is the one to stall.
    let report = run_ok(&["connect", &addr, "-k", "--reconnect", "2"]);
    assert!(report.contains("resumed: 1 of 2"), "{report}");
    redis.pause();
    let report = run_ok(&["connect", &addr, "-k", "--reconnect", "2"]);
    assert!(report.contains("resumed: 0 of 2"), "{report}");
    let warned = wait_for_line(&warnings, &url, 20);
    redis.resume();
    assert!(
        warned.contains("no answer within 1500 ms: handshakes are full"),
        "{warned}"
    );
    server.child.kill().unwrap();
}

/// `--ocsp-staple auto` with a store: one server of the fleet asks the responder, the other
/// serves its answer; both staples are good for `openssl s_client -status`.
#[test]
fn a_fleet_shares_its_ocsp_staple() {
    require("openssl");
    let redis = RedisServer::start();
    let url = redis.url(0);
    let key = store_key();
    let (cert, cert_key) = (lab_file("fleet-chain.pem"), lab_file("fleet.key"));
    let member = || {
        serve(&[
            "--cert",
            &cert,
            "--key",
            &cert_key,
            "--ocsp-staple",
            "auto",
            "--session-store",
            &url,
            "--store-key",
            &key,
            "--store-deadline",
            "1s",
        ])
    };
    let before = ocsp_lab::lab().requests_to("int-fleet");
    let (_a, pa, mut out_a) = member();
    let mut note = String::new();
    out_a.read_line(&mut note).unwrap();
    assert!(
        note.contains("; OCSP staples shared (one server asks the responder)"),
        "{note}"
    );
    let (_b, pb, _out_b) = member();
    assert_eq!(ocsp_lab::lab().requests_to("int-fleet"), before + 1);
    for port in [pa, pb] {
        let out = run_with_input(
            Command::new("openssl")
                .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
                .args(["-CAfile", &lab_file("root.pem"), "-status"])
                .stderr(Stdio::null()),
            b"",
        );
        let out = String::from_utf8_lossy(&out.stdout);
        assert!(out.contains("Cert Status: good"), "{port}: {out}");
    }
}

/// Bad store flags are refused with the reason, before anything listens.
#[test]
fn bad_store_flags_are_refused() {
    let key = store_key();
    let store = ["serve", "--listen", "127.0.0.1:0", "--session-store"];
    let o = sslsock(&[&store[..], &["redis://127.0.0.1:1/0"]].concat());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--store-key"), "{}", stderr(&o));
    let short = pki().path("short-store.key");
    std::fs::write(&short, "abcd\n").unwrap();
    let (missing, short) = (pki().file("no-such-store.key"), short.display().to_string());
    let ca = f("ca.pem");
    let redis = "redis://127.0.0.1:1/0";
    for (args, needle) in [
        (vec![redis, "--store-key", &missing], "no-such-store.key"),
        (
            vec![redis, "--store-key", &short],
            "want 32 bytes, raw or as 64 hex digits",
        ),
        (
            vec!["http://127.0.0.1:1/", "--store-key", &key],
            "session store http://127.0.0.1:1/",
        ),
        (
            vec![redis, "--store-key", &key, "--ticket-rotate", "soon"],
            "--ticket-rotate soon: want a duration",
        ),
        (
            vec![redis, "--store-key", &key, "--store-deadline", "0ms"],
            "--store-deadline 0ms: want a duration",
        ),
        (
            vec![redis, "--store-key", &key, "--ticket-rotate", "500ms"],
            "--ticket-rotate 500ms: too short, want at least 1000ms",
        ),
        (
            vec![redis, "--store-key", &key, "--store-ca", &ca],
            "a CA file is for rediss://",
        ),
    ] {
        let o = sslsock(&[&store[..], &args[..]].concat());
        one_line_error(&o, 2, needle);
    }
}
