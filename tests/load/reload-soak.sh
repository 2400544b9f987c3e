#!/usr/bin/env bash
# Reload soak (issue 9, items 7 and 8): an http listener with a rule script serves 50 keep-alive connections of wrk (a
# separate process) plus a client that opens a new connection every 50 ms, while every INTERVAL seconds one reload
# happens, in turn: the script edited, proxy.toml changed and SIGHUP sent, a new build of the http plugin copied in.
# Prints edit-to-live of the script edits, failed requests, and resident memory after warm-up and at the end (the
# samples land in tests/load/out/reload-soak/memory.csv). Stops by itself after DURATION seconds; 127.0.0.1 only.
#
#   bash tests/load/reload-soak.sh        (DURATION=3600 INTERVAL=10 CONNECTIONS=50)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/tests/load/out/reload-soak
DURATION=${DURATION:-3600}
INTERVAL=${INTERVAL:-10}
CONNECTIONS=${CONNECTIONS:-50}
ORIGIN_PORT=18210; PROXY_PORT=18211; ADMIN_PORT=18212

source tests/load/lib.sh
need_nginx_and_wrk
rm -rf "$OUT"; mkdir -p "$OUT/scripts" "$OUT/plugins" "$OUT/builds"

dotnet build "$ROOT/host" -c Release -v q -nologo >/dev/null
# Two builds of the http plugin, copied over the running one alternately (a copy gives the files new times: a new build).
for n in 1 2; do
  dotnet build "$ROOT/plugins/Http" -c Release -v q -nologo -p:Version="1.0.$n" -p:PluginsOutputRoot="$OUT/builds/v$n/" >/dev/null
done
cp -r "$OUT/builds/v1/PluginProxy.Http" "$OUT/plugins/"
# The soak runs a copy of the host and of the built-in plugins: building in the clone meanwhile changes neither.
cp -r "$ROOT/host/bin/Release/net10.0" "$OUT/host"; cp -r "$ROOT/plugins/bin" "$OUT/builtin"

start_origin "$OUT" $ORIGIN_PORT

printf 'Response.Headers.Set("X-Rule-Version", "0");\n' > "$OUT/scripts/stamp.csx"
cat > "$OUT/proxy.toml" <<CONF
[global]
plugins = "$OUT/plugins"
scripts = "$OUT/scripts"
script_cache = "$OUT/cache"
hot_reload = true
admin = "127.0.0.1:$ADMIN_PORT"

[defaults]
timeout_server = "30s"

[[listener]]
name = "web"
bind = ["127.0.0.1:$PROXY_PORT"]
supervisor = "http"
backend = "app"
access_log = false
response_analyzers = ["stamp.csx"]

[[backend]]
name = "app"
servers = [{ name = "origin", address = "127.0.0.1:$ORIGIN_PORT" }]
CONF
PLUGINPROXY_BUILTIN_PLUGINS="$OUT/builtin" PLUGINPROXY_LOG_LEVEL=${PLUGINPROXY_LOG_LEVEL:-Information} dotnet "$OUT/host/pluginproxy.dll" run --config "$OUT/proxy.toml" >"$OUT/proxy.log" 2>&1 & proxy=$!; pids+=($proxy)
wait_port $ORIGIN_PORT; wait_port $PROXY_PORT

echo "reload soak: ${DURATION} s, a reload every ${INTERVAL} s (script edit, SIGHUP with a changed proxy.toml, new http plugin build, in turn);" \
     "load: wrk -t2 -c$CONNECTIONS and a new connection every 50 ms; $(nproc) cores"
wrk -t2 -c"$CONNECTIONS" -d"$((DURATION + 5))s" --latency "http://127.0.0.1:$PROXY_PORT/small" >"$OUT/wrk.txt" 2>&1 & load=$!; pids+=($load)
status=0
python3 "$ROOT/tests/load/reload_soak.py" $PROXY_PORT $ADMIN_PORT $proxy "$OUT/scripts/stamp.csx" "$OUT/proxy.toml" "$OUT/plugins" "$OUT/builds" "$DURATION" "$INTERVAL" || status=$?
kill -INT $load 2>/dev/null || true; wait $load 2>/dev/null || true
errors=$(grep -E 'Socket errors|Non-2xx' "$OUT/wrk.txt" | xargs || true)
echo "load: $(grep -E 'requests in' "$OUT/wrk.txt" | xargs), latency p99 $(awk '/^ +99%/ { print $2 }' "$OUT/wrk.txt"); errors: ${errors:-none}"
echo "proxy log: $(grep -c 'Script .* reloaded' "$OUT/proxy.log" || true) script reloads, $(grep -c 'Configuration reloaded' "$OUT/proxy.log" || true) configuration reloads," \
     "$(grep -c 'Plugin PluginProxy.Http version .* loaded' "$OUT/proxy.log" || true) http plugin versions loaded, $(grep -c 'Plugin PluginProxy.Http version .* collected' "$OUT/proxy.log" || true) collected," \
     "$(grep -c 'still in memory' "$OUT/proxy.log" || true) leaks reported, $(grep -c -E ' (error|warn) ' "$OUT/proxy.log" || true) warnings or errors"
exit $status
