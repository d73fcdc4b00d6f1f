//! Hostname verification, table-driven, from the manual's scheme descriptions, RFC 6125 and
//! RFC 2818. Every row is checked under every scheme name of every scheme family.

use std::sync::{Arc, OnceLock};

use sslsock::verify::hostname::{verify_hostname, CheckCn, IpInCn, Scheme, Wildcards};
use sslsock::verify::public_suffix::PublicSuffix;
use sslsock::x509::create::CertSpec;

use sslsock_test_support::constrained::FAMILIES;

struct Certs {
    main: Vec<u8>,
    cn_only: Vec<u8>,
    cn_wild: Vec<u8>,
    cn_ip4: Vec<u8>,
    cn_ip6: Vec<u8>,
    dangerous: Vec<u8>,
    idn: Vec<u8>,
    cn_nul: Vec<u8>,
    odd_forms: Vec<u8>,
    ip_san_cn: Vec<u8>,
}

fn der(spec: CertSpec) -> Vec<u8> {
    spec.self_signed().unwrap().cert_der
}

fn certs() -> &'static Certs {
    static C: OnceLock<Certs> = OnceLock::new();
    C.get_or_init(|| Certs {
        main: der(CertSpec::new("cn.example.org")
            .san("www.example.org")
            .san("*.wild.example.org")
            .san("www*.partial.example.org")
            .san("*ly.suffix.example.org")
            .san("192.0.2.1")
            .san("2001:db8::1")),
        cn_only: der(CertSpec::new("cn-only.example.org")),
        cn_wild: der(CertSpec::new("*.cnwild.example.org")),
        cn_ip4: der(CertSpec::new("192.0.2.7")),
        cn_ip6: der(CertSpec::new("2001:db8::7")),
        dangerous: der(CertSpec::new("dangerous")
            .san("*")
            .san("*.*")
            .san("www.*.com")
            .san("*.com")
            .san("*.co.uk")
            .san("*.kobe.jp")
            .san("*.nodomain")
            .san("a.*.example.net")
            .san("**.double.example.net")
            .san("xn--*.idn.example.net")
            .san("*.example.co.uk")
            .san("*.city.kobe.jp")
            .san("*.s3.amazonaws.com")),
        idn: der(CertSpec::new("idn")
            .san("xn--bcher-kva.example")
            .san("*.xn--bcher-kva.example")
            .san("xn--b*.prefix.example")),
        cn_nul: der(CertSpec::new("www.example.org\0.evil.example")),
        odd_forms: der(CertSpec::new("odd")
            .san("trailing.example.org.")
            .san("UPPER.Example.ORG")),
        ip_san_cn: der(CertSpec::new("cn-ip-san.example.org").san("192.0.2.9")),
    })
}

/// (certificate, host, expected per family: default, rfc2818, http, ldap, smtp, gist, sip,
/// strict, none)
fn table() -> Vec<(&'static [u8], &'static str, &'static str)> {
    let c = certs();
    vec![
        // Exact names in subjectAltName: every scheme.
        (&c.main, "www.example.org", "yyyyyyyyy"),
        (&c.main, "WWW.EXAMPLE.ORG", "yyyyyyyyy"),
        (&c.main, "www.example.org.", "yyyyyyyyy"),
        (&c.main, "Www.Example.Org.", "yyyyyyyyy"),
        (&c.main, "other.example.org", "nnnnnnnny"),
        (&c.main, "example.org", "nnnnnnnny"),
        (&c.main, "www.example.org.evil", "nnnnnnnny"),
        (&c.main, "wwww.example.org", "nnnnnnnny"),
        // Full-label wildcard in subjectAltName: one label exactly, never in sip.
        (&c.main, "a.wild.example.org", "yyyyyynyy"),
        (&c.main, "WWW.WILD.EXAMPLE.ORG", "yyyyyynyy"),
        (&c.main, "a.b.wild.example.org", "nnnnnnnny"),
        (&c.main, "wild.example.org", "nnnnnnnny"),
        (&c.main, ".wild.example.org", "nnnnnnnny"),
        // Partial wildcards: only "anywhere", covering at least one character.
        (&c.main, "www1.partial.example.org", "yyynnnnny"),
        (&c.main, "wwwx-y.partial.example.org", "yyynnnnny"),
        (&c.main, "www.partial.example.org", "nnnnnnnny"),
        (&c.main, "ww1.partial.example.org", "nnnnnnnny"),
        (&c.main, "a.www1.partial.example.org", "nnnnnnnny"),
        (&c.main, "fooly.suffix.example.org", "yyynnnnny"),
        (&c.main, "ly.suffix.example.org", "nnnnnnnny"),
        (&c.main, "foolx.suffix.example.org", "nnnnnnnny"),
        // commonName next to DNS subjectAltNames: only the "always" schemes look at it.
        (&c.main, "cn.example.org", "ynnyynyny"),
        (&c.main, "CN.example.org.", "ynnyynyny"),
        // Addresses: binary comparison with iPAddress entries, any textual form.
        (&c.main, "192.0.2.1", "yyyyyyyyy"),
        (&c.main, "2001:db8::1", "yyyyyyyyy"),
        (&c.main, "2001:DB8::1", "yyyyyyyyy"),
        (
            &c.main,
            "2001:0db8:0000:0000:0000:0000:0000:0001",
            "yyyyyyyyy",
        ),
        (&c.main, "2001:db8:0:0::1", "yyyyyyyyy"),
        (&c.main, "192.0.2.2", "nnnnnnnny"),
        (&c.main, "2001:db8::2", "nnnnnnnny"),
        (&c.main, "::ffff:192.0.2.1", "nnnnnnnny"),
        // Invalid address shapes match nothing.
        (&c.main, "[2001:db8::1]", "nnnnnnnny"),
        (&c.main, "192.0.2.1.5", "nnnnnnnny"),
        (&c.main, "1.2.3.4.5.6", "nnnnnnnny"),
        (&c.main, "12345.6", "nnnnnnnny"),
        (&c.main, "192.0.2", "nnnnnnnny"),
        (&c.main, "", "nnnnnnnny"),
        (&c.main, "*.wild.example.org", "nnnnnnnny"),
        // commonName only: every scheme consults it.
        (&c.cn_only, "cn-only.example.org", "yyyyyyyny"),
        (&c.cn_only, "CN-ONLY.example.org.", "yyyyyyyny"),
        (&c.cn_only, "x.cn-only.example.org", "nnnnnnnny"),
        // Wildcard in the commonName: not for ldap and sip.
        (&c.cn_wild, "a.cnwild.example.org", "yyynyynny"),
        (&c.cn_wild, "a.b.cnwild.example.org", "nnnnnnnny"),
        (&c.cn_wild, "cnwild.example.org", "nnnnnnnny"),
        // IP address in the commonName: default (v4+v6), http (v4 only).
        (&c.cn_ip4, "192.0.2.7", "ynynnnnny"),
        (&c.cn_ip4, "192.0.2.8", "nnnnnnnny"),
        (&c.cn_ip6, "2001:db8::7", "ynnnnnnny"),
        (&c.cn_ip6, "2001:db8:0:0:0:0:0:7", "ynnnnnnny"),
        // A certificate with only an iPAddress subjectAltName: the commonName still counts.
        (&c.ip_san_cn, "cn-ip-san.example.org", "yyyyyyyny"),
        (&c.ip_san_cn, "192.0.2.9", "yyyyyyyyy"),
        // Dangerous wildcards never match.
        (&c.dangerous, "localhost", "nnnnnnnny"),
        (&c.dangerous, "a.b", "nnnnnnnny"),
        (&c.dangerous, "www.x.com", "nnnnnnnny"),
        (&c.dangerous, "example.com", "nnnnnnnny"),
        (&c.dangerous, "example.co.uk", "nnnnnnnny"),
        (&c.dangerous, "x.kobe.jp", "nnnnnnnny"),
        (&c.dangerous, "host.nodomain", "nnnnnnnny"),
        (&c.dangerous, "a.x.example.net", "nnnnnnnny"),
        (&c.dangerous, "ab.double.example.net", "nnnnnnnny"),
        (&c.dangerous, "xn--abc.idn.example.net", "nnnnnnnny"),
        // ... while wildcards below a public suffix are fine.
        (&c.dangerous, "www.example.co.uk", "yyyyyynyy"),
        (&c.dangerous, "www.city.kobe.jp", "yyyyyynyy"),
        (&c.dangerous, "bucket.s3.amazonaws.com", "yyyyyynyy"),
        // IDN: U-labels are compared in A-label form; no wildcard inside an A-label.
        (&c.idn, "bücher.example", "yyyyyyyyy"),
        (&c.idn, "BÜCHER.example", "yyyyyyyyy"),
        (&c.idn, "xn--bcher-kva.example", "yyyyyyyyy"),
        (&c.idn, "www.bücher.example", "yyyyyynyy"),
        (&c.idn, "xn--bcher-kva.prefix.example", "nnnnnnnny"),
        (&c.idn, "bucher.example", "nnnnnnnny"),
        // An embedded NUL in the commonName never matches.
        (&c.cn_nul, "www.example.org", "nnnnnnnny"),
        (&c.cn_nul, "www.example.org\0.evil.example", "nnnnnnnny"),
        // Trailing dot and case in the certificate are ignored.
        (&c.odd_forms, "trailing.example.org", "yyyyyyyyy"),
        (&c.odd_forms, "upper.example.org", "yyyyyyyyy"),
        (&c.odd_forms, "upper.example.org.", "yyyyyyyyy"),
    ]
}

#[test]
fn hostname_table_under_every_scheme_name() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for (cert, host, expected) in table() {
        for (family, names) in FAMILIES.iter().enumerate() {
            let want = expected.as_bytes()[family] == b'y';
            for name in *names {
                let scheme = Scheme::named(name).unwrap();
                let got = verify_hostname(cert, host, &scheme).is_ok();
                checked += 1;
                if got != want {
                    failures.push(format!("{host:?} under {name}: got {got}, want {want}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let rows = table().len();
    assert!(rows * FAMILIES.len() >= 150, "{rows} rows");
    println!("hostname table: {rows} rows, {checked} checks");
}

#[test]
fn custom_scheme_knobs() {
    let c = certs();
    let custom = |alt: &str, cn: &str, check: &str, ip: u8| {
        Scheme::custom(
            Wildcards::parse(alt).unwrap(),
            Wildcards::parse(cn).unwrap(),
            CheckCn::parse(check).unwrap(),
            IpInCn::parse(&ip.to_string()).unwrap(),
        )
    };
    let cases: Vec<(Scheme, &[u8], &str, bool)> = vec![
        // wildcards_in_alt
        (
            custom("0", "0", "0", 0),
            &c.main,
            "a.wild.example.org",
            false,
        ),
        (
            custom("full_label", "0", "0", 0),
            &c.main,
            "a.wild.example.org",
            true,
        ),
        (
            custom("leftmost", "0", "0", 0),
            &c.main,
            "a.wild.example.org",
            true,
        ),
        (
            custom("full_label", "0", "0", 0),
            &c.main,
            "www1.partial.example.org",
            false,
        ),
        (
            custom("anywhere", "0", "0", 0),
            &c.main,
            "www1.partial.example.org",
            true,
        ),
        // wildcards_in_cn
        (
            custom("0", "0", "always", 0),
            &c.cn_wild,
            "a.cnwild.example.org",
            false,
        ),
        (
            custom("0", "full_label", "always", 0),
            &c.cn_wild,
            "a.cnwild.example.org",
            true,
        ),
        (
            custom("0", "anywhere", "always", 0),
            &c.cn_wild,
            "a.cnwild.example.org",
            true,
        ),
        // check_cn
        (
            custom("0", "0", "0", 0),
            &c.cn_only,
            "cn-only.example.org",
            false,
        ),
        (
            custom("0", "0", "always", 0),
            &c.main,
            "cn.example.org",
            true,
        ),
        (
            custom("0", "0", "when_only", 0),
            &c.main,
            "cn.example.org",
            false,
        ),
        (
            custom("0", "0", "when_only", 0),
            &c.cn_only,
            "cn-only.example.org",
            true,
        ),
        // ip_in_cn
        (custom("0", "0", "always", 0), &c.cn_ip4, "192.0.2.7", false),
        (custom("0", "0", "always", 1), &c.cn_ip4, "192.0.2.7", true),
        (custom("0", "0", "always", 4), &c.cn_ip4, "192.0.2.7", true),
        (custom("0", "0", "always", 6), &c.cn_ip4, "192.0.2.7", false),
        (
            custom("0", "0", "always", 6),
            &c.cn_ip6,
            "2001:db8::7",
            true,
        ),
        (
            custom("0", "0", "always", 4),
            &c.cn_ip6,
            "2001:db8::7",
            false,
        ),
        (
            custom("0", "0", "when_only", 1),
            &c.cn_ip6,
            "2001:db8::7",
            true,
        ),
        (custom("0", "0", "0", 1), &c.cn_ip6, "2001:db8::7", false),
    ];
    for (i, (scheme, cert, host, want)) in cases.into_iter().enumerate() {
        assert_eq!(
            verify_hostname(cert, host, &scheme).is_ok(),
            want,
            "case {i}: {host} {scheme:?}"
        );
    }
    assert!(Wildcards::parse("everywhere").is_err());
    assert!(CheckCn::parse("sometimes").is_err());
    assert!(IpInCn::parse("5").is_err());
    assert!(Scheme::named("gopher").is_none());
}

#[test]
fn public_suffix_setting_of_a_scheme() {
    let c = certs();
    let default = Scheme::named("default").unwrap();
    assert!(verify_hostname(&c.dangerous, "example.co.uk", &default).is_err());
    // Check disabled: `*.co.uk` and `*.kobe.jp` now match; a single-label wildcard still not.
    let off = default.clone().without_public_suffix();
    assert!(verify_hostname(&c.dangerous, "example.co.uk", &off).is_ok());
    assert!(verify_hostname(&c.dangerous, "x.kobe.jp", &off).is_ok());
    assert!(verify_hostname(&c.dangerous, "example.com", &off).is_err());
    // A list of our own: only `com` is a suffix, so `co.uk` is a registrable name.
    let own = Arc::new(PublicSuffix::from_list("com\n").unwrap());
    let custom = default.with_public_suffix(own);
    assert!(verify_hostname(&c.dangerous, "example.co.uk", &custom).is_ok());
    assert!(verify_hostname(&c.dangerous, "example.com", &custom).is_err());
}

#[test]
fn callback_scheme_decides_with_cn_and_alt_names() {
    let c = certs();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let scheme = Scheme::with_callback(move |host, cn, sans| {
        seen2
            .lock()
            .unwrap()
            .push((host.to_owned(), cn.map(str::to_owned), sans.len()));
        host == "anything.invalid"
    });
    assert!(verify_hostname(&c.main, "anything.invalid", &scheme).is_ok());
    let err = verify_hostname(&c.main, "www.example.org", &scheme).unwrap_err();
    assert!(err.to_string().contains("scheme callback"), "{err}");
    let seen = seen.lock().unwrap();
    assert_eq!(
        seen[0],
        (
            "anything.invalid".to_owned(),
            Some("cn.example.org".to_owned()),
            6
        )
    );
}

#[test]
fn mismatch_error_names_host_names_and_scheme() {
    let err = verify_hostname(
        &certs().main,
        "nope.example.org",
        &Scheme::named("smtp").unwrap(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "hostname \"nope.example.org\" does not match certificate names [www.example.org, *.wild.example.org, \
         www*.partial.example.org, *ly.suffix.example.org, 192.0.2.1, 2001:db8::1, CN=cn.example.org] (scheme smtp)"
    );
}
