//! `sslsock bench`: the harness roles.

use super::common::*;

/// The `RESULT` line of a bench client, as `key=value` pairs.
fn bench_result(out: &str) -> std::collections::HashMap<String, String> {
    let line = out
        .lines()
        .find(|l| l.starts_with("RESULT "))
        .unwrap_or_else(|| panic!("no RESULT line in {out:?}"));
    line.split_whitespace()
        .skip(1)
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[test]
fn bench_roles_speak_the_harness_protocol() {
    let port = free_port().to_string();
    let server = Command::new(BIN)
        .args(["bench", "server", "--port", &port, "--cert-file"])
        .arg(f("srv-ec.pem"))
        .arg("--key-file")
        .arg(f("srv-ec.key"))
        .args(["--max-seconds", "60"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let _server = Peer { child: server };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().unwrap())).is_err() {
        assert!(Instant::now() < deadline, "bench server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    for tls in ["1.2", "1.3"] {
        let full = bench_result(&run_ok(&[
            "bench",
            "handshake",
            "--port",
            &port,
            "--n",
            "3",
            "--tls",
            tls,
        ]));
        assert_eq!(full["conns"], "3", "{tls}: {full:?}");
        assert_eq!(full["reused"], "0", "{tls}: {full:?}");
        let want = if tls == "1.2" { "TLSv1_2" } else { "TLSv1_3" };
        assert_eq!(full["version"], want);
        // With --reuse every connection after the first resumes.
        let resumed = bench_result(&run_ok(&[
            "bench",
            "handshake",
            "--port",
            &port,
            "--n",
            "4",
            "--tls",
            tls,
            "--reuse",
        ]));
        assert_eq!(resumed["reused"], "3", "{tls}: {resumed:?}");
    }
    let bulk = bench_result(&run_ok(&["bench", "bulk", "--port", &port, "--mib", "2"]));
    assert_eq!(bulk["bytes"], (2 * 1024 * 1024).to_string());
    assert!(bulk["MBps"].parse::<f64>().unwrap() > 0.0, "{bulk:?}");
    assert_eq!(bulk["cipher"], "TLS_AES_128_GCM_SHA256", "{bulk:?}");
    let idle = bench_result(&run_ok(&[
        "bench",
        "idle",
        "--port",
        &port,
        "--conns",
        "20",
        "--hold-seconds",
        "0",
    ]));
    assert_eq!(idle["conns"], "20");
}

/// bench: every flag has help, the host is a flag (IPv6 too), and the warning that the
/// clients do not verify comes once per run.
#[test]
fn bench_has_help_hosts_and_one_warning() {
    for role in ["server", "handshake", "bulk", "idle"] {
        let help = run_ok(&["bench", role, "--help"]);
        // Every option line is followed by a description (clap prints bare names without).
        let lines: Vec<&str> = help.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            let t = l.trim_start();
            if t.starts_with("--") && !t.contains("  ") {
                let next = lines.get(i + 1).map_or("", |n| n.trim());
                assert!(
                    !next.is_empty() && !next.starts_with('-'),
                    "bench {role}: {t} has no help: {help}"
                );
            }
        }
        if role != "server" {
            assert!(help.contains("--host"), "{help}");
        }
    }
    let port = free_port().to_string();
    let server = Command::new(BIN)
        .args([
            "bench", "server", "--host", "::1", "--port", &port, "--cert",
        ])
        .arg(f("srv-ec.pem"))
        .arg("--key")
        .arg(f("srv-ec.key"))
        .args(["--max-seconds", "60"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let _server = Peer { child: server };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("::1", port.parse::<u16>().unwrap())).is_err() {
        assert!(
            Instant::now() < deadline,
            "bench server did not start on ::1"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = sslsock(&[
        "bench",
        "handshake",
        "--host",
        "::1",
        "--port",
        &port,
        "--n",
        "5",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        bench_result(&String::from_utf8_lossy(&o.stdout))["conns"],
        "5"
    );
    assert_eq!(
        stderr(&o).matches("peer verification is off").count(),
        1,
        "{}",
        stderr(&o)
    );
}
