#!/usr/bin/env bash
# What compression costs and saves: one PluginProxy build (this tree, `dotnet build host -c Release`) with one listener
# per setting (none, gzip and br at compress_level "fastest" and "optimal"), nginx (gzip_comp_level 1) and HAProxy
# (compression algo gzip, libslz) as references, all in front of the same nginx origin serving a ~100 KB HTML page and a
# ~100 KB JSON document. For each: the bytes a client receives (curl, one request) and their ratio to the uncompressed
# body, then wrk (Accept-Encoding: gzip, br) for req/s and the CPU the proxy spent per request.
# A benchmark, not a test; on a shared machine the figures are noisy: compare rows of the same run.
#   C=20 D=5s N=2 bash tests/load/compress.sh [tree]
set -u
tree=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
OUT=/tmp/qcompress; rm -rf $OUT; mkdir -p $OUT/www $OUT/ngx $OUT/ngxp
C=${C:-20}; D=${D:-5s}; N=${N:-2}
python3 - $OUT/www <<'PY'
import json, sys
www = sys.argv[1]
rows = "".join(f"<tr><td>row {i}</td><td><a href=\"/item/{i * 7919 % 10007}\">item {i * 7919 % 10007}</a></td><td>in stock: {i % 17}</td></tr>\n" for i in range(1200))
open(f"{www}/page.html", "w").write(f"<!doctype html><html><head><title>catalogue</title></head><body><table>\n{rows}</table></body></html>\n")
items = [{"id": i, "sku": f"SKU-{i * 7919 % 100003:06d}", "name": f"item {i}", "price": round(i * 1.37 % 500, 2), "tags": ["a", "b"] if i % 3 else ["c"]} for i in range(1300)]
open(f"{www}/data.json", "w").write(json.dumps({"items": items}))
PY
cat > $OUT/origin.conf <<CONF
worker_processes 1; daemon off; pid $OUT/ngx/nginx.pid; error_log $OUT/ngx/error.log warn;
events { worker_connections 4000; }
http { access_log off; client_body_temp_path $OUT/ngx; proxy_temp_path $OUT/ngx; fastcgi_temp_path $OUT/ngx; uwsgi_temp_path $OUT/ngx; scgi_temp_path $OUT/ngx;
  keepalive_requests 10000000; keepalive_timeout 300s; etag off;
  types { text/html html; application/json json; }
  server { listen 127.0.0.1:18280 backlog=4096; root $OUT/www; } }
CONF
# nginx as a compressing proxy (the reference for the same work).
cat > $OUT/nginx-proxy.conf <<CONF
worker_processes 1; daemon off; pid $OUT/ngxp/nginx.pid; error_log $OUT/ngxp/error.log warn;
events { worker_connections 4000; }
http { access_log off; client_body_temp_path $OUT/ngxp; proxy_temp_path $OUT/ngxp; fastcgi_temp_path $OUT/ngxp; uwsgi_temp_path $OUT/ngxp; scgi_temp_path $OUT/ngxp;
  upstream o { server 127.0.0.1:18280; keepalive 64; }
  gzip on; gzip_comp_level 1; gzip_types application/json; gzip_min_length 1024; gzip_proxied any; gzip_vary on;
  server { listen 127.0.0.1:18291; location / { proxy_pass http://o; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
CONF
cat > $OUT/haproxy.cfg <<CONF
global
  maxconn 4000
  nbthread 1
defaults
  mode http
  timeout connect 5s
  timeout client 300s
  timeout server 300s
frontend f
  bind 127.0.0.1:18292
  default_backend b
backend b
  compression algo gzip
  compression type text/html application/json
  server o 127.0.0.1:18280
CONF
listener() { # name port extra
  printf '[[listener]]\nname = "%s"\nbind = ["127.0.0.1:%s"]\nsupervisor = "http"\naccept = ["nodelay"]\nbackend = "app"\naccess_log = false\n%b\n' "$1" "$2" "$3"
}
{
  printf '[global]\nplugins = "%s/plugins/bin"\n[defaults]\ntimeout_client = "300s"\ntimeout_server = "300s"\ntimeout_keep_alive = "300s"\n' "$tree"
  listener none 18281 ''
  listener gzip-fastest 18282 'response_analyzers = ["compress"]\ncompress_algorithms = ["gzip"]'
  listener gzip-optimal 18283 'response_analyzers = ["compress"]\ncompress_algorithms = ["gzip"]\ncompress_level = "optimal"'
  listener br-fastest 18284 'response_analyzers = ["compress"]\ncompress_algorithms = ["br"]'
  listener br-optimal 18285 'response_analyzers = ["compress"]\ncompress_algorithms = ["br"]\ncompress_level = "optimal"'
  printf '[[backend]]\nname = "app"\nservers = [{ name = "o", address = "127.0.0.1:18280" }]\n'
} > $OUT/pp.toml
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null; done; wait 2>/dev/null' EXIT
nginx -c $OUT/origin.conf & pids+=($!)
nginx -c $OUT/nginx-proxy.conf & pids+=($!); ngxp=$!
haproxy -f $OUT/haproxy.cfg -db & pids+=($!); hap=$!
PLUGINPROXY_LOG_LEVEL=Warning dotnet $tree/host/bin/Release/net10.0/pluginproxy.dll run --config $OUT/pp.toml > $OUT/pp.log 2>&1 & pids+=($!); pp=$!
sleep 3
# The CPU (in clock ticks) of a process and its children (nginx's worker).
cpu() { local t=0 p; for p in $1 $(pgrep -P $1); do t=$((t + $(awk '{print $14+$15}' /proc/$p/stat))); done; echo $t; }
hz=$(getconf CLK_TCK)
declare -A port=( [none]=18281 [gzip-fastest]=18282 [gzip-optimal]=18283 [br-fastest]=18284 [br-optimal]=18285 [nginx-gzip1]=18291 [haproxy-gzip]=18292 )
declare -A pid=( [none]=$pp [gzip-fastest]=$pp [gzip-optimal]=$pp [br-fastest]=$pp [br-optimal]=$pp [nginx-gzip1]=$ngxp [haproxy-gzip]=$hap )
order="none gzip-fastest gzip-optimal br-fastest br-optimal nginx-gzip1 haproxy-gzip"
for file in page.html data.json; do
  plain=$(stat -c %s $OUT/www/$file)
  echo "== $file: $plain bytes; C=$C D=$D, $N run(s) each"
  printf '%-14s %9s %7s %10s %14s\n' setting bytes ratio req/s cpu_us/req
  for s in $order; do wrk -t1 -c$C -d2s -H 'Accept-Encoding: gzip, br' http://127.0.0.1:${port[$s]}/$file > /dev/null; done
  for i in $(seq 1 $N); do
    for s in $order; do
      bytes=$(curl -s -H 'Accept-Encoding: gzip, br' -o /dev/null -w '%{size_download}' http://127.0.0.1:${port[$s]}/$file)
      c0=$(cpu ${pid[$s]})
      out=$(wrk -t1 -c$C -d$D -H 'Accept-Encoding: gzip, br' http://127.0.0.1:${port[$s]}/$file)
      c1=$(cpu ${pid[$s]})
      reqs=$(echo "$out" | awk '/requests in/ {print $1}')
      rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
      printf '%-14s %9s %7s %10s %14s\n' $s $bytes $(awk "BEGIN {printf \"%.3f\", $bytes/$plain}") $rps \
        $(awk "BEGIN {printf \"%.1f\", ($c1-$c0)*1000000/$hz/$reqs}")
    done
  done
done
