//! Name constraints hold for names accepted from the commonName: every case of `nc_pki`
//! under every scheme name over real handshakes (blocking and tokio), beside `openssl verify`
//! and Perl IO::Socket::SSL.

use std::process::{Command, Stdio};

use sslsock::{Options, Scheme, SslContext, SslSocket};

use crate::util::{require_perl_ssl, run_with_input};
use sslsock_test_support::constrained::{
    self as nc_pki, every_scheme, letter, server, CASES, FAMILIES,
};

fn client_ctx(host: &str, scheme: &str) -> SslContext {
    SslContext::new(
        &Options::new()
            .ca_file(nc_pki::dir().join("roots.pem"))
            .verifycn_name(host)
            .verifycn_scheme(Scheme::named(scheme).unwrap()),
    )
    .unwrap()
}

fn blocking(leaf: &str, host: &str, scheme: &str) -> Result<(), String> {
    let ctx = client_ctx(host, scheme);
    SslSocket::connect_with(&server(leaf).to_string(), &ctx)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// Checks one verdict against the table; a `C` must name the constraining CA.
fn check(
    bad: &mut Vec<String>,
    how: &str,
    case: &nc_pki::Case,
    col: usize,
    scheme: &str,
    outcome: Result<(), String>,
) {
    let err = outcome.as_ref().err().cloned().unwrap_or_default();
    let got = letter(outcome);
    let want = case.expect.as_bytes()[col] as char;
    if got != want {
        bad.push(format!(
            "{how}: {} {} scheme {scheme}: got {got}, want {want} ({}) {err}",
            case.leaf, case.host, case.what
        ));
    } else if got == 'C' && !err.contains(&format!("CA \"/CN={}\"", case.ca)) {
        bad.push(format!(
            "{how}: {} {} scheme {scheme}: the error does not name CA {}: {err}",
            case.leaf, case.host, case.ca
        ));
    }
}

#[test]
fn constrained_names_under_every_scheme_name() {
    let mut bad = Vec::new();
    for case in CASES {
        for (col, scheme) in every_scheme() {
            let outcome = blocking(case.leaf, case.host, scheme);
            check(&mut bad, "blocking", case, col, scheme, outcome);
        }
    }
    assert!(
        bad.is_empty(),
        "{} wrong verdicts:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn a_constraint_error_says_which_constraint() {
    let e = blocking("cn-outside", "evil.example", "default").unwrap_err();
    assert!(
        e.contains(
            "name \"evil.example\" violates the name constraints of CA \"/CN=NC DNS permitted\""
        ) && e.contains("permitted subtrees [DNS:allowed.example]"),
        "{e}"
    );
    let e = blocking("cn-wild-excl", "www.good.example", "default").unwrap_err();
    assert!(
        e.contains("\"*.good.example\"") && e.contains("excluded subtree DNS:secret.good.example"),
        "{e}"
    );
    let e = blocking("cn-ip4-excluded", "198.51.100.7", "http").unwrap_err();
    assert!(
        e.contains("excluded subtree IP:198.51.100.0/255.255.255.0"),
        "{e}"
    );
}

#[cfg(feature = "tokio")]
#[test]
fn tokio_verdicts_are_the_blocking_ones() {
    use sslsock::socket::async_io::AsyncSslSocket;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut bad = Vec::new();
    for case in CASES {
        let addr = server(case.leaf).to_string();
        for (col, names) in FAMILIES.iter().enumerate() {
            let ctx = client_ctx(case.host, names[0]);
            let outcome = rt
                .block_on(AsyncSslSocket::connect_with(&addr, &ctx))
                .map(drop)
                .map_err(|e| e.to_string());
            check(&mut bad, "tokio", case, col, names[0], outcome);
        }
    }
    assert!(
        bad.is_empty(),
        "{} wrong verdicts:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// `openssl verify` on the chain alone: it applies DNS constraints to a commonName that looks
/// like a host name when the leaf has no DNS SAN.
fn openssl_verify(leaf: &str) -> Result<(), String> {
    let dir = nc_pki::dir();
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(["verify", "-CAfile", "roots.pem", "-untrusted"])
        .arg(format!("{leaf}-ints.pem"))
        .args(["-purpose", "sslserver"])
        .arg(format!("{leaf}.pem"))
        .output()
        .expect("openssl is needed; .ci/run installs it");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        Ok(())
    } else {
        Err(text
            .lines()
            .find(|l| l.contains("error"))
            .unwrap_or(&text)
            .to_owned())
    }
}

const PERL_CLIENT: &str = r#"
use strict; use warnings;
use IO::Socket::SSL;
my $ca = shift;
$| = 1;
while (my $line = <STDIN>) {
    chomp $line;
    my ($port, $host, $scheme) = split / /, $line;
    my $s = IO::Socket::SSL->new(
        PeerAddr => "127.0.0.1:$port",
        SSL_hostname => '',
        SSL_ca_file => $ca,
        SSL_verify_mode => SSL_VERIFY_PEER,
        SSL_verifycn_name => $host,
        SSL_verifycn_scheme => $scheme,
    );
    if ($s) { print "ok\n"; close($s); }
    else { my $e = $SSL_ERROR || "$!"; $e =~ s/\n/ /g; print "fail $e\n"; }
}
"#;

/// Perl's verdicts for `(leaf, host, scheme)` queries, one Perl process for all.
fn perl_verdicts(queries: &[(&str, &str, &str)]) -> Vec<Result<(), String>> {
    require_perl_ssl();
    let input: String = queries
        .iter()
        .map(|(leaf, host, scheme)| format!("{} {host} {scheme}\n", server(leaf).port()))
        .collect();
    let out = run_with_input(
        Command::new("perl")
            .args(["-e", PERL_CLIENT])
            .arg(nc_pki::dir().join("roots.pem")),
        input.as_bytes(),
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let verdicts: Vec<Result<(), String>> = text
        .lines()
        .map(|l| if l == "ok" { Ok(()) } else { Err(l.to_owned()) })
        .collect();
    assert_eq!(verdicts.len(), queries.len(), "perl printed:\n{text}");
    verdicts
}

/// Where sslsock refuses and Perl accepts, by design: a CN that matched beside SANs (Perl's
/// chain check, OpenSSL's, skips the CN when DNS SANs exist), a wildcard CN outside the
/// constraints or standing for an excluded name (OpenSSL does not read `*.x` as a host name),
/// and an address in the CN outside the IP constraints (OpenSSL holds only DNS constraints
/// against the CN).
const STRICTER_THAN_PERL: &[(&str, &str, &[&str])] = &[
    (
        "san-in-cn-out",
        "evil.example",
        &["default", "ldap", "smtp", "sip"],
    ),
    (
        "cn-wild-out",
        "www.evil.example",
        &["default", "rfc2818", "http", "smtp", "gist"],
    ),
    (
        "cn-wild-excl",
        "www.good.example",
        &["default", "rfc2818", "http", "smtp", "gist"],
    ),
    (
        "cn-wild-excl",
        "secret.good.example",
        &["default", "rfc2818", "http", "smtp", "gist"],
    ),
    ("cn-ip4-outside", "203.0.113.5", &["default", "http"]),
    ("cn-ip6-outside", "2001:db9::5", &["default"]),
    ("cn-ip4-excluded", "198.51.100.7", &["default", "http"]),
    ("cn-ip6-excluded", "2001:db8:bad::1", &["default"]),
];

/// The verdict table beside `openssl verify` (chain with its CN rule, no host name) and Perl
/// (per scheme; Perl has no `strict`). sslsock never accepts what either refuses for a
/// constraint (but under `strict`, which reads no CN), and refuses where Perl accepts
/// exactly in the cells listed above.
#[test]
fn verdicts_beside_openssl_and_perl() {
    let heads: Vec<&str> = FAMILIES.iter().map(|f| f[0]).collect();
    let perl_heads: Vec<&str> = heads.iter().copied().filter(|h| *h != "strict").collect();
    let queries: Vec<(&str, &str, &str)> = CASES
        .iter()
        .flat_map(|c| perl_heads.iter().map(move |h| (c.leaf, c.host, *h)))
        .collect();
    let perl = perl_verdicts(&queries);
    let mut table = format!(
        "| case | host | openssl verify | {} |\n|---|---|---|{}\n",
        heads.join(" | "),
        "---|".repeat(heads.len())
    );
    let mut bad = Vec::new();
    let mut perl_iter = perl.into_iter();
    for case in CASES {
        let openssl = openssl_verify(case.leaf);
        let openssl_nc_refusal = openssl
            .as_ref()
            .err()
            .is_some_and(|e| e.contains("subtree violation"));
        let mut cells = Vec::new();
        for head in &heads {
            let ours = letter(blocking(case.leaf, case.host, head));
            let theirs = (*head != "strict").then(|| perl_iter.next().unwrap());
            let perl_ok = theirs.as_ref().map(Result::is_ok);
            // `strict` never reads the CN, so OpenSSL's rule for CNs (which `openssl verify`
            // applies without a host name) does not bind it.
            if ours == 'Y' && openssl_nc_refusal && *head != "strict" {
                bad.push(format!(
                    "{} {head}: accepted, openssl verify refuses: {openssl:?}",
                    case.leaf
                ));
            }
            if ours == 'Y' && perl_ok == Some(false) {
                bad.push(format!(
                    "{} {} {head}: accepted, Perl refuses: {theirs:?}",
                    case.leaf, case.host
                ));
            }
            let listed = STRICTER_THAN_PERL
                .iter()
                .any(|(l, h, s)| *l == case.leaf && *h == case.host && s.contains(head));
            if (ours != 'Y' && perl_ok == Some(true)) != listed {
                bad.push(format!(
                    "{} {} {head}: sslsock {ours}, Perl {theirs:?}, listed as stricter: {listed}",
                    case.leaf, case.host
                ));
            }
            let p = match perl_ok {
                Some(true) => "ok",
                Some(false) => "refused",
                None => "-",
            };
            cells.push(format!("{ours} / {p}"));
        }
        table.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            case.leaf,
            case.host,
            if openssl.is_ok() {
                "ok"
            } else if openssl_nc_refusal {
                "subtree violation"
            } else {
                "refused"
            },
            cells.join(" | ")
        ));
    }
    println!("sslsock / Perl (Y accepted, C name constraint, N name mismatch):\n{table}");
    assert!(bad.is_empty(), "{}\n{table}", bad.join("\n"));
}

#[test]
fn a_path_with_too_many_constraints_is_refused_not_searched() {
    const { assert!(nc_pki::MANY_SUBTREES > sslsock::verify::name_constraints::MAX_SUBTREES) };
    for scheme in ["default", "none"] {
        let e = blocking("many-cn", "www.allowed.example", scheme).unwrap_err();
        assert!(
            e.contains("more than 1024 name constraints; refused rather than checked"),
            "{scheme}: {e}"
        );
    }
    // `strict` reads no CN: nothing to hold to the constraints, and no name to match.
    let e = blocking("many-cn", "www.allowed.example", "strict").unwrap_err();
    assert!(e.contains("does not match certificate names"), "{e}");
    // A name from a subjectAltName is the path validator's to check, within its own budget.
    blocking("many-san", "www.allowed.example", "default").unwrap();
}

#[test]
fn verify_hostname_after_the_handshake_holds_the_constraints() {
    // Verified handshake: the path found again.
    let ctx = client_ctx("www.allowed.example", "default");
    let sock = SslSocket::connect_with(&server("san-in-cn-out").to_string(), &ctx).unwrap();
    let e = sock.verify_hostname("evil.example", "default").unwrap_err();
    assert!(
        e.to_string()
            .contains("name constraints of CA \"/CN=NC DNS permitted\""),
        "{e}"
    );
    let e = sock.verify_hostname("evil.example", "rfc2818").unwrap_err();
    assert!(
        e.to_string().contains("does not match certificate names"),
        "{e}"
    );
    sock.verify_hostname("www.allowed.example", "strict")
        .unwrap();
    // Unverified handshake: the CAs as the peer sent them still bind.
    let ctx = SslContext::new(&Options::new().verify_mode(sslsock::VerifyMode::NONE)).unwrap();
    let sock = SslSocket::connect_with(&server("cn-outside").to_string(), &ctx).unwrap();
    let e = sock.verify_hostname("evil.example", "default").unwrap_err();
    assert!(e.to_string().contains("name constraints of CA"), "{e}");
    let sock = SslSocket::connect_with(&server("cn-inside").to_string(), &ctx).unwrap();
    sock.verify_hostname("www.allowed.example", "default")
        .unwrap();
}

/// A 1024-bit RSA leaf under a trusted CA: its chain is fine, its handshake signature is
/// not, and the error says so (not "an issuer ... did not sign").
#[test]
fn a_weak_leaf_key_is_named_in_the_error() {
    use crate::util::{require, spawn_listening};
    require("openssl");
    let dir = nc_pki::dir();
    let run = |args: &[&str]| nc_pki::openssl(dir, args);
    run(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:1024",
        "-out",
        "weak.key",
    ]);
    run(&[
        "req", "-new", "-config", "nc.cnf", "-key", "weak.key", "-subj", "/CN=weak", "-out",
        "weak.csr",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        "weak.csr",
        "-CA",
        "root.pem",
        "-CAkey",
        "root.key",
        "-set_serial",
        "77",
        "-days",
        "30",
        "-extfile",
        "nc.cnf",
        "-extensions",
        "leaf_san",
        "-out",
        "weak.pem",
    ]);
    let (_server, port) = spawn_listening(|port| {
        let mut c = Command::new("openssl");
        c.current_dir(dir)
            .args([
                "s_server", "-quiet", "-cert", "weak.pem", "-key", "weak.key",
            ])
            .args(["-cipher", "DEFAULT@SECLEVEL=0", "-accept"])
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    });
    for version in ["TLSv1_3", "TLSv1_2"] {
        let ctx = SslContext::new(
            &Options::new()
                .ca_file(dir.join("roots.pem"))
                .verifycn_name("www.allowed.example")
                .version(version),
        )
        .unwrap();
        let e = SslSocket::connect_with(&format!("127.0.0.1:{port}"), &ctx)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("handshake signature was refused")
                && e.contains("an RSA key of 1024 bits is too weak")
                && e.contains("RSA 1024 bits")
                && !e.contains("did not sign"),
            "{version}: {e}"
        );
    }
}

/// A scheme callback that accepts any name still cannot accept one outside the constraints:
/// the host name it was asked about is held to them.
#[test]
fn a_callback_scheme_is_held_to_the_constraints_too() {
    use sslsock::verify::hostname::{verify_hostname_in_path, Scheme};
    let der = |name: &str| {
        let pem = std::fs::read(nc_pki::dir().join(format!("{name}.pem"))).unwrap();
        sslsock::x509::parse_certificates(&pem).unwrap()[0].to_vec()
    };
    let (leaf, int) = (der("cn-inside"), der("int-dns-perm"));
    let anything = Scheme::with_callback(|_, _, _| true);
    let e = verify_hostname_in_path(&leaf, "evil.example", &anything, std::slice::from_ref(&int))
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("permitted subtrees [DNS:allowed.example]"),
        "{e}"
    );
    verify_hostname_in_path(&leaf, "www.allowed.example", &anything, &[int]).unwrap();
}
