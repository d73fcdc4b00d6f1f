#!/usr/bin/env bash
# Side-by-side performance of sslsock against nginx, openssl, Perl IO::Socket::SSL, Python ssl
# and the plain-rustls floor, in one run with the shared harness (bench.py) and the parallel
# driver (bench/parallel.py). Prints markdown tables of medians [min-max], the ratios ours/peer
# and the targets (bench/ratios.py).
#
#   bench/compare.sh                 # the whole comparison (about 30 minutes on 2 cores once built)
#   RUNS=3 QUICK=1 bench/compare.sh  # a short pass: fewer configurations
#   PIN=1 bench/compare.sh           # parallel rows pinned as well: server on CPU 0, clients on
#                                    # the others (taskset), see below
#
# Parallel handshakes: CLIENTS (default 4) copies of our `bench handshake` run at once against
# each server (2 server threads or workers where the server has them). Unpinned, client and
# server share both cores, so total handshakes/s is what the machine does with that client and
# the server's CPU per handshake is the figure to compare; with PIN=1 the server owns CPU 0 and
# the clients the rest, so the rate shows the server's one-core ceiling where the clients keep
# up (on 2 cores they often do not: then read the CPU per handshake).
#
# BENCH_DIR points at the harness (default ../shared/bench next to this checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH_DIR=${BENCH_DIR:-$ROOT/../shared/bench}
if [ ! -f "$BENCH_DIR/bench.py" ]; then
    echo "compare.sh: no harness at $BENCH_DIR (set BENCH_DIR to the folder with bench.py)" >&2
    exit 2
fi
RUNS=${RUNS:-5}
QUICK=${QUICK:-0}
OUT=${OUT:-$ROOT/target/bench/compare-$(date +%Y%m%d-%H%M%S).jsonl}
mkdir -p "$(dirname "$OUT")"

need=()
perl -MIO::Socket::SSL -e 1 >/dev/null 2>&1 || need+=(libio-socket-ssl-perl)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v iperf3 >/dev/null 2>&1 || need+=(iperf3)
command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
if [ "${#need[@]}" -gt 0 ]; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
fi
ulimit -n 20000 2>/dev/null || true

cargo build --release -q -p sslsock-cli
S=$ROOT/target/release/sslsock
# The engine floor, built out of tree so the harness stays untouched.
CARGO_TARGET_DIR=$ROOT/target/rustls-sink cargo build --release -q --manifest-path "$BENCH_DIR/rustls-sink/Cargo.toml"
SINK=$ROOT/target/rustls-sink/release/rustls-sink

SRV="$S bench server --port {port} --cert {cert_file} --key {key_file} --tls {tls}"
NGINX1="$ROOT/bench/nginx.sh {port} {cert_file} {key_file} {tls} 0"
FLOOR="$SINK --port {port} --cert-file {cert_file} --key-file {key_file} --tls {tls}"
HS="$S bench handshake --port {port} --seconds {seconds} --n {n} --tls {tls} {reuse}"
BULK="$S bench bulk --port {port} --mib {mib} --chunk {chunk} --tls {tls}"
B() { python3 "$BENCH_DIR/bench.py" "$@" --runs "$RUNS" --out "$OUT"; }
CLIENTS=${CLIENTS:-4}
CERTS=$(python3 -c "import sys; sys.path.insert(0, '$BENCH_DIR'); import bench; bench.ensure_certs(); print(bench.CERTS)")
P() { python3 "$ROOT/bench/parallel.py" --client-cmd "$HS" --clients "$CLIENTS" --runs "$RUNS" \
    --cert-dir "$CERTS" --out "$OUT" "$@"; }

certs=(ecdsa rsa); tlss=(default 1.2)
[ "$QUICK" = 1 ] && certs=(ecdsa) && tlss=(default)

python3 "$BENCH_DIR/bench.py" speed --out "$OUT"
python3 "$BENCH_DIR/bench.py" tcp --runs "$RUNS" --out "$OUT"
for cert in "${certs[@]}"; do
    for tls in "${tlss[@]}"; do
        # Full handshakes against each server with the same client (s_time).
        B hs --server-cmd "$SRV" --server-label sslsock --client s_time --cert "$cert" --tls "$tls"
        B hs --server openssl --client s_time --cert "$cert" --tls "$tls"
        B hs --server-cmd "$NGINX1" --server-label nginx --client s_time --cert "$cert" --tls "$tls"
        B hs --server perl-select --client s_time --cert "$cert" --tls "$tls"
        B hs --server python-select --client s_time --cert "$cert" --tls "$tls"
        B hs --server-cmd "$FLOOR" --server-label rustls-sink --client s_time --cert "$cert" --tls "$tls"
    done
done
# Parallel clients against each server: ours and nginx with 2 threads / workers, s_server as
# it is (one connection at a time), the rustls floor (a thread per connection).
pins=(""); [ "${PIN:-0}" = 1 ] && pins=("" --pin)
for pin in "${pins[@]}"; do
    P $pin --server-cmd "$SRV --threads 2" --server-label sslsock
    P $pin --server-cmd "$ROOT/bench/nginx.sh {port} {cert_file} {key_file} {tls} 2 {dir}" --server-label nginx
    P $pin --server-cmd "openssl s_server -accept 127.0.0.1:{port} -cert {cert_file} -key {key_file} -quiet" --server-label openssl
    P $pin --server-cmd "$FLOOR" --server-label rustls-sink
done
# Each library against itself.
B hs --server-cmd "$SRV" --server-label sslsock --client-cmd "$HS" --client-label sslsock
B hs --server perl-select --client perl
# Resumption: TLS 1.2 ids (s_time and ours), TLS 1.3 tickets (s_time cannot: ours and Perl as
# clients); each server against the same client.
B hs --server-cmd "$SRV" --server-label sslsock --client s_time --tls 1.2 --reuse
B hs --server openssl --client s_time --tls 1.2 --reuse
B hs --server-cmd "$SRV" --server-label sslsock --client-cmd "$HS" --client-label sslsock --tls 1.2 --reuse
B hs --server-cmd "$SRV" --server-label sslsock --client-cmd "$HS" --client-label sslsock --reuse
# The full-handshake baseline with the resuming loop's close: wait for the ticket, close cleanly.
B hs --server-cmd "$SRV" --server-label sslsock --client-cmd "$HS --wait-ticket" --client-label sslsock-wait-ticket
B hs --server openssl --client-cmd "$HS" --client-label sslsock --reuse
B hs --server perl-select --client perl --reuse
# Bulk: 1 GiB in 16 KiB writes; ours with its default suite and with each AEAD by name.
B bulk --server-cmd "$SRV" --server-label sslsock --client-cmd "$BULK" --client-label sslsock
for suite in AES_256_GCM_SHA384 AES_128_GCM_SHA256 CHACHA20_POLY1305_SHA256; do
    B bulk --server-cmd "$SRV" --server-label sslsock --client-cmd "$BULK --ciphersuites TLS_$suite" \
        --client-label "sslsock-${suite%%_SHA*}"
done
B bulk --server perl-select --client perl
B bulk --server python-select --client python
B bulk --server-cmd "$FLOOR" --server-label rustls-sink --client-cmd "$BULK" --client-label sslsock
# A check, not a peer: the client with glibc's `rep movsb` turned off. The engine copies each
# record's plaintext into a fresh buffer that the heap places just past the caller's 16 KiB
# chunk, where `rep movsb` is many times slower on some x86 CPUs (4 KiB aliasing); sslsock
# copies in small slices to avoid it (src/copy.rs). This row faster than ours means a copy
# still goes that way.
B bulk --server-cmd "$SRV" --server-label sslsock \
    --client-cmd "env GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=1000000000 $BULK" --client-label sslsock-no-rep-movsb
# Idle memory per connection (1,000 connections).
B idle --server-cmd "$SRV" --server-label sslsock --conns 1000
B idle --server perl-select --conns 1000
B idle --server python-select --conns 1000

python3 "$BENCH_DIR/bench.py" report "$OUT"
python3 "$ROOT/bench/ratios.py" "$OUT"
echo "results: $OUT"
