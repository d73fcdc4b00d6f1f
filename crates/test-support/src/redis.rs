//! A real `redis-server` on a free loopback port, for the fleet store's tests: started,
//! killed and started again on the same port by the test.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::peers::{free_port, require, Peer};

/// A `redis-server` that keeps nothing on disk (`save ""`, no AOF): a restart is empty.
#[derive(Debug)]
pub struct RedisServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    peer: Option<Peer>,
    /// Server arguments beyond the port (TLS, password).
    extra: Vec<String>,
    /// The same for `redis-cli`.
    cli_extra: Vec<String>,
}

impl RedisServer {
    /// Starts one on a free port and waits until it answers.
    pub fn start() -> RedisServer {
        RedisServer::start_with(Vec::new(), Vec::new())
    }

    /// Starts one that speaks only TLS (`rediss://`) with `cert` and `key` (clients trust
    /// `ca`) and asks for `password` (`AUTH`).
    pub fn start_tls(cert: &Path, key: &Path, ca: &Path, password: &str) -> RedisServer {
        let path = |p: &Path| p.display().to_string();
        RedisServer::start_with(
            vec![
                "--tls-cert-file".into(),
                path(cert),
                "--tls-key-file".into(),
                path(key),
                "--tls-auth-clients".into(),
                "no".into(),
                "--requirepass".into(),
                password.into(),
            ],
            vec![
                "--tls".into(),
                "--cacert".into(),
                path(ca),
                "--no-auth-warning".into(),
                "-a".into(),
                password.into(),
            ],
        )
    }

    fn start_with(extra: Vec<String>, cli_extra: Vec<String>) -> RedisServer {
        require("redis-server");
        require("redis-cli");
        for _ in 0..5 {
            let mut server = RedisServer {
                port: free_port(),
                peer: None,
                extra: extra.clone(),
                cli_extra: cli_extra.clone(),
            };
            if server.launch() {
                return server;
            }
        }
        panic!("redis-server did not start");
    }

    /// `redis://127.0.0.1:PORT/DB`.
    pub fn url(&self, db: u8) -> String {
        format!("redis://127.0.0.1:{}/{db}", self.port)
    }

    /// Kills it (SIGKILL: no goodbye to clients).
    pub fn kill(&mut self) {
        self.peer = None;
        // The port is free again once the process is gone.
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(Instant::now() < deadline, "redis-server did not die");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts it again on the same port (empty).
    pub fn restart(&mut self) {
        assert!(
            self.launch(),
            "redis-server did not start again on {}",
            self.port
        );
    }

    /// Runs `redis-cli` with `args` against it; its stdout (`--raw`) as text.
    pub fn cli(&self, args: &[&str]) -> String {
        String::from_utf8_lossy(&self.cli_bytes(args)).into_owned()
    }

    /// Runs `redis-cli` with `args` against it; its stdout (`--raw`: values as they are,
    /// each followed by a newline).
    pub fn cli_bytes(&self, args: &[&str]) -> Vec<u8> {
        let out = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "--raw"])
            .args(&self.cli_extra)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run redis-cli: {e}"));
        assert!(out.status.success(), "redis-cli {args:?}: {out:?}");
        out.stdout
    }

    /// Stops it answering without closing anything (SIGSTOP), as a stalled server does.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused server go on (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, sig: &str) {
        let pid = self
            .peer
            .as_ref()
            .expect("redis-server is running")
            .child
            .id();
        let ok = Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {sig} {pid}");
    }

    fn launch(&mut self) -> bool {
        let port = self.port.to_string();
        let ports = match self.cli_extra.is_empty() {
            true => vec!["--port", &port],
            false => vec!["--port", "0", "--tls-port", &port],
        };
        let mut peer = Peer::spawn(
            Command::new("redis-server")
                .args(ports)
                .args(["--bind", "127.0.0.1"])
                .args(&self.extra)
                .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if peer.child.try_wait().unwrap().is_some() {
                return false;
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                self.peer = Some(peer);
                return self.cli(&["PING"]).trim() == "PONG";
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}
