#!/usr/bin/env bash
# M6 of performance.md §7: memory per route and a churn leak check. RSS of controller and proxy
# with 0 / 1,000 / 10,000 HTTPRoutes (each with its own Service and EndpointSlice), nginx with the
# same number of server blocks (each with its own upstream) as the peer, then routes created and
# deleted at CHURN_RATE per second for CHURN_SECONDS on top of CHURN_BASE routes, and the RSS
# growth that leaves. Writes reports/perf/m6-memory.md. About 4 minutes with the defaults.
#
# Environment: LEVELS ("0 1000 10000"), CHURN_BASE (1000; must be one of LEVELS),
#   CHURN_RATE (20 routes/s), CHURN_SECONDS (120; the spec's 30 min is 1800), OUT,
#   CONTROLLER_BIN, PROXY_BIN, KEEP_WORK=1.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

LEVELS=${LEVELS:-0 1000 10000}
CHURN_BASE=${CHURN_BASE:-1000}
CHURN_RATE=${CHURN_RATE:-20}
CHURN_SECONDS=${CHURN_SECONDS:-120}
OUT=${OUT:-$ROOT/reports/perf/m6-memory.md}
M6="python3 $ROOT/bench/m6.py"

bench_init m6 nginx taskset python3
require_binaries "$CONTROLLER_BIN" "$PROXY_BIN"

start_backend

churned=""
for n in $LEVELS; do
  echo "m6: gatehouse, $n routes" >&2
  port=$(free_port)
  $M6 gen --dir "$WORK/gh-$n/manifests" --routes "$n" --port "$port" --backend-port "$BACKEND_PORT"
  gatehouse_start "$WORK/gh-$n/manifests" "$WORK/gh-$n/run"
  $M6 measure --target gatehouse --routes "$n" --port "$port" --proxy-pid "$PX_PID" \
    --controller-pid "$CTL_PID" --out "$WORK/measure.json"
  if [[ $n == "$CHURN_BASE" ]]; then
    echo "m6: churn, $CHURN_RATE routes/s for $CHURN_SECONDS s on $n routes" >&2
    $M6 churn --dir "$WORK/gh-$n/manifests" --tmp "$WORK/gh-$n/tmp" --port "$port" \
      --backend-port "$BACKEND_PORT" --base-routes "$n" --controller-pid "$CTL_PID" --proxy-pid "$PX_PID" \
      --proxy-log "$WORK/gh-$n/run.proxy.log" --rate "$CHURN_RATE" --duration "$CHURN_SECONDS" \
      --out "$WORK/churn.json"
    churned=$WORK/churn.json
  fi
  gatehouse_stop

  echo "m6: nginx, $n routes" >&2
  port=$(free_port)
  $M6 nginx-gen --dir "$WORK/ngx-$n" --routes "$n" --port "$port" --backend-port "$BACKEND_PORT"
  nginx_conf "ngx-$n" "include $WORK/ngx-$n/http.conf;"
  nginx_start $PROXY_CPU "ngx-$n"
  ngx_pid=$LAST_PID
  $M6 measure --target nginx --routes "$n" --port "$port" --proxy-pid "$ngx_pid" --with-children \
    --out "$WORK/measure.json"
  stop_pid "$ngx_pid"
done

bench_load_end
mkdir -p "$(dirname "$OUT")"
$M6 report --out "$OUT" --busy "$WORK/busy.json" --measure "$WORK/measure.json" --churn "$churned" \
  --command "LEVELS=\"$LEVELS\" CHURN_BASE=$CHURN_BASE CHURN_RATE=$CHURN_RATE CHURN_SECONDS=$CHURN_SECONDS bench/m6.sh"
cat "$OUT"
