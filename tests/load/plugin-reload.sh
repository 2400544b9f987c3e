#!/usr/bin/env bash
# Plugin hot reload under load (issue 5): an http listener whose response analyzer comes from the VersionStamp plugin
# serves a bounded keep-alive load from loopback clients while the plugin's files are replaced with a new build,
# SWAPS times. Prints requests sent, failed (the bar is 0), the time from each file change to the first response
# from the new version, and whether every replaced version was unloaded and collected. A benchmark, not a test.
#
#   bash tests/load/plugin-reload.sh        (SWAPS=10 CONNECTIONS=8)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/tests/load/out/plugin-reload
SWAPS=${SWAPS:-10}
CONNECTIONS=${CONNECTIONS:-8}
ORIGIN_PORT=18190; PROXY_PORT=18191

command -v nginx >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; }
rm -rf "$OUT"; mkdir -p "$OUT/www" "$OUT/nginx" "$OUT/plugins" "$OUT/builds"
printf 'hello world\n' > "$OUT/www/small"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
wait_port() { for _ in $(seq 1 300); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.01; done; return 1; }

dotnet build "$ROOT/host" -c Release -v q -nologo >/dev/null
# Every build first, so that compiling does not compete with the load.
for n in $(seq 1 $((SWAPS + 1))); do
  dotnet build "$ROOT/tests/load/plugins/VersionStamp" -c Release -v q -nologo -p:Version="1.0.$n" -p:StampOut="$OUT/builds/v$n/VersionStamp" >/dev/null
done
cp -r "$OUT/builds/v1/VersionStamp" "$OUT/plugins/"

cat > "$OUT/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $OUT/nginx/pid; error_log $OUT/nginx/error.log warn;
events { worker_connections 1024; }
http { access_log off; keepalive_requests 10000000; keepalive_timeout 300s;
  client_body_temp_path $OUT/nginx; proxy_temp_path $OUT/nginx; fastcgi_temp_path $OUT/nginx; uwsgi_temp_path $OUT/nginx; scgi_temp_path $OUT/nginx;
  server { listen 127.0.0.1:$ORIGIN_PORT; root $OUT/www; } }
CONF
nginx -c "$OUT/nginx.conf" & pids+=($!)

cat > "$OUT/proxy.toml" <<CONF
[global]
plugins = "$OUT/plugins"
hot_reload = true

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

echo "plugin reload under load: $SWAPS swaps, $CONNECTIONS keep-alive connections from one python client process; $(nproc) cores"
status=0
python3 "$ROOT/tests/load/plugin_reload.py" "$PROXY_PORT" "$OUT/plugins" "$OUT/builds" "$SWAPS" "$CONNECTIONS" || status=$?

# Every replaced version should be unloaded and collected once its last stream ended.
for _ in $(seq 1 100); do
  [ "$(grep -c 'Plugin VersionStamp version .* collected' "$OUT/proxy.log" || true)" -ge "$SWAPS" ] && break
  sleep 0.1
done
echo "replaced versions collected: $(grep -c 'Plugin VersionStamp version .* collected' "$OUT/proxy.log" || true)/$SWAPS," \
     "refused: $(grep -c 'Plugin refused' "$OUT/proxy.log" || true), leaks reported: $(grep -c 'still in memory' "$OUT/proxy.log" || true)"
exit $status
