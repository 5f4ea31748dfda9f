#!/usr/bin/env bash
# `make bench`: M1 of performance.md §7 on this machine. wrk drives HTTP/1.1 keep-alive
# traffic through gatehouse-proxy (snapshot-file mode, one worker), nginx and HAProxy
# (one worker/thread each, upstream keep-alive on) to the same nginx backend, and we
# report requests per proxy-CPU-second and the ratios between them; plus the router's
# route-lookup benchmark; then the same through an h2c frontend with h2load (-c16 -m100).
# Writes reports/perf/m1-http1.md. Takes about 3 minutes.
#
# Environment: DURATION (s, default 10), WARMUP (s, 3), RUNS (1; the median is kept),
#   CONNS (64), PROXY_BIN (default _out/bin/gatehouse-proxy), OUT (report path),
#   SKIP_ROUTER_BENCH=1.
set -euo pipefail

source "$(dirname "$0")/lib.sh"
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
RUNS=${RUNS:-1}
CONNS=${CONNS:-64}
OUT=${OUT:-$ROOT/reports/perf/m1-http1.md}

bench_init bench wrk h2load nginx haproxy taskset python3
require_binaries "$PROXY_BIN"

GH_PORT=$(free_port)
NGINX_PORT=$(free_port)
HAPROXY_PORT=$(free_port)
NGINX_H2_PORT=$(free_port)
HAPROXY_H2_PORT=$(free_port)

# Backend: a second nginx answering 13 bytes.
start_backend

# Peers with upstream keep-alive (otherwise the comparison measures reconnects).
nginx_conf nginx "upstream backend { server 127.0.0.1:$BACKEND_PORT; keepalive 64; }
  server { listen 127.0.0.1:$NGINX_PORT;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }
  server { listen 127.0.0.1:$NGINX_H2_PORT http2; http2_max_requests 10000000;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
nginx_start $PROXY_CPU nginx
NGINX_PID=$LAST_PID

cat >"$WORK/haproxy.cfg" <<CONF
global
  nbthread 1
  maxconn 4000
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  http-reuse always
frontend fe
  bind 127.0.0.1:$HAPROXY_PORT
  default_backend be
frontend fe_h2
  bind 127.0.0.1:$HAPROXY_H2_PORT proto h2
  default_backend be
backend be
  server s1 127.0.0.1:$BACKEND_PORT
CONF
spawn $PROXY_CPU haproxy -f "$WORK/haproxy.cfg" -db >"$WORK/haproxy.log" 2>&1
HAPROXY_PID=$LAST_PID

cat >"$WORK/snapshot.json" <<JSON
{"version":"bench","gateway":"bench/gw",
 "listeners":[{"name":"http","address":"127.0.0.1","port":$GH_PORT,"protocol":"HTTP",
   "virtualHosts":[{"name":"bench/gw/http","hosts":[{"routes":[
     {"name":"bench/all","match":{"path":{"type":"PREFIX","value":"/"}},
      "forward":{"backends":[{"cluster":"bench/backend:80","weight":1}]}}]}]}]}],
 "clusters":[{"name":"bench/backend:80","endpoints":[{"address":"127.0.0.1","port":$BACKEND_PORT,"ready":true}]}]}
JSON
spawn $PROXY_CPU "$PROXY_BIN" --snapshot-file="$WORK/snapshot.json" --workers=1 2>"$WORK/gatehouse.log"
GH_PID=$LAST_PID

for p in $BACKEND_PORT $NGINX_PORT $HAPROXY_PORT $GH_PORT $NGINX_H2_PORT $HAPROXY_H2_PORT; do wait_port "$p"; done

# run [--h2] NAME PORT PID...: prints "rps req_per_cpu_s p50 p99 errors"
run() {
  local h2=0
  if [[ $1 == --h2 ]]; then h2=1; shift; fi
  local name=$1 port=$2
  shift 2
  local load=(wrk -t1 -c"$CONNS" --latency "http://127.0.0.1:$port/")
  local dur=(-d"${DURATION}s")
  if ((h2)); then
    load=(h2load -c16 -m100 "http://127.0.0.1:$port/")
    dur=(-D "$DURATION")
    taskset -c $LOAD_CPU h2load -c16 -m100 -D "$WARMUP" "http://127.0.0.1:$port/" >/dev/null
  else
    taskset -c $LOAD_CPU wrk -t1 -c"$CONNS" -d"${WARMUP}s" "http://127.0.0.1:$port/" >/dev/null
  fi
  local results=()
  for i in $(seq 1 "$RUNS"); do
    local t0 t1 out
    t0=$(cpu_ticks "$@")
    out=$(taskset -c $LOAD_CPU "${load[@]}" "${dur[@]}")
    t1=$(cpu_ticks "$@")
    echo "$out" >"$WORK/wrk-$name-$i.txt"
    results+=("$(python3 "$ROOT/bench/parse_wrk.py" "$WORK/wrk-$name-$i.txt" $((t1 - t0)) "$(getconf CLK_TCK)")")
  done
  printf '%s\n' "${results[@]}" | sort -t' ' -k2 -g | sed -n "$(((RUNS + 1) / 2))p"
}

echo "bench: direct (wrk -> backend)" >&2
direct=$(run direct "$BACKEND_PORT" "$BACKEND_PID")
echo "bench: gatehouse" >&2
gatehouse=$(run gatehouse "$GH_PORT" "$GH_PID")
echo "bench: nginx" >&2
nginx=$(run nginx "$NGINX_PORT" "$NGINX_PID")
echo "bench: haproxy" >&2
haproxy=$(run haproxy "$HAPROXY_PORT" "$HAPROXY_PID")
echo "bench: h2c (h2load -c16 -m100): gatehouse, nginx, haproxy" >&2
h2_gatehouse=$(run --h2 h2-gatehouse "$GH_PORT" "$GH_PID")
h2_nginx=$(run --h2 h2-nginx "$NGINX_H2_PORT" "$NGINX_PID")
h2_haproxy=$(run --h2 h2-haproxy "$HAPROXY_H2_PORT" "$HAPROXY_PID")

router=""
if [[ ${SKIP_ROUTER_BENCH:-0} != 1 ]]; then
  echo "bench: router lookup (//proxy/router:router_bench)" >&2
  router=$(cd "$ROOT" && bazel run -c opt //proxy/router:router_bench -- --benchmark_min_time=0.05 2>/dev/null || true)
fi

bench_load_end
mkdir -p "$(dirname "$OUT")"
python3 "$ROOT/bench/report.py" --out "$OUT" --busy "$WORK/busy.json" --duration "$DURATION" --runs "$RUNS" --conns "$CONNS" \
  --direct "$direct" --gatehouse "$gatehouse" --nginx "$nginx" --haproxy "$haproxy" \
  --h2-gatehouse "$h2_gatehouse" --h2-nginx "$h2_nginx" --h2-haproxy "$h2_haproxy" \
  --router-file <(printf '%s\n' "$router")
cat "$OUT"
