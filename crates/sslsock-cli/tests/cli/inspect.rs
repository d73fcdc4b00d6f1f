//! `verify-hostname`, `public-suffix` and `fingerprint`.

use super::common::*;

#[test]
fn verify_hostname_command() {
    let wild = f("wild.pem");
    assert_eq!(
        run_ok(&["verify-hostname", "--cert", &wild, "www.example.org"]),
        "match\n"
    );
    assert_eq!(
        run_ok(&["verify-hostname", "--cert", &wild, "192.0.2.1"]),
        "match\n"
    );
    let o = sslsock(&["verify-hostname", "--cert", &wild, "a.b.example.org"]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.starts_with("mismatch: hostname \"a.b.example.org\" does not match certificate names"),
        "{out}"
    );
    // The commonName wildcard counts for smtp (always), not for http (when_only, DNS names present).
    assert_eq!(
        run_ok(&[
            "verify-hostname",
            "--cert",
            &wild,
            "--scheme",
            "smtp",
            "x.cn.example.org"
        ]),
        "match\n"
    );
    assert_eq!(
        sslsock(&[
            "verify-hostname",
            "--cert",
            &wild,
            "--scheme",
            "http",
            "x.cn.example.org"
        ])
        .status
        .code(),
        Some(1)
    );
    // *.co.uk covers a public suffix, unless the check is off or another list says otherwise.
    assert_eq!(
        sslsock(&["verify-hostname", "--cert", &wild, "example.co.uk"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        run_ok(&[
            "verify-hostname",
            "--cert",
            &wild,
            "--no-public-suffix",
            "example.co.uk"
        ]),
        "match\n"
    );
    let list = pki().dir.join("psl.dat");
    std::fs::write(&list, "// only com\ncom\n").unwrap();
    assert_eq!(
        run_ok(&[
            "verify-hostname",
            "--cert",
            &wild,
            "--public-suffix",
            list.to_str().unwrap(),
            "example.co.uk"
        ]),
        "match\n"
    );
    // DER input, IP forms, bad arguments.
    let der = pki().dir.join("wild.der");
    let conv = Command::new("openssl")
        .args([
            "x509",
            "-in",
            &wild,
            "-outform",
            "DER",
            "-out",
            der.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(conv.success());
    assert_eq!(
        run_ok(&[
            "verify-hostname",
            "--cert",
            der.to_str().unwrap(),
            "www.example.org"
        ]),
        "match\n"
    );
    assert_eq!(
        sslsock(&[
            "verify-hostname",
            "--cert",
            &wild,
            "--scheme",
            "gopher",
            "x"
        ])
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        sslsock(&["verify-hostname", "--cert", "/nonexistent.pem", "x"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn public_suffix_command() {
    let json = |args: &[&str]| -> serde_json::Value {
        let mut all = vec!["public-suffix", "--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&run_ok(&all)).unwrap()
    };
    assert_eq!(
        json(&["www.example.co.uk"]),
        serde_json::json!({"rest": "www.example", "suffix": "co.uk"})
    );
    assert_eq!(
        json(&["WWW.Example.COM."]),
        serde_json::json!({"rest": "www.example", "suffix": "com."})
    );
    assert_eq!(
        json(&["--add", "1", "www.example.com"]),
        serde_json::json!({"rest": "www", "suffix": "example.com"})
    );
    assert_eq!(
        json(&["--add", "1", "com"]),
        serde_json::json!({"rest": "", "suffix": "com"})
    );
    assert_eq!(
        json(&["--add", "1", "co.uk"]),
        serde_json::json!({"rest": "", "suffix": "co.uk"})
    );
    assert_eq!(
        json(&["www.city.kobe.jp"]),
        serde_json::json!({"rest": "www.city", "suffix": "kobe.jp"})
    );
    assert_eq!(
        json(&["foo.bar.kobe.jp"]),
        serde_json::json!({"rest": "foo", "suffix": "bar.kobe.jp"})
    );
    assert_eq!(
        json(&["bucket.s3.amazonaws.com"]),
        serde_json::json!({"rest": "bucket.s3.amazonaws", "suffix": "com"})
    );
    assert_eq!(
        json(&["host.nodomain"]),
        serde_json::json!({"rest": "host", "suffix": "nodomain"})
    );
    assert_eq!(
        json(&["--min-suffix", "0", "host.nodomain"]),
        serde_json::json!({"rest": "host.nodomain", "suffix": ""})
    );
    assert_eq!(
        json(&["www.食狮.公司.cn"]),
        serde_json::json!({"rest": "www.食狮", "suffix": "公司.cn"})
    );
    let list = pki().dir.join("bd.dat");
    std::fs::write(&list, "*.bd\n!www.bd\n").unwrap();
    assert_eq!(
        json(&["--list", list.to_str().unwrap(), "x.c.bd"]),
        serde_json::json!({"rest": "x", "suffix": "c.bd"})
    );
    assert_eq!(
        json(&["--list", list.to_str().unwrap(), "www.bd"]),
        serde_json::json!({"rest": "www", "suffix": "bd"})
    );
    assert_eq!(
        run_ok(&["public-suffix", "www.example.co.uk"]),
        "rest: www.example\nsuffix: co.uk\n"
    );
    assert_eq!(
        sslsock(&["public-suffix", "--list", "/nonexistent.dat", "x"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn fingerprint_command_matches_openssl() {
    let cert = f("srv-ec.pem");
    for algo in ["md5", "sha1", "sha256", "sha512"] {
        let ours = run_ok(&["fingerprint", "--algo", algo, &cert]);
        let hex = openssl_fingerprint(std::path::Path::new(&cert), algo);
        assert_eq!(ours, format!("{algo}${hex}\n"));
    }
    assert!(run_ok(&["fingerprint", "--pubkey", &cert]).starts_with("sha256$pub$"));
    assert_eq!(
        sslsock(&["fingerprint", "--algo", "sha3", &cert])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn public_suffix_refuses_hostile_names_quickly() {
    let many = "a.".repeat(30_000) + "com";
    let start = Instant::now();
    let o = sslsock(&["public-suffix", &many]);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    one_line_error(
        &o,
        2,
        "a name of 60003 bytes is not a valid domain name (at most 253)",
    );
    let o = sslsock(&["public-suffix", &format!("{}.example.com", "x".repeat(64))]);
    one_line_error(&o, 2, "a label is longer than 63 bytes");
    let out = run_ok(&[
        "public-suffix",
        "--add",
        "18446744073709551615",
        "--json",
        "www.example.com",
    ]);
    assert_eq!(out, "{\"rest\":\"\",\"suffix\":\"www.example.com\"}\n");
}
