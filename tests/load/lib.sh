# Helpers shared by the load scripts (sourced): background processes stopped on exit, waiting for a port, and a small
# nginx origin. Everything listens on 127.0.0.1 only.

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=(); }
trap cleanup EXIT

# Installs nginx and wrk when missing.
need_nginx_and_wrk() {
  command -v nginx >/dev/null && command -v wrk >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx wrk >/dev/null; }
}

# wait_port PORT: until something accepts on 127.0.0.1:PORT (3 s at most).
wait_port() { for _ in $(seq 1 300); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.01; done; return 1; }

# start_origin DIR PORT: nginx serving DIR/www (with a 12-byte DIR/www/small) on 127.0.0.1:PORT, keep-alive without limit.
start_origin() {
  local dir=$1 port=$2
  mkdir -p "$dir/www" "$dir/nginx"
  printf 'hello world\n' > "$dir/www/small"
  cat > "$dir/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $dir/nginx/pid; error_log $dir/nginx/error.log warn;
events { worker_connections 1024; }
http { access_log off; keepalive_requests 10000000; keepalive_timeout 300s;
  client_body_temp_path $dir/nginx; proxy_temp_path $dir/nginx; fastcgi_temp_path $dir/nginx; uwsgi_temp_path $dir/nginx; scgi_temp_path $dir/nginx;
  server { listen 127.0.0.1:$port; root $dir/www; } }
CONF
  nginx -c "$dir/nginx.conf" & pids+=($!)
}
