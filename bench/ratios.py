#!/usr/bin/env python3
"""Ratios ours/peer from a compare.sh results file (bench.py and parallel.py records): each
same-test pair, then the parallel table, the bulk table with its floors, and the targets."""
import json
import sys

# The AEAD of a negotiated suite, as `openssl speed -evp` names it.
AEAD = {
    'TLS_AES_256_GCM_SHA384': 'aes-256-gcm',
    'TLS_AES_128_GCM_SHA256': 'aes-128-gcm',
    'TLS_CHACHA20_POLY1305_SHA256': 'chacha20-poly1305',
}


def load(path):
    last = {}
    for line in open(path):
        try:
            r = json.loads(line)
        except ValueError:
            continue
        key = (r.get('test'), r.get('client'), r.get('server'), r.get('cert'), r.get('tls'),
               bool(r.get('reuse')), bool(r.get('pinned')))
        last[key] = r
    return last


def cpu(r):
    return r.get('server_cpu_us_per_hs') or r.get('server_cpu_s_per_GB')


def med(r):
    return r['summary']['median'] if r else None


def find(rows, test, client=None, server=None, cert='ecdsa', tls='default', reuse=False,
         pinned=False):
    for k, r in rows.items():
        if k[0] != test or bool(k[5]) != reuse or bool(k[6]) != pinned:
            continue
        if client is not None and k[1] != client:
            continue
        if server is not None and k[2] != server:
            continue
        if test not in ('speed',) and (k[3] != cert or k[4] != tls) and tls is not None:
            continue
        return r
    return None


def ratio(a, b):
    return f'{a / b:.2f}' if a and b else '-'


def pairs(rows):
    print('\n### ratios ours/peer (same test, cert, TLS, resumption)\n')
    print('| test | cert | TLS | resume | ours | peer | median ours/peer | server CPU ours/peer |')
    print('|---|---|---|---|---|---|---:|---:|')
    for k, o in sorted(rows.items(), key=str):
        if k[0] not in ('hs', 'bulk', 'idle') or k[2] != 'sslsock':
            continue
        for pk, p in sorted(rows.items(), key=str):
            if pk[2] == 'sslsock' or (pk[0], pk[3], pk[4], pk[5]) != (k[0], k[3], k[4], k[5]):
                continue
            # Same client, or each library against itself.
            if k[1] != pk[1] and not (k[1] == 'sslsock' and pk[2].startswith(pk[1])):
                continue
            print(f'| {k[0]} | {k[3]} | {k[4]} | {"yes" if k[5] else "no"} | {k[1]} -> sslsock '
                  f'| {pk[1]} -> {pk[2]} | {ratio(med(o), med(p))} | {ratio(cpu(o), cpu(p))} |')


def parallel(rows):
    par = [r for k, r in rows.items() if k[0] == 'hs-parallel']
    if not par:
        return
    print('\n### parallel clients (full handshakes)\n')
    print('| server | clients | pinned | hs/s median [min-max] | server CPU µs/hs | cipher |')
    print('|---|---|---|---:|---:|---|')
    for r in sorted(par, key=lambda r: (r.get('pinned'), r['server'])):
        s = r['summary']
        print(f"| {r['server']} | {r['clients']}x {r['client']} | {'yes' if r.get('pinned') else 'no'} "
              f"| {s['median']:.0f} [{s['min']:.0f}-{s['max']:.0f}] | {r['server_cpu_us_per_hs']} "
              f"| {r.get('cipher')} |")


def floors(rows):
    """Server CPU per GB that no TLS receiver can beat: the AEAD alone plus plain TCP."""
    tcp = find(rows, 'bulk', client='plain-python', server='plain-python', tls='none')
    tcp_cpu = tcp['server_cpu_s_per_GB'] if tcp else None
    out = {}
    for alg in AEAD.values():
        sp = next((r for k, r in rows.items() if k[0] == 'speed' and k[1] == alg), None)
        if sp and tcp_cpu:
            out[alg] = 1000 / med(sp) + tcp_cpu
    return out, tcp, tcp_cpu


def bulk(rows):
    fl, tcp, tcp_cpu = floors(rows)
    ours = [r for k, r in rows.items() if k[0] == 'bulk' and k[2] == 'sslsock']
    if not ours:
        return fl
    print('\n### bulk (1 GiB, 16 KiB writes) against the floors\n')
    print('| client -> server | cipher | MB/s | server CPU s/GB | floor s/GB (AEAD + TCP) | ours/floor |')
    print('|---|---|---:|---:|---:|---:|')
    for r in sorted(ours, key=lambda r: r['client']):
        f = fl.get(AEAD.get(r.get('cipher'), ''))
        print(f"| {r['client']} -> {r['server']} | {r.get('cipher')} | {med(r):.0f} "
              f"| {r['server_cpu_s_per_GB']} | {f:.3f} | {ratio(r['server_cpu_s_per_GB'], f)} |"
              if f else
              f"| {r['client']} -> {r['server']} | {r.get('cipher')} | {med(r):.0f} "
              f"| {r['server_cpu_s_per_GB']} | - | - |")
    for alg in AEAD.values():
        sp = next((r for k, r in rows.items() if k[0] == 'speed' and k[1] == alg), None)
        if sp:
            print(f"| openssl speed {alg} (16 KiB, 1 core) | | {med(sp):.0f} | {1000 / med(sp):.3f} | | |")
    if tcp:
        print(f"| plain TCP (python, 16 KiB writes) | | {med(tcp):.0f} | {tcp_cpu} | | |")
    return fl


def target(label, value, goal, ok):
    print(f'| {label} | {value} | {goal} | {"met" if ok else "missed"} |')


def targets(rows, fl):
    print('\n### targets\n')
    print('| target | measured | goal | |')
    print('|---|---:|---|---|')
    ours = find(rows, 'hs-parallel', server='sslsock', client=None)
    for peer in ('nginx', 'openssl'):
        p = find(rows, 'hs-parallel', server=peer, client=None)
        if ours and p:
            q = med(ours) / med(p)
            target(f'parallel hs/s ours/{peer}', f'{q:.2f}', '>= 1.30', q >= 1.3)
    p = find(rows, 'hs-parallel', server='nginx', client=None)
    if ours and p:
        q = ours['server_cpu_us_per_hs'] / p['server_cpu_us_per_hs']
        target('parallel server CPU/hs ours/nginx', f'{q:.2f}', '<= 0.60', q <= 0.6)
    b = find(rows, 'bulk', client='sslsock', server='sslsock')
    b256 = find(rows, 'bulk', client='sslsock-AES_256_GCM', server='sslsock')
    for peer, srv in (('python', 'python-select'), ('perl', 'perl-select')):
        p = find(rows, 'bulk', client=peer, server=srv)
        goal = 1.15 if peer == 'python' else 1.5
        if b and p:
            q = med(b) / med(p)
            target(f'bulk MB/s ours/{peer} ({b.get("cipher")} vs {p.get("cipher")})', f'{q:.2f}',
                   f'>= {goal}', q >= goal)
        if b256 and p:
            q = med(b256) / med(p)
            target(f'bulk MB/s ours/{peer}, both AES-256-GCM', f'{q:.2f}', f'>= {goal}', q >= goal)
    if b and fl.get(AEAD.get(b.get('cipher'), '')):
        q = b['server_cpu_s_per_GB'] / fl[AEAD[b['cipher']]]
        target(f'bulk server CPU/GB ours/floor ({b.get("cipher")})', f'{q:.2f}', '<= 1.30', q <= 1.3)
    res = find(rows, 'hs', client='sslsock', server='sslsock', reuse=True)
    for label, client in (('', 'sslsock'), (', full waiting for the ticket as --reuse does', 'sslsock-wait-ticket')):
        full = find(rows, 'hs', client=client, server='sslsock')
        if full and res:
            q = med(res) / med(full)
            target(f'TLS 1.3 resumed/full hs/s, ours-to-ours{label}', f'{q:.2f}', '>= 1.30', q >= 1.3)
            q = res['server_cpu_us_per_hs'] / full['server_cpu_us_per_hs']
            target(f'TLS 1.3 resumed/full server CPU{label}', f'{q:.2f}', '<= 0.70', q <= 0.7)
    o = find(rows, 'hs', client='s_time', server='sslsock')
    for peer in ('openssl', 'perl-select'):
        p = find(rows, 'hs', client='s_time', server=peer)
        if o and p:
            q = o['server_cpu_us_per_hs'] / p['server_cpu_us_per_hs']
            target(f'server CPU per full hs ours/{peer} (s_time)', f'{q:.2f}', '<= 0.50', q <= 0.5)
    idle = find(rows, 'idle', server='sslsock', client=None)
    if idle:
        kib = round(med(idle), 1)
        target('idle KiB per connection', f'{kib}', '<= 14', kib <= 14)


def main():
    rows = load(sys.argv[1])
    pairs(rows)
    parallel(rows)
    fl = bulk(rows)
    targets(rows, fl)


if __name__ == '__main__':
    main()
