#!/usr/bin/env python3
"""Soak benchmark for `sslsock serve` (a benchmark, not a test): sequential and concurrent
good clients while idle and slow-loris connections sit there; prints failures, time and the
server's memory.

    cargo build --release -p sslsock-cli
    python3 scripts/soak.py [--bin target/release/sslsock] [--sequential 10000]
                            [--concurrent 2000] [--idle 500] [--slowloris 200]
"""
import argparse
import asyncio
import os
import resource
import socket
import ssl
import subprocess
import tempfile
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 16384 if hard == resource.RLIM_INFINITY else min(16384, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/sslsock")
    ap.add_argument("--sequential", type=int, default=10000)
    ap.add_argument("--concurrent", type=int, default=2000)
    ap.add_argument("--idle", type=int, default=500)
    ap.add_argument("--slowloris", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3, help="rounds of concurrent clients")
    a = ap.parse_args()
    raise_fd_limit()
    d = tempfile.mkdtemp(prefix="sslsock-soak-")
    cert, key = f"{d}/cert.pem", f"{d}/key.pem"
    subprocess.run([a.bin, "cert", "create", "--out-cert", cert, "--out-key", key,
                    "--subject", "CN=localhost", "--san", "DNS:localhost,IP:127.0.0.1",
                    "--key-type", "ec256"], check=True, stdout=subprocess.DEVNULL)
    server = subprocess.Popen(
        [a.bin, "serve", "--listen", "127.0.0.1:0", "--cert", cert, "--key", key,
         "--mode", "echo", "--max-connections", str(a.concurrent + a.idle + a.slowloris + 100),
         "--idle-timeout", "600", "--handshake-timeout", "600"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, preexec_fn=raise_fd_limit, text=True)
    port = int(server.stdout.readline().strip().rsplit(":", 1)[1])
    # Keep the connection log drained so the server never blocks on it.
    asyncio_loop = asyncio.new_event_loop()
    import threading
    threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()

    ctx = ssl.create_default_context(cafile=cert)
    ctx.check_hostname = True
    start_rss = rss_kib(server.pid)

    async def idle_and_loris():
        held = []
        for _ in range(a.idle):
            r, w = await asyncio.open_connection("127.0.0.1", port, ssl=ctx,
                                                 server_hostname="localhost")
            held.append(w)
        loris = []
        for _ in range(a.slowloris):
            s = socket.create_connection(("127.0.0.1", port))
            s.send(b"\x16\x03\x01\x02")  # a record header, never finished
            loris.append(s)
        return held, loris

    held, loris = asyncio_loop.run_until_complete(idle_and_loris())
    time.sleep(1)
    loaded_rss = rss_kib(server.pid)

    def one():
        with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                s.sendall(b"ping\n")
                got = b""
                while not got.endswith(b"\n"):
                    chunk = s.recv(64)
                    if not chunk:
                        break
                    got += chunk
                return got == b"ping\n"

    t0 = time.time()
    seq_fail = 0
    for i in range(a.sequential):
        try:
            if not one():
                seq_fail += 1
        except Exception:
            seq_fail += 1
        if i == a.sequential // 2:
            mid_rss = rss_kib(server.pid)
    seq_time = time.time() - t0
    after_seq_rss = rss_kib(server.pid)

    async def conc_one():
        try:
            r, w = await asyncio.open_connection("127.0.0.1", port, ssl=ctx,
                                                 server_hostname="localhost")
            w.write(b"ping\n")
            await w.drain()
            got = await asyncio.wait_for(r.readline(), 60)
            w.close()
            try:
                await w.wait_closed()
            except Exception:
                pass
            return got == b"ping\n"
        except Exception:
            return False

    async def concurrent():
        return await asyncio.gather(*(conc_one() for _ in range(a.concurrent)))

    # Several rounds: memory that stays after the first is the allocator's, memory that keeps
    # growing round after round would be a leak.
    conc_rss = []
    conc_fail = 0
    for _ in range(a.rounds):
        t0 = time.time()
        results = asyncio_loop.run_until_complete(concurrent())
        conc_time = time.time() - t0
        conc_fail += results.count(False)
        time.sleep(1)
        conc_rss.append(rss_kib(server.pid))
    fds_loaded = fds(server.pid)

    for w in held:
        w.close()
    for s in loris:
        s.close()
    time.sleep(2)
    final_rss = rss_kib(server.pid)
    fds_final = fds(server.pid)
    server.terminate()
    server.wait()

    print(f"idle connections held: {len(held)}, slow-loris connections held: {len(loris)}")
    print(f"sequential: {a.sequential} connections, {seq_fail} failed, {seq_time:.1f} s "
          f"({a.sequential / seq_time:.0f}/s)")
    print(f"concurrent: {a.rounds} rounds of {a.concurrent} connections at once, {conc_fail} "
          f"failed, {conc_time:.1f} s for the last")
    print(f"server RSS (KiB): start {start_rss}, with idle+loris {loaded_rss}, "
          f"mid-sequential {mid_rss}, after sequential {after_seq_rss}, "
          f"after each concurrent round {conc_rss}, "
          f"after all closed {final_rss}")
    print(f"server descriptors: with idle+loris after the runs {fds_loaded}, after all closed {fds_final}")
    if seq_fail or conc_fail:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
