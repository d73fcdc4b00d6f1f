#!/usr/bin/env python3
"""Parallel-clients handshake test: N client processes at once against one server.

The shared harness (bench.py) runs one client at a time, so a server that uses every core is
never loaded; this runs N copies of the same client together and reports the total
handshakes/s and the server's CPU per handshake, summed over the server's whole process tree
(nginx's workers included). Results go to the same JSONL file as bench.py's, with
test="hs-parallel".

  parallel.py --server-cmd CMD --server-label L --client-cmd CMD [--clients 4] [--runs 3]
              [--seconds 4] [--cert ecdsa] [--tls default] [--reuse] [--pin] --out FILE

Placeholders as in bench.py: {port} {cert_file} {key_file} {tls} {seconds} {n} {reuse}
{dir} (a fresh folder for the server's files). With --pin the server runs on CPU 0 and the
clients on the other CPUs (taskset), so the server's share of the machine is fixed and its
CPU per handshake is not blurred by the clients competing for the same core.
"""
import argparse
import datetime
import json
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HZ = os.sysconf('SC_CLK_TCK')


def tree(pid):
    """The pid and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for tid in os.listdir(f'/proc/{p}/task'):
                with open(f'/proc/{p}/task/{tid}/children') as f:
                    todo += [int(x) for x in f.read().split()]
        except (FileNotFoundError, ProcessLookupError):
            pass
    return out


def tree_cpu(pid):
    """utime+stime of a process tree, children already reaped included (seconds)."""
    total = 0
    for p in tree(pid):
        try:
            with open(f'/proc/{p}/stat') as f:
                st = f.read().rsplit(')', 1)[1].split()
            total += sum(int(st[i]) for i in (11, 12, 13, 14))
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total / HZ


def listening(port, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(('127.0.0.1', port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def parse_result(text):
    for line in text.splitlines():
        if line.startswith('RESULT'):
            return dict(kv.split('=', 1) for kv in line.split()[1:] if '=' in kv)
    return None


def one_run(a, port, seconds, cpus_clients):
    tmpl = a.client_cmd.format(port=port, seconds=seconds, n=10**9, tls=a.tls,
                               reuse='--reuse' if a.reuse else '')
    pin = ['taskset', '-c', cpus_clients] if a.pin else []
    procs = [subprocess.Popen(pin + shlex.split(tmpl), stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
             for _ in range(a.clients)]
    outs = [p.communicate(timeout=seconds + 60)[0] for p in procs]
    results = [parse_result(o) for o in outs]
    if any(r is None for r in results):
        raise RuntimeError(f'a client printed no RESULT line: {outs}')
    conns = sum(int(r['conns']) for r in results)
    secs = max(float(r['seconds']) for r in results)
    reused = sum(int(r.get('reused', 0)) for r in results)
    return conns, secs, reused, results[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--server-cmd', required=True)
    ap.add_argument('--server-label', required=True)
    ap.add_argument('--client-cmd', required=True)
    ap.add_argument('--client-label', default='sslsock')
    ap.add_argument('--clients', type=int, default=4)
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--seconds', type=float, default=4)
    ap.add_argument('--cert-dir', required=True)
    ap.add_argument('--cert', default='ecdsa')
    ap.add_argument('--tls', default='default')
    ap.add_argument('--reuse', action='store_true')
    ap.add_argument('--pin', action='store_true')
    ap.add_argument('--out', required=True)
    a = ap.parse_args()

    ncpu = os.cpu_count() or 1
    cpus_clients = '1' if ncpu == 2 else f'1-{ncpu - 1}'
    port = 26000 + os.getpid() % 3000
    workdir = tempfile.mkdtemp(prefix='parallel-')
    cmd = a.server_cmd.format(port=port, cert_file=os.path.join(a.cert_dir, a.cert + '.crt'),
                              key_file=os.path.join(a.cert_dir, a.cert + '.key'), tls=a.tls,
                              dir=workdir)
    pin = ['taskset', '-c', '0'] if a.pin else []
    log = open(os.path.join(workdir, 'server.log'), 'w')
    srv = subprocess.Popen(pin + shlex.split(cmd), stdin=subprocess.PIPE,
                           stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    try:
        if not listening(port):
            raise RuntimeError(f'server not listening: {cmd} (see {log.name})')
        one_run(a, port, 1, cpus_clients)  # warm-up, discarded
        runs = []
        for _ in range(a.runs):
            c0 = tree_cpu(srv.pid)
            conns, secs, reused, first = one_run(a, port, a.seconds, cpus_clients)
            time.sleep(0.1)  # the server's last closes
            runs.append(dict(rate=conns / secs, conns=conns, reused=reused,
                             server_cpu=tree_cpu(srv.pid) - c0))
    finally:
        os.killpg(srv.pid, signal.SIGTERM)
        try:
            srv.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(srv.pid, signal.SIGKILL)
            srv.wait(10)
    rates = sorted(r['rate'] for r in runs)
    conns = sum(r['conns'] for r in runs)
    rec = dict(test='hs-parallel', server=a.server_label, client=a.client_label, cert=a.cert,
               tls=a.tls, reuse=a.reuse, clients=a.clients, pinned=a.pin, unit='hs/s',
               summary=dict(median=round(statistics.median(rates), 1), min=round(rates[0], 1),
                            max=round(rates[-1], 1), runs=[round(r, 1) for r in rates]),
               reused_fraction=round(sum(r['reused'] for r in runs) / max(conns, 1), 3),
               server_cpu_us_per_hs=round(1e6 * sum(r['server_cpu'] for r in runs) / max(conns, 1), 1),
               version=first.get('version'), cipher=first.get('cipher'),
               time=datetime.datetime.now().isoformat(timespec='seconds'))
    with open(a.out, 'a') as f:
        f.write(json.dumps(rec) + '\n')
    print(f"hs-parallel {a.server_label:<12} {a.clients}x{a.client_label} cert={a.cert} tls={a.tls} "
          f"reuse={a.reuse} pinned={a.pin} median={rec['summary']['median']} "
          f"[{rec['summary']['min']}-{rec['summary']['max']}] hs/s "
          f"server {rec['server_cpu_us_per_hs']} us/hs {rec['cipher']}", flush=True)


if __name__ == '__main__':
    sys.exit(main())
