#!/usr/bin/env bash
# HTTPS: PluginProxy beside HAProxy and nginx, each terminating TLS in front of the same plain-HTTP origin, in one run,
# with the same load for every contender. A benchmark, not a test: CI does not run it.
#
#   bash tests/load/https.sh                         (DURATION=10s ROUNDS=3 CONNECTIONS=50)
#   DURATION=8s ROUNDS=2 bash tests/load/https.sh
#
# Every contender gets the same certificate, generated at run time into tests/load/out/https (an EC P-256 CA and a
# leaf for bench.test and IP 127.0.0.1; leaf then CA as the chain), TLS 1.2 and 1.3, its own default ciphers; the
# header shows what each negotiated (openssl s_client). Three measurements on /small ("hello world\n"), best of ROUNDS:
#   keep-alive       wrk over CONNECTIONS keep-alive HTTPS connections: req/s and p99.
#   full handshakes  tests/load/https_handshakes.py: HS_CLIENTS processes, each looping over a new connection, a new
#                    TLS session (never resumed: checked per connection), GET with Connection: close. Not wrk: wrk
#                    keeps the session of the connection it replaces and offers it on the next one, so its
#                    Connection: close runs are resumed handshakes. handshakes/s and p99 of connect+handshake+response.
#   resumed          wrk -H "Connection: close": a new TCP connection per request and an abbreviated (resumed) TLS
#                    handshake, as wrk does it; the header says which contenders accept resumption and HAProxy's
#                    counters show it (connections per request, share resumed).
# Before the load, on the fresh processes: the memory each contender spends per idle keep-alive TLS connection (IDLE of
# them, default 2000, each having made one request).
# Prints the three with the ratios PluginProxy/HAProxy, and the contender's own CPU time per request (its processes'
# user+system time over the run divided by the requests answered): on a small machine the clients take much of the CPU
# (a full handshake costs the client more than the server), which narrows the req/s gaps; the CPU per request does not
# depend on that. The direct row is plain HTTP to the origin, for scale.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/tests/load/out/https
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-50}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
IDLE=${IDLE:-2000}
HS_CLIENTS=${HS_CLIENTS:-$(( 2 * $(nproc) ))}
ORIGIN_PORT=18200; HAPROXY_PORT=18201; NGINX_PORT=18202; PP_PORT=18203

need() { command -v "$1" >/dev/null 2>&1; }
if ! need haproxy || ! need nginx || ! need wrk || ! need openssl || ! need curl; then
  echo "installing haproxy, nginx, wrk, openssl, curl (apt)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy nginx wrk openssl curl >/dev/null
fi
need python3 || { echo "python3 is needed for the handshake measurement" >&2; exit 1; }
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
cpu_ticks() { local total=0; for p in "$@"; do for q in $p $(pgrep -P "$p" || true); do total=$((total + $(awk '{ print $14 + $15 }' /proc/$q/stat 2>/dev/null || echo 0))); done; done; echo $total; }
us_per() { awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN { if (n > 0) printf "%.0f", t * 1000000 / hz / n; else print "-" }'; } # ticks requests
ratio() { awk "BEGIN { if ($2 > 0) printf \"%.2f\", $1 / $2; else print \"-\" }"; }
ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) { sub(/us$/,"",v); v/=1000 } else if (v ~ /ms$/) sub(/ms$/,"",v); else if (v ~ /s$/) { sub(/s$/,"",v); v*=1000 } else v=0; print v }'; }

# Certificates: an EC P-256 CA and a leaf for bench.test and 127.0.0.1; site.pem is the leaf then the CA.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$OUT/ca.key" 2>/dev/null
openssl req -x509 -new -key "$OUT/ca.key" -sha256 -days 7 -subj "/CN=PluginProxy bench CA" -out "$OUT/ca.pem" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$OUT/site.key" 2>/dev/null
openssl req -new -key "$OUT/site.key" -subj "/CN=bench.test" -out "$OUT/site.csr"
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:bench.test,IP:127.0.0.1\n' > "$OUT/site.ext"
openssl x509 -req -in "$OUT/site.csr" -CA "$OUT/ca.pem" -CAkey "$OUT/ca.key" -CAcreateserial -days 7 -sha256 \
  -extfile "$OUT/site.ext" -out "$OUT/leaf.pem" 2>/dev/null
cat "$OUT/leaf.pem" "$OUT/ca.pem" > "$OUT/site.pem"
cat "$OUT/site.pem" "$OUT/site.key" > "$OUT/haproxy.pem"   # HAProxy wants certificates and key in one file

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
  server { listen 127.0.0.1:$ORIGIN_PORT backlog=4096; root $OUT/www; default_type application/octet-stream; }
}
CONF
cat > "$OUT/haproxy.cfg" <<CONF
global
  maxconn $MAXCONN
  nbthread 2
  stats socket $OUT/haproxy.sock
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
  bind 127.0.0.1:$HAPROXY_PORT ssl crt $OUT/haproxy.pem alpn http/1.1
  default_backend app
backend app
  server origin 127.0.0.1:$ORIGIN_PORT
CONF
# nginx 1.22's default ssl_protocols stop at TLSv1.2; TLS 1.3 is allowed here as it is for the others.
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
  upstream origin { server 127.0.0.1:$ORIGIN_PORT; keepalive 256; }
  server {
    listen 127.0.0.1:$NGINX_PORT ssl backlog=4096;
    ssl_certificate $OUT/site.pem;
    ssl_certificate_key $OUT/site.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering on; }
  }
}
CONF
cat > "$OUT/pluginproxy.toml" <<CONF
[global]
plugins = "$ROOT/plugins/bin"

[defaults]
timeout_client = "300s"
timeout_server = "300s"
timeout_keep_alive = "300s"

[[listener]]
name = "front"
bind = ["127.0.0.1:$PP_PORT"]
supervisor = "https"
accept = ["nodelay"]
maxconn = $MAXCONN
backend = "app"
access_log = false   # HAProxy and nginx log nothing here either

[listener.tls]
certificates = [{ cert = "$OUT/site.pem", key = "$OUT/site.key" }]
alpn = ["http/1.1"]

[[backend]]
name = "app"
servers = [{ name = "origin", address = "127.0.0.1:$ORIGIN_PORT" }]
CONF

nginx -c "$OUT/nginx-origin.conf" & pids+=($!)
haproxy -f "$OUT/haproxy.cfg" -db >"$OUT/haproxy.log" 2>&1 & pids+=($!); haproxy_pid=$!
nginx -c "$OUT/nginx-proxy.conf" & pids+=($!); nginx_pid=$!
PLUGINPROXY_LOG_LEVEL=Warning dotnet "$ROOT/host/bin/Release/net10.0/pluginproxy.dll" run --config "$OUT/pluginproxy.toml" >"$OUT/pluginproxy.log" 2>&1 & pids+=($!); pp_pid=$!
for port in $ORIGIN_PORT $HAPROXY_PORT $NGINX_PORT $PP_PORT; do wait_port $port; done

declare -A name=([$ORIGIN_PORT]=direct [$HAPROXY_PORT]=haproxy [$NGINX_PORT]=nginx [$PP_PORT]=pluginproxy)
declare -A pid=([$ORIGIN_PORT]=${pids[0]} [$HAPROXY_PORT]=$haproxy_pid [$NGINX_PORT]=$nginx_pid [$PP_PORT]=$pp_pid)
contenders="$HAPROXY_PORT $NGINX_PORT $PP_PORT"

# What each contender negotiates with an OpenSSL client, whether the chain verifies against the CA, and whether a
# session from a finished connection (TLS 1.3 tickets arrive after the handshake, so one request is read to the close)
# is accepted on the next one.
declare -A tls resumes
request='GET /small HTTP/1.1\r\nHost: bench.test\r\nConnection: close\r\n\r\n'
for port in $contenders; do
  n=${name[$port]}
  status=$(curl -sS -o /dev/null -w '%{http_code}' --cacert "$OUT/ca.pem" --resolve "bench.test:$port:127.0.0.1" "https://bench.test:$port/small" || true)
  [ "$status" = 200 ] || { echo "$n answered '$status' to GET /small, not 200" >&2; [ "$n" = pluginproxy ] && cat "$OUT/pluginproxy.log" >&2; exit 1; }
  first=$(printf "$request" | timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername bench.test -alpn http/1.1 \
    -CAfile "$OUT/ca.pem" -ign_eof -showcerts -sess_out "$OUT/$n.session" 2>/dev/null || true)
  again=$(timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername bench.test -alpn http/1.1 \
    -sess_in "$OUT/$n.session" </dev/null 2>/dev/null || true)
  negotiated=$(awk '/^New, / { sub(/,$/, "", $2); print $2, $5 }' <<<"$first")
  group=$(awk -F': ' '/^Server Temp Key/ { split($2, k, ","); print k[1] }' <<<"$first")
  alpn=$(awk -F': ' '/^ALPN protocol/ { print $2 }' <<<"$first")
  verify=$(awk -F': ' '/^Verify return code/ { print $2; exit }' <<<"$first")
  sent=$(grep -c -- '-----BEGIN CERTIFICATE-----' <<<"$first" || true)
  tls[$n]="${negotiated:-?}, ${group:-?}, ALPN ${alpn:-none}, $sent certificate(s) sent, verify $verify"
  if grep -q '^Reused, ' <<<"$again"; then resumes[$n]=yes; else resumes[$n]=no; fi
done

# Memory per idle keep-alive TLS connection, on the fresh processes (as run.sh measures plain ones): each client made
# one request, so the connection is established, TLS and all, and waits for the next request.
rss_kb() { local total=0; for p in "$@"; do for q in $p $(pgrep -P "$p" || true); do total=$((total + $(awk '/VmRSS/ { print $2 }' /proc/$q/status 2>/dev/null || echo 0))); done; done; echo $total; }
declare -A idle
for port in $contenders; do
  n=${name[$port]}; before=$(rss_kb "${pid[$port]}")
  coproc IDLER { python3 "$ROOT/tests/load/idle_clients.py" 127.0.0.1 "$port" "$IDLE" 'GET /small HTTP/1.1\r\nHost: bench.test\r\n\r\n' tls; }
  read -r _ count <&"${IDLER[0]}"
  idle[$n]=$(( ($(rss_kb "${pid[$port]}") - before) * 1024 / count ))
  exec {IDLER[1]}>&-; wait "$IDLER_PID" 2>/dev/null || true
done

haproxy_ssl() { # prints the full and the resumed handshakes of HAProxy's frontend so far
  python3 - "$OUT/haproxy.sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"show stat\n")
data = b""
while chunk := s.recv(65536): data += chunk
lines = data.decode().splitlines(); head = lines[0].lstrip("# ").split(",")
for line in lines[1:]:
    row = dict(zip(head, line.split(",")))
    if row.get("svname") == "FRONTEND": print(row["ssl_sess"], row["ssl_reused_sess"])
PY
}

declare -A rps p99 cpu hs hsp99 hscpu rs rsp99 rscpu hsinfo
keep_alive() { # port scheme
  local out r p c n=${name[$1]} before
  before=$(cpu_ticks "${pid[$1]}")
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$2://127.0.0.1:$1/small")
  c=$(us_per $(( $(cpu_ticks "${pid[$1]}") - before )) "$(awk '/ requests in / { print $1 }' <<<"$out")")
  r=$(awk '/Requests\/sec/ { print $2 }' <<<"$out"); p=$(awk '/ 99%/ { print $2 }' <<<"$out")
  grep -E 'Non-2xx|Socket errors' <<<"$out" | sed "s/^/  $n keep-alive: /" || true
  if [ -z "${rps[$n]:-}" ] || awk "BEGIN { exit !($r > ${rps[$n]}) }"; then rps[$n]=$r; p99[$n]=$p; cpu[$n]=$c; fi
}
handshakes() { # port
  local r p count non200 errors reused protocol cipher c n=${name[$1]} before
  before=$(cpu_ticks "${pid[$1]}")
  read -r r p count non200 errors reused protocol cipher < <(python3 "$ROOT/tests/load/https_handshakes.py" "$1" "$DURATION" "$HS_CLIENTS")
  c=$(us_per $(( $(cpu_ticks "${pid[$1]}") - before )) "$count")
  [ "$non200$errors" = 00 ] || echo "  $n handshakes: $non200 responses not 200, $errors connection errors"
  [ "$reused" = 0 ] || echo "  $n handshakes: $reused sessions resumed (none should be)"
  hsinfo[$n]="$protocol $cipher, $reused resumed"
  if [ -z "${hs[$n]:-}" ] || awk "BEGIN { exit !($r > ${hs[$n]}) }"; then hs[$n]=$r; hsp99[$n]=$p; hscpu[$n]=$c; fi
}
resumed() { # port
  local out r p c n=${name[$1]} before
  before=$(cpu_ticks "${pid[$1]}")
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Connection: close" "https://127.0.0.1:$1/small")
  c=$(us_per $(( $(cpu_ticks "${pid[$1]}") - before )) "$(awk '/ requests in / { print $1 }' <<<"$out")")
  r=$(awk '/Requests\/sec/ { print $2 }' <<<"$out"); p=$(awk '/ 99%/ { print $2 }' <<<"$out")
  grep -E 'Non-2xx|Socket errors' <<<"$out" | sed "s/^/  $n resumed: /" || true
  if [ "$n" = haproxy ]; then resumed_requests=$(( resumed_requests + $(awk '/ requests in / { print $1 }' <<<"$out") )); fi
  if [ -z "${rs[$n]:-}" ] || awk "BEGIN { exit !($r > ${rs[$n]}) }"; then rs[$n]=$r; rsp99[$n]=$p; rscpu[$n]=$c; fi
}

for port in $contenders; do wrk -t1 -c10 -d2s "https://127.0.0.1:$port/small" >/dev/null; done
wrk -t1 -c10 -d2s "http://127.0.0.1:$ORIGIN_PORT/small" >/dev/null
for round in $(seq 1 "$ROUNDS"); do
  keep_alive $ORIGIN_PORT http
  for port in $contenders; do keep_alive "$port" https; done
done
for round in $(seq 1 "$ROUNDS"); do
  for port in $contenders; do handshakes "$port"; done
done
resumed_requests=0
read -r ssl_before reused_before < <(haproxy_ssl)
for round in $(seq 1 "$ROUNDS"); do
  for port in $contenders; do resumed "$port"; done
done
read -r ssl_after reused_after < <(haproxy_ssl)
cleanup
grep -v '^\s*$' "$OUT/pluginproxy.log" | sed 's/^/  pluginproxy log: /' | head -20 || true

echo
echo "https: $(nproc) cores; $DURATION per run, best of $ROUNDS; GET /small (12 bytes); the same EC P-256 certificate (leaf + CA) everywhere"
for n in haproxy nginx pluginproxy; do printf '  %-12s %s; resumption %s; idle TLS keep-alive connection %s B\n' "$n" "${tls[$n]}" "${resumes[$n]}" "${idle[$n]}"; done
echo "  (PluginProxy leaves the self-signed CA out of the chain it sends; HAProxy and nginx send the file as it is)"
echo "k-a:      keep-alive, wrk, $CONNECTIONS connections, $THREADS threads"
echo "full hs:  https_handshakes.py, $HS_CLIENTS client processes, a new connection and a new TLS session per request, never resumed"
for n in haproxy nginx pluginproxy; do printf '  %-12s %s\n' "$n" "${hsinfo[$n]}"; done
echo "resumed:  wrk -H 'Connection: close', $CONNECTIONS connections: a new connection per request, but wrk offers the previous"
echo "          connection's session, so the handshakes are resumed, not full; HAProxy did $(( ssl_after - ssl_before )) full and"
echo "          $(( reused_after - reused_before )) resumed handshakes for $resumed_requests requests"
row() { printf '%-12s | %10s %8s %6s %7s | %9s %8s %6s %7s | %9s %8s %6s %7s\n' "$@"; }
row contender "k-a req/s" p99 ratio "cpu us" "full hs/s" p99 ratio "cpu us" "resumed/s" p99 ratio "cpu us"
row "direct http" "${rps[direct]}" "${p99[direct]}" - "${cpu[direct]}" - - - - - - - -
for n in haproxy nginx pluginproxy; do
  row "$n" \
    "${rps[$n]}" "${p99[$n]}" "$(ratio "${rps[$n]}" "${rps[haproxy]}")" "${cpu[$n]}" \
    "${hs[$n]}" "${hsp99[$n]}" "$(ratio "${hs[$n]}" "${hs[haproxy]}")" "${hscpu[$n]}" \
    "${rs[$n]}" "${rsp99[$n]}" "$(ratio "${rs[$n]}" "${rs[haproxy]}")" "${rscpu[$n]}"
done
echo "(ratios are to HAProxy; cpu us = the contender's CPU microseconds per request in that run; PluginProxy/HAProxy:"
echo " keep-alive req/s $(ratio "${rps[pluginproxy]}" "${rps[haproxy]}"), p99 $(ratio "$(ms "${p99[pluginproxy]}")" "$(ms "${p99[haproxy]}")"), cpu $(ratio "${cpu[pluginproxy]}" "${cpu[haproxy]}");" \
  "full hs/s $(ratio "${hs[pluginproxy]}" "${hs[haproxy]}"), p99 $(ratio "$(ms "${hsp99[pluginproxy]}")" "$(ms "${hsp99[haproxy]}")"), cpu $(ratio "${hscpu[pluginproxy]}" "${hscpu[haproxy]}");"
echo " resumed/s $(ratio "${rs[pluginproxy]}" "${rs[haproxy]}"), p99 $(ratio "$(ms "${rsp99[pluginproxy]}")" "$(ms "${rsp99[haproxy]}")"), cpu $(ratio "${rscpu[pluginproxy]}" "${rscpu[haproxy]}");"
echo " idle TLS connection memory $(ratio "${idle[pluginproxy]}" "${idle[haproxy]}") ($IDLE idle connections each))"
