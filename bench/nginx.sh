#!/usr/bin/env bash
# nginx (Debian's) as a benchmark server: TLS 1.2 and 1.3 (or one of them), WORKERS worker
# processes, the given certificate, a small static page; stays in the foreground.
#   bench/nginx.sh PORT CERT KEY TLS WORKERS [DIR]     TLS: default | 1.2 | 1.3
# WORKERS 0 is one process without a master (`master_process off`), so that a driver that
# counts only the server process's own CPU (bench.py) sees all of it. DIR defaults to a fresh
# temporary folder.
set -euo pipefail
port=$1 cert=$2 key=$3 tls=$4 workers=$5 dir=${6:-$(mktemp -d /tmp/nginx-bench.XXXXXX)}
master=on
if [ "$workers" = 0 ]; then master=off workers=1; fi
case $tls in
    1.2) protocols=TLSv1.2 ;;
    1.3) protocols=TLSv1.3 ;;
    *) protocols="TLSv1.2 TLSv1.3" ;;
esac
mkdir -p "$dir/html"
echo "hello" >"$dir/html/index.html"
cat >"$dir/nginx.conf" <<CONF
daemon off;
master_process $master;
worker_processes $workers;
pid $dir/nginx.pid;
error_log $dir/error.log crit;
events { worker_connections 4096; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $cert;
        ssl_certificate_key $key;
        ssl_protocols $protocols;
        ssl_session_cache shared:SSL:10m;
        root $dir/html;
    }
}
CONF
exec nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
