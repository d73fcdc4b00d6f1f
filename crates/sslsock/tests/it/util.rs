//! Shared helpers: a test PKI made at run time, loopback servers, external peers.

use std::io::{BufRead, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use sslsock::x509::create::{CertSpec, Issued, KeyType};
use sslsock::{Options, SslListener, SslSocket};

/// Certificates and keys written to a private directory, made once per test run.
pub struct Pki {
    pub dir: PathBuf,
    pub ca: PathBuf,
}

/// A cert/key pair on disk.
pub struct Pair {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Pki {
    pub fn pair(&self, name: &str) -> Pair {
        Pair {
            cert: self.dir.join(format!("{name}.pem")),
            key: self.dir.join(format!("{name}.key")),
        }
    }
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }
}

fn write(dir: &Path, name: &str, issued: &Issued) {
    std::fs::write(dir.join(format!("{name}.pem")), &issued.cert_pem).unwrap();
    std::fs::write(dir.join(format!("{name}.key")), &issued.key_pem).unwrap();
}

pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("sslsock-it-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca = CertSpec::new("sslsock Test CA")
            .subject("O", "sslsock tests")
            .ca()
            .purpose("cRLSign")
            .self_signed()
            .unwrap();
        write(&dir, "ca", &ca);
        let other = CertSpec::new("Unknown Test CA").ca().self_signed().unwrap();
        write(&dir, "other-ca", &other);
        let local = |spec: CertSpec| spec.san("localhost").san("127.0.0.1").san("::1");
        write(
            &dir,
            "srv-ec",
            &local(CertSpec::new("localhost")).signed_by(&ca).unwrap(),
        );
        write(
            &dir,
            "srv-rsa",
            &local(CertSpec::new("localhost"))
                .key_type(KeyType::Rsa2048)
                .signed_by(&ca)
                .unwrap(),
        );
        let past = SystemTime::now() - Duration::from_secs(400 * 86_400);
        write(
            &dir,
            "expired",
            &local(CertSpec::new("localhost"))
                .validity(past, past + Duration::from_secs(30 * 86_400))
                .signed_by(&ca)
                .unwrap(),
        );
        write(
            &dir,
            "selfsigned",
            &local(CertSpec::new("localhost")).self_signed().unwrap(),
        );
        write(
            &dir,
            "selfsigned2",
            &local(CertSpec::new("localhost")).self_signed().unwrap(),
        );
        write(
            &dir,
            "selfsigned-rsa",
            &local(CertSpec::new("localhost"))
                .key_type(KeyType::Rsa2048)
                .self_signed()
                .unwrap(),
        );
        let soon = SystemTime::now() + Duration::from_secs(30 * 86_400);
        write(
            &dir,
            "future",
            &local(CertSpec::new("localhost"))
                .validity(soon, soon + Duration::from_secs(30 * 86_400))
                .signed_by(&ca)
                .unwrap(),
        );
        write(
            &dir,
            "clientonly",
            &local(CertSpec::new("localhost"))
                .extended_key_usage(&["clientAuth"])
                .unwrap()
                .signed_by(&ca)
                .unwrap(),
        );
        write(
            &dir,
            "unknown-ca",
            &local(CertSpec::new("localhost")).signed_by(&other).unwrap(),
        );
        write(
            &dir,
            "wrongname",
            &CertSpec::new("other.example")
                .san("other.example")
                .signed_by(&ca)
                .unwrap(),
        );
        write(
            &dir,
            "client",
            &CertSpec::new("test client").signed_by(&ca).unwrap(),
        );
        // A PEM holding chain and key together, for "key in the cert file".
        let combined = format!(
            "{}{}",
            std::fs::read_to_string(dir.join("srv-ec.pem")).unwrap(),
            std::fs::read_to_string(dir.join("srv-ec.key")).unwrap()
        );
        std::fs::write(dir.join("srv-combined.pem"), combined).unwrap();
        Pki {
            ca: dir.join("ca.pem"),
            dir,
        }
    })
}

/// Server options with the EC localhost certificate.
pub fn server_opts() -> Options {
    let p = pki().pair("srv-ec");
    Options::new().cert_file(p.cert).key_file(p.key)
}

/// Server options with the given certificate pair.
pub fn server_opts_with(name: &str) -> Options {
    let p = pki().pair(name);
    Options::new().cert_file(p.cert).key_file(p.key)
}

/// Client options trusting the test CA, verifying "localhost".
pub fn client_opts() -> Options {
    Options::new().ca_file(&pki().ca).hostname("localhost")
}

/// Runs `handler` for each of `n` accepted TLS connections in a thread.
pub fn serve<F>(
    opts: Options,
    n: usize,
    handler: F,
) -> (SocketAddr, JoinHandle<Vec<Result<(), String>>>)
where
    F: Fn(SslSocket) -> Result<(), String> + Send + 'static,
{
    let listener = SslListener::bind("127.0.0.1:0", &opts).unwrap();
    let addr = listener.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        (0..n)
            .map(|_| match listener.accept() {
                Ok((s, _)) => handler(s),
                Err(e) => Err(e.to_string()),
            })
            .collect()
    });
    (addr, h)
}

/// Runs `handler` on `n` plain TCP connections.
pub fn serve_tcp<F>(n: usize, handler: F) -> (SocketAddr, JoinHandle<()>)
where
    F: Fn(TcpStream) + Send + 'static,
{
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        for _ in 0..n {
            let (s, _) = l.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            handler(s);
        }
    });
    (addr, h)
}

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
pub struct Peer {
    pub child: Child,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Peer {
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

/// Reads until EOF, close_notify or an unclean close; returns what arrived.
pub fn read_all<R: Read>(r: &mut R) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match r.read(&mut buf) {
            Ok(0) | Err(_) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}

pub fn write_line<W: Write>(w: &mut W, s: &str) {
    w.write_all(s.as_bytes()).unwrap();
    w.flush().unwrap();
}

/// Server handler: echo one line, then close.
pub fn echo_once(mut s: SslSocket) -> Result<(), String> {
    let mut line = String::new();
    s.read_line(&mut line).map_err(|e| e.to_string())?;
    s.write_all(line.as_bytes()).map_err(|e| e.to_string())?;
    s.close().map_err(|e| e.to_string())
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
