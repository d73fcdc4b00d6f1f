//! Real TLS peers (openssl, curl, Python, Perl) started on free loopback ports, and the
//! openssl commands the tests use to make CRLs.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Pair;

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Fails loudly when a peer program is missing: `.ci/run` installs them.
pub fn require(cmd: &str) {
    let ok = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {cmd}"))
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "{cmd} is needed for this test; .ci/run installs it");
}

/// Fails loudly when Perl's IO::Socket::SSL is missing.
pub fn require_perl_ssl() {
    require("perl");
    let ok = Command::new("perl")
        .args(["-MIO::Socket::SSL", "-e", "1"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "Perl IO::Socket::SSL is needed (apt-get install libio-socket-ssl-perl; .ci/run does it)"
    );
}

/// Fails the test unless python3 can import `module` (scripts/test installs tlslite-ng).
pub fn require_python_module(module: &str) {
    require("python3");
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "the Python module {module} is needed (python3 -m pip install tlslite-ng; scripts/test does it)"
    );
}

/// Runs `cmd` with `input` on its stdin (stdout captured) and waits for it.
pub fn run_with_input(cmd: &mut Command, input: &[u8]) -> std::process::Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// A child process killed when dropped.
#[derive(Debug)]
pub struct Peer {
    /// The process.
    pub child: Child,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Peer {
    /// Starts `cmd`, failing the test with the command when it cannot start.
    pub fn spawn(cmd: &mut Command) -> Peer {
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        Peer { child }
    }

    /// Waits for the process to end (at most `secs`), returning stdout, stderr and success.
    pub fn finish(mut self, secs: u64) -> (String, String, bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut out = String::new();
                let mut err = String::new();
                if let Some(mut o) = self.child.stdout.take() {
                    o.read_to_string(&mut out).unwrap();
                }
                if let Some(mut e) = self.child.stderr.take() {
                    e.read_to_string(&mut err).unwrap();
                }
                return (out, err, status.success());
            }
            assert!(
                Instant::now() < deadline,
                "peer process did not finish in {secs}s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Starts the server `make(port)` builds on a free port and waits until it listens. A port
/// taken by someone else between choosing and binding makes the server exit: then another
/// port is tried.
pub fn spawn_listening(make: impl Fn(u16) -> Command) -> (Peer, u16) {
    for _ in 0..5 {
        let port = free_port();
        let mut peer = Peer::spawn(&mut make(port));
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut up = false;
        while Instant::now() < deadline {
            if peer.child.try_wait().unwrap().is_some() {
                break;
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                // Still alive a moment later: it is ours that listens.
                std::thread::sleep(Duration::from_millis(50));
                up = peer.child.try_wait().unwrap().is_none();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if up {
            return (peer, port);
        }
    }
    panic!("the server did not start listening");
}

/// Writes a CRL signed by the CA `ca` (`<dir>/<ca>.pem` + `.key`) with `openssl ca -gencrl`,
/// after revoking each certificate file in `revoke` with the given reason.
pub fn openssl_crl(dir: &Path, ca: &str, revoke: &[(&Path, &str)]) -> PathBuf {
    require("openssl");
    let work = dir.join(format!("ca-db-{ca}-{}", revoke.len()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(work.join("index.txt"), "").unwrap();
    std::fs::write(work.join("crlnumber"), "01\n").unwrap();
    let cnf = work.join("ca.cnf");
    std::fs::write(
        &cnf,
        format!(
            "[ca]\ndefault_ca = d\n[d]\ndatabase = {w}/index.txt\ncrlnumber = {w}/crlnumber\n\
             certificate = {c}\nprivate_key = {k}\ndefault_md = sha256\ndefault_crl_days = 30\n\
             new_certs_dir = {w}\npolicy = p\n[p]\ncommonName = supplied\n",
            w = work.display(),
            c = dir.join(format!("{ca}.pem")).display(),
            k = dir.join(format!("{ca}.key")).display(),
        ),
    )
    .unwrap();
    let run = |args: &[&std::ffi::OsStr]| {
        let out = Command::new("openssl").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    for (cert, reason) in revoke {
        run(&[
            "ca".as_ref(),
            "-config".as_ref(),
            cnf.as_os_str(),
            "-revoke".as_ref(),
            cert.as_os_str(),
            "-crl_reason".as_ref(),
            reason.as_ref(),
        ]);
    }
    let crl = work.join("crl.pem");
    run(&[
        "ca".as_ref(),
        "-config".as_ref(),
        cnf.as_os_str(),
        "-gencrl".as_ref(),
        "-out".as_ref(),
        crl.as_os_str(),
    ]);
    crl
}

/// Starts `openssl s_server` with the test PKI's `pair` (`srv-ec`, ...) and `extra` arguments
/// on a free port.
pub fn s_server(pair: &str, extra: &[&str]) -> (Peer, u16) {
    require("openssl");
    let Pair { cert, key } = crate::pki().pair(pair);
    spawn_listening(|port| {
        let mut cmd = Command::new("openssl");
        cmd.arg("s_server")
            .arg("-accept")
            .arg(format!("127.0.0.1:{port}"))
            .arg("-cert")
            .arg(&cert)
            .arg("-key")
            .arg(&key)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    })
}

/// Runs `openssl <args>` in `dir`, failing the test with its stderr when it fails; its stdout.
pub fn openssl_in<A: AsRef<std::ffi::OsStr>>(dir: &Path, args: &[A]) -> Vec<u8> {
    require("openssl");
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {:?}: {}",
        args.iter().map(AsRef::as_ref).collect::<Vec<_>>(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// What `openssl x509 -fingerprint -<algo>` says of `cert`: lower-case hex without colons.
pub fn openssl_fingerprint(cert: &Path, algo: &str) -> String {
    let algo = format!("-{algo}");
    let args: [&std::ffi::OsStr; 6] = [
        "x509".as_ref(),
        "-noout".as_ref(),
        "-fingerprint".as_ref(),
        algo.as_ref(),
        "-in".as_ref(),
        cert.as_os_str(),
    ];
    String::from_utf8_lossy(&openssl_in(Path::new("."), &args))
        .trim()
        .rsplit('=')
        .next()
        .unwrap()
        .replace(':', "")
        .to_lowercase()
}

/// `openssl s_server` with `pair`'s certificate exporting `len` bytes of keying material for
/// `label` at each handshake (`-keymatexport`), and its output as it comes.
pub fn s_server_keymat(
    pair: &str,
    label: &str,
    len: usize,
) -> (Peer, u16, std::sync::mpsc::Receiver<String>) {
    require("openssl");
    let Pair { cert, key } = crate::pki().pair(pair);
    let (mut peer, port) = spawn_listening(|port| {
        let mut cmd = Command::new("openssl");
        cmd.args(["s_server", "-accept", &format!("127.0.0.1:{port}")])
            .arg("-cert")
            .arg(&cert)
            .arg("-key")
            .arg(&key)
            .args(["-keymatexport", label, "-keymatexportlen", &len.to_string()])
            // Open: at the end of its input s_server stops accepting.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        cmd
    });
    let stdout = peer.child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (peer, port, rx)
}

/// The hex of the next `Keying material: ` line s_server or s_client prints (20 s at most).
pub fn next_keymat(rx: &std::sync::mpsc::Receiver<String>) -> String {
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("openssl printed no keying material");
        if let Some(hex) = line.trim().strip_prefix("Keying material: ") {
            return hex.to_owned();
        }
    }
}
