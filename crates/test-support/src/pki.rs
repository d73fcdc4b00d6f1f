//! The test PKI, made once per test process with sslsock's own certificate code, in a
//! directory removed when the process ends.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use sslsock::x509::create::{CertSpec, Issued, KeyType};
use sslsock::Options;

/// A directory of this test process (`<tmp>/sslsock-test-<name>-<pid>`), removed once the
/// process has ended.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sslsock-test-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    remove_when_done(&dir);
    dir
}

/// A test binary never drops its statics and has no last word of its own, so a small watcher
/// process removes `dir` once this one has gone.
fn remove_when_done(dir: &Path) {
    let script = format!(
        "while kill -0 {} 2>/dev/null; do sleep 1; done; rm -rf -- \"$0\"",
        std::process::id()
    );
    // Without the watcher the directory merely stays behind in the temporary directory.
    let _ = Command::new("sh")
        .args(["-c", &script])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}

/// Certificates and keys written to a private directory, made once per test run.
#[derive(Debug)]
pub struct Pki {
    /// The directory.
    pub dir: PathBuf,
    /// The trusted test CA (`ca.pem`).
    pub ca: PathBuf,
}

/// A cert/key pair on disk.
#[derive(Debug)]
pub struct Pair {
    /// The certificate (PEM).
    pub cert: PathBuf,
    /// Its key (PEM).
    pub key: PathBuf,
}

impl Pki {
    /// The pair `<name>.pem` and `<name>.key`.
    pub fn pair(&self, name: &str) -> Pair {
        Pair {
            cert: self.dir.join(format!("{name}.pem")),
            key: self.dir.join(format!("{name}.key")),
        }
    }
    /// A file of the PKI's directory.
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }
    /// `path(file)` as a string, for command lines.
    pub fn file(&self, file: &str) -> String {
        self.path(file).display().to_string()
    }
}

fn write(dir: &Path, name: &str, issued: &Issued) {
    std::fs::write(dir.join(format!("{name}.pem")), &issued.cert_pem).unwrap();
    std::fs::write(dir.join(format!("{name}.key")), &issued.key_pem).unwrap();
}

/// The shared test PKI: `ca` (with `other-ca` untrusted), localhost servers `srv-ec` and
/// `srv-rsa` (localhost, 127.0.0.1, ::1), `expired`, `future`, `selfsigned`, `selfsigned2`,
/// `selfsigned-rsa`, `clientonly` (clientAuth only), `unknown-ca`, `wrongname`, `client`,
/// `revoked`, `wild` (wildcards, self-signed) and `srv-combined.pem` (chain and key in one).
pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = scratch_dir("pki");
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
        // Revoked by the tests that make a CRL; otherwise a plain localhost certificate.
        write(
            &dir,
            "revoked",
            &local(CertSpec::new("localhost")).signed_by(&ca).unwrap(),
        );
        write(
            &dir,
            "wild",
            &CertSpec::new("*.cn.example.org")
                .san("*.co.uk")
                .san("*.example.org")
                .san("192.0.2.1")
                .self_signed()
                .unwrap(),
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

/// The engine the shared options use: `SSLSOCK_TEST_ENGINE=openssl` runs the suite on the
/// openssl engine (`scripts/test` does, for the tests that apply to both engines).
pub fn test_engine() -> sslsock::Engine {
    match std::env::var("SSLSOCK_TEST_ENGINE").as_deref() {
        Ok("openssl") => sslsock::Engine::OpenSsl,
        _ => sslsock::Engine::Rustls,
    }
}

/// Server options with the EC localhost certificate.
pub fn server_opts() -> Options {
    server_opts_with("srv-ec")
}

/// Server options with the given certificate pair.
pub fn server_opts_with(name: &str) -> Options {
    let p = pki().pair(name);
    Options::new()
        .cert_file(p.cert)
        .key_file(p.key)
        .engine(test_engine())
}

/// Client options trusting the test CA, verifying "localhost".
pub fn client_opts() -> Options {
    Options::new()
        .ca_file(&pki().ca)
        .hostname("localhost")
        .engine(test_engine())
}
