# Shared by the conformance scripts (sourced, not run). Names, paths and helpers of
# the local cluster: one network namespace holds the whole "cluster host" (etcd,
# kube-apiserver, controller-manager, podlet, Gatehouse, the suite); pods get child
# namespaces on a bridge inside it. The root namespace never gets a route into it.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
export PATH="$PATH:$HOME/.cache/gatehouse/go-bootstrap/bin:/usr/sbin:/sbin"

OUT="$ROOT/_out"
TOOLS="$OUT/tools/bin"       # links into the binary cache (tools/build.sh)
HARNESS="$OUT/harness"       # podlet and the suite binary, built from conformance/
CLUSTER_DIR=${GATEHOUSE_CLUSTER_DIR:-$OUT/cluster}
NETNS=${GATEHOUSE_NETNS:-gwapi}
LOCAL_KUBECONFIG="$CLUSTER_DIR/admin.kubeconfig"
ETCD_DIR="/dev/shm/gatehouse-$NETNS-etcd" # tmpfs, no mount of our own to clean up

# Network layout (conformance/README.md).
NODE_IP=10.244.0.1
# The proxy image the kubernetes provisioner and the chart use; the podlet runs
# _out/bin/gatehouse-proxy for it.
PROXY_IMAGE_REPO=gatehouse.dev/gatehouse-proxy
PROXY_IMAGE="$PROXY_IMAGE_REPO:0.1.0"
POD_CIDR_PREFIX=16
POD_POOL=10.244.1.1-10.244.15.254
GATEWAY_RANGE=10.245.0.0/24
SERVICE_CIDR=10.96.0.0/16
NODE_NAME=local-node

log() { printf '%s %s: %s\n' "$(date +%H:%M:%S)" "$(basename "$0" .sh)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# in_netns CMD...: run CMD in the cluster namespace (network only; nsenter execs it,
# so a backgrounded call's $! is the command's own PID).
in_netns() { nsenter --net="/run/netns/$NETNS" -- "$@"; }

# kc ARGS...: kubectl against the local cluster, from inside its namespace.
kc() { in_netns "$TOOLS/kubectl" --kubeconfig "$LOCAL_KUBECONFIG" "$@"; }

netns_exists() { [[ -e "/run/netns/$NETNS" ]]; }

# owns_netns: the cluster namespace was created from this clone's state directory
# (netns names are machine-wide; another clone's cluster must not be touched).
owns_netns() { [[ -f "$CLUSTER_DIR/netns" && $(<"$CLUSTER_DIR/netns") == "$NETNS" ]]; }

# can_netns: whether this machine lets us create network namespaces and bridges.
# Prints the reason when not.
can_netns() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "not root (network namespaces need CAP_SYS_ADMIN and CAP_NET_ADMIN)"
    return 1
  fi
  local probe="gh-probe-$$" err
  if ! err=$(ip netns add "$probe" 2>&1); then
    echo "cannot create a network namespace: $err"
    return 1
  fi
  if ! err=$(ip -n "$probe" link add gh-br0 type bridge 2>&1); then
    ip netns del "$probe" 2>/dev/null || true
    echo "cannot create a bridge in a network namespace: $err"
    return 1
  fi
  ip netns del "$probe"
  return 0
}

# start_bg NAME EXE ARGS...: start a long-running cluster process inside the
# cluster namespace, in its own session, with a clean environment (no proxy
# variables), logging to $CLUSTER_DIR/logs/NAME.log. Records "PID EXE" in
# $CLUSTER_DIR/pids/NAME so teardown stops exactly this process (nsenter and setsid
# exec, so the PID is EXE's own).
start_bg() {
  local name=$1 exe=$2; shift 2
  mkdir -p "$CLUSTER_DIR/logs" "$CLUSTER_DIR/pids"
  (
    # Close inherited descriptors: a long-running process holding a caller's pipe
    # would keep `make cluster-up | tee` (and the like) waiting forever.
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null
    done
    exec setsid env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$HOME" ${START_ENV:-} \
      nsenter --net="/run/netns/$NETNS" -- "$exe" "$@"
  ) >>"$CLUSTER_DIR/logs/$name.log" 2>&1 </dev/null &
  echo "$! $(readlink -f "$exe")" >"$CLUSTER_DIR/pids/$name"
}

# alive NAME: whether the recorded process still runs its recorded executable.
alive() {
  local f="$CLUSTER_DIR/pids/$1" pid exe
  [[ -f $f ]] || return 1
  read -r pid exe <"$f"
  [[ -n $pid && -d /proc/$pid ]] || return 1
  [[ -z $exe || $(readlink -f "/proc/$pid/exe" 2>/dev/null) == "$exe" ]]
}

# stop_bg NAME [GRACE_SECONDS]: SIGTERM the recorded process (whose session it
# leads), then SIGKILL after the grace period.
stop_bg() {
  local name=$1 grace=${2:-10} f="$CLUSTER_DIR/pids/$1" pid exe i
  [[ -f $f ]] || return 0
  read -r pid exe <"$f"
  if alive "$name"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
      [[ -d /proc/$pid ]] || break
      sleep 0.1
    done
    if [[ -d /proc/$pid ]]; then
      log "$name (pid $pid) did not stop in ${grace}s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$f"
}

# stop_exe_in_netns EXE: SIGTERM (then SIGKILL) every process in the cluster namespace
# that runs EXE, e.g. proxies a stopped controller left behind. The namespace is ours,
# so these are processes this harness started.
stop_exe_in_netns() {
  local exe pid pids=() i
  exe=$(readlink -f "$1")
  netns_exists || return 0
  for pid in $(ip netns pids "$NETNS" 2>/dev/null); do
    [[ $(readlink -f "/proc/$pid/exe" 2>/dev/null) == "$exe" ]] && pids+=("$pid")
  done
  ((${#pids[@]})) || return 0
  log "stopping ${#pids[@]} leftover $(basename "$exe") process(es): ${pids[*]}"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "${pids[@]}" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
}

# wait_for DESCRIPTION TIMEOUT_SECONDS CMD...: poll CMD until it succeeds.
wait_for() {
  local what=$1 timeout=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "timed out after ${timeout}s waiting for $what"
      return 1
    fi
    sleep 0.3
  done
}

# go_mod_field MODULE FIELD: a field of a module in the conformance module graph.
go_mod_field() { (cd "$ROOT/conformance" && go list -m -f "{{.$2}}" "$1"); }

gateway_api_version() { go_mod_field sigs.k8s.io/gateway-api Version; }

# build_harness: the podlet, the suite binary and the summary tool (Go build cache
# makes this quick after the first time).
build_harness() {
  mkdir -p "$HARNESS"
  (
    cd "$ROOT/conformance"
    CGO_ENABLED=0 go build -o "$HARNESS/podlet" ./cmd/podlet
    CGO_ENABLED=0 go build -o "$HARNESS/summary" ./cmd/summary
    CGO_ENABLED=0 go test -c -o "$HARNESS/gateway-api-conformance.test" ./suite
    # The suite's events as JSON (exact per-subtest results, parallel tests included).
    CGO_ENABLED=0 go build -o "$HARNESS/test2json" cmd/test2json
  )
}
