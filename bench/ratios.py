#!/usr/bin/env python3
"""Ratios ours/peer from a bench.py results file: medians and server CPU per operation."""
import json
import sys


def load(path):
    last = {}
    for line in open(path):
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if r.get('test') not in ('hs', 'bulk', 'idle'):
            continue
        key = (r['test'], r.get('client'), r.get('server'), r.get('cert'), r.get('tls'), bool(r.get('reuse')))
        last[key] = r
    return last


def cpu(r):
    return r.get('server_cpu_us_per_hs') or r.get('server_cpu_s_per_GB')


def main():
    rows = load(sys.argv[1])
    print('\n### ratios ours/peer (same test, cert, TLS, resumption)\n')
    print('| test | cert | TLS | resume | ours | peer | median ours/peer | server CPU ours/peer |')
    print('|---|---|---|---|---|---|---:|---:|')
    for k, o in sorted(rows.items(), key=str):
        if k[2] != 'sslsock':
            continue
        for pk, p in sorted(rows.items(), key=str):
            if pk[2] == 'sslsock' or (pk[0], pk[3], pk[4], pk[5]) != (k[0], k[3], k[4], k[5]):
                continue
            # Same client, or each library against itself.
            if k[1] != pk[1] and not (k[1] == 'sslsock' and pk[2].startswith(pk[1])):
                continue
            om, pm = o['summary']['median'], p['summary']['median']
            oc, pc = cpu(o), cpu(p)
            ratio = f'{om / pm:.2f}' if om and pm else '-'
            c = f'{oc / pc:.2f}' if oc and pc else '-'
            print(f'| {k[0]} | {k[3]} | {k[4]} | {"yes" if k[5] else "no"} | {k[1]} -> sslsock | {pk[1]} -> {pk[2]} | {ratio} | {c} |')


if __name__ == '__main__':
    main()
