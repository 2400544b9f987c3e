#!/usr/bin/env bash
# HTTP/2 from clients: PluginProxy beside HAProxy and nginx, each taking h2c (HTTP/2 over cleartext TCP, prior
# knowledge) in front of the same HTTP/1.1 origin, in one run, with the same load for every contender. A benchmark, not
# a test: CI does not run it.
#
#   bash tests/load/h2.sh                     (DURATION=8 ROUNDS=2 CONNECTIONS="50 400" STREAMS=10 IDLE=2000 SERVERS=2)
#   DURATION=5 ROUNDS=1 IDLE=1000 bash tests/load/h2.sh
#
# The origin is nginx serving /small ("hello world\n") over HTTP/1.1 on two ports; each contender's backend has both
# (SERVERS=2, round robin) or the first only (SERVERS=1), and reaches them over HTTP/1.1 with keep-alive:
#   haproxy      `bind ... proto h2`, mode http, http-reuse safe
#   nginx        `listen ... http2` (`http2 on` from nginx 1.25.1), upstream keepalive
#   pluginproxy  an http listener (h2c is recognised by its preface), access log off, built Release, the http
#                supervisor resident (`resident_plugins = ["PluginProxy.Http"]`: its code gets the runtime's
#                profile-guided tier; RESIDENT=0 leaves it unloadable, as by default)
# Load: h2load, THREADS threads (2), CONNECTIONS clients (50, then 400), each keeping STREAMS streams (10) open, for
# DURATION seconds after a one-second warm-up; best of ROUNDS interleaved rounds. Printed per contender and load:
# req/s, the mean and the 99th percentile of the time per request (p99 from h2load's per-request log), the ratio of
# req/s to HAProxy's, and the contender's own CPU time per request.
# Before the load, on the fresh processes: the memory each contender spends per idle HTTP/2 connection (IDLE of them,
# each having completed one request on stream 1; tests/load/h2_idle_clients.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/tests/load/out/h2
DURATION=${DURATION:-8}; DURATION=${DURATION%s}
CONNECTIONS=${CONNECTIONS:-50 400}
STREAMS=${STREAMS:-10}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-2}
IDLE=${IDLE:-2000}
SERVERS=${SERVERS:-2}
WARMUP=1
ORIGIN_PORT=18180; HAPROXY_PORT=18181; NGINX_PORT=18182; PP_PORT=18183; ORIGIN_PORT2=18184
case $SERVERS in 1|2) ;; *) echo "SERVERS must be 1 or 2" >&2; exit 2;; esac

need() { command -v "$1" >/dev/null 2>&1; }
if ! need haproxy || ! need nginx || ! need h2load; then
  echo "installing haproxy, nginx, nghttp2-client (apt)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy nginx nghttp2-client >/dev/null
fi
need python3 || { echo "python3 is needed for the idle-connection measurement" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"
MAXCONN=$(( $(ulimit -n) / 2 - 100 ))

rm -rf "$OUT"; mkdir -p "$OUT/www" "$OUT/nginx-origin" "$OUT/nginx-proxy"
printf 'hello world\n' > "$OUT/www/small"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=(); }
trap cleanup EXIT

echo "building PluginProxy (Release)"
dotnet build "$ROOT/host" -c Release -v q -nologo >/dev/null

wait_port() { for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; exit 1; }
rss_kb() { local total=0; for p in "$@"; do for q in $p $(pgrep -P "$p" || true); do total=$((total + $(awk '/VmRSS/ { print $2 }' /proc/$q/status 2>/dev/null || echo 0))); done; done; echo $total; }
cpu_ticks() { local total=0; for p in "$@"; do for q in $p $(pgrep -P "$p" || true); do total=$((total + $(awk '{ print $14 + $15 }' /proc/$q/stat 2>/dev/null || echo 0))); done; done; echo $total; }
ratio() { awk "BEGIN { if ($2 > 0) printf \"%.2f\", $1 / $2; else print \"-\" }"; }
ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) { sub(/us$/,"",v); v/=1000 } else if (v ~ /ms$/) sub(/ms$/,"",v); else if (v ~ /s$/) { sub(/s$/,"",v); v*=1000 } else v=0; printf "%.2f", v }'; }

hap_servers="  server origin 127.0.0.1:$ORIGIN_PORT"; ngx_servers="server 127.0.0.1:$ORIGIN_PORT;"
pp_servers="{ name = \"origin\", address = \"127.0.0.1:$ORIGIN_PORT\" }"
if [ "$SERVERS" = 2 ]; then
  hap_servers="$hap_servers
  server origin2 127.0.0.1:$ORIGIN_PORT2"
  ngx_servers="$ngx_servers server 127.0.0.1:$ORIGIN_PORT2;"
  pp_servers="$pp_servers, { name = \"origin2\", address = \"127.0.0.1:$ORIGIN_PORT2\" }"
fi
# nginx before 1.25.1 turns HTTP/2 on with a listen parameter (and then speaks only HTTP/2 on that port); from 1.25.1
# with the http2 directive.
nginx_version=$(nginx -v 2>&1 | sed -n 's|.*nginx/\([0-9.]*\).*|\1|p')
if [ "$(printf '%s\n' "$nginx_version" 1.25.1 | sort -V | head -1)" = 1.25.1 ]; then
  ngx_listen="listen 127.0.0.1:$NGINX_PORT backlog=4096; http2 on;"
else
  ngx_listen="listen 127.0.0.1:$NGINX_PORT http2 backlog=4096;"
fi

temp="client_body_temp_path $OUT/nginx-origin; proxy_temp_path $OUT/nginx-origin; fastcgi_temp_path $OUT/nginx-origin; uwsgi_temp_path $OUT/nginx-origin; scgi_temp_path $OUT/nginx-origin;"
cat > "$OUT/nginx-origin.conf" <<CONF
worker_processes 2;
daemon off;
pid $OUT/nginx-origin/nginx.pid;
error_log $OUT/nginx-origin/error.log warn;
events { worker_connections $MAXCONN; }
http {
  access_log off; $temp
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  server { listen 127.0.0.1:$ORIGIN_PORT backlog=4096; listen 127.0.0.1:$ORIGIN_PORT2 backlog=4096; root $OUT/www; default_type application/octet-stream; }
}
CONF
# HAProxy: an idle HTTP/2 connection ends after timeout http-keep-alive or timeout client (both long here).
cat > "$OUT/haproxy.cfg" <<CONF
global
  maxconn $MAXCONN
  nbthread 2
defaults
  mode http
  option http-keep-alive
  http-reuse safe
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s
  timeout http-request 10s
frontend front
  bind 127.0.0.1:$HAPROXY_PORT proto h2
  default_backend app
backend app
$hap_servers
CONF
# nginx from 1.19.7: keepalive_timeout and keepalive_requests bound HTTP/2 connections too (http2_idle_timeout and
# http2_max_requests are obsolete); the default keepalive_requests (1000) would send GOAWAY after 1000 requests.
cat > "$OUT/nginx-proxy.conf" <<CONF
worker_processes 2;
daemon off;
pid $OUT/nginx-proxy/nginx.pid;
error_log $OUT/nginx-proxy/error.log warn;
events { worker_connections $MAXCONN; }
http {
  access_log off; ${temp//nginx-origin/nginx-proxy}
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  upstream origin { $ngx_servers keepalive 256; }
  server {
    $ngx_listen
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering on; }
  }
}
CONF
# PluginProxy: timeout_keep_alive bounds an HTTP/2 connection without open streams.
cat > "$OUT/pluginproxy.toml" <<CONF
[global]
plugins = "$ROOT/plugins/bin"
$([ "${RESIDENT:-1}" = 1 ] && echo 'resident_plugins = ["PluginProxy.Http"]')

[defaults]
timeout_client = "300s"
timeout_server = "300s"
timeout_keep_alive = "300s"

[[listener]]
name = "front"
bind = ["127.0.0.1:$PP_PORT"]
supervisor = "http"
accept = ["nodelay"]
maxconn = $MAXCONN
backend = "app"
access_log = false   # HAProxy and nginx log nothing here either

[[backend]]
name = "app"
servers = [$pp_servers]
CONF

nginx -c "$OUT/nginx-origin.conf" & pids+=($!)
haproxy -f "$OUT/haproxy.cfg" -db >"$OUT/haproxy.log" 2>&1 & pids+=($!); haproxy_pid=$!
nginx -c "$OUT/nginx-proxy.conf" & pids+=($!); nginx_pid=$!
PLUGINPROXY_LOG_LEVEL=Warning dotnet "$ROOT/host/bin/Release/net10.0/pluginproxy.dll" run --config "$OUT/pluginproxy.toml" >"$OUT/pluginproxy.log" 2>&1 & pids+=($!); pp_pid=$!
for port in $ORIGIN_PORT $ORIGIN_PORT2 $HAPROXY_PORT $NGINX_PORT $PP_PORT; do wait_port $port; done

declare -A name=([$HAPROXY_PORT]=haproxy [$NGINX_PORT]=nginx [$PP_PORT]=pluginproxy)
declare -A pid=([$HAPROXY_PORT]=$haproxy_pid [$NGINX_PORT]=$nginx_pid [$PP_PORT]=$pp_pid)
contenders="$HAPROXY_PORT $NGINX_PORT $PP_PORT"

# Each contender must answer 200 over h2c before anything is measured.
for port in $contenders; do
  out=$(h2load -n 20 -c 2 -m 5 "http://127.0.0.1:$port/small" 2>&1 || true)
  if ! grep -q '^status codes: 20 2xx' <<<"$out" || ! grep -q 'Application protocol: h2c' <<<"$out"; then
    echo "${name[$port]} did not answer 20 requests over h2c with 200:" >&2; echo "$out" >&2
    [ "$port" = "$PP_PORT" ] && cat "$OUT/pluginproxy.log" >&2
    exit 1
  fi
done

# Memory per idle HTTP/2 connection, on the fresh processes (a heap already grown by the load would hide the cost).
declare -A idle idle_closed
for port in $contenders; do
  n=${name[$port]}; before=$(rss_kb "${pid[$port]}")
  coproc IDLER { python3 "$ROOT/tests/load/h2_idle_clients.py" 127.0.0.1 "$port" "$IDLE" /small; }
  read -r ready count not200 <&"${IDLER[0]}" || { echo "$n: the idle clients failed" >&2; exit 1; }
  idle[$n]=$(( ($(rss_kb "${pid[$port]}") - before) * 1024 / count ))
  [ "$not200" = 0 ] || echo "  $n idle: $not200 of $count responses were not 200"
  exec {IDLER[1]}>&-
  read -r _ idle_closed[$n] <&"${IDLER[0]}" || idle_closed[$n]=?
  wait "$IDLER_PID" 2>/dev/null || true
done

declare -A rps mean max p99 cpu
run_load() { # port clients
  local port=$1 c=$2 n=${name[$1]} out r mn mx p req before ticks u key log=$OUT/requests.log
  before=$(cpu_ticks "${pid[$port]}")
  out=$(h2load -t"$THREADS" -c"$c" -m"$STREAMS" -D "$DURATION" --warm-up-time="$WARMUP" --log-file="$log" \
    "http://127.0.0.1:$port/small" 2>&1) || { echo "h2load against $n failed:" >&2; echo "$out" >&2; exit 1; }
  ticks=$(( $(cpu_ticks "${pid[$port]}") - before ))
  echo "$out" > "$OUT/h2load-$n-$c.txt"   # the last round's output, to look at
  r=$(awk '/^finished in/ { sub(/,$/, "", $4); print $4 }' <<<"$out")
  read -r mn mx < <(awk '/^time for request:/ { print $6, $5 }' <<<"$out")
  req=$(awk '/^requests:/ { print $2 }' <<<"$out")
  awk '/^requests:/ && ($10 != 0 || $12 != 0 || $14 != 0)' <<<"$out" | sed "s/^/  $n @$c: /"
  awk '/^status codes:/ && ($5 != 0 || $7 != 0 || $9 != 0)' <<<"$out" | sed "s/^/  $n @$c: /"
  # p99 of the requests that started after the warm-up (the log has every request; column 1 its start, 3 its time).
  p=$(awk -v w="$WARMUP" 'NR == FNR { if (first == "" || $1 < first) first = $1; next }
        $1 >= first + w * 1000000 { print $3 }' "$log" "$log" | sort -n |
      awk '{ v[NR] = $1 } END { i = int(NR * 0.99 + 0.5); if (i < 1) i = 1; if (NR) printf "%.2fms", v[i] / 1000; else print "-" }')
  rm -f "$log"
  # CPU per request: the ticks cover the warm-up too, so the requests are scaled to the whole run.
  u=$(awk -v t="$ticks" -v q="$req" -v d="$DURATION" -v w="$WARMUP" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { if (q > 0) printf "%.0f", t * 1000000 / hz / (q * (d + w) / d); else print "-" }')
  key=$n:$c
  if [ -z "${rps[$key]:-}" ] || awk "BEGIN { exit !($r > ${rps[$key]}) }"; then
    rps[$key]=$r; mean[$key]=$mn; max[$key]=$mx; p99[$key]=$p; cpu[$key]=$u
  fi
}

for port in $contenders; do h2load -t1 -c10 -m"$STREAMS" -D 2 "http://127.0.0.1:$port/small" >/dev/null 2>&1; done
for round in $(seq 1 "$ROUNDS"); do
  for c in $CONNECTIONS; do
    for port in $contenders; do run_load "$port" "$c"; done
  done
done
cleanup
grep -v '^\s*$' "$OUT/pluginproxy.log" | sed 's/^/  pluginproxy log: /' | head -20 || true

echo
echo "h2c: $(nproc) cores; h2load -t$THREADS -m$STREAMS, ${DURATION}s per run after ${WARMUP}s of warm-up, best of $ROUNDS;" \
  "GET /small (12 bytes); backend of $SERVERS HTTP/1.1 server(s); nginx $nginx_version, $(haproxy -v | awk 'NR == 1 { print $1, $3 }');" \
  "PluginProxy's http supervisor $([ "${RESIDENT:-1}" = 1 ] && echo resident || echo unloadable)"
printf '%-12s' contender
for c in $CONNECTIONS; do printf ' | %-50s' "$c clients x $STREAMS streams"; done
printf ' | %s\n' "idle h2 conn"
printf '%-12s' ""
for c in $CONNECTIONS; do printf ' | %9s %9s %9s %9s %5s %4s' "req/s" mean p99 max ratio "cpu"; done
printf ' | %s\n' "B/conn"
for n in haproxy nginx pluginproxy; do
  printf '%-12s' "$n"
  for c in $CONNECTIONS; do
    printf ' | %9s %9s %9s %9s %5s %4s' "${rps[$n:$c]}" "${mean[$n:$c]}" "${p99[$n:$c]}" "${max[$n:$c]}" \
      "$(ratio "${rps[$n:$c]}" "${rps[haproxy:$c]}")" "${cpu[$n:$c]}"
  done
  printf ' | %s\n' "${idle[$n]}"
done
echo "(req/s of the best run; mean, p99 and max time per request in that run; ratio = req/s to HAProxy's; cpu = the"
echo " contender's CPU microseconds per request; idle h2 conn = resident memory growth divided by the $IDLE idle HTTP/2"
echo " connections, each after one request; ended during the measurement: $(for n in haproxy nginx pluginproxy; do printf '%s %s, ' "$n" "${idle_closed[$n]}"; done | sed 's/, $//'))"
echo "PluginProxy/HAProxy:$(for c in $CONNECTIONS; do printf ' req/s @%s %s, p99 %s;' "$c" "$(ratio "${rps[pluginproxy:$c]}" "${rps[haproxy:$c]}")" "$(ratio "$(ms "${p99[pluginproxy:$c]}")" "$(ms "${p99[haproxy:$c]}")")"; done) idle memory $(ratio "${idle[pluginproxy]}" "${idle[haproxy]}")"
echo "nginx/HAProxy:      $(for c in $CONNECTIONS; do printf ' req/s @%s %s, p99 %s;' "$c" "$(ratio "${rps[nginx:$c]}" "${rps[haproxy:$c]}")" "$(ratio "$(ms "${p99[nginx:$c]}")" "$(ms "${p99[haproxy:$c]}")")"; done) idle memory $(ratio "${idle[nginx]}" "${idle[haproxy]}")"
