#!/usr/bin/env bash
# M4 of performance.md §7: route propagation latency. For N existing HTTPRoutes (directory
# source, proxy connected and serving), add one route file and time until it serves 200 (and
# remove it, until 404); the same against nginx with N server blocks + `nginx -s reload`; then
# the cold start of controller + proxy (and of nginx) with COLD_N routes.
# Writes reports/perf/m4-propagation.md. About 3-4 minutes with the defaults.
#
# Environment: NS ("100 1000 5000"), SAMPLES (50), COLD_N (5000), COLD_RUNS (5),
#   OUT (report path), CONTROLLER_BIN, PROXY_BIN, KEEP_WORK=1.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

NS=${NS:-100 1000 5000}
SAMPLES=${SAMPLES:-50}
COLD_N=${COLD_N:-5000}
COLD_RUNS=${COLD_RUNS:-5}
OUT=${OUT:-$ROOT/reports/perf/m4-propagation.md}
M4="python3 $ROOT/bench/m4.py"

bench_init m4 nginx taskset python3
require_binaries "$CONTROLLER_BIN" "$PROXY_BIN"

start_backend

samples=()
for n in $NS; do
  echo "m4: gatehouse, $n routes" >&2
  port=$(free_port)
  $M4 gen --dir "$WORK/gh-$n/manifests" --routes "$n" --port "$port" --backend-port "$BACKEND_PORT"
  gatehouse_start "$WORK/gh-$n/manifests" "$WORK/gh-$n/run"
  $M4 wait --port "$port" --routes-idx 0 $((n - 1)) >/dev/null
  $M4 sample --target gatehouse --dir "$WORK/gh-$n/manifests" --tmp "$WORK/gh-$n/tmp" --port "$port" \
    --n "$n" --samples "$SAMPLES" --stream-port "$STREAM_PORT" \
    --controller-log "$WORK/gh-$n/run.controller.log" --proxy-log "$WORK/gh-$n/run.proxy.log" \
    --out "$WORK/gh-$n.json"
  gatehouse_stop
  samples+=("$WORK/gh-$n.json")

  echo "m4: nginx, $n routes" >&2
  port=$(free_port)
  $M4 nginx-gen --dir "$WORK/ngx-$n" --routes "$n" --port "$port" --backend-port "$BACKEND_PORT"
  nginx_conf "ngx-$n" "include $WORK/ngx-$n/http.conf;"
  nginx_start $PROXY_CPU "ngx-$n"
  ngx_pid=$LAST_PID
  $M4 wait --port "$port" --routes-idx 0 $((n - 1)) >/dev/null
  $M4 sample --target nginx --dir "$WORK/ngx-$n/routes" --tmp "$WORK/ngx-$n/tmp" --port "$port" \
    --n "$n" --samples "$SAMPLES" --reload "$(nginx_reload_cmd "ngx-$n")" --out "$WORK/ngx-$n.json"
  stop_pid "$ngx_pid"
  samples+=("$WORK/ngx-$n.json")
done

# Cold start: the controller spawns the proxy itself (host provisioner), as in production use.
echo "m4: cold start, $COLD_N routes, $COLD_RUNS runs each" >&2
for run in $(seq 1 "$COLD_RUNS"); do
  port=$(free_port)
  dir=$WORK/cold-$run
  $M4 gen --dir "$dir/manifests" --routes "$COLD_N" --port "$port" --backend-port "$BACKEND_PORT"
  sync
  t0=$EPOCHREALTIME
  spawn $LOAD_CPU "$CONTROLLER_BIN" --source="dir:$dir/manifests" --stream-listen="127.0.0.1:$(free_port)" \
    --provisioner=host --proxy-binary="$PROXY_BIN" --proxy-workers=1 \
    --address-pool=127.0.0.1-127.0.0.1 2>"$dir/controller.log"
  ctl=$LAST_PID
  $M4 cold --target gatehouse --port "$port" --routes "$COLD_N" --t0 "$t0" --log "$dir/controller.log" \
    --out "$WORK/cold.json"
  # The proxy is the controller's child; record it so the exit trap covers it too.
  for child in $(pgrep -P "$ctl" || true); do PIDS+=("$child"); done
  stop_pid "$ctl"

  port=$(free_port)
  $M4 nginx-gen --dir "$WORK/ngx-cold-$run" --routes "$COLD_N" --port "$port" --backend-port "$BACKEND_PORT"
  nginx_conf "ngx-cold-$run" "include $WORK/ngx-cold-$run/http.conf;"
  t0=$EPOCHREALTIME
  nginx_start $PROXY_CPU "ngx-cold-$run"
  ngx_pid=$LAST_PID
  $M4 cold --target nginx --port "$port" --routes "$COLD_N" --t0 "$t0" --out "$WORK/cold.json"
  stop_pid "$ngx_pid"
done

bench_load_end
mkdir -p "$(dirname "$OUT")"
$M4 report --out "$OUT" --busy "$WORK/busy.json" --samples "${samples[@]}" --cold "$WORK/cold.json" \
  --command "NS=\"$NS\" SAMPLES=$SAMPLES COLD_N=$COLD_N COLD_RUNS=$COLD_RUNS bench/m4.sh"
cat "$OUT"
