#!/usr/bin/env bash
# What a shared rate limit costs (issue 15): req/s through a proxy running rate_limit on every request with its limit
# shared through a [[store]] (a redis-server this script starts on a free port), against the same proxy with the same
# limit counted locally (a token bucket). The limit is high enough never to refuse, so both answer every request with
# the origin's 200; the two proxies are separate processes with the same configuration but for `store`, measured in
# turn (alternating which goes first), each idle while the other runs. Prints the mean req/s of each and shared/local
# (the issue asks for >= 0.95).
# A benchmark, not a test: CI does not run it.
#   C=50 N=3 D=8s bash tests/load/store.sh
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=/tmp/store-bench; rm -rf $OUT; mkdir -p $OUT
. tests/load/lib.sh
need_nginx_and_wrk
command -v redis-server >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
C=${C:-50}; D=${D:-8s}; N=${N:-3}
ORIGIN_PORT=18380; LOCAL_PORT=18381; SHARED_PORT=18382
ulimit -n "$(ulimit -Hn)"

# A free port for redis: the kernel picks one, and it is released just before redis binds it.
REDIS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no --dir $OUT > $OUT/redis.log 2>&1 & pids+=($!)
start_origin $OUT/origin $ORIGIN_PORT

# The host and the rate_limit plugin in Release; the plugin into this run's own plugins folder.
dotnet build "$ROOT/host" -c Release -v q -nologo > /dev/null || exit 1
dotnet build "$ROOT/plugins/RateLimit" -c Release -v q -nologo -p:PluginsOutputRoot=$OUT/plugins/ > /dev/null || exit 1

# proxy_config NAME PORT LIMIT [STORE_TABLE]
proxy_config() {
  cat > $OUT/$1.toml <<CONF
[global]
plugins = "$OUT/plugins"
[defaults]
timeout_client = "300s"
timeout_server = "300s"
timeout_keep_alive = "300s"
[[listener]]
name = "web"
bind = ["127.0.0.1:$2"]
supervisor = "http"
accept = ["nodelay"]
backend = "app"
access_log = false
request_analyzers = ["rate_limit"]
options = { rate_limit = $3 }
[[backend]]
name = "app"
servers = [{ name = "origin", address = "127.0.0.1:$ORIGIN_PORT" }]
${4:-}
CONF
}
proxy_config local $LOCAL_PORT '{ requests = 100000000, per = "1s" }'
proxy_config shared $SHARED_PORT '{ requests = 100000000, per = "1s", store = "shared" }' "[[store]]
name = \"shared\"
kind = \"redis\"
address = \"127.0.0.1:$REDIS_PORT\"
prefix = \"bench:\""

for name in local shared; do
  PLUGINPROXY_LOG_LEVEL=Warning dotnet $ROOT/host/bin/Release/net10.0/pluginproxy.dll run --config $OUT/$name.toml > $OUT/$name.log 2>&1 & pids+=($!)
done
for port in $ORIGIN_PORT $LOCAL_PORT $SHARED_PORT; do
  wait_port $port || { sleep 3; wait_port $port || { tail -n 20 $OUT/*.log; exit 1; }; }
done

declare -A total
for name in local shared; do total[$name]=0; done
# Warm up both (JIT, connections, the store's first exchanges).
for port in $LOCAL_PORT $SHARED_PORT; do wrk -t2 -c$C -d2s http://127.0.0.1:$port/small > /dev/null; done
for i in $(seq 1 $N); do
  # Alternate which goes first, so that a change in the machine's load does not always favour the same one.
  order="local shared"; [ $((i % 2)) = 0 ] && order="shared local"
  for name in $order; do
    port=$LOCAL_PORT; [ $name = shared ] && port=$SHARED_PORT
    out=$(wrk -t2 -c$C -d$D http://127.0.0.1:$port/small)
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
    echo "round $i $name rps=$rps ${non2xx:+non-2xx=$non2xx}"
    total[$name]=$(awk "BEGIN {print ${total[$name]} + $rps}")
  done
done
# The store must have been in use: the client's counter key is in redis.
keys=$(redis-cli -p "$REDIS_PORT" --scan --pattern 'bench:rl:*' 2>/dev/null | head -3 | tr '\n' ' ')
echo "redis keys: ${keys:-none (redis-cli missing or the store was not used)}"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "C=$C local $(awk "BEGIN {printf \"%.0f\", ${total[local]}/$N}") req/s, shared $(awk "BEGIN {printf \"%.0f\", ${total[shared]}/$N}") req/s:" \
  "shared/local $(awk "BEGIN {printf \"%.3f\", ${total[shared]}/${total[local]}}")"
