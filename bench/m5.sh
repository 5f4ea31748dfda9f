#!/usr/bin/env bash
# M5 of performance.md §7: zero-loss reconfiguration under load. A route in use is flipped
# every INTERVAL between backend A and B (and a response-header filter added/removed) CHANGES
# times while wrk and long-lived keep-alive clients run, through gatehouse (directory source),
# nginx (`nginx -s reload`) and HAProxy (master-worker, SIGUSR2), one after the other.
# Writes reports/perf/m5-churn.md. About 4 minutes with the defaults (3 x (10 s + 60 s)).
#
# Environment: CHANGES (300; the spec's 10,000 take 33 min per target), INTERVAL (0.2 s),
#   STEADY (10 s), LONGLIVED (20), LL_INTERVAL (0.05 s), WRK_CONNS (10), WRK_DELAY_MS (2),
#   TARGETS ("gatehouse nginx haproxy"), OUT, CONTROLLER_BIN, PROXY_BIN, KEEP_WORK=1.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

CHANGES=${CHANGES:-300}
INTERVAL=${INTERVAL:-0.2}
STEADY=${STEADY:-10}
LONGLIVED=${LONGLIVED:-20}
LL_INTERVAL=${LL_INTERVAL:-0.05}
WRK_CONNS=${WRK_CONNS:-10}
WRK_DELAY_MS=${WRK_DELAY_MS:-2}
TARGETS=${TARGETS:-gatehouse nginx haproxy}
OUT=${OUT:-$ROOT/reports/perf/m5-churn.md}
M5="python3 $ROOT/bench/m5.py"

bench_init m5 nginx haproxy wrk taskset python3
require_binaries "$CONTROLLER_BIN" "$PROXY_BIN"

# Backends A and B: one nginx, two servers that say who they are.
A_PORT=$(free_port)
B_PORT=$(free_port)
nginx_conf backend "server { listen 127.0.0.2:$A_PORT; location / { add_header X-Backend a always; return 200 \"a\n\"; } }
  server { listen 127.0.0.3:$B_PORT; location / { add_header X-Backend b always; return 200 \"b\n\"; } }"
nginx_start $LOAD_CPU backend
wait_port "$A_PORT" 127.0.0.2
wait_port "$B_PORT" 127.0.0.3

common=(--changes "$CHANGES" --interval "$INTERVAL" --steady "$STEADY" --longlived "$LONGLIVED"
  --ll-interval "$LL_INTERVAL" --wrk-conns "$WRK_CONNS" --wrk-delay-ms "$WRK_DELAY_MS" --load-cpu "$LOAD_CPU")
runs=()
for target in $TARGETS; do
  echo "m5: $target" >&2
  port=$(free_port)
  mkdir -p "$WORK/$target/tmp"
  case $target in
    gatehouse)
      dir=$WORK/gatehouse/manifests
      mkdir -p "$dir"
      $M5 gen --dir "$dir" --port "$port" --a-port "$A_PORT" --b-port "$B_PORT"
      gatehouse_start "$dir" "$WORK/gatehouse/run"
      $M5 run --target gatehouse --port "$port" --config "$dir/flip.yaml" --tmp "$WORK/gatehouse/tmp" \
        --proxy-pid "$PX_PID" --controller-pid "$CTL_PID" "${common[@]}" --out "$WORK/gatehouse.json"
      gatehouse_stop
      ;;
    nginx)
      nginx_conf nginx "upstream be_a { server 127.0.0.2:$A_PORT; keepalive 16; }
  upstream be_b { server 127.0.0.3:$B_PORT; keepalive 16; }
  include $WORK/nginx/flip.conf;"
      # A placeholder the first change replaces; nginx needs a valid file to start.
      echo "server { listen 127.0.0.1:$port; return 503; }" >"$WORK/nginx/flip.conf"
      nginx_start $PROXY_CPU nginx
      pid=$LAST_PID
      wait_port "$port"
      $M5 run --target nginx --port "$port" --config "$WORK/nginx/flip.conf" --tmp "$WORK/nginx/tmp" \
        --reload "$(nginx_reload_cmd nginx)" --proxy-pid "$pid" "${common[@]}" --out "$WORK/nginx.json"
      stop_pid "$pid"
      ;;
    haproxy)
      cat >"$WORK/haproxy/template.cfg" <<CONF
global
  nbthread 1
  maxconn 4000
  hard-stop-after 30s
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
  http-reuse always
frontend fe
  bind 127.0.0.1:$port
  default_backend @BACKEND@
@FILTER@
backend be_a
  server a 127.0.0.2:$A_PORT
backend be_b
  server b 127.0.0.3:$B_PORT
CONF
      sed -e 's/@BACKEND@/be_a/' -e 's/@FILTER@//' "$WORK/haproxy/template.cfg" >"$WORK/haproxy/haproxy.cfg"
      spawn $PROXY_CPU haproxy -W -db -f "$WORK/haproxy/haproxy.cfg" >"$WORK/haproxy/haproxy.log" 2>&1
      pid=$LAST_PID
      wait_port "$port"
      $M5 run --target haproxy --port "$port" --config "$WORK/haproxy/haproxy.cfg" --tmp "$WORK/haproxy/tmp" \
        --template "$WORK/haproxy/template.cfg" --master-pid "$pid" --proxy-pid "$pid" "${common[@]}" \
        --out "$WORK/haproxy.json"
      stop_pid "$pid"
      ;;
    *) echo "m5: unknown target $target" >&2; exit 2 ;;
  esac
  runs+=("$WORK/$target.json")
done

bench_load_end
mkdir -p "$(dirname "$OUT")"
$M5 report --out "$OUT" --busy "$WORK/busy.json" --runs "${runs[@]}" \
  --command "CHANGES=$CHANGES INTERVAL=$INTERVAL STEADY=$STEADY LONGLIVED=$LONGLIVED WRK_CONNS=$WRK_CONNS WRK_DELAY_MS=$WRK_DELAY_MS bench/m5.sh"
cat "$OUT"
