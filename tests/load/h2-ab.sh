#!/usr/bin/env bash
# A/B of PluginProxy builds or settings over HTTP/2 (h2c), beside HAProxy: every contender runs at once in front of the
# same nginx origin (two ports, round robin), and h2load alternates between them round after round, so that a noisy
# machine slows all of them alike. Prints each round's req/s and CPU per request, then each contender's best round and
# its ratio to HAProxy's best. A benchmark, not a test; the machine's noise between minutes is larger than most changes,
# so compare contenders of the same run only.
#
#   bash tests/load/h2-ab.sh "before=/path/to/tree" "after=/path/to/other/tree"
#   R=5 C=400 bash tests/load/h2-ab.sh "one=$PWD:DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT=1" "two=$PWD"
#
# Each argument is label=tree[:VAR=value,VAR=value] (the environment of that contender; RESIDENT=1 puts
# `resident_plugins = ["PluginProxy.Http"]` in its configuration instead); each tree must be built with
# `dotnet build host -c Release` (a `dotnet test` afterwards puts Debug plugins in plugins/bin: build Release again).
# C clients (50) × 10 streams, D seconds per run (5), R rounds (3); LOG=1 adds h2load's per-request log and WARM=1 its
# one-second warm-up, as tests/load/h2.sh does.
set -u
OUT=/tmp/qabh2; rm -rf $OUT; mkdir -p $OUT/www $OUT/ngx; printf 'hello world\n' > $OUT/www/small
C=${C:-50}; D=${D:-5}; R=${R:-3}
cat > $OUT/origin.conf <<CONF
worker_processes 2; daemon off; pid $OUT/ngx/nginx.pid; error_log $OUT/ngx/error.log warn;
events { worker_connections 10000; }
http { access_log off; client_body_temp_path $OUT/ngx; proxy_temp_path $OUT/ngx; fastcgi_temp_path $OUT/ngx; uwsgi_temp_path $OUT/ngx; scgi_temp_path $OUT/ngx;
  keepalive_requests 10000000; keepalive_timeout 300s;
  server { listen 127.0.0.1:18180 backlog=4096; listen 127.0.0.1:18184 backlog=4096; root $OUT/www; default_type application/octet-stream; } }
CONF
cat > $OUT/hap.cfg <<CONF
global
  maxconn 9000
  nbthread 2
defaults
  mode http
  option http-keep-alive
  http-reuse safe
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s
frontend f
  bind 127.0.0.1:18191 proto h2
  default_backend b
backend b
  server o1 127.0.0.1:18180
  server o2 127.0.0.1:18184
CONF
ulimit -n 65536
pids=(); trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null; done; wait 2>/dev/null' EXIT
nginx -c $OUT/origin.conf & pids+=($!)
haproxy -f $OUT/hap.cfg -db > $OUT/hap.log 2>&1 & hp=$!; pids+=($hp)
declare -A port pidof; names="hap"; port[hap]=18191; pidof[hap]=$hp
p=18200
for spec in "$@"; do
  label=${spec%%=*}; rest=${spec#*=}; tree=${rest%%:*}; envs=${rest#*:}; [ "$envs" = "$rest" ] && envs=""
  cat > $OUT/$label.toml <<CONF
[global]
plugins = "$tree/plugins/bin"
admin = "127.0.0.1:$((p+50))"
$([[ ",$envs," == *,RESIDENT=1,* ]] && echo 'resident_plugins = ["PluginProxy.Http"]')
[defaults]
timeout_client = "300s"
timeout_server = "300s"
timeout_keep_alive = "300s"
[[listener]]
name = "front"
bind = ["127.0.0.1:$p"]
supervisor = "http"
accept = ["nodelay"]
maxconn = 9000
backend = "app"
access_log = false
[[backend]]
name = "app"
servers = [{ name = "o1", address = "127.0.0.1:18180" }, { name = "o2", address = "127.0.0.1:18184" }]
CONF
  env ${envs//,/ } PLUGINPROXY_LOG_LEVEL=Warning dotnet $tree/host/bin/Release/net10.0/pluginproxy.dll run --config $OUT/$label.toml > $OUT/$label.log 2>&1 & pidof[$label]=$!; pids+=($!)
  port[$label]=$p; names="$names $label"; p=$((p+1))
done
sleep 4
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
for n in $names; do h2load -t1 -c10 -m10 -D 2 http://127.0.0.1:${port[$n]}/small > /dev/null 2>&1; done
declare -A best bcpu
for r in $(seq 1 $R); do
  for n in $names; do
    b=$(cpu ${pidof[$n]})
    rps=$(h2load -t2 -c$C -m10 -D $D ${LOG:+--log-file=$OUT/req.log} ${WARM:+--warm-up-time=1} http://127.0.0.1:${port[$n]}/small 2>/dev/null | awk '/finished in/ { sub(/,$/,"",$4); print $4 }')
    t=$(( $(cpu ${pidof[$n]}) - b ))
    us=$(awk -v t=$t -v r=$rps -v d=$D 'BEGIN { printf "%.1f", t*10000/(r*d) }')
    echo "round $r $n $rps req/s ${us} us/req"
    if [ -z "${best[$n]:-}" ] || awk "BEGIN { exit !($rps > ${best[$n]}) }"; then best[$n]=$rps; bcpu[$n]=$us; fi
  done
done
for n in $names; do awk -v n=$n -v r=${best[$n]} -v h=${best[hap]} -v u=${bcpu[$n]} 'BEGIN { printf "%-8s best %9.0f req/s  ratio %.2f  cpu %s us/req\n", n, r, r/h, u }'; done
