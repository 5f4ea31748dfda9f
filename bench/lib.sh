# Shared by the bench/*.sh scripts (source it): a temp dir removed on exit, a record of
# every process we start (only those are ever signalled), loopback ports, nginx configs and
# gatehouse start-up. Everything listens on 127.0.0.0/8 only.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NCPU=$(nproc)
# Proxy under test on the last CPU; controller, load generator and backend on the first.
PROXY_CPU=$((NCPU - 1))
LOAD_CPU=0
# The binaries under test: this tree's `make build` output unless given (e.g. built from a clean
# clone, then BENCH_COMMIT says which commit the reports name instead of this tree's HEAD).
CONTROLLER_BIN=${CONTROLLER_BIN:-$ROOT/_out/bin/gatehouse-controller}
PROXY_BIN=${PROXY_BIN:-$ROOT/_out/bin/gatehouse-proxy}
PIDS=()

# bench_init NAME TOOL...: checks tools, makes $WORK and the exit trap, notes the machine's
# other load in $WORK/busy.json.
bench_init() {
  local name=$1 tool
  shift
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "$name: $tool missing (scripts/setup.sh --bench)" >&2; exit 1; }
  done
  WORK=$(mktemp -d "/tmp/gatehouse-$name.XXXXXX")
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
  # What else keeps the machine busy, for the report's load condition.
  python3 "$ROOT/bench/benchlib.py" busy "$WORK/busy.json"
}

# bench_load_end: the machine's other load at the end of the run, beside the start's.
bench_load_end() { python3 "$ROOT/bench/benchlib.py" busy "$WORK/busy.json" "${PIDS[@]}"; }

bench_cleanup() {
  local p
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  [[ ${KEEP_WORK:-0} == 1 ]] || rm -rf "$WORK"
}

# spawn CPU CMD...: starts CMD pinned to CPU in the background; its PID is recorded and
# left in $LAST_PID. Call as a statement (not in $(...)), or the record is lost.
spawn() {
  local cpu=$1
  shift
  taskset -c "$cpu" "$@" &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}

# stop_pid PID: SIGTERM, up to 15 s for it to exit, then SIGKILL. Only for PIDs in $PIDS.
stop_pid() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || break
    # Reap our own children so they do not linger as zombies (kill -0 sees those).
    if [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]]; then break; fi
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

require_binaries() {  # PATH...
  local b
  for b in "$@"; do [[ -x $b ]] || { echo "bench: $b missing (make build)" >&2; exit 1; }; done
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() {  # PORT [ADDRESS]
  for _ in $(seq 1 200); do
    if python3 -c "import socket; socket.create_connection(('${2:-127.0.0.1}',$1),0.2)" 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "bench: nothing listening on ${2:-127.0.0.1}:$1" >&2
  return 1
}

# utime+stime in clock ticks of processes and their children (nginx master + worker).
cpu_ticks() {
  local total=0 pid
  for pid in "$@" $(for p in "$@"; do pgrep -P "$p" || true; done); do
    [[ -r /proc/$pid/stat ]] || continue
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$total"
}

# nginx_conf NAME HTTP_BODY: $WORK/NAME/nginx.conf, one worker, access log off.
nginx_conf() {
  mkdir -p "$WORK/$1"
  cat >"$WORK/$1/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/$1/nginx.pid;
error_log $WORK/$1/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $WORK/$1/body;
  proxy_temp_path $WORK/$1/proxy;
  fastcgi_temp_path $WORK/$1/fastcgi;
  uwsgi_temp_path $WORK/$1/uwsgi;
  scgi_temp_path $WORK/$1/scgi;
  keepalive_requests 10000000;
  $2
}
CONF
}

nginx_start() {  # CPU NAME
  spawn "$1" nginx -p "$WORK/$2" -c "$WORK/$2/nginx.conf" -e "$WORK/$2/error.log"
}

# start_backend: the nginx every route points at (13-byte 200) on CPU 0; sets BACKEND_PORT.
start_backend() {
  BACKEND_PORT=$(free_port)
  nginx_conf backend "server { listen 127.0.0.1:$BACKEND_PORT; location / { return 200 \"hello, world\n\"; } }"
  nginx_start $LOAD_CPU backend
  BACKEND_PID=$LAST_PID
  wait_port "$BACKEND_PORT"
}

# The command that reloads nginx instance NAME (new workers, old ones drain).
nginx_reload_cmd() { echo "nginx -p $WORK/$1 -c $WORK/$1/nginx.conf -e $WORK/$1/error.log -s reload"; }

# gatehouse_start MANIFEST_DIR LOG_PREFIX: controller on the directory (no provisioner) and a
# one-worker proxy for Gateway bench/gw that we start ourselves, so both PIDs are ours.
# Sets CTL_PID, PX_PID, STREAM_PORT, PX_ADMIN_PORT.
gatehouse_start() {
  local dir=$1 log=$2
  STREAM_PORT=$(free_port)
  PX_ADMIN_PORT=$(free_port)
  spawn $LOAD_CPU "$CONTROLLER_BIN" --source="dir:$dir" --stream-listen="127.0.0.1:$STREAM_PORT" \
    --admin-listen="127.0.0.1:$(free_port)" --provisioner=none 2>"$log.controller.log"
  CTL_PID=$LAST_PID
  wait_port "$STREAM_PORT"
  spawn $PROXY_CPU "$PROXY_BIN" --controller="127.0.0.1:$STREAM_PORT" --gateway=bench/gw --workers=1 \
    --admin="127.0.0.1:$PX_ADMIN_PORT" 2>"$log.proxy.log"
  PX_PID=$LAST_PID
}

gatehouse_stop() {
  stop_pid "$PX_PID"
  stop_pid "$CTL_PID"
}
