#!/usr/bin/env bash
# PluginProxy beside HAProxy and nginx on the same origin, in one run, with the same load for every contender.
# A benchmark, not a test: CI does not run it. Usage: bash tests/load/run.sh   (DURATION=10s CONNECTIONS=50 ROUNDS=1)
#
# Loads: small responses over 50 keep-alive connections; 1 MB responses; then 5000 idle connections per contender
# to measure resident memory per idle connection. Prints req/s, MB/s, p99 and the ratios PluginProxy/HAProxy.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/tests/load/out
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-50}
THREADS=${THREADS:-2}
IDLE=${IDLE:-5000}
ROUNDS=${ROUNDS:-1}
MODE=${MODE:-tcp}
ORIGIN_PORT=18080; HAPROXY_PORT=18081; NGINX_PORT=18082; PP_PORT=18083

need() { command -v "$1" >/dev/null 2>&1; }
if ! need haproxy || ! need nginx || ! need wrk || [ ! -f /usr/lib/nginx/modules/ngx_stream_module.so ]; then
  echo "installing haproxy, nginx, wrk (apt)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy nginx libnginx-mod-stream wrk >/dev/null
fi
need python3 || { echo "python3 is needed for the idle-connection measurement" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"

rm -rf "$OUT"; mkdir -p "$OUT/www" "$OUT/nginx-origin" "$OUT/nginx-proxy"
head -c 1048576 /dev/urandom > "$OUT/www/1m.bin"
head -c 65536 /dev/urandom > "$OUT/www/64k.bin"
printf 'hello world\n' > "$OUT/www/small"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# The origin: nginx serving static files, keep-alive kept open for the whole run.
cat > "$OUT/nginx-origin.conf" <<CONF
worker_processes 2;
daemon off;
pid $OUT/nginx-origin/nginx.pid;
error_log $OUT/nginx-origin/error.log warn;
events { worker_connections 9000; }
http {
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  client_body_temp_path $OUT/nginx-origin;
  proxy_temp_path $OUT/nginx-origin;
  fastcgi_temp_path $OUT/nginx-origin;
  uwsgi_temp_path $OUT/nginx-origin;
  scgi_temp_path $OUT/nginx-origin;
  server {
    listen 127.0.0.1:$ORIGIN_PORT backlog=4096;
    root $OUT/www;
    default_type application/octet-stream;
  }
}
CONF

# HAProxy in tcp mode.
cat > "$OUT/haproxy.cfg" <<CONF
global
  maxconn 9000
  nbthread 2
defaults
  mode tcp
  timeout connect 5s
  timeout client 300s
  timeout server 300s
frontend front
  bind 127.0.0.1:$HAPROXY_PORT
  default_backend app
backend app
  server origin 127.0.0.1:$ORIGIN_PORT
CONF

# nginx as a tcp (stream) proxy.
cat > "$OUT/nginx-proxy.conf" <<CONF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes 2;
daemon off;
pid $OUT/nginx-proxy/nginx.pid;
error_log $OUT/nginx-proxy/error.log warn;
events { worker_connections 9000; }
stream {
  server {
    listen 127.0.0.1:$NGINX_PORT backlog=4096;
    proxy_pass 127.0.0.1:$ORIGIN_PORT;
    proxy_timeout 300s;
  }
}
CONF

# PluginProxy in tcp mode.
cat > "$OUT/pluginproxy.toml" <<CONF
[global]
plugins = "$ROOT/plugins/bin"

[defaults]
timeout_client = "300s"
timeout_server = "300s"

[[listener]]
name = "front"
bind = ["127.0.0.1:$PP_PORT"]
supervisor = "tcp"
accept = ["nodelay"]
maxconn = 9000
backend = "app"

[[backend]]
name = "app"
servers = [{ name = "origin", address = "127.0.0.1:$ORIGIN_PORT" }]
CONF

echo "building PluginProxy (Release)"
dotnet build "$ROOT/host" -c Release -v q -nologo >/dev/null

nginx -c "$OUT/nginx-origin.conf" & pids+=($!)
haproxy -f "$OUT/haproxy.cfg" -db >"$OUT/haproxy.log" 2>&1 & pids+=($!); HAPROXY_PID=$!
nginx -c "$OUT/nginx-proxy.conf" & pids+=($!); NGINX_PID=$!
PLUGINPROXY_LOG_LEVEL=Warning dotnet "$ROOT/host/bin/Release/net10.0/pluginproxy.dll" run --config "$OUT/pluginproxy.toml" >"$OUT/pluginproxy.log" 2>&1 & pids+=($!); PP_PID=$!

wait_port() { for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; exit 1; }
for port in $ORIGIN_PORT $HAPROXY_PORT $NGINX_PORT $PP_PORT; do wait_port $port; done

declare -A NAME=([$ORIGIN_PORT]=direct [$HAPROXY_PORT]=haproxy [$NGINX_PORT]=nginx [$PP_PORT]=pluginproxy)
declare -A RPS MBS P99

run_wrk() { # port path label
  local out; out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$1$2")
  local rps mbs p99
  rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
  mbs=$(awk '/Transfer\/sec/ { v=$2; if (v ~ /GB/) { sub(/GB/,"",v); v*=1024 } else if (v ~ /KB/) { sub(/KB/,"",v); v/=1024 } else { sub(/MB/,"",v) } print v }' <<<"$out")
  p99=$(awk '/ 99%/ { print $2 }' <<<"$out")
  local errors; errors=$(awk '/Non-2xx|Socket errors/ { print }' <<<"$out")
  [ -n "$errors" ] && echo "  ${NAME[$1]} $3: $errors"
  echo "$rps $mbs $p99"
}

# Idle memory first, on fresh processes: a heap already grown by the throughput runs would hide the cost.
rss_kb() { # pids...
  local total=0
  for p in "$@"; do
    for q in $p $(pgrep -P "$p" || true); do total=$((total + $(awk '/VmRSS/ { print $2 }' /proc/$q/status 2>/dev/null || echo 0))); done
  done
  echo $total
}
declare -A IDLE_BYTES
for port in $HAPROXY_PORT $NGINX_PORT $PP_PORT; do
  case $port in $HAPROXY_PORT) pid=$HAPROXY_PID;; $NGINX_PORT) pid=$NGINX_PID;; $PP_PORT) pid=$PP_PID;; esac
  before=$(rss_kb "$pid")
  coproc IDLER { python3 "$ROOT/tests/load/idle_clients.py" 127.0.0.1 "$port" "$IDLE"; }
  read -r ready count <&"${IDLER[0]}"
  after=$(rss_kb "$pid")
  IDLE_BYTES[${NAME[$port]}]=$(( (after - before) * 1024 / count ))
  exec {IDLER[1]}>&-; wait "$IDLER_PID" 2>/dev/null || true
done

echo "warming up"
for port in $ORIGIN_PORT $HAPROXY_PORT $NGINX_PORT $PP_PORT; do wrk -t1 -c10 -d2s "http://127.0.0.1:$port/small" >/dev/null; done

for load in small 1m.bin; do
  for round in $(seq 1 "$ROUNDS"); do
    for port in $ORIGIN_PORT $HAPROXY_PORT $NGINX_PORT $PP_PORT; do
      read -r rps mbs p99 < <(run_wrk $port "/$load" "$load")
      key="${NAME[$port]}:$load"
      # Keep the best round of each contender.
      if [ -z "${RPS[$key]:-}" ] || awk "BEGIN { exit !($rps > ${RPS[$key]}) }"; then RPS[$key]=$rps; MBS[$key]=$mbs; P99[$key]=$p99; fi
    done
  done
done

ratio() { awk "BEGIN { if ($2 > 0) printf \"%.2f\", $1 / $2; else print \"-\" }"; }
echo
echo "PluginProxy load test, mode $MODE, $CONNECTIONS connections, $THREADS wrk threads, $DURATION per run, best of $ROUNDS; $(nproc) cores"
printf '%-12s | %12s %9s %9s | %10s %9s %9s | %14s\n' contender "small req/s" "p99" "ratio" "1MB MB/s" "p99" "ratio" "idle B/conn"
for name in direct haproxy nginx pluginproxy; do
  printf '%-12s | %12s %9s %9s | %10s %9s %9s | %14s\n' "$name" \
    "${RPS[$name:small]}" "${P99[$name:small]}" "$(ratio "${RPS[$name:small]}" "${RPS[haproxy:small]}")" \
    "${MBS[$name:1m.bin]}" "${P99[$name:1m.bin]}" "$(ratio "${MBS[$name:1m.bin]}" "${MBS[haproxy:1m.bin]}")" \
    "${IDLE_BYTES[$name]:--}"
done
echo "(ratios are to HAProxy; idle B/conn is resident memory growth divided by $IDLE idle client connections)"
