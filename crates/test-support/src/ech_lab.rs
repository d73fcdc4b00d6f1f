//! An Encrypted Client Hello lab: ECH configurations made with BoringSSL's `bssl-tool
//! generate-ech` (Debian's android-boringssl) and `bssl-tool server` serving them, which
//! prints per connection whether the ClientHello was encrypted and which name it was for.
//!
//! `bssl-tool server` has no bind address and listens on every interface; the tests only ever
//! reach it over 127.0.0.1, and it ends with the test.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use sslsock::x509::create::CertSpec;

use crate::{require, scratch_dir, spawn_listening, Peer};

/// The inner name: the one ECH hides.
pub const SECRET_NAME: &str = "secret.example";
/// The configuration's public name: the one an observer sees.
pub const PUBLIC_NAME: &str = "public.example";

/// ECH configurations, keys and certificates on disk.
#[derive(Debug)]
pub struct EchLab {
    /// The directory.
    pub dir: PathBuf,
    /// The CA that issued the server certificates (`ca.pem`).
    pub ca: PathBuf,
    /// The ECHConfigList the server holds the key of (`list`, wire form), config id 7.
    pub list: PathBuf,
    /// An ECHConfigList for the same public name made with another key (`other.list`).
    pub other_list: PathBuf,
}

/// The lab, made once per test process.
pub fn ech_lab() -> &'static EchLab {
    static LAB: OnceLock<EchLab> = OnceLock::new();
    LAB.get_or_init(|| {
        require("bssl-tool");
        let dir = scratch_dir("ech");
        let generate = |prefix: &str| {
            let file = |ext: &str| dir.join(format!("{prefix}.{ext}"));
            let out = Command::new("bssl-tool")
                .arg("generate-ech")
                .arg("-out-ech-config-list")
                .arg(file("list"))
                .arg("-out-ech-config")
                .arg(file("config"))
                .arg("-out-private-key")
                .arg(file("key"))
                .args(["-public-name", PUBLIC_NAME, "-config-id", "7"])
                .output()
                .expect("bssl-tool generate-ech");
            assert!(out.status.success(), "{out:?}");
        };
        generate("ech");
        generate("other");
        let ca = CertSpec::new("ECH Lab CA").ca().self_signed().unwrap();
        std::fs::write(dir.join("ca.pem"), &ca.cert_pem).unwrap();
        // Both names: the server authenticates for the inner name when ECH is accepted and
        // for the public name when it is rejected (RFC 9849 section 6.1.6).
        let both = CertSpec::new(SECRET_NAME)
            .san(SECRET_NAME)
            .san(PUBLIC_NAME)
            .signed_by(&ca)
            .unwrap();
        // The inner name only: a handshake that succeeds with it was verified for that name.
        let inner = CertSpec::new(SECRET_NAME)
            .san(SECRET_NAME)
            .signed_by(&ca)
            .unwrap();
        for (name, issued) in [("both", &both), ("inner", &inner)] {
            std::fs::write(
                dir.join(format!("{name}.pem")),
                format!("{}{}", issued.cert_pem, ca.cert_pem),
            )
            .unwrap();
            std::fs::write(dir.join(format!("{name}.key")), &issued.key_pem).unwrap();
        }
        EchLab {
            ca: dir.join("ca.pem"),
            list: dir.join("ech.list"),
            other_list: dir.join("other.list"),
            dir,
        }
    })
}

#[derive(Debug)]
/// A running `bssl-tool server -loop` with the lab's ECH key, and what it printed.
pub struct BsslServer {
    /// The port it listens on.
    pub port: u16,
    output: Arc<Mutex<String>>,
    _peer: Peer,
}

impl BsslServer {
    /// Serves with the certificate `cert` of the lab (`both` or `inner`); `ech` false starts
    /// it without an ECH key.
    pub fn start(cert: &str, ech: bool) -> BsslServer {
        let lab = ech_lab();
        let output = Arc::new(Mutex::new(String::new()));
        let (mut peer, port) = spawn_listening(|port| {
            let mut cmd = Command::new("bssl-tool");
            cmd.arg("server")
                .args(["-accept", &port.to_string(), "-loop"])
                .arg("-cert")
                .arg(lab.dir.join(format!("{cert}.pem")))
                .arg("-key")
                .arg(lab.dir.join(format!("{cert}.key")));
            if ech {
                cmd.arg("-ech-key")
                    .arg(lab.dir.join("ech.key"))
                    .arg("-ech-config")
                    .arg(lab.dir.join("ech.config"));
            }
            // A stdin that stays open: at its end the server would close each connection.
            cmd.stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            cmd
        });
        for stream in [
            peer.child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            peer.child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let output = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut o = output.lock().unwrap();
                    o.push_str(&line);
                    o.push('\n');
                }
            });
        }
        BsslServer {
            port,
            output,
            _peer: peer,
        }
    }

    /// Everything printed so far.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Waits (at most 10 s) until the output holds `text` `count` times; returns the output.
    pub fn wait_for(&self, text: &str, count: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = self.output();
            if out.matches(text).count() >= count || Instant::now() > deadline {
                return out;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
