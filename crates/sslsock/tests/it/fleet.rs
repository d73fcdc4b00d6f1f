//! Servers of a fleet sharing sessions and ticket keys through a real `redis-server`
//! (feature `redis`): resumption across servers, rotation, an outage, tampering, and what
//! Redis holds.

use std::net::SocketAddr;
use std::sync::{Arc, Barrier, Mutex, Once};
use std::time::Duration;

use sslsock::ocsp::StapleSource;
use sslsock::redis_store::{RedisConfig, RedisStore, StoreKey};
use sslsock::{Engine, Options, SslContext, TicketKeys};
use sslsock_test_support::ocsp_lab::lab;
use sslsock_test_support::redis::RedisServer;

use crate::server_features::s_client;
use crate::util::*;

const FLEET_KEY: [u8; 32] = [0x5a; 32];

/// A Lua script that changes the 40th byte of the value under KEYS[1] in place, its TTL kept.
const FLIP_BYTE: &str = "local v = redis.call('GET', KEYS[1]) \
    local b = string.byte(v, 40) \
    redis.call('SET', KEYS[1], string.sub(v, 1, 39) .. string.char((b + 1) % 256) .. string.sub(v, 41), 'KEEPTTL') \
    return 1";

/// A store as one server of the fleet has it: its own connections, the fleet's key. Its
/// deadline is a second, not 50 ms, so that a busy test machine does not turn a slow answer
/// into a miss.
fn store(redis: &RedisServer, key: &[u8; 32], prefix: &str) -> Arc<RedisStore> {
    Arc::new(
        RedisConfig::new(redis.url(0), StoreKey::from_bytes(key))
            .prefix(prefix)
            .deadline(Duration::from_secs(1))
            .retry(Duration::from_millis(200))
            .build()
            .unwrap(),
    )
}

/// `openssl s_client` to `addr` with `args`, saving (`-sess_out`) or offering (`-sess_in`)
/// the session in `sess`.
fn client(addr: &SocketAddr, args: &[&str]) -> String {
    s_client(
        addr,
        &[&["-ign_eof", "-servername", "localhost"], args].concat(),
    )
}

fn sess_path(name: &str) -> String {
    pki().path(name).to_str().unwrap().to_owned()
}

/// Every value under `prefix` in Redis, raw.
fn values(redis: &RedisServer, prefix: &str) -> Vec<(String, Vec<u8>)> {
    let keys = redis.cli(&["KEYS", &format!("{prefix}*")]);
    keys.lines()
        .filter(|k| !k.is_empty())
        .map(|k| {
            let mut v = redis.cli_bytes(&["GET", k]);
            v.pop(); // --raw's newline
            (k.to_owned(), v)
        })
        .collect()
}

/// The TLS 1.2 master secret in a session file, from `openssl sess_id`.
fn master_key(sess: &str) -> Vec<u8> {
    let text = String::from_utf8(openssl_in(
        &pki().dir,
        &["sess_id", "-in", sess, "-noout", "-text"],
    ))
    .unwrap();
    let hex = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Master-Key: "))
        .unwrap_or_else(|| panic!("no master key in {text}"));
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// Warnings the library logged, captured for the whole test binary.
static WARNINGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::Level::Warn && m.target().starts_with("sslsock")
    }
    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            WARNINGS.lock().unwrap().push(r.args().to_string());
        }
    }
    fn flush(&self) {}
}

/// Warnings naming `what` (a store's address, unique to each test's Redis).
fn warnings_about(what: &str) -> Vec<String> {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        static CAPTURE: Capture = Capture;
        if log::set_logger(&CAPTURE).is_ok() {
            log::set_max_level(log::LevelFilter::Warn);
        }
    });
    WARNINGS
        .lock()
        .unwrap()
        .iter()
        .filter(|w| w.contains(what))
        .cloned()
        .collect()
}

/// A server session store is the default engine's: the openssl engine refuses it by name.
fn openssl_engine_refuses(store: Arc<RedisStore>) -> bool {
    if test_engine() != Engine::OpenSsl {
        return false;
    }
    let e = SslContext::new(&server_opts().server(true).server_session_store(store)).unwrap_err();
    assert!(
        e.to_string()
            .contains("server_session_store: the openssl engine"),
        "{e}"
    );
    true
}

/// `s_client -sess_out` at server A, `-sess_in` at server B: TLS 1.2 session IDs and TLS 1.3
/// tickets (stateless under the fleet's keys, and stateful ones taken once from Redis)
/// resume on the other server. What Redis holds opens with nothing but the store key: a
/// server with another key resumes nothing, and no session secret is in Redis.
#[test]
fn fleet_servers_resume_each_others_sessions_through_redis() {
    let redis = RedisServer::start();
    let _ = warnings_about("");
    if openssl_engine_refuses(store(&redis, &FLEET_KEY, "a:")) {
        return;
    }
    let member = |key: &[u8; 32], tickets: bool| {
        let s = store(&redis, key, "fleet:");
        let opts = server_opts().server_session_store(s.clone());
        if tickets {
            opts.ticket_key_ring(Arc::new(s.ticket_keys(Duration::from_secs(3600))))
        } else {
            opts
        }
    };
    // A and B: stateless TLS 1.3 tickets; C and D: stateful ones, in Redis; E: another key.
    let (a, ha) = serve(member(&FLEET_KEY, true), 2, echo_once);
    let (b, hb) = serve(member(&FLEET_KEY, true), 2, echo_once);
    let (c, hc) = serve(member(&FLEET_KEY, false), 2, echo_once);
    let (d, hd) = serve(member(&FLEET_KEY, false), 1, echo_once);
    let (e, he) = serve(member(&[0x33; 32], true), 2, echo_once);

    // TLS 1.2 session ID.
    let s12 = sess_path("fleet-redis-12.sess");
    let out = client(&a, &["-tls1_2", "-no_ticket", "-sess_out", &s12]);
    assert!(out.contains("New, TLSv1.2"), "TLS 1.2 at A: {out}");
    let out = client(&b, &["-tls1_2", "-no_ticket", "-sess_in", &s12]);
    assert!(out.contains("Reused, TLSv1.2"), "TLS 1.2 at B: {out}");
    let out = client(&e, &["-tls1_2", "-no_ticket", "-sess_in", &s12]);
    assert!(
        out.contains("New, TLSv1.2"),
        "TLS 1.2 under another store key: {out}"
    );

    // TLS 1.3 ticket under the fleet's ticket key.
    let s13 = sess_path("fleet-redis-13.sess");
    let out = client(&a, &["-tls1_3", "-sess_out", &s13]);
    assert!(out.contains("New, TLSv1.3"), "TLS 1.3 at A: {out}");
    let out = client(&b, &["-tls1_3", "-sess_in", &s13]);
    assert!(
        out.contains("Reused, TLSv1.3"),
        "TLS 1.3 ticket at B: {out}"
    );
    let out = client(&e, &["-tls1_3", "-sess_in", &s13]);
    assert!(
        out.contains("New, TLSv1.3"),
        "a ticket under another store key: {out}"
    );

    // TLS 1.3 stateful ticket: resumed once in the whole fleet (GETDEL).
    let st = sess_path("fleet-redis-13-stateful.sess");
    let out = client(&c, &["-tls1_3", "-sess_out", &st]);
    assert!(out.contains("New, TLSv1.3"), "stateful at C: {out}");
    let out = client(&d, &["-tls1_3", "-sess_in", &st]);
    assert!(
        out.contains("Reused, TLSv1.3"),
        "stateful ticket at D: {out}"
    );
    let out = client(&c, &["-tls1_3", "-sess_in", &st]);
    assert!(
        out.contains("New, TLSv1.3"),
        "a used stateful ticket at C: {out}"
    );

    // What Redis holds: sealed, under keyed names.
    let held = values(&redis, "fleet:");
    assert!(
        held.iter().any(|(k, _)| k.starts_with("fleet:s:")),
        "{held:?}"
    );
    assert!(
        held.iter().any(|(k, _)| k == "fleet:tk:current"),
        "{held:?}"
    );
    let secret = master_key(&s12);
    assert_eq!(secret.len(), 48);
    for (k, v) in &held {
        assert!(
            !v.windows(secret.len()).any(|w| w == secret.as_slice()),
            "{k} holds the master secret"
        );
    }
    // The other key's server did not open the fleet's ticket key, and said so.
    let w = warnings_about(&format!("{}", redis.port));
    assert!(
        w.iter().any(|w| w.contains("fleet:tk:1 does not open")),
        "{w:?}"
    );
    for h in [ha, hb, hc, hd, he] {
        for r in h.join().unwrap() {
            r.unwrap();
        }
    }
}

/// A session blob changed in Redis does not resume: a full handshake, and a warning.
#[test]
fn a_tampered_session_in_redis_is_refused() {
    let redis = RedisServer::start();
    let _ = warnings_about("");
    if openssl_engine_refuses(store(&redis, &FLEET_KEY, "t:")) {
        return;
    }
    let (a, ha) = serve(
        server_opts().server_session_store(store(&redis, &FLEET_KEY, "t:")),
        1,
        echo_once,
    );
    let (b, hb) = serve(
        server_opts().server_session_store(store(&redis, &FLEET_KEY, "t:")),
        1,
        echo_once,
    );
    let sess = sess_path("fleet-tampered.sess");
    let out = client(&a, &["-tls1_2", "-no_ticket", "-sess_out", &sess]);
    assert!(out.contains("New, TLSv1.2"), "{out}");
    let held = values(&redis, "t:s:");
    assert_eq!(held.len(), 1, "{held:?}");
    // One byte of the sealed session, changed in place (the TTL kept).
    assert_eq!(redis.cli(&["EVAL", FLIP_BYTE, "1", &held[0].0]).trim(), "1");
    let out = client(&b, &["-tls1_2", "-no_ticket", "-sess_in", &sess]);
    assert!(
        out.contains("New, TLSv1.2"),
        "a tampered session resumed: {out}"
    );
    let w = warnings_about(&format!("{}", redis.port));
    assert!(
        w.iter()
            .any(|w| w.contains(&held[0].0) && w.contains("does not open")),
        "{w:?}"
    );
    for h in [ha, hb] {
        for r in h.join().unwrap() {
            r.unwrap();
        }
    }
}

/// The fleet's ticket keys: one current key for all servers even when they start at once,
/// rotated by one writer; a ticket from before one rotation resumes anywhere in the fleet,
/// from before two nowhere. Both engines.
#[test]
fn fleet_ticket_keys_rotate_once_for_every_server() {
    let redis = RedisServer::start();
    // Eight servers asking for the first key at the same moment agree on one.
    let racers = 8;
    let barrier = Arc::new(Barrier::new(racers));
    let names: Vec<[u8; 16]> = (0..racers)
        .map(|_| {
            let ring = store(&redis, &FLEET_KEY, "race:").ticket_keys(Duration::from_secs(3600));
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                ring.current().expect("a current key").name
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    assert!(names.iter().all(|n| *n == names[0]), "{names:?}");
    assert_eq!(redis.cli(&["GET", "race:tk:current"]).trim(), "1");

    let ring_a =
        Arc::new(store(&redis, &FLEET_KEY, "ring:").ticket_keys(Duration::from_secs(3600)));
    let ring_b =
        Arc::new(store(&redis, &FLEET_KEY, "ring:").ticket_keys(Duration::from_secs(3600)));
    let (a, ha) = serve(server_opts().ticket_key_ring(ring_a.clone()), 3, echo_once);
    let (b, hb) = serve(server_opts().ticket_key_ring(ring_b.clone()), 3, echo_once);
    let s12 = sess_path("fleet-ring-12.sess");
    let s13 = sess_path("fleet-ring-13.sess");
    let out = client(&a, &["-tls1_3", "-sess_out", &s13]);
    assert!(out.contains("New, TLSv1.3"), "{out}");
    let out = client(&a, &["-tls1_2", "-sess_out", &s12]);
    assert!(out.contains("New, TLSv1.2"), "{out}");
    let out = client(&b, &["-tls1_2", "-sess_in", &s12]);
    assert!(
        out.contains("Reused, TLSv1.2"),
        "a TLS 1.2 ticket at B: {out}"
    );

    // One rotation (at A): B learns of it within a second, and still opens the old ticket.
    ring_a.rotate();
    assert_eq!(redis.cli(&["GET", "ring:tk:current"]).trim(), "2");
    std::thread::sleep(Duration::from_millis(1100));
    let out = client(&b, &["-tls1_3", "-sess_in", &s13]);
    assert!(out.contains("Reused, TLSv1.3"), "after one rotation: {out}");
    // Two rotations (the second at B): the ticket is retired everywhere.
    ring_b.rotate();
    assert_eq!(redis.cli(&["GET", "ring:tk:current"]).trim(), "3");
    std::thread::sleep(Duration::from_millis(1100));
    let out = client(&a, &["-tls1_3", "-sess_in", &s13]);
    assert!(
        out.contains("New, TLSv1.3"),
        "after two rotations at A: {out}"
    );
    let out = client(&b, &["-tls1_2", "-sess_in", &s12]);
    assert!(
        out.contains("New, TLSv1.2"),
        "after two rotations at B: {out}"
    );
    for h in [ha, hb] {
        for r in h.join().unwrap() {
            r.unwrap();
        }
    }

    // A current generation whose key is gone (expired while the fleet was idle): the next
    // server to ask makes a new one.
    redis.cli(&["DEL", "ring:tk:3"]);
    let late = store(&redis, &FLEET_KEY, "ring:").ticket_keys(Duration::from_secs(3600));
    let key = late.current().expect("a new current key");
    assert_eq!(key.name[..8], 4u64.to_be_bytes());
    assert_eq!(redis.cli(&["GET", "ring:tk:current"]).trim(), "4");

    // Rotation by age: with a two-second period, the key changes without anyone asking, and
    // another server still opens the one before (within a period of the rotation, which is
    // the test's slack on a slow machine).
    let aging = store(&redis, &FLEET_KEY, "age:").ticket_keys(Duration::from_secs(2));
    let other = store(&redis, &FLEET_KEY, "age:").ticket_keys(Duration::from_secs(2));
    let first = aging.current().unwrap();
    std::thread::sleep(Duration::from_millis(2100));
    let second = aging.current().unwrap();
    assert_ne!(first.name, second.name);
    assert_eq!(other.find(&first.name), Some(first));
}

/// Redis killed mid-run: handshakes go on (full), one warning per outage, and resumption
/// comes back when Redis does. A stalled Redis (SIGSTOP) costs a deadline, not a hang.
#[test]
fn a_redis_outage_costs_resumption_only_and_heals() {
    let mut redis = RedisServer::start();
    let label = redis.url(0);
    if openssl_engine_refuses(store(&redis, &FLEET_KEY, "o:")) {
        return;
    }
    let (store_a, store_b) = (
        store(&redis, &FLEET_KEY, "o:"),
        store(&redis, &FLEET_KEY, "o:"),
    );
    let (a, ha) = serve(
        server_opts().server_session_store(store_a.clone()),
        5,
        echo_once,
    );
    let (b, hb) = serve(
        server_opts().server_session_store(store_b.clone()),
        4,
        echo_once,
    );
    let resumes = |n: &str| {
        let sess = sess_path(&format!("fleet-outage-{n}.sess"));
        let out = client(&a, &["-tls1_2", "-no_ticket", "-sess_out", &sess]);
        assert!(out.contains("New, TLSv1.2"), "{n} at A: {out}");
        let out = client(&b, &["-tls1_2", "-no_ticket", "-sess_in", &sess]);
        assert!(out.contains("TLSv1.2"), "{n} at B: {out}");
        out.contains("Reused, TLSv1.2")
    };
    assert!(resumes("before"), "Redis up");
    assert!(warnings_about(&label).is_empty());

    redis.kill();
    assert!(!resumes("down-1"), "Redis down");
    std::thread::sleep(Duration::from_millis(300));
    assert!(!resumes("down-2"), "Redis still down");
    assert!(store_a.is_down() && store_b.is_down());
    let w = warnings_about(&label);
    let starts = w
        .iter()
        .filter(|w| w.contains("handshakes are full"))
        .count();
    assert_eq!(starts, 2, "one warning per store and outage: {w:?}");

    redis.restart();
    std::thread::sleep(Duration::from_millis(300));
    assert!(resumes("after"), "Redis back");
    let w = warnings_about(&label);
    assert_eq!(
        w.iter().filter(|w| w.contains("answering again")).count(),
        2,
        "{w:?}"
    );

    // Stalled: the store calls end at their deadline and the handshakes complete.
    redis.pause();
    let sess = sess_path("fleet-outage-stalled.sess");
    let out = client(&a, &["-tls1_2", "-no_ticket", "-sess_out", &sess]);
    redis.resume();
    assert!(out.contains("New, TLSv1.2"), "stalled: {out}");
    assert!(store_a.is_down());
    let w = warnings_about(&label);
    assert!(
        w.iter().any(|w| w.contains("no answer within 1000 ms")),
        "{w:?}"
    );
    for h in [ha, hb] {
        for r in h.join().unwrap() {
            r.unwrap();
        }
    }
}

/// `rediss://` with a password: sessions resume across servers through a TLS store that
/// asks for AUTH; a wrong password or an untrusted store certificate is a miss, with the
/// reason in the warning.
#[test]
fn a_tls_store_with_a_password_serves_the_fleet() {
    let srv = pki().pair("srv-ec");
    let redis = RedisServer::start_tls(&srv.cert, &srv.key, &pki().ca, "s3cret");
    let _ = warnings_about("");
    let url = |password: &str| format!("rediss://:{password}@localhost:{}/0", redis.port);
    let tls_store = |password: &str, ca: &std::path::Path| {
        Arc::new(
            RedisConfig::new(url(password), StoreKey::from_bytes(&FLEET_KEY))
                .ca_file(ca)
                .prefix("tls:")
                .deadline(Duration::from_secs(1))
                .build()
                .unwrap(),
        )
    };
    if openssl_engine_refuses(tls_store("s3cret", &pki().ca)) {
        return;
    }
    let member = |store: Arc<RedisStore>| server_opts().server_session_store(store);
    let (a, ha) = serve(member(tls_store("s3cret", &pki().ca)), 1, echo_once);
    let (b, hb) = serve(member(tls_store("s3cret", &pki().ca)), 1, echo_once);
    let wrong = tls_store("wrong", &pki().ca);
    let (c, hc) = serve(member(wrong.clone()), 1, echo_once);
    let untrusting = tls_store("s3cret", &pki().path("other-ca.pem"));
    let (d, hd) = serve(member(untrusting.clone()), 1, echo_once);
    let sess = sess_path("fleet-rediss.sess");
    let out = client(&a, &["-tls1_2", "-no_ticket", "-sess_out", &sess]);
    assert!(out.contains("New, TLSv1.2"), "{out}");
    let out = client(&b, &["-tls1_2", "-no_ticket", "-sess_in", &sess]);
    assert!(out.contains("Reused, TLSv1.2"), "through rediss://: {out}");
    assert_eq!(redis.cli(&["DBSIZE"]).trim(), "1");
    for (server, store) in [(c, &wrong), (d, &untrusting)] {
        let out = client(&server, &["-tls1_2", "-no_ticket", "-sess_in", &sess]);
        assert!(out.contains("New, TLSv1.2"), "{out}");
        assert!(store.is_down());
    }
    let w = warnings_about(&format!("localhost:{}", redis.port));
    assert!(
        w.iter()
            .all(|w| !w.contains("s3cret") && !w.contains("wrong")),
        "{w:?}"
    );
    assert!(
        w.iter()
            .any(|w| w.to_lowercase().contains("password") || w.to_lowercase().contains("auth")),
        "{w:?}"
    );
    assert!(
        w.iter().any(|w| w.to_lowercase().contains("certificate")),
        "{w:?}"
    );
    for h in [ha, hb, hc, hd] {
        for r in h.join().unwrap() {
            r.unwrap();
        }
    }
}

/// `openssl s_client -status` at `addr`, trusting the OCSP lab's root.
fn status(addr: &SocketAddr) -> String {
    let out = run_with_input(
        std::process::Command::new("openssl")
            .current_dir(&lab().dir)
            .args(["s_client", "-connect", &addr.to_string()])
            .args(["-CAfile", "root.pem", "-status", "-servername", "localhost"])
            .stderr(std::process::Stdio::null()),
        b"",
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A server of the fleet stapling the lab's `leaf` with fetched responses shared through
/// `store`, answering `n` connections.
fn stapling_member(
    leaf: &str,
    store: Arc<RedisStore>,
    n: usize,
) -> (SocketAddr, std::thread::JoinHandle<Vec<Result<(), String>>>) {
    let opts = Options::new()
        .server(true)
        .engine(test_engine())
        .cert_file(lab().path(&format!("{leaf}-chain.pem")))
        .key_file(lab().path(&format!("{leaf}.key")))
        .ocsp_staple(StapleSource::Auto)
        .ocsp_staple_store(store);
    serve(opts, n, |mut s| {
        let _ = std::io::Write::write_all(&mut s, b"ok\n");
        let _ = s.close();
        Ok(())
    })
}

/// The `This Update:` of the staple in an `s_client -status` output.
fn this_update(out: &str) -> String {
    out.lines()
        .find_map(|l| l.trim().strip_prefix("This Update:"))
        .unwrap_or_else(|| panic!("no staple in {out}"))
        .trim()
        .to_owned()
}

/// One OCSP staple for the fleet: the first server asks the responder and shares the
/// answer, sealed, through Redis; the next serves it without asking. A staple changed in
/// Redis is not taken (that server asks for its own), and the store is refused where no
/// staple is fetched.
#[test]
fn the_fleet_asks_the_responder_once_for_its_staple() {
    require("openssl");
    let redis = RedisServer::start();
    let _ = warnings_about("");
    let stapling = |store| stapling_member("fleet", store, 1);
    let before = lab().requests_to("int-fleet");
    let (a, _ha) = stapling(store(&redis, &FLEET_KEY, "ocsp:"));
    assert_eq!(
        lab().requests_to("int-fleet"),
        before + 1,
        "A asks the responder"
    );
    let (b, _hb) = stapling(store(&redis, &FLEET_KEY, "ocsp:"));
    assert_eq!(
        lab().requests_to("int-fleet"),
        before + 1,
        "B serves A's answer"
    );
    for (name, addr) in [("A", a), ("B", b)] {
        let out = status(&addr);
        assert!(out.contains("Cert Status: good"), "{name}: {out}");
    }
    // Sealed: the response's signer is not legible in what Redis holds.
    let held = values(&redis, "ocsp:st:");
    assert_eq!(held.len(), 1, "{held:?}");
    let signer = b"OCSP Lab Intermediate";
    assert!(!held[0].1.windows(signer.len()).any(|w| w == signer));

    // Changed in Redis: C does not take it, and asks the responder itself.
    assert_eq!(redis.cli(&["EVAL", FLIP_BYTE, "1", &held[0].0]).trim(), "1");
    let (c, _hc) = stapling(store(&redis, &FLEET_KEY, "ocsp:"));
    assert_eq!(
        lab().requests_to("int-fleet"),
        before + 2,
        "C asks for its own"
    );
    let out = status(&c);
    assert!(out.contains("Cert Status: good"), "C: {out}");
    let w = warnings_about(&held[0].0);
    assert!(
        w.iter()
            .any(|w| w.contains("OCSP staple") && w.contains("does not open")),
        "{w:?}"
    );

    // No fetched staple to share, or a client: refused by name.
    let shared = store(&redis, &FLEET_KEY, "ocsp:");
    let e = SslContext::new(&server_opts().server(true).ocsp_staple_store(shared.clone()))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("ocsp_staple_store shares staples fetched from the responder: it needs ocsp_staple(StapleSource::Auto)"),
        "{e}"
    );
    let e = SslContext::new(&client_opts().ocsp_staple_store(shared))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("ocsp_staple_store is an option only for a server context"),
        "{e}"
    );
}

/// The fleet renews its staple once: responses current for a minute are renewed at half
/// their life by whichever server claims it first, and the other takes the new one from the
/// store instead of asking the responder. A server that starts when the stored staple is
/// past half its life renews it rather than serve it.
#[test]
fn one_server_renews_the_fleets_staple() {
    require("openssl");
    let redis = RedisServer::start();
    let path = "int-fleet-short";
    let before = lab().requests_to(path);
    let (a, _ha) = stapling_member("fleet-short", store(&redis, &FLEET_KEY, "renew:"), 2);
    let (b, _hb) = stapling_member("fleet-short", store(&redis, &FLEET_KEY, "renew:"), 2);
    assert_eq!(lab().requests_to(path), before + 1);
    // A fleet of one under another prefix, gone at once: its staple stays in the store.
    let _ = stapling_member("fleet-short", store(&redis, &FLEET_KEY, "late:"), 0);
    assert_eq!(lab().requests_to(path), before + 2);
    let first = this_update(&status(&a));
    assert_eq!(this_update(&status(&b)), first, "B serves A's staple");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while lab().requests_to(path) < before + 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "the staple was not renewed"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The other server looks again two seconds after it found the fetch claimed.
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(
        lab().requests_to(path),
        before + 3,
        "one request renews the fleet's staple"
    );
    let renewed = this_update(&status(&a));
    assert_ne!(renewed, first, "A serves the renewed staple");
    assert_eq!(
        this_update(&status(&b)),
        renewed,
        "B serves the renewed staple"
    );
    // The late fleet's staple is past half its life now: a server joining it asks anew.
    let _ = stapling_member("fleet-short", store(&redis, &FLEET_KEY, "late:"), 0);
    assert_eq!(
        lab().requests_to(path),
        before + 4,
        "a staple due for renewal was served as it was"
    );
}
