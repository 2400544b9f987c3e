#!/usr/bin/env bash
# What traffic management costs: one PluginProxy build, two listeners in front of the same 4 servers (one nginx origin
# on 4 ports), wrk alternating between them with the same load:
#   plain   - round robin;
#   managed - servers with maxconn (requests queue), balance = "hash" on a header the wrk script varies per request
#             (1,000 users), cookie persistence (half the requests carry a server's cookie), a stick table tracking
#             every request by source with stick-table persistence.
# Prints req/s and proxy CPU per request of each, and managed/plain. A benchmark, not a test: CI does not run it.
#   C="50 400" N=4 D=6s MAXCONN=10 bash tests/load/traffic.sh
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=/tmp/traffic-bench; rm -rf $OUT; mkdir -p $OUT
. tests/load/lib.sh
need_nginx_and_wrk
C=${C:-50 400}; D=${D:-6s}; N=${N:-4}; MAXCONN=${MAXCONN:-10}
ulimit -n "$(ulimit -Hn)"
mkdir -p $OUT/www $OUT/ngx; printf 'hello world\n' > $OUT/www/small
cat > $OUT/origin.conf <<CONF
worker_processes 2; daemon off; pid $OUT/ngx/nginx.pid; error_log $OUT/ngx/error.log warn;
events { worker_connections 8000; }
http { access_log off; client_body_temp_path $OUT/ngx; proxy_temp_path $OUT/ngx; fastcgi_temp_path $OUT/ngx; uwsgi_temp_path $OUT/ngx; scgi_temp_path $OUT/ngx;
  keepalive_requests 10000000; keepalive_timeout 300s;
  server { listen 127.0.0.1:18280 backlog=4096; listen 127.0.0.1:18281 backlog=4096; listen 127.0.0.1:18282 backlog=4096; listen 127.0.0.1:18283 backlog=4096; root $OUT/www; } }
CONF
nginx -c $OUT/origin.conf & pids+=($!)
servers() { local s="" i; for i in 0 1 2 3; do s="$s{ name = \"o$i\", address = \"127.0.0.1:1828$i\"$1 }, "; done; echo "[${s%, }]"; }
cat > $OUT/pp.toml <<CONF
[global]
plugins = "$ROOT/plugins/bin"
[defaults]
timeout_client = "300s"
timeout_server = "300s"
timeout_keep_alive = "300s"
timeout_queue = "30s"
[[stick_table]]
name = "clients"
key = "source"
size = 100000
expire = "10m"
[[listener]]
name = "plain"
bind = ["127.0.0.1:18290"]
supervisor = "http"
accept = ["nodelay"]
backend = "plain"
access_log = false
[[listener]]
name = "managed"
bind = ["127.0.0.1:18291"]
supervisor = "http"
accept = ["nodelay"]
backend = "managed"
access_log = false
track = ["clients"]
[[backend]]
name = "plain"
servers = $(servers "")
[[backend]]
name = "managed"
balance = "hash"
hash_key = "header:X-User"
cookie = "SRV"
servers = $(servers ", maxconn = $MAXCONN")
CONF
# 1,000 users; every other request carries a persistence cookie naming one of the servers.
cat > $OUT/users.lua <<'LUA'
local n = 0
request = function()
  n = n + 1
  local headers = { ["X-User"] = "user-" .. (n % 1000) }
  if n % 2 == 0 then headers["Cookie"] = "SRV=o" .. (n % 4) end
  return wrk.format("GET", "/small", headers)
end
LUA
dotnet build "$ROOT/host" -c Release -v q -nologo > /dev/null || exit 1
PLUGINPROXY_LOG_LEVEL=Warning dotnet $ROOT/host/bin/Release/net10.0/pluginproxy.dll run --config $OUT/pp.toml > $OUT/pp.log 2>&1 & pids+=($!)
pp=$!
wait_port 18290 || { sleep 3; wait_port 18290 || { cat $OUT/pp.log; exit 1; }; }
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
declare -A total_rps total_cpu
for c in $C; do
  for l in plain managed; do total_rps[$l]=0; total_cpu[$l]=0; done
  for port in 18290 18291; do wrk -t2 -c$c -d2s -s $OUT/users.lua http://127.0.0.1:$port/small > /dev/null; done
  for i in $(seq 1 $N); do
    for l in plain managed; do
      port=18290; [ $l = managed ] && port=18291
      c0=$(cpu $pp)
      out=$(wrk -t2 -c$c -d$D -s $OUT/users.lua http://127.0.0.1:$port/small)
      c1=$(cpu $pp)
      reqs=$(echo "$out" | awk '/requests in/ {print $1}')
      rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
      non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
      us=$(awk "BEGIN {printf \"%.1f\", ($c1-$c0)*10000/$reqs}")
      echo "C=$c $l rps=$rps cpu_us_per_req=$us ${non2xx:+non-2xx=$non2xx}"
      total_rps[$l]=$(awk "BEGIN {print ${total_rps[$l]} + $rps}")
      total_cpu[$l]=$(awk "BEGIN {print ${total_cpu[$l]} + $us}")
    done
  done
  echo "C=$c mean plain $(awk "BEGIN {printf \"%.0f\", ${total_rps[plain]}/$N}") req/s, managed $(awk "BEGIN {printf \"%.0f\", ${total_rps[managed]}/$N}") req/s:" \
    "managed/plain $(awk "BEGIN {printf \"%.3f\", ${total_rps[managed]}/${total_rps[plain]}}") req/s," \
    "CPU per request $(awk "BEGIN {printf \"%.3f\", ${total_cpu[managed]}/${total_cpu[plain]}}")"
done
