//! What the command tests share: the binary, the test PKI, running and checking.

pub(crate) use std::io::{BufRead, BufReader, Read, Write};
pub(crate) use std::process::{Command, Output, Stdio};
pub(crate) use std::time::{Duration, Instant};

pub(crate) use sslsock::x509::create::{CertSpec, Issued};
pub(crate) use sslsock_test_support::{
    constrained, free_port, ocsp_lab, openssl_crl, openssl_fingerprint, pki, require,
    run_with_input, s_server, Peer,
};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_sslsock");

pub(crate) fn f(name: &str) -> String {
    pki().file(name)
}

pub(crate) fn sslsock(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub(crate) fn one_line_error(o: &Output, code: i32, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {err}");
    assert!(
        lines[0].starts_with("sslsock: ") && lines[0].contains(needle),
        "{err}"
    );
}

/// Starts `sslsock serve` and returns it with its port (read from its first line).
pub(crate) fn serve(args: &[&str]) -> (Peer, u16, BufReader<std::process::ChildStdout>) {
    serve_on("127.0.0.1:0", args)
}

/// [`serve`] listening on `listen`.
pub(crate) fn serve_on(
    listen: &str,
    args: &[&str],
) -> (Peer, u16, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", listen])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let port = first
        .trim()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("{first}"));
    (Peer { child }, port, out)
}

pub(crate) fn run_ok(args: &[&str]) -> String {
    let o = sslsock(args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    String::from_utf8(o.stdout).unwrap()
}

pub(crate) fn lab_file(name: &str) -> String {
    ocsp_lab::lab().path(name).display().to_string()
}

/// A plain server that sends `greeting` (then keeps the connection until the client leaves).
pub(crate) fn plain_talker(greeting: impl Fn(&mut std::net::TcpStream) + Send + 'static) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        greeting(&mut tcp);
        let _ = Read::read_to_end(&mut tcp, &mut Vec::new());
    });
    port
}

/// The cipher of `openssl s_client`'s handshake, `(NONE)` when the handshake failed.
#[cfg(feature = "openssl")]
pub(crate) fn s_client_cipher(port: u16, args: &[&str]) -> String {
    let out = run_with_input(
        Command::new("openssl")
            .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
            .args(args)
            .stderr(Stdio::null()),
        b"",
    );
    if !out.status.success() {
        return "(NONE)".to_owned();
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find_map(|l| l.split_once("Cipher is ").map(|(_, c)| c.trim().to_owned()))
        .unwrap_or_else(|| format!("(no cipher line: {text})"))
}

/// The lines of `from` as they come, read on a thread of their own.
pub(crate) fn line_feed(from: Box<dyn Read + Send>) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for l in BufReader::new(from).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    rx
}

/// The first line from `rx` that contains `what`, waiting at most `secs`.
pub(crate) fn wait_for_line(
    rx: &std::sync::mpsc::Receiver<String>,
    what: &str,
    secs: u64,
) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) if l.contains(what) => return l,
            Ok(_) => {}
            Err(_) => panic!("no line with {what:?} in {secs} s"),
        }
    }
}
