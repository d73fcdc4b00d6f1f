//! Debian's `pebble` (an RFC 8555 test CA) on free loopback ports: its ACME directory over
//! HTTPS with the test PKI's `srv-ec` certificate (trust `ca.pem`), HTTP-01 validation on a
//! port of its own.

use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::peers::{free_port, require, Peer};

/// A running pebble.
#[derive(Debug)]
pub struct Pebble {
    /// The ACME directory's port on 127.0.0.1 (`/dir`).
    pub port: u16,
    /// The management port (`/roots/0` is the issuing root).
    pub management: u16,
    /// Where it validates HTTP-01 (port of the name asked for).
    pub http_port: u16,
    /// Where it validates TLS-ALPN-01.
    pub tls_port: u16,
    config: std::path::PathBuf,
    peer: Option<Peer>,
}

impl Pebble {
    /// Starts pebble issuing certificates valid for `validity_secs`.
    pub fn start(validity_secs: u64) -> Pebble {
        require("pebble");
        let dir = crate::pki().path(&format!("pebble-{}", free_port()));
        std::fs::create_dir_all(&dir).unwrap();
        let srv = crate::pki().pair("srv-ec");
        let (port, management, http_port, tls_port) =
            (free_port(), free_port(), free_port(), free_port());
        let config = dir.join("pebble.json");
        std::fs::write(
            &config,
            format!(
                r#"{{"pebble": {{"listenAddress": "127.0.0.1:{port}", "managementListenAddress": "127.0.0.1:{management}",
                   "certificate": "{}", "privateKey": "{}", "httpPort": {http_port}, "tlsPort": {tls_port},
                   "ocspResponderURL": "", "externalAccountBindingRequired": false,
                   "certificateValidityPeriod": {validity_secs}}}}}"#,
                srv.cert.display(),
                srv.key.display(),
            ),
        )
        .unwrap();
        let mut pebble = Pebble {
            port,
            management,
            http_port,
            tls_port,
            config,
            peer: None,
        };
        pebble.restart();
        pebble
    }

    /// The ACME directory URL.
    pub fn directory(&self) -> String {
        format!("https://127.0.0.1:{}/dir", self.port)
    }

    /// Stops it (the CA is down).
    pub fn stop(&mut self) {
        self.peer = None;
    }

    /// Starts it again with the same ports (pebble keeps nothing: a new root).
    pub fn restart(&mut self) {
        let peer = Peer::spawn(
            Command::new("pebble")
                .arg("-config")
                .arg(&self.config)
                .env("PEBBLE_VA_NOSLEEP", "1")
                .env("PEBBLE_WFE_NONCEREJECT", "0")
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "pebble did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        while TcpStream::connect(("127.0.0.1", self.management)).is_err() {
            assert!(
                Instant::now() < deadline,
                "pebble's management port did not open"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        self.peer = Some(peer);
    }

    /// The root that signs what it issues, in PEM (from the management port, with curl).
    pub fn root_pem(&self) -> String {
        require("curl");
        let out = Command::new("curl")
            .args(["-sS", "--cacert", &crate::pki().file("ca.pem")])
            .arg(format!("https://127.0.0.1:{}/roots/0", self.management))
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    }
}
