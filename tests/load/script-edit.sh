#!/usr/bin/env bash
# Edit to live (issue 9, item 7): how long a rule script edited on disk takes to serve, with hot_reload = true.
# A proxy (Release build) with one rule script in front of nginx; a probe connection asks for a version header the rule
# sets. The script cache is warm at start (as after any earlier run), so the first edit is the process's first compile.
# The proxy's output goes to a file beside the script (as when the scripts live next to proxy.toml and its log).
# Four phases, each editing the script EDITS times in place and EDITS times by renaming a temporary file over it:
#   load        50 keep-alive connections of wrk (a separate process) for the whole phase;
#   load+reload the same load, and a configuration reload (proxy.toml rewritten, then SIGHUP) after every edit;
#   load+log    the same load with the access log on: a line per request lands in the log beside the script;
#   idle        no load, 5 edits each, for comparison.
# Prints min/median/p95/max edit-to-live and how many edits took over 1 s or never went live. A benchmark, not a test.
#
#   bash tests/load/script-edit.sh        (EDITS=20 CONNECTIONS=50)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/tests/load/out/script-edit
EDITS=${EDITS:-20}
CONNECTIONS=${CONNECTIONS:-50}
ORIGIN_PORT=18200; PROXY_PORT=18201

source tests/load/lib.sh
need_nginx_and_wrk
rm -rf "$OUT"; mkdir -p "$OUT/scripts"

dotnet build "$ROOT/host" -c Release -v q -nologo >/dev/null
start_origin "$OUT" $ORIGIN_PORT

printf 'Response.Headers.Set("X-Rule-Version", "0");\n' > "$OUT/scripts/stamp.csx"
cat > "$OUT/proxy.toml" <<CONF
[global]
plugins = "$ROOT/plugins/bin"
scripts = "$OUT/scripts"
script_cache = "$OUT/cache"
hot_reload = true

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
# As in production after the first start: the script cache is warm, so the first edit is the process's first compile.
dotnet "$ROOT/host/bin/Release/net10.0/pluginproxy.dll" check --config "$OUT/proxy.toml" >/dev/null
PLUGINPROXY_LOG_LEVEL=${PLUGINPROXY_LOG_LEVEL:-Information} dotnet "$ROOT/host/bin/Release/net10.0/pluginproxy.dll" run --config "$OUT/proxy.toml" >"$OUT/scripts/proxy.log" 2>&1 & proxy=$!; pids+=($proxy)
wait_port $ORIGIN_PORT; wait_port $PROXY_PORT

echo "script edit to live: $EDITS edits per way of writing per phase; load: wrk -t2 -c$CONNECTIONS; $(nproc) cores"
status=0
wrk -t2 -c"$CONNECTIONS" -d3600s "http://127.0.0.1:$PROXY_PORT/small" >"$OUT/wrk-load.txt" 2>&1 & load=$!; pids+=($load)
sleep 2
python3 "$ROOT/tests/load/script_edit.py" $PROXY_PORT "$OUT/scripts/stamp.csx" "$EDITS" --label "load        " || status=$?
python3 "$ROOT/tests/load/script_edit.py" $PROXY_PORT "$OUT/scripts/stamp.csx" "$EDITS" --label "load+reload " --pid $proxy --config "$OUT/proxy.toml" || status=$?
sed -i 's/^access_log = false/access_log = true/' "$OUT/proxy.toml"; kill -HUP $proxy; sleep 1
python3 "$ROOT/tests/load/script_edit.py" $PROXY_PORT "$OUT/scripts/stamp.csx" "$EDITS" --label "load+log    " || status=$?
kill -INT $load 2>/dev/null || true; wait $load 2>/dev/null || true
python3 "$ROOT/tests/load/script_edit.py" $PROXY_PORT "$OUT/scripts/stamp.csx" 5 --label "idle        " || status=$?
log="$OUT/scripts/proxy.log"
echo "proxy log: $(grep -c 'Script .* reloaded' "$log" || true) script reloads logged, $(grep -c 'Configuration reloaded' "$log" || true) configuration reloads," \
     "$(grep -c -E ' (error|warn) ' "$log" || true) warnings or errors"
exit $status
