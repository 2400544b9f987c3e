#!/usr/bin/env bash
# The scripting benchmark (issue 4): req/s of an http listener running a 5-rule script against the same listener
# without it, and against the same five rules written as declarative [[listener.http_request]] rules (issue 14), in the
# same proxy process, on the same origin; and the time from start to the first accepted connection
# with 10 scripts, with an empty script cache (cold) and a filled one (cached). A benchmark, not a test.
#
#   bash tests/load/scripts.sh        (DURATION=10s ROUNDS=3)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/tests/load/out/scripts
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
ORIGIN_PORT=18180; PLAIN_PORT=18181; SCRIPTED_PORT=18182; START_PORT=18183; DECLARED_PORT=18184

command -v nginx >/dev/null && command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx wrk >/dev/null; }
rm -rf "$OUT"; mkdir -p "$OUT/www" "$OUT/nginx" "$OUT/rules"
printf 'hello world\n' > "$OUT/www/small"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
wait_port() { for _ in $(seq 1 300); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.01; done; return 1; }

dotnet build "$ROOT/host" -c Release -v q -nologo >/dev/null
cat > "$OUT/nginx.conf" <<CONF
worker_processes 2; daemon off; pid $OUT/nginx/pid; error_log $OUT/nginx/error.log warn;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 10000000; keepalive_timeout 300s;
  client_body_temp_path $OUT/nginx; proxy_temp_path $OUT/nginx; fastcgi_temp_path $OUT/nginx; uwsgi_temp_path $OUT/nginx; scgi_temp_path $OUT/nginx;
  server { listen 127.0.0.1:$ORIGIN_PORT; root $OUT/www; } }
CONF
nginx -c "$OUT/nginx.conf" & pids+=($!)

cat > "$OUT/bench.toml" <<CONF
[global]
plugins = "$ROOT/plugins/bin"
scripts = "$ROOT/tests/load/scripts"
script_cache = "$OUT/cache"

[[listener]]
name = "plain"
bind = ["127.0.0.1:$PLAIN_PORT"]
supervisor = "http"
backend = "app"
access_log = false

[[listener]]
name = "scripted"
bind = ["127.0.0.1:$SCRIPTED_PORT"]
supervisor = "http"
backend = "app"
access_log = false
request_analyzers = ["five-rules.csx"]

[[listener]]
name = "declared"
bind = ["127.0.0.1:$DECLARED_PORT"]
supervisor = "http"
backend = "app"
access_log = false

# The five rules of five-rules.csx, declared.
[[listener.http_request]]
if = { src = ["192.0.2.0/24", "198.51.100.0/24"] }
deny = 403

[[listener.http_request]]
if = { method = "TRACE" }
deny = 405

[[listener.http_request]]
if = { header = { name = "X-Canary", value = "1" } }
set_var = { name = "canary", value = "true" }

[[listener.http_request]]
rewrite_path = { from_prefix = "/legacy/", to = "/" }

[[listener.http_request]]
set_header = { name = "X-Proxy", value = "pluginproxy" }

[[backend]]
name = "app"
servers = [{ name = "origin", address = "127.0.0.1:$ORIGIN_PORT" }]
CONF
PLUGINPROXY_LOG_LEVEL=Warning dotnet "$ROOT/host/bin/Release/net10.0/pluginproxy.dll" run --config "$OUT/bench.toml" >"$OUT/bench.log" 2>&1 & pids+=($!)
wait_port $ORIGIN_PORT; wait_port $PLAIN_PORT; wait_port $SCRIPTED_PORT; wait_port $DECLARED_PORT
for port in $PLAIN_PORT $SCRIPTED_PORT $DECLARED_PORT; do wrk -t2 -c50 -d3s "http://127.0.0.1:$port/small" >/dev/null; done
declare -A best
for round in $(seq 1 "$ROUNDS"); do
  for port in $PLAIN_PORT $SCRIPTED_PORT $DECLARED_PORT; do
    rps=$(wrk -t2 -c50 -d"$DURATION" "http://127.0.0.1:$port/small" | awk '/Requests\/sec/ { print $2 }')
    if [ -z "${best[$port]:-}" ] || awk "BEGIN { exit !($rps > ${best[$port]}) }"; then best[$port]=$rps; fi
  done
done
cleanup; pids=()

# Start-up with 10 scripts: time from launching the process to the first accepted connection.
for i in $(seq 1 10); do
  cat > "$OUT/rules/rule$i.csx" <<RULE
// rule $i
if (Request.Headers["X-Rule-$i"] is { } value) { Request.Headers.Set("X-Seen-$i", value); }
if (Request.Path.StartsWith("/deny-$i")) { Deny(); }
RULE
done
analyzers=$(for i in $(seq 1 10); do printf '"rule%s.csx", ' "$i"; done)
cat > "$OUT/start.toml" <<CONF
[global]
plugins = "$ROOT/plugins/bin"
scripts = "$OUT/rules"
script_cache = "$OUT/start-cache"

[[listener]]
name = "web"
bind = ["127.0.0.1:$START_PORT"]
supervisor = "http"
backend = "app"
request_analyzers = [${analyzers%, }]

[[backend]]
name = "app"
servers = [{ name = "origin", address = "127.0.0.1:$ORIGIN_PORT" }]
CONF
startup() { # prints milliseconds from launch to the first accepted connection
  local begin end pid
  begin=$(date +%s%N)
  PLUGINPROXY_LOG_LEVEL=Warning dotnet "$ROOT/host/bin/Release/net10.0/pluginproxy.dll" run --config "$OUT/start.toml" >>"$OUT/start.log" 2>&1 & pid=$!
  wait_port $START_PORT || { echo "never started" >&2; cat "$OUT/start.log" >&2; exit 1; }
  end=$(date +%s%N)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo $(( (end - begin) / 1000000 ))
}
rm -rf "$OUT/start-cache"
cold=$(startup)
cached1=$(startup); cached2=$(startup); cached3=$(startup)
cached=$(printf '%s\n' "$cached1" "$cached2" "$cached3" | sort -n | head -1)

echo
echo "scripting benchmark: $DURATION per run, best of $ROUNDS, 50 connections, 2 wrk threads; $(nproc) cores"
printf '%-28s %12s\n' "listener" "req/s"
printf '%-28s %12s\n' "http, no script" "${best[$PLAIN_PORT]}"
printf '%-28s %12s\n' "http, 5-rule script" "${best[$SCRIPTED_PORT]}"
printf '%-28s %12s\n' "http, 5 declarative rules" "${best[$DECLARED_PORT]}"
awk "BEGIN { printf \"script cost: %.1f%% of req/s\\n\", (1 - ${best[$SCRIPTED_PORT]} / ${best[$PLAIN_PORT]}) * 100 }"
awk "BEGIN { printf \"declarative rules cost: %.1f%% of req/s\\n\", (1 - ${best[$DECLARED_PORT]} / ${best[$PLAIN_PORT]}) * 100 }"
echo "start-up to first accepted connection with 10 scripts: cold cache ${cold} ms, cached ${cached} ms (best of 3)"
