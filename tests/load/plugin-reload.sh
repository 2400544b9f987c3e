#!/usr/bin/env bash
# Plugin hot reload under load (issues 5 and 9): an http listener whose response analyzer comes from the VersionStamp
# plugin serves 50 keep-alive connections of wrk (a separate process) for DURATION seconds without swaps, then for
# DURATION seconds while the plugin's files are replaced with a new build SWAPS times. Prints the load's req/s and
# latency (p50, p99, max) in both phases, failed requests (the bar is 0), the time from each file change to the first
# response from the new version (seen by a probe connection), and whether every replaced version was unloaded and
# collected, and how many full collections the proxy ran. A benchmark, not a test.
#
#   bash tests/load/plugin-reload.sh        (SWAPS=10 DURATION=15 CONNECTIONS=50)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/tests/load/out/plugin-reload
SWAPS=${SWAPS:-10}
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-50}
ORIGIN_PORT=18190; PROXY_PORT=18191; ADMIN_PORT=18192

source tests/load/lib.sh
need_nginx_and_wrk
# The builds are kept between runs (keyed by the plugin's sources): building them is most of a run's time.
BUILDS=$ROOT/tests/load/out/plugin-reload-builds/$(cat tests/load/plugins/VersionStamp/*.cs tests/load/plugins/VersionStamp/*.csproj | sha1sum | cut -c1-12)
rm -rf "$OUT"; mkdir -p "$OUT/plugins" "$BUILDS"

dotnet build "$ROOT/host" -c Release -v q -nologo >/dev/null
# Every build first, so that compiling does not compete with the load.
for n in $(seq 1 $((SWAPS + 1))); do
  [ -f "$BUILDS/v$n/VersionStamp/VersionStamp.dll" ] ||
    dotnet build "$ROOT/tests/load/plugins/VersionStamp" -c Release -v q -nologo -p:Version="1.0.$n" -p:StampOut="$BUILDS/v$n/VersionStamp" >/dev/null
done
cp -r "$BUILDS/v1/VersionStamp" "$OUT/plugins/"

start_origin "$OUT" $ORIGIN_PORT

cat > "$OUT/proxy.toml" <<CONF
[global]
plugins = "$OUT/plugins"
hot_reload = true
admin = "127.0.0.1:$ADMIN_PORT"

[[listener]]
name = "web"
bind = ["127.0.0.1:$PROXY_PORT"]
supervisor = "http"
backend = "app"
access_log = false
response_analyzers = ["version_stamp"]

[[backend]]
name = "app"
servers = [{ name = "origin", address = "127.0.0.1:$ORIGIN_PORT" }]
CONF
PLUGINPROXY_LOG_LEVEL=${PLUGINPROXY_LOG_LEVEL:-Information} dotnet "$ROOT/host/bin/Release/net10.0/pluginproxy.dll" run --config "$OUT/proxy.toml" >"$OUT/proxy.log" 2>&1 & pids+=($!)
wait_port $ORIGIN_PORT; wait_port $PROXY_PORT

gen2() { curl -s "http://127.0.0.1:$ADMIN_PORT/api/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["memory"]["gc_collections"][2])'; }
latency() { # req/s, p50, p99, max and errors of a wrk --latency report
  awk '/Requests\/sec/ { rps = $2 } /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 } /^ +Latency +[0-9]/ { max = $4 }
       /Socket errors|Non-2xx/ { errors = errors " " $0 } END { printf "%8.0f req/s, latency p50 %s, p99 %s, max %s%s\n", rps, p50, p99, max, errors ? ";" errors : "" }' "$1"
}

echo "plugin reload under load: wrk -t2 -c$CONNECTIONS for ${DURATION} s without swaps, then ${DURATION} s with $SWAPS swaps; $(nproc) cores"
wrk -t2 -c"$CONNECTIONS" -d3s "http://127.0.0.1:$PROXY_PORT/small" >/dev/null
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "http://127.0.0.1:$PROXY_PORT/small" >"$OUT/wrk-steady.txt"
before=$(gen2)
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "http://127.0.0.1:$PROXY_PORT/small" >"$OUT/wrk-swaps.txt" & load=$!
status=0
python3 "$ROOT/tests/load/plugin_reload.py" "$PROXY_PORT" "$OUT/plugins" "$BUILDS" "$SWAPS" 1 "$DURATION" || status=$?
wait $load
after=$(gen2)
echo "without swaps: $(latency "$OUT/wrk-steady.txt")"
echo "with swaps:    $(latency "$OUT/wrk-swaps.txt")"

# Every replaced version should be unloaded and collected once its last stream ended.
for _ in $(seq 1 100); do
  [ "$(grep -c 'Plugin VersionStamp version .* collected' "$OUT/proxy.log" || true)" -ge "$SWAPS" ] && break
  sleep 0.1
done
echo "replaced versions collected: $(grep -c 'Plugin VersionStamp version .* collected' "$OUT/proxy.log" || true)/$SWAPS," \
     "refused: $(grep -c 'Plugin refused' "$OUT/proxy.log" || true), leaks reported: $(grep -c 'still in memory' "$OUT/proxy.log" || true);" \
     "full collections during the swap phase: $((after - before))"
exit $status
