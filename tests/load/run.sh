#!/usr/bin/env bash
# PluginProxy beside HAProxy and nginx on the same origin, in one run, with the same load for every contender.
# A benchmark, not a test: CI does not run it.
#
#   bash tests/load/run.sh                 # both modes, backends of 1 and of 4 servers
#   MODES=http SERVERS=4 DURATION=20s bash tests/load/run.sh
#
# For each mode (tcp, http) and backend size (SERVERS: 1 server, then 4 servers, all the same origin on several ports,
# balanced round robin): small responses over CONNECTIONS keep-alive connections (50, then 1000), then small responses
# with "Connection: close" (a new client connection per request) over the first count, then large responses (1 MB in
# tcp mode, 64 KB in http mode) over the first count, with the resident memory each active transfer holds (growth
# halfway through the run over its connections), then IDLE idle connections per contender to measure resident
# memory per connection (in http mode each idle client has made one request first, so it is an idle keep-alive
# connection). Prints req/s, MB/s, p99 latency, the ratios PluginProxy/HAProxy, each contender's own CPU time per request
# (the load generator shares the cores, so req/s alone flatters whoever leaves wrk more CPU), and the sockets left in
# TIME-WAIT by each contender's runs (connections to servers that were not reused show up there).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/tests/load/out
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-50 1000}
THREADS=${THREADS:-2}
IDLE=${IDLE:-10000}
ROUNDS=${ROUNDS:-2}
MODES=${MODES:-tcp http}
SERVERS=${SERVERS:-1 4}
ORIGIN_PORT=18080; HAPROXY_PORT=18081; NGINX_PORT=18082; PP_PORT=18083
# The backend's servers: the origin on its own port, then on 18091, 18092... (the same nginx listens on all of them).
origin_ports() { echo $ORIGIN_PORT; for i in $(seq 2 "$1"); do echo $((18089 + i)); done; }

need() { command -v "$1" >/dev/null 2>&1; }
if ! need haproxy || ! need nginx || ! need wrk || [ ! -f /usr/lib/nginx/modules/ngx_stream_module.so ]; then
  echo "installing haproxy, nginx, wrk (apt)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy nginx libnginx-mod-stream wrk >/dev/null
fi
need python3 || { echo "python3 is needed for the idle-connection measurement" >&2; exit 1; }
need ss || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null; }
ulimit -n "$(ulimit -Hn)"
MAXCONN=$(( $(ulimit -n) / 2 - 100 ))

rm -rf "$OUT"; mkdir -p "$OUT/www"
head -c 1048576 /dev/urandom > "$OUT/www/1m.bin"
head -c 65536 /dev/urandom > "$OUT/www/64k.bin"
printf 'hello world\n' > "$OUT/www/small"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=(); }
trap cleanup EXIT

echo "building PluginProxy (Release)"
dotnet build "$ROOT/host" -c Release -v q -nologo >/dev/null

wait_port() { for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; exit 1; }
rss_kb() { local total=0; for p in "$@"; do for q in $p $(pgrep -P "$p" || true); do total=$((total + $(awk '/VmRSS/ { print $2 }' /proc/$q/status 2>/dev/null || echo 0))); done; done; echo $total; }
ratio() { awk "BEGIN { if ($2 > 0) printf \"%.2f\", $1 / $2; else print \"-\" }"; }

write_configs() { # mode servers
  local mode=$1 servers=$2 dir=$OUT/$1-$2
  local hap_servers="" ngx_servers="" pp_servers="" origin_listen="" port i=0
  for port in $(origin_ports "$servers"); do
    i=$((i + 1))
    hap_servers="$hap_servers
  server origin$i 127.0.0.1:$port"
    ngx_servers="$ngx_servers server 127.0.0.1:$port;"
    pp_servers="$pp_servers${pp_servers:+, }{ name = \"origin$i\", address = \"127.0.0.1:$port\" }"
    origin_listen="$origin_listen listen 127.0.0.1:$port backlog=4096;"
  done
  mkdir -p "$dir/nginx-origin" "$dir/nginx-proxy"
  local temp="client_body_temp_path $dir/nginx-origin; proxy_temp_path $dir/nginx-origin; fastcgi_temp_path $dir/nginx-origin; uwsgi_temp_path $dir/nginx-origin; scgi_temp_path $dir/nginx-origin;"
  cat > "$dir/nginx-origin.conf" <<CONF
worker_processes 2;
daemon off;
pid $dir/nginx-origin/nginx.pid;
error_log $dir/nginx-origin/error.log warn;
events { worker_connections $MAXCONN; }
http {
  access_log off; $temp
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  server {$origin_listen root $OUT/www; default_type application/octet-stream; }
}
CONF
  if [ "$mode" = tcp ]; then
    cat > "$dir/haproxy.cfg" <<CONF
global
  maxconn $MAXCONN
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
$hap_servers
CONF
    cat > "$dir/nginx-proxy.conf" <<CONF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
worker_processes 2;
daemon off;
pid $dir/nginx-proxy/nginx.pid;
error_log $dir/nginx-proxy/error.log warn;
events { worker_connections $MAXCONN; }
stream { upstream origin { $ngx_servers } server { listen 127.0.0.1:$NGINX_PORT backlog=4096; proxy_pass origin; proxy_timeout 300s; } }
CONF
  else
    cat > "$dir/haproxy.cfg" <<CONF
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
  bind 127.0.0.1:$HAPROXY_PORT
  default_backend app
backend app
$hap_servers
CONF
    cat > "$dir/nginx-proxy.conf" <<CONF
worker_processes 2;
daemon off;
pid $dir/nginx-proxy/nginx.pid;
error_log $dir/nginx-proxy/error.log warn;
events { worker_connections $MAXCONN; }
http {
  access_log off; $temp
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  upstream origin { $ngx_servers keepalive 256; }
  server {
    listen 127.0.0.1:$NGINX_PORT backlog=4096;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering on; }
  }
}
CONF
  fi
  cat > "$dir/pluginproxy.toml" <<CONF
[global]
plugins = "$ROOT/plugins/bin"
admin = "127.0.0.1:0"   # metrics on, as in production (HAProxy and nginx count their stats too)

[defaults]
timeout_client = "300s"
timeout_server = "300s"
timeout_keep_alive = "300s"

[[listener]]
name = "front"
bind = ["127.0.0.1:$PP_PORT"]
supervisor = "$mode"
accept = ["nodelay"]
maxconn = $MAXCONN
backend = "app"
$( [ "$mode" = http ] && echo 'access_log = false   # HAProxy and nginx log nothing here either' )

[[backend]]
name = "app"
servers = [$pp_servers]
CONF
}

# Sockets in TIME-WAIT on connections to the origin's ports: each is a server connection that was closed, not reused.
tw_count() { ss -Htan state time-wait "( sport = :$ORIGIN_PORT or dport = :$ORIGIN_PORT or ( sport >= :18091 and sport <= :18099 ) or ( dport >= :18091 and dport <= :18099 ) )" 2>/dev/null | wc -l; }
cpu_ticks() { local total=0; for p in "$@"; do for q in $p $(pgrep -P "$p" || true); do total=$((total + $(awk '{ print $14 + $15 }' /proc/$q/stat 2>/dev/null || echo 0))); done; done; echo $total; }
TICK_US=$(( 1000000 / $(getconf CLK_TCK) ))

run_mode() { # mode servers
  local mode=$1 servers=$2 dir=$OUT/$1-$2 large
  [ "$mode" = tcp ] && large=1m.bin || large=64k.bin
  write_configs "$mode" "$servers"
  nginx -c "$dir/nginx-origin.conf" & pids+=($!); local origin_pid=$!
  haproxy -f "$dir/haproxy.cfg" -db >"$dir/haproxy.log" 2>&1 & pids+=($!); local haproxy_pid=$!
  nginx -c "$dir/nginx-proxy.conf" & pids+=($!); local nginx_pid=$!
  PLUGINPROXY_LOG_LEVEL=Warning dotnet "$ROOT/host/bin/Release/net10.0/pluginproxy.dll" run --config "$dir/pluginproxy.toml" >"$dir/pluginproxy.log" 2>&1 & pids+=($!); local pp_pid=$!
  for port in $(origin_ports "$servers") $HAPROXY_PORT $NGINX_PORT $PP_PORT; do wait_port $port; done

  declare -A name=([$ORIGIN_PORT]=direct [$HAPROXY_PORT]=haproxy [$NGINX_PORT]=nginx [$PP_PORT]=pluginproxy)
  declare -A pid_of=([$ORIGIN_PORT]=$origin_pid [$HAPROXY_PORT]=$haproxy_pid [$NGINX_PORT]=$nginx_pid [$PP_PORT]=$pp_pid)
  declare -A rps mbs p99 cpu idle idle_last tw active

  # Idle memory first, on fresh processes: a heap already grown by the throughput runs would hide the cost.
  local request=""
  [ "$mode" = http ] && request='GET /small HTTP/1.1\r\nHost: bench\r\n\r\n'
  # HAProxy wants two descriptors per maxconn, so the open-files limit bounds the count (50,000 needs ulimit -Hn 100,200).
  local idle_count=$IDLE limit=$(( MAXCONN - 200 ))
  if [ "$idle_count" -gt "$limit" ]; then
    echo "  IDLE=$IDLE is more than the open-files limit allows (ulimit -Hn $(ulimit -Hn), maxconn $MAXCONN): $limit idle connections instead"
    idle_count=$limit
  fi
  local half=$(( idle_count / 2 ))
  for port in $HAPROXY_PORT $NGINX_PORT $PP_PORT; do
    local pid; case $port in $HAPROXY_PORT) pid=$haproxy_pid;; $NGINX_PORT) pid=$nginx_pid;; *) pid=$pp_pid;; esac
    local before middle after; before=$(rss_kb "$pid")
    coproc IDLER { python3 "$ROOT/tests/load/idle_clients.py" 127.0.0.1 "$port" "$half" "$request"; }
    local ready count; read -r ready count <&"${IDLER[0]}"
    middle=$(rss_kb "$pid")
    echo "more $(( idle_count - half ))" >&"${IDLER[1]}"
    read -r ready count <&"${IDLER[0]}"
    after=$(rss_kb "$pid")
    idle[${name[$port]}]=$(( (after - before) * 1024 / count ))
    idle_last[${name[$port]}]=$(( (after - middle) * 1024 / (count - half) ))
    exec {IDLER[1]}>&-; wait "$IDLER_PID" 2>/dev/null || true
  done

  for port in $ORIGIN_PORT $HAPROXY_PORT $NGINX_PORT $PP_PORT; do wrk -t1 -c10 -d2s "http://127.0.0.1:$port/small" >/dev/null; done
  local first_connections=${CONNECTIONS%% *} loads=""
  for c in $CONNECTIONS; do loads="$loads small@$c"; done
  loads="$loads close@$first_connections $large@$first_connections"
  for round in $(seq 1 "$ROUNDS"); do
    for load in $loads; do
      local path=${load%@*} connections=${load#*@} header=()
      [ "$path" = close ] && { path=small; header=(-H "Connection: close"); }
      for port in $ORIGIN_PORT $HAPROXY_PORT $NGINX_PORT $PP_PORT; do
        local out r m p key before_tw before_cpu ticks requests
        before_tw=$(tw_count)
        before_cpu=$(cpu_ticks "${pid_of[$port]}")
        if [ "$path" = "$large" ]; then
          # Memory per active transfer: resident growth halfway through the run over the connections transferring.
          local rss_before rss_during
          rss_before=$(rss_kb "${pid_of[$port]}")
          wrk -t"$THREADS" -c"$connections" -d"$DURATION" --latency "http://127.0.0.1:$port/$path" > "$OUT/wrk-large.txt" &
          local wrk_pid=$!
          sleep "$(awk -v d="${DURATION%s}" 'BEGIN { print d / 2 }')"
          rss_during=$(rss_kb "${pid_of[$port]}")
          wait "$wrk_pid"
          out=$(cat "$OUT/wrk-large.txt")
          active[${name[$port]}]=$(( (rss_during - rss_before) * 1024 / connections ))
        else
          out=$(wrk -t"$THREADS" -c"$connections" -d"$DURATION" --latency "${header[@]}" "http://127.0.0.1:$port/$path")
        fi
        ticks=$(( $(cpu_ticks "${pid_of[$port]}") - before_cpu ))
        r=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
        requests=$(awk '/requests in/ { print $1 }' <<<"$out")
        m=$(awk '/Transfer\/sec/ { v=$2; if (v ~ /GB/) { sub(/GB/,"",v); v*=1024 } else if (v ~ /KB/) { sub(/KB/,"",v); v/=1024 } else { sub(/MB/,"",v) } print v }' <<<"$out")
        p=$(awk '/ 99%/ { print $2 }' <<<"$out")
        grep -E 'Non-2xx|Socket errors' <<<"$out" | sed "s/^/  ${name[$port]} $load: /" || true
        key="${name[$port]}:$load"
        tw[${name[$port]}]=$(( ${tw[${name[$port]}]:-0} + $(tw_count) - before_tw ))
        if [ -z "${rps[$key]:-}" ] || awk "BEGIN { exit !($r > ${rps[$key]}) }"; then
          rps[$key]=$r; mbs[$key]=$m; p99[$key]=$p
          cpu[$key]=$(awk "BEGIN { if ($requests > 0) printf \"%.0f\", $ticks * $TICK_US / $requests; else print \"-\" }")
        fi
      done
    done
  done
  cleanup

  echo
  echo "mode $mode, backend of $servers server(s): $THREADS wrk threads, $DURATION per run, best of $ROUNDS; $(nproc) cores; large = $large"
  printf '%-12s' contender
  for load in $loads; do printf ' | %27s' "${load%@*} @${load#*@} conns"; done
  printf ' | %12s | %10s | %8s | %11s\n' "idle B/conn" "last half" "TIME-WAIT" "B/transfer"
  for n in direct haproxy nginx pluginproxy; do
    printf '%-12s' "$n"
    for load in $loads; do
      local value=${rps[$n:$load]} base=${rps[haproxy:$load]}
      [ "${load%@*}" = "$large" ] && { value=${mbs[$n:$load]}; base=${mbs[haproxy:$load]}; }
      printf ' | %9s %7s %5s %4s' "$value" "${p99[$n:$load]}" "$(ratio "$value" "$base")" "${cpu[$n:$load]}"
    done
    printf ' | %12s | %10s | %8s | %11s\n' "${idle[$n]:--}" "${idle_last[$n]:--}" "${tw[$n]:--}" "${active[$n]:--}"
  done
  echo "(columns: req/s, or MB/s for $large; p99; ratio to HAProxy; the contender's own CPU microseconds per request (for direct:"
  echo " the origin's), whose inverse is requests per second per core. close: \"Connection: close\", a new client connection per"
  echo " request. idle B/conn: resident memory growth divided by $idle_count idle client connections, opened in two halves, each"
  echo " followed by ${SETTLE:-3} s of quiet; last half: the growth over the second half alone, the cost of one more idle"
  echo " connection once the process's fixed costs (a heap's young generation) are paid. TIME-WAIT: sockets left in TIME-WAIT"
  echo " on the servers' ports over that contender's runs, a sign of server connections not reused. B/transfer: resident"
  echo " growth halfway through the $large run over its $first_connections connections (from the memory the earlier loads left): what"
  echo " one active transfer holds beyond a small exchange)"
}

for mode in $MODES; do for servers in $SERVERS; do run_mode "$mode" "$servers"; done; done
