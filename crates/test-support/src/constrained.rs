//! A name-constrained PKI made with `openssl req`/`openssl x509` (not with our own certificate
//! code), and the cases that hold names against it. Shared by the library's and the CLI's
//! tests.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use sslsock::{Options, SslListener};

/// Scheme families in table column order: the first name of each is the column head, the
/// others are its aliases.
pub const FAMILIES: [&[&str]; 9] = [
    &["default"],
    &["rfc2818", "rfc3920", "xmpp", "rfc4217", "ftp"],
    &["http", "www"],
    &["ldap", "rfc4513"],
    &[
        "smtp", "rfc2595", "imap", "pop3", "acap", "rfc4642", "rfc5539", "nntp", "rfc5538",
        "netconf", "rfc5425", "syslog", "rfc5953", "snmp",
    ],
    &["gist", "rfc5971"],
    &["sip", "rfc5922"],
    &["strict", "rfc9525"],
    &["none"],
];

/// One certificate chain and a name to check it for.
#[derive(Debug)]
pub struct Case {
    /// The leaf (its chain file is `<leaf>-chain.pem`).
    pub leaf: &'static str,
    /// The name to verify.
    pub host: &'static str,
    /// One verdict per scheme family: `Y` accepted, `C` refused by a name constraint, `N`
    /// refused because no name matches. A leaf without DNS SAN whose CN reads as a host name
    /// outside the constraints fails path validation, so under every scheme that reads the
    /// CN (as in OpenSSL); `strict` never reads it, so it neither matches nor is constrained.
    pub expect: &'static str,
    /// The CA whose constraint a `C` must name (its CN).
    pub ca: &'static str,
    /// What the case shows.
    pub what: &'static str,
}

/// Schemes: default rfc2818 http ldap smtp gist sip strict none.
#[rustfmt::skip]
pub const CASES: &[Case] = &[
    Case { leaf: "cn-outside", host: "evil.example", expect: "CCCCCCCNC", ca: "NC DNS permitted", what: "no SAN, CN outside permitted DNS" },
    Case { leaf: "cn-inside", host: "www.allowed.example", expect: "YYYYYYYNY", ca: "", what: "no SAN, CN inside permitted DNS" },
    Case { leaf: "cn-excluded", host: "evil.example", expect: "CCCCCCCNC", ca: "NC DNS excluded", what: "no SAN, CN equal to excluded DNS" },
    Case { leaf: "cn-excluded-sub", host: "www.evil.example", expect: "CCCCCCCNC", ca: "NC DNS excluded", what: "no SAN, CN below excluded DNS" },
    Case { leaf: "cn-excluded-ok", host: "good.example", expect: "YYYYYYYNY", ca: "", what: "no SAN, CN beside excluded DNS" },
    Case { leaf: "san-in-cn-out", host: "evil.example", expect: "CNNCCNCNY", ca: "NC DNS permitted", what: "SAN inside, CN outside, CN asked" },
    Case { leaf: "san-in-cn-out", host: "www.allowed.example", expect: "YYYYYYYYY", ca: "", what: "SAN inside, CN outside, SAN asked" },
    Case { leaf: "cn-wild", host: "www.allowed.example", expect: "YYYNYYNNY", ca: "", what: "no SAN, CN *.allowed.example inside permitted" },
    Case { leaf: "cn-wild-out", host: "www.evil.example", expect: "CCCNCCNNY", ca: "NC DNS permitted", what: "no SAN, CN *.evil.example outside permitted" },
    Case { leaf: "cn-wild-excl", host: "www.good.example", expect: "CCCNCCNNY", ca: "NC DNS excluded", what: "no SAN, CN *.good.example covers excluded secret.good.example" },
    Case { leaf: "cn-wild-excl", host: "secret.good.example", expect: "CCCNCCNNY", ca: "NC DNS excluded", what: "no SAN, CN *.good.example, excluded name asked" },
    Case { leaf: "cn-ip4-outside", host: "203.0.113.5", expect: "CNCNNNNNY", ca: "NC IP permitted", what: "no SAN, IPv4 CN outside permitted IP" },
    Case { leaf: "cn-ip4-inside", host: "192.0.2.5", expect: "YNYNNNNNY", ca: "", what: "no SAN, IPv4 CN inside permitted IP" },
    Case { leaf: "cn-ip6-outside", host: "2001:db9::5", expect: "CNNNNNNNY", ca: "NC IP permitted", what: "no SAN, IPv6 CN outside permitted IP" },
    Case { leaf: "cn-ip6-inside", host: "2001:db8::5", expect: "YNNNNNNNY", ca: "", what: "no SAN, IPv6 CN inside permitted IP" },
    Case { leaf: "cn-ip4-excluded", host: "198.51.100.7", expect: "CNCNNNNNY", ca: "NC IP excluded", what: "no SAN, IPv4 CN in excluded IP" },
    Case { leaf: "cn-ip6-excluded", host: "2001:db8:bad::1", expect: "CNNNNNNNY", ca: "NC IP excluded", what: "no SAN, IPv6 CN in excluded IP" },
    Case { leaf: "cn-ip-under-dns", host: "192.0.2.9", expect: "CCCCCCCNC", ca: "NC DNS permitted", what: "no SAN, IPv4 CN under DNS-only constraints (read as a DNS name too)" },
    Case { leaf: "root-nc-out", host: "evil.example", expect: "CCCCCCCNC", ca: "NC Root", what: "constraint on the root, intermediate between" },
    Case { leaf: "root-nc-in", host: "www.allowed.example", expect: "YYYYYYYNY", ca: "", what: "constraint on the root, leaf inside" },
    Case { leaf: "multi-out", host: "other.example", expect: "CCCCCCCNC", ca: "NC Inner permitted", what: "two constraining intermediates, inner one violated" },
    Case { leaf: "multi-excl", host: "bad.allowed.example", expect: "CCCCCCCNC", ca: "NC Inner excluded", what: "permitted above, excluded below, excluded hit" },
    Case { leaf: "multi-in", host: "www.allowed.example", expect: "YYYYYYYNY", ca: "", what: "two constraining intermediates, inside both" },
    Case { leaf: "ip-san-cn-ip", host: "192.0.2.9", expect: "CCCCCCCYC", ca: "NC DNS permitted", what: "IP SAN, no DNS SAN, CN an address outside permitted DNS: strict reads no CN" },
];

/// The PKI's directory: `roots.pem` (both roots), `<leaf>.pem`, `<leaf>.key`,
/// `<leaf>-chain.pem` (leaf and intermediates, as a server sends them), `<leaf>-ints.pem`.
pub fn dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = crate::scratch_dir("nc");
        build(&dir);
        dir
    })
}

const CONFIG: &str = "\
[req]
distinguished_name = dn
[dn]
[root]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[root_nc]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
nameConstraints = critical,permitted;DNS:allowed.example
[ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[dns_permitted]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
nameConstraints = critical,permitted;DNS:allowed.example
[dns_excluded]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
nameConstraints = critical,excluded;DNS:evil.example,excluded;DNS:secret.good.example
[ip_permitted]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
nameConstraints = critical,permitted;IP:192.0.2.0/255.255.255.0,permitted;IP:2001:db8::/ffff:ffff::
[ip_excluded]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
nameConstraints = critical,excluded;IP:198.51.100.0/255.255.255.0,excluded;IP:2001:db8:bad::/ffff:ffff:ffff::
[outer_permitted]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
nameConstraints = critical,permitted;DNS:example
[inner_permitted]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
nameConstraints = critical,permitted;DNS:allowed.example
[inner_excluded]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
nameConstraints = critical,excluded;DNS:bad.allowed.example
[many]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
nameConstraints = critical,@many_subtrees
[leaf]
basicConstraints = CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
[leaf_ip_san]
basicConstraints = CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:192.0.2.9
[leaf_san]
basicConstraints = CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:www.allowed.example
";

/// Runs openssl in `dir`, failing the test with its stderr when it fails.
pub fn openssl(dir: &Path, args: &[&str]) {
    crate::openssl_in(dir, args);
}

fn key(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            &format!("{name}.key"),
        ],
    );
}

fn root(dir: &Path, name: &str, cn: &str, section: &str) {
    key(dir, name);
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-config",
            "nc.cnf",
            "-extensions",
            section,
            "-key",
            &format!("{name}.key"),
            "-subj",
            &format!("/CN={cn}"),
            "-days",
            "30",
            "-out",
            &format!("{name}.pem"),
        ],
    );
}

/// Issues `name` (CN `cn`) under `issuer` with the extension section `section`.
fn issue(dir: &Path, name: &str, cn: &str, issuer: &str, section: &str) {
    key(dir, name);
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-config",
            "nc.cnf",
            "-key",
            &format!("{name}.key"),
            "-subj",
            &format!("/CN={cn}"),
            "-out",
            &format!("{name}.csr"),
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{issuer}.pem"),
            "-CAkey",
            &format!("{issuer}.key"),
            "-set_serial",
            &format!("0x{:x}", serial(name)),
            "-days",
            "30",
            "-extfile",
            "nc.cnf",
            "-extensions",
            section,
            "-out",
            &format!("{name}.pem"),
        ],
    );
}

fn serial(name: &str) -> u64 {
    name.bytes().fold(1_469_598_103_934_665_603u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(1_099_511_628_211)
    }) >> 1
}

fn cat(dir: &Path, out: &str, parts: &[&str]) {
    let text: String = parts
        .iter()
        .map(|p| std::fs::read_to_string(dir.join(format!("{p}.pem"))).unwrap())
        .collect();
    std::fs::write(dir.join(out), text).unwrap();
}

/// (file, CN, issuer, extension section), each after its issuer.
#[rustfmt::skip]
const INTERMEDIATES: &[(&str, &str, &str, &str)] = &[
    ("int-dns-perm", "NC DNS permitted", "root", "dns_permitted"),
    ("int-dns-excl", "NC DNS excluded", "root", "dns_excluded"),
    ("int-ip-perm", "NC IP permitted", "root", "ip_permitted"),
    ("int-ip-excl", "NC IP excluded", "root", "ip_excluded"),
    ("int-under-root-nc", "NC Plain under constrained root", "root-nc", "ca"),
    ("int-outer", "NC Outer permitted", "root", "outer_permitted"),
    ("int-inner", "NC Inner permitted", "int-outer", "inner_permitted"),
    ("int-inner-excl", "NC Inner excluded", "int-inner", "inner_excluded"),
    ("int-many", "NC Many", "root", "many"),
];

/// (file, CN, intermediates from the leaf's issuer up, extension section).
#[rustfmt::skip]
const LEAVES: &[(&str, &str, &[&str], &str)] = &[
    ("cn-outside", "evil.example", &["int-dns-perm"], "leaf"),
    ("cn-inside", "www.allowed.example", &["int-dns-perm"], "leaf"),
    ("cn-excluded", "evil.example", &["int-dns-excl"], "leaf"),
    ("cn-excluded-sub", "www.evil.example", &["int-dns-excl"], "leaf"),
    ("cn-excluded-ok", "good.example", &["int-dns-excl"], "leaf"),
    ("san-in-cn-out", "evil.example", &["int-dns-perm"], "leaf_san"),
    ("cn-wild", "*.allowed.example", &["int-dns-perm"], "leaf"),
    ("cn-wild-out", "*.evil.example", &["int-dns-perm"], "leaf"),
    ("cn-wild-excl", "*.good.example", &["int-dns-excl"], "leaf"),
    ("cn-ip4-outside", "203.0.113.5", &["int-ip-perm"], "leaf"),
    ("cn-ip4-inside", "192.0.2.5", &["int-ip-perm"], "leaf"),
    ("cn-ip6-outside", "2001:db9::5", &["int-ip-perm"], "leaf"),
    ("cn-ip6-inside", "2001:db8::5", &["int-ip-perm"], "leaf"),
    ("cn-ip4-excluded", "198.51.100.7", &["int-ip-excl"], "leaf"),
    ("cn-ip6-excluded", "2001:db8:bad::1", &["int-ip-excl"], "leaf"),
    ("cn-ip-under-dns", "192.0.2.9", &["int-dns-perm"], "leaf"),
    ("root-nc-out", "evil.example", &["int-under-root-nc"], "leaf"),
    ("root-nc-in", "www.allowed.example", &["int-under-root-nc"], "leaf"),
    ("multi-out", "other.example", &["int-inner", "int-outer"], "leaf"),
    ("multi-excl", "bad.allowed.example", &["int-inner-excl", "int-inner", "int-outer"], "leaf"),
    ("multi-in", "www.allowed.example", &["int-inner", "int-outer"], "leaf"),
    ("many-cn", "www.allowed.example", &["int-many"], "leaf"),
    ("many-san", "www.allowed.example", &["int-many"], "leaf_san"),
    ("ip-san-cn-ip", "192.0.2.9", &["int-dns-perm"], "leaf_ip_san"),
];

/// Subtrees of the CA `NC Many`: past the checker's limit, `allowed.example` among them.
pub const MANY_SUBTREES: usize = 1100;

fn build(dir: &Path) {
    let mut config = CONFIG.to_owned();
    config.push_str("[many_subtrees]\npermitted;DNS.0 = allowed.example\n");
    for i in 1..MANY_SUBTREES {
        config.push_str(&format!("permitted;DNS.{i} = n{i}.example\n"));
    }
    std::fs::write(dir.join("nc.cnf"), config).unwrap();
    root(dir, "root", "NC Test Root", "root");
    root(dir, "root-nc", "NC Root", "root_nc");
    cat(dir, "roots.pem", &["root", "root-nc"]);
    for (name, cn, issuer, section) in INTERMEDIATES {
        issue(dir, name, cn, issuer, section);
    }
    for (name, cn, ints, section) in LEAVES {
        issue(dir, name, cn, ints[0], section);
        cat(dir, &format!("{name}-ints.pem"), ints);
        let mut chain = vec![*name];
        chain.extend_from_slice(ints);
        cat(dir, &format!("{name}-chain.pem"), &chain);
    }
}

/// A verdict letter from a verification outcome: `Y` for success, `C` when the error names
/// a name constraint, `N` for a name mismatch; anything else fails the test.
pub fn letter(outcome: Result<(), String>) -> char {
    match outcome {
        Ok(()) => 'Y',
        Err(e) if e.contains("name constraints of CA") => 'C',
        Err(e) if e.contains("does not match certificate names") => 'N',
        Err(e) => panic!("unexpected failure: {e}"),
    }
}

/// The column index of each scheme name.
pub fn every_scheme() -> impl Iterator<Item = (usize, &'static str)> {
    FAMILIES
        .iter()
        .enumerate()
        .flat_map(|(i, names)| names.iter().map(move |n| (i, *n)))
}

/// A server for `leaf` (sending its chain), accepting until the test process ends.
pub fn server(leaf: &str) -> SocketAddr {
    static SERVERS: OnceLock<Mutex<HashMap<String, SocketAddr>>> = OnceLock::new();
    let mut servers = SERVERS.get_or_init(Default::default).lock().unwrap();
    *servers.entry(leaf.to_owned()).or_insert_with(|| {
        let dir = dir();
        let opts = Options::new()
            .cert_file(dir.join(format!("{leaf}-chain.pem")))
            .key_file(dir.join(format!("{leaf}.key")));
        let listener = SslListener::bind("127.0.0.1:0", &opts).unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || loop {
            // Refused handshakes are the point of most cases: the verdict is the client's.
            if let Ok((s, _)) = listener.accept() {
                let _ = s.close();
            }
        });
        addr
    })
}
