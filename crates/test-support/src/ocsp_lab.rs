//! A PKI with real OCSP: CAs kept by `openssl ca` (issue, revoke, CRLs) and a responder on
//! loopback that answers each request with `openssl ocsp -index` (the responder code of
//! OpenSSL, one process per request, the index read every time).
//!
//! ```text
//! root ─┬─ int ──── good, revoked, staple (must-staple), unknown (not in the index), short,
//!       │           fleet, fleet-short, ocsp-signer (OCSPSigning), no-eku-signer (serverAuth)
//!       └─ int2 (revoked by root) ── good2
//! rogue (self-signed, OCSPSigning), twin (self-signed, the name of int, another key)
//! ```
//!
//! Leaves name `http://127.0.0.1:<port>/<ca>` as their OCSP responder; `short` names
//! `/int-short`, where responses are current for one minute only; `fleet` and
//! `fleet-short` name `/int-fleet` and `/int-fleet-short` (a minute), counted by path.
//! `<ca>.crl` is served too.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use crate::openssl_in;

/// The lab: its directory and its responder.
#[derive(Debug)]
pub struct Lab {
    /// Where every file is: `<name>.pem`, `<name>.key`, `<name>-chain.pem` (leaf and
    /// intermediate), `root.pem`.
    pub dir: PathBuf,
    /// The responder's port on 127.0.0.1.
    pub port: u16,
    requests: AtomicUsize,
    short_requests: AtomicUsize,
    /// Requests by path (`int-fleet`, `int-fleet-short`).
    by_path: std::sync::Mutex<std::collections::HashMap<String, usize>>,
}

/// The lab of this test process, built on first use.
pub fn lab() -> &'static Lab {
    static LAB: OnceLock<&'static Lab> = OnceLock::new();
    LAB.get_or_init(|| {
        let dir = crate::scratch_dir("ocsp");
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        build(&dir, port);
        let lab: &'static Lab = Box::leak(Box::new(Lab {
            dir,
            port,
            requests: AtomicUsize::new(0),
            short_requests: AtomicUsize::new(0),
            by_path: Default::default(),
        }));
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let _ = lab.answer(conn);
                });
            }
        });
        lab
    })
}

fn ca_config(dir: &Path, ca: &str, port: u16) -> String {
    format!(
        "\
[ca]
default_ca = CA_default
[CA_default]
dir = {dir}/{ca}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
crlnumber = $dir/crlnumber
certificate = {dir}/{ca}.pem
private_key = {dir}/{ca}.key
default_md = sha256
default_days = 30
default_crl_days = 7
policy = policy_any
unique_subject = no
copy_extensions = none
[policy_any]
commonName = supplied
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[v3_ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[sub_ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
authorityInfoAccess = OCSP;URI:http://127.0.0.1:{port}/{ca}
[server_cert]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
authorityInfoAccess = OCSP;URI:http://127.0.0.1:{port}/{ca}
crlDistributionPoints = URI:http://127.0.0.1:{port}/{ca}.crl
[short_cert]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
authorityInfoAccess = OCSP;URI:http://127.0.0.1:{port}/{ca}-short
[fleet_cert]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
authorityInfoAccess = OCSP;URI:http://127.0.0.1:{port}/{ca}-fleet
[fleet_short_cert]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
authorityInfoAccess = OCSP;URI:http://127.0.0.1:{port}/{ca}-fleet-short
[must_staple_cert]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
authorityInfoAccess = OCSP;URI:http://127.0.0.1:{port}/{ca}
1.3.6.1.5.5.7.1.24 = DER:30:03:02:01:05
[ocsp_signer]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, OCSPSigning
[no_eku_signer]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
{scope}",
        dir = dir.display(),
        scope = scope_sections(port),
    )
}

/// The CRL scope cases: each leaf of the `scope` CA names its own distribution point
/// (`scope-<case>.crl`), where a CRL with the case's extension section (`crl_<case>`) is
/// served. `idp` is in scope (its issuing distribution point is the leaf's); the others are
/// not: another shard's, an authority revocation list, some reasons only, a delta CRL.
pub const CRL_SCOPE_CASES: [&str; 5] = ["shard", "arl", "reasons", "delta", "idp"];

fn scope_sections(port: u16) -> String {
    let mut s = String::new();
    for case in CRL_SCOPE_CASES {
        s += &format!(
            "[scope_{case}]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
crlDistributionPoints = URI:http://127.0.0.1:{port}/scope-{case}.crl
"
        );
    }
    s + &format!(
        "[crl_shard]
issuingDistributionPoint = critical, @idp_shard
[idp_shard]
fullname = URI:http://127.0.0.1:{port}/scope-another-shard.crl
[crl_arl]
issuingDistributionPoint = critical, @idp_arl
[idp_arl]
onlyCA = TRUE
[crl_reasons]
issuingDistributionPoint = critical, @idp_reasons
[idp_reasons]
onlysomereasons = CACompromise
[crl_delta]
2.5.29.27 = critical, DER:02:02:03:E8
[crl_idp]
issuingDistributionPoint = critical, @idp_idp
[idp_idp]
fullname = URI:http://127.0.0.1:{port}/scope-idp.crl
onlyuser = TRUE
"
    )
}

fn new_ca_dir(dir: &Path, ca: &str, port: u16) {
    let d = dir.join(ca);
    std::fs::create_dir_all(d.join("newcerts")).unwrap();
    std::fs::write(d.join("index.txt"), "").unwrap();
    std::fs::write(d.join("serial"), "1000\n").unwrap();
    std::fs::write(d.join("crlnumber"), "1000\n").unwrap();
    std::fs::write(dir.join(format!("{ca}.cnf")), ca_config(dir, ca, port)).unwrap();
}

/// `openssl req` with a new P-256 key in `{name}.key`, for subject `subj`: a request
/// `{name}.csr` with `how = &["-new"]`, or a self-signed `{name}.pem` with `&["-x509", ...]`.
fn new_key(dir: &Path, name: &str, subj: &str, config: Option<&str>, how: &[&str]) {
    let (key, csr, pem) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.pem"),
    );
    let out = if how.first() == Some(&"-x509") {
        &pem
    } else {
        &csr
    };
    let mut args: Vec<&str> = vec!["req"];
    if let Some(c) = config {
        args.extend(["-config", c]);
    }
    args.extend(how);
    args.extend([
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        &key,
        "-out",
        out,
        "-subj",
        subj,
    ]);
    openssl_in(dir, &args);
}

/// Issues `name` (CN `cn`, extensions `ext`) from `ca`, recorded in its index.
fn issue(dir: &Path, ca: &str, name: &str, cn: &str, ext: &str) {
    let cnf = format!("{ca}.cnf");
    new_key(dir, name, &format!("/CN={cn}"), Some(&cnf), &["-new"]);
    openssl_in(
        dir,
        &[
            "ca",
            "-config",
            &cnf,
            "-batch",
            "-notext",
            "-in",
            &format!("{name}.csr"),
            "-out",
            &format!("{name}.pem"),
            "-extensions",
            ext,
        ],
    );
}

fn revoke(dir: &Path, ca: &str, name: &str) {
    record_revoked(dir, ca, name);
    crl(dir, ca);
}

/// Marks `name` revoked (keyCompromise) in the index of `ca`, without a new CRL.
fn record_revoked(dir: &Path, ca: &str, name: &str) {
    let cnf = format!("{ca}.cnf");
    openssl_in(
        dir,
        &[
            "ca",
            "-config",
            &cnf,
            "-revoke",
            &format!("{name}.pem"),
            "-crl_reason",
            "keyCompromise",
        ],
    );
}

/// Writes `<ca>.crl` (DER) from the CA's index.
fn crl(dir: &Path, ca: &str) {
    crl_as(dir, ca, ca, None);
}

/// Writes `<name>.crl` (DER) and `<name>.crl.pem` from the CA's index, with the CRL
/// extension section `exts` when given.
fn crl_as(dir: &Path, ca: &str, name: &str, exts: Option<&str>) {
    let cnf = format!("{ca}.cnf");
    let pem = format!("{name}.crl.pem");
    let mut args = vec!["ca", "-config", &cnf, "-gencrl", "-out", &pem];
    if let Some(section) = exts {
        args.extend(["-crlexts", section]);
    }
    openssl_in(dir, &args);
    openssl_in(
        dir,
        &[
            "crl",
            "-in",
            &pem,
            "-outform",
            "DER",
            "-out",
            &format!("{name}.crl"),
        ],
    );
}

fn chain(dir: &Path, leaf: &str, ca: &str) {
    let mut pem = std::fs::read(dir.join(format!("{leaf}.pem"))).unwrap();
    pem.extend(std::fs::read(dir.join(format!("{ca}.pem"))).unwrap());
    std::fs::write(dir.join(format!("{leaf}-chain.pem")), pem).unwrap();
}

fn build(dir: &Path, port: u16) {
    for ca in ["root", "int", "int2", "scope"] {
        new_ca_dir(dir, ca, port);
    }
    new_key(
        dir,
        "root",
        "/CN=OCSP Lab Root",
        Some("root.cnf"),
        &["-x509", "-days", "30", "-extensions", "v3_ca"],
    );
    issue(dir, "root", "int", "OCSP Lab Intermediate", "sub_ca");
    issue(
        dir,
        "root",
        "int2",
        "OCSP Lab Revoked Intermediate",
        "sub_ca",
    );
    revoke(dir, "root", "int2");
    for (name, ext) in [
        ("good", "server_cert"),
        ("revoked", "server_cert"),
        ("staple", "must_staple_cert"),
        ("short", "short_cert"),
        ("fleet", "fleet_cert"),
        ("fleet-short", "fleet_short_cert"),
    ] {
        issue(dir, "int", name, "localhost", ext);
        chain(dir, name, "int");
    }
    issue(dir, "int", "ocsp-signer", "Lab OCSP Signer", "ocsp_signer");
    issue(
        dir,
        "int",
        "no-eku-signer",
        "Lab Signer Without EKU",
        "no_eku_signer",
    );
    revoke(dir, "int", "revoked");
    issue(dir, "root", "scope", "OCSP Lab Scope CA", "sub_ca");
    for case in CRL_SCOPE_CASES {
        let leaf = format!("scope-{case}");
        issue(dir, "scope", &leaf, "localhost", &format!("scope_{case}"));
        chain(dir, &leaf, "scope");
    }
    // The CRLs out of scope are made before the leaves are revoked, so they list none of
    // them (what a CRL of another scope served at the leaf's URL looks like to it).
    for case in CRL_SCOPE_CASES.iter().filter(|c| **c != "idp") {
        crl_as(
            dir,
            "scope",
            &format!("scope-{case}"),
            Some(&format!("crl_{case}")),
        );
    }
    for case in CRL_SCOPE_CASES {
        record_revoked(dir, "scope", &format!("scope-{case}"));
    }
    crl_as(dir, "scope", "scope-idp", Some("crl_idp"));
    crl(dir, "scope");
    issue(dir, "int2", "good2", "localhost", "server_cert");
    crl(dir, "int2");
    chain(dir, "good2", "int2");
    // Signed by int but never recorded in its index: the responder says "unknown".
    new_key(dir, "unknown", "/CN=localhost", None, &["-new"]);
    openssl_in(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "unknown.csr",
            "-CA",
            "int.pem",
            "-CAkey",
            "int.key",
            "-set_serial",
            "0x7777",
            "-days",
            "30",
            "-extfile",
            "int.cnf",
            "-extensions",
            "server_cert",
            "-out",
            "unknown.pem",
        ],
    );
    chain(dir, "unknown", "int");
    new_key(
        dir,
        "rogue",
        "/CN=Rogue Responder",
        None,
        &[
            "-x509",
            "-days",
            "30",
            "-addext",
            "extendedKeyUsage=OCSPSigning",
        ],
    );
    new_key(
        dir,
        "twin",
        "/CN=OCSP Lab Intermediate",
        None,
        &["-x509", "-days", "30"],
    );
}

/// Who signs a response made by [`Lab::response`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    /// The issuing CA itself.
    Issuer,
    /// `ocsp-signer`: issued by `int` for OCSP signing (a delegated responder).
    Delegated,
    /// `no-eku-signer`: issued by `int`, without the OCSPSigning usage.
    NoEku,
    /// `rogue`: self-signed, not from the issuer.
    Rogue,
    /// `twin`: self-signed with the intermediate's name and another key.
    Twin,
}

impl Lab {
    /// A path in the lab's directory.
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// The responder URL for `ca`.
    pub fn url(&self, ca: &str) -> String {
        format!("http://127.0.0.1:{}/{ca}", self.port)
    }

    /// How many requests the responder has answered (all paths; the `-short` path alone).
    pub fn requests(&self) -> (usize, usize) {
        (
            self.requests.load(Ordering::SeqCst),
            self.short_requests.load(Ordering::SeqCst),
        )
    }

    /// How many requests the responder has answered on `path` (`int-fleet` for the `fleet`
    /// leaf, `int-fleet-short` for `fleet-short`).
    pub fn requests_to(&self, path: &str) -> usize {
        let counts = self.by_path.lock().unwrap_or_else(|e| e.into_inner());
        counts.get(path).copied().unwrap_or(0)
    }

    /// A DER response about `cert` (issued by `ca`), signed by `signer`, current for `minutes`
    /// (at least one); with `nonce`, the request carried a nonce and so does the response.
    pub fn response(
        &self,
        ca: &str,
        cert: &str,
        signer: Signer,
        minutes: u32,
        nonce: bool,
    ) -> Vec<u8> {
        let tag = format!("{cert}-{signer:?}-{minutes}-{nonce}-{}", unique());
        let req = format!("req-{tag}.der");
        let resp = format!("resp-{tag}.der");
        let nonce_arg = if nonce { "-nonce" } else { "-no_nonce" };
        openssl_in(
            &self.dir,
            &[
                "ocsp",
                "-issuer",
                &format!("{ca}.pem"),
                "-cert",
                &format!("{cert}.pem"),
                nonce_arg,
                "-reqout",
                &req,
            ],
        );
        let (rsigner, rkey) = match signer {
            Signer::Issuer => (format!("{ca}.pem"), format!("{ca}.key")),
            Signer::Delegated => ("ocsp-signer.pem".into(), "ocsp-signer.key".into()),
            Signer::NoEku => ("no-eku-signer.pem".into(), "no-eku-signer.key".into()),
            Signer::Rogue => ("rogue.pem".into(), "rogue.key".into()),
            Signer::Twin => ("twin.pem".into(), "twin.key".into()),
        };
        self.respond_to(ca, &req, &resp, &rsigner, &rkey, minutes)
    }

    fn respond_to(
        &self,
        ca: &str,
        req: &str,
        resp: &str,
        rsigner: &str,
        rkey: &str,
        minutes: u32,
    ) -> Vec<u8> {
        openssl_in(
            &self.dir,
            &[
                "ocsp",
                "-index",
                &format!("{ca}/index.txt"),
                "-CA",
                &format!("{ca}.pem"),
                "-rsigner",
                rsigner,
                "-rkey",
                rkey,
                "-nmin",
                &minutes.max(1).to_string(),
                "-reqin",
                req,
                "-respout",
                resp,
            ],
        );
        std::fs::read(self.dir.join(resp)).unwrap()
    }

    /// `openssl s_server -www` with `leaf` and its issuing `ca` on a free port, stapling
    /// `staple` (a DER response file) when given, with `extra` arguments.
    pub fn s_server(
        &self,
        leaf: &str,
        ca: &str,
        staple: Option<&Path>,
        extra: &[&str],
    ) -> (crate::Peer, u16) {
        crate::require("openssl");
        crate::spawn_listening(|port| {
            let mut cmd = std::process::Command::new("openssl");
            cmd.current_dir(&self.dir)
                .args(["s_server", "-accept", &format!("127.0.0.1:{port}")])
                .args([
                    "-cert",
                    &format!("{leaf}.pem"),
                    "-key",
                    &format!("{leaf}.key"),
                ])
                .args(["-cert_chain", &format!("{ca}.pem")])
                // Serves a status page rather than reading stdin (which is empty).
                .arg("-www")
                .args(extra)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            if let Some(s) = staple {
                cmd.arg("-status_file").arg(s);
            }
            cmd
        })
    }

    /// Writes `der` to a file of the lab; its path.
    pub fn save(&self, name: &str, der: &[u8]) -> PathBuf {
        let p = self.dir.join(name);
        std::fs::write(&p, der).unwrap();
        p
    }

    fn answer(&self, conn: TcpStream) -> std::io::Result<()> {
        let mut reader = BufReader::new(conn.try_clone()?);
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_owned();
        let path = parts
            .next()
            .unwrap_or("/")
            .trim_start_matches('/')
            .to_owned();
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let (target, get_request) = match path.split_once('/') {
            Some((t, rest)) => (t.to_owned(), Some(rest.to_owned())),
            None => (path.clone(), None),
        };
        let body: Option<Vec<u8>> = if let Some(file) = target.strip_suffix(".crl") {
            std::fs::read(self.dir.join(format!("{file}.crl"))).ok()
        } else {
            let req = if method == "POST" {
                let mut b = vec![0; length];
                reader.read_exact(&mut b)?;
                Some(b)
            } else {
                get_request.and_then(|r| decode_get(&r))
            };
            req.map(|req| {
                self.requests.fetch_add(1, Ordering::SeqCst);
                *self
                    .by_path
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(target.clone())
                    .or_default() += 1;
                let (ca, minutes) = match target.strip_suffix("-short") {
                    Some(ca) if !ca.ends_with("-fleet") => {
                        self.short_requests.fetch_add(1, Ordering::SeqCst);
                        (ca.to_owned(), 1)
                    }
                    Some(ca) => (ca.to_owned(), 1),
                    None => (target.clone(), 60 * 24),
                };
                let ca = ca.strip_suffix("-fleet").unwrap_or(&ca).to_owned();
                let tag = unique();
                let rq = format!("http-req-{tag}.der");
                std::fs::write(self.dir.join(&rq), req).unwrap();
                self.respond_to(
                    &ca,
                    &rq,
                    &format!("http-resp-{tag}.der"),
                    &format!("{ca}.pem"),
                    &format!("{ca}.key"),
                    minutes,
                )
            })
        };
        let mut out = conn;
        match body {
            Some(b) => {
                write!(out, "HTTP/1.0 200 OK\r\nContent-Type: application/ocsp-response\r\nContent-Length: {}\r\n\r\n", b.len())?;
                out.write_all(&b)
            }
            None => out.write_all(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n"),
        }
    }
}

fn unique() -> usize {
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

/// The request of a GET (RFC 6960 A.1: base64, URL-encoded, in the path).
fn decode_get(path: &str) -> Option<Vec<u8>> {
    let unescaped = path
        .replace("%2B", "+")
        .replace("%2F", "/")
        .replace("%3D", "=")
        .replace("%2b", "+")
        .replace("%2f", "/")
        .replace("%3d", "=");
    base64_decode(&unescaped)
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes().filter(|c| *c != b'=') {
        let v = ALPHABET.iter().position(|a| *a == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}
