#!/usr/bin/env bash
# A/B of two PluginProxy builds (work trees, each built with `dotnet build host -c Release`) on the same nginx origin:
# both run at once, wrk alternates between them, and each run prints req/s and the CPU the proxy spent per request.
# A benchmark, not a test.   C=50 N=6 D=8s SERVERS=2 bash tests/load/ab.sh /path/to/before /path/to/after
# A tree written as /path:nometrics runs without the admin endpoint (so without /metrics: no exporter listens to the
# meters): `bash tests/load/ab.sh /work/main:nometrics /work/main` is the cost of the metrics.
set -u
OUT=/tmp/qab; rm -rf $OUT; mkdir -p $OUT/www $OUT/ngx; printf 'hello world\n' > $OUT/www/small
C=${C:-50}; D=${D:-6s}; N=${N:-4}; SERVERS=${SERVERS:-2}
cat > $OUT/origin.conf <<CONF
worker_processes 2; daemon off; pid $OUT/ngx/nginx.pid; error_log $OUT/ngx/error.log warn;
events { worker_connections 8000; }
http { access_log off; client_body_temp_path $OUT/ngx; proxy_temp_path $OUT/ngx; fastcgi_temp_path $OUT/ngx; uwsgi_temp_path $OUT/ngx; scgi_temp_path $OUT/ngx;
  keepalive_requests 10000000; keepalive_timeout 300s;
  server { listen 127.0.0.1:18180 backlog=4096; listen 127.0.0.1:18184 backlog=4096; root $OUT/www; default_type application/octet-stream; } }
CONF
servers='{ name = "o1", address = "127.0.0.1:18180" }'
[ "$SERVERS" = 2 ] && servers="$servers, { name = \"o2\", address = \"127.0.0.1:18184\" }"
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null; done; wait 2>/dev/null' EXIT
nginx -c $OUT/origin.conf & pids+=($!)
port=18190
declare -A ports pidof
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
for run in "$@"; do
  tree=${run%%:*}
  admin="admin = \"127.0.0.1:$((port+100))\""
  [ "$run" != "$tree" ] && admin=""
  cat > $OUT/pp-$port.toml <<CONF
[global]
plugins = "$tree/plugins/bin"
$admin
[defaults]
timeout_client = "300s"
timeout_server = "300s"
timeout_keep_alive = "300s"
[[listener]]
name = "front"
bind = ["127.0.0.1:$port"]
supervisor = "http"
accept = ["nodelay"]
backend = "app"
access_log = false
[[backend]]
name = "app"
servers = [$servers]
CONF
  PLUGINPROXY_LOG_LEVEL=Warning dotnet $tree/host/bin/Release/net10.0/pluginproxy.dll run --config $OUT/pp-$port.toml > $OUT/pp-$port.log 2>&1 & pids+=($!)
  ports[$run]=$port; pidof[$run]=$!; port=$((port+1))
done
sleep 3
for run in "$@"; do wrk -t2 -c$C -d3s http://127.0.0.1:${ports[$run]}/small > /dev/null; done
for i in $(seq 1 $N); do
  for run in "$@"; do
    c0=$(cpu ${pidof[$run]})
    out=$(wrk -t2 -c$C -d$D --latency http://127.0.0.1:${ports[$run]}/small)
    c1=$(cpu ${pidof[$run]})
    reqs=$(echo "$out" | awk '/requests in/ {print $1}')
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    echo "$run rps=$rps cpu_us_per_req=$(awk "BEGIN {printf \"%.1f\", ($c1-$c0)*10000/$reqs}")"
  done
done
