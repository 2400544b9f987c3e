#!/usr/bin/env bash
# System calls, context switches and CPU per request over HTTP/2 (h2c), PluginProxy beside HAProxy in front of the same
# nginx origin (two ports): each in turn under h2load for 8 s, counted by `perf stat` for 4 s of it (every system call,
# and the ones a proxy makes: sendto, recvfrom, epoll_wait, futex, sched_yield, connect, ...). Where a proxy spends its
# kernel time; docs/http2.md (Benchmark) has what it showed. A benchmark, not a test; needs perf (linux-perf).
#
#   bash tests/load/h2-syscalls.sh [tree]        (C=50 clients × 10 streams, T=1 h2load thread)
set -u
tree=${1:-$(cd "$(dirname "$0")/../.." && pwd)}; OUT=/tmp/qsys; rm -rf $OUT; mkdir -p $OUT/www $OUT/ngx; printf 'hello world\n' > $OUT/www/small
cat > $OUT/origin.conf <<CONF
worker_processes 1; daemon off; pid $OUT/ngx/nginx.pid; error_log $OUT/ngx/error.log warn;
events { worker_connections 8000; }
http { access_log off; client_body_temp_path $OUT/ngx; proxy_temp_path $OUT/ngx; fastcgi_temp_path $OUT/ngx; uwsgi_temp_path $OUT/ngx; scgi_temp_path $OUT/ngx;
  keepalive_requests 10000000; keepalive_timeout 300s;
  server { listen 127.0.0.1:18180; listen 127.0.0.1:18184; root $OUT/www; default_type application/octet-stream; } }
CONF
pids=(); trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null; done; wait 2>/dev/null' EXIT
nginx -c $OUT/origin.conf & pids+=($!)
cat > $OUT/pp.toml <<CONF
[global]
plugins = "$tree/plugins/bin"
admin = "127.0.0.1:18299"
[[listener]]
name = "front"
bind = ["127.0.0.1:18190"]
supervisor = "http"
accept = ["nodelay"]
backend = "app"
access_log = false
[[backend]]
name = "app"
servers = [{ name = "o1", address = "127.0.0.1:18180" }, { name = "o2", address = "127.0.0.1:18184" }]
CONF
cat > $OUT/hap.cfg <<CONF
global
  maxconn 5000
  nbthread 2
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  http-reuse safe
frontend f
  bind 127.0.0.1:18191 proto h2
  default_backend b
backend b
  server o1 127.0.0.1:18180
  server o2 127.0.0.1:18184
CONF
PLUGINPROXY_LOG_LEVEL=Warning dotnet $tree/host/bin/Release/net10.0/pluginproxy.dll run --config $OUT/pp.toml > $OUT/pp.log 2>&1 & pp=$!; pids+=($pp)
haproxy -f $OUT/hap.cfg -db > $OUT/hap.log 2>&1 & hp=$!; pids+=($hp)
sleep 3
C=${C:-50}
for who in pp:18190:$pp hap:18191:$hp; do
  IFS=: read name port pid <<< "$who"
  h2load -n 30000 -c $C -m 10 -t ${T:-1} http://127.0.0.1:$port/small > /dev/null
  h2load -D 8 -c $C -m 10 -t ${T:-1} http://127.0.0.1:$port/small > $OUT/$name-load.txt & w=$!
  sleep 2
  perf stat -e raw_syscalls:sys_enter,context-switches,task-clock,syscalls:sys_enter_sendto,syscalls:sys_enter_recvfrom,syscalls:sys_enter_sendmsg,syscalls:sys_enter_recvmsg,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_futex,syscalls:sys_enter_sched_yield,syscalls:sys_enter_writev,syscalls:sys_enter_readv,syscalls:sys_enter_read,syscalls:sys_enter_write,syscalls:sys_enter_epoll_ctl,syscalls:sys_enter_connect,syscalls:sys_enter_close,syscalls:sys_enter_socket -p $pid -o $OUT/$name-stat.txt -- sleep 4 > /dev/null 2>&1
  wait $w
  rps=$(awk '/finished in/ { print $4 }' $OUT/$name-load.txt)
  sc=$(awk '/raw_syscalls/ { gsub(",","",$1); print $1 }' $OUT/$name-stat.txt)
  cs=$(awk '/context-switches/ { gsub(",","",$1); print $1 }' $OUT/$name-stat.txt)
  tc=$(awk '/task-clock/ { gsub(",","",$1); print $1 }' $OUT/$name-stat.txt)
  awk -v n=$name -v r=$rps -v s=$sc -v c=$cs -v t=$tc 'BEGIN { printf "%-4s %9.0f req/s  syscalls/req %.2f  cswitch/req %.3f  cpu us/req %.1f\n", n, r, s/(r*4), c/(r*4), t*1000/(r*4) }'
  awk -v r=$rps '/syscalls:sys_enter_/ { gsub(",","",$1); if ($1 > 0) printf "     %-32s %.3f/req\n", $2, $1/(r*4) }' $OUT/$name-stat.txt
done
