#!/usr/bin/env bash
# `make test-cluster` (part of `make test`): brings a local cluster up (its own
# network namespace and state directory, so it coexists with a `make cluster-up`
# cluster), runs conformance/clustertest inside it (upstream base manifests: pods
# Ready, EndpointSlices with pod IPs, echo identity from every backend pod, logs
# with sinceTime, namespace deletion), tears it down and checks nothing is left.
# Skips, saying why, when the machine cannot create network namespaces.
set -euo pipefail
# A namespace name of this clone's own: CI and a developer's clone may share a machine.
export GATEHOUSE_NETNS=${GATEHOUSE_NETNS:-gwapi-t$(cd "$(dirname "$0")/../.." && pwd | sha256sum | cut -c1-6)}
export GATEHOUSE_CLUSTER_DIR=${GATEHOUSE_CLUSTER_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/_out/cluster-test}
source "$(dirname "$0")/lib.sh"

if ! reason=$(can_netns); then
  echo "SKIP cluster test: $reason"
  exit 0
fi

log "building the cluster test"
(cd "$ROOT/conformance" && CGO_ENABLED=0 go test -c -o "$HARNESS/clustertest.test" ./clustertest)

"$ROOT/conformance/scripts/cluster-down.sh" >/dev/null 2>&1 || true # a previous run's leftovers

down_done=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if ((!down_done)); then
    "$ROOT/conformance/scripts/cluster-down.sh" || rc=1
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start=$SECONDS
"$ROOT/conformance/scripts/cluster-up.sh"
t_up=$((SECONDS - start))

# The Helm chart's objects, validated by the apiserver (with the Gateway API CRDs).
"$ROOT/tools/build.sh" helm
log "helm chart: server-side dry run"
"$TOOLS/helm" template gatehouse "$ROOT/deploy/helm/gatehouse" --namespace default |
  kc apply --dry-run=server -f - >/dev/null

log "running conformance/clustertest in netns $NETNS"
set +e
in_netns env -i PATH=/usr/bin:/bin HOME="$HOME" GATEHOUSE_CLUSTER_TEST_KUBECONFIG="$LOCAL_KUBECONFIG" \
  "$HARNESS/clustertest.test" -test.v -test.timeout=10m 2>&1 | tee "$CLUSTER_DIR/logs/clustertest.log" |
  grep -E '^(=== RUN|--- |\s+--- |PASS|FAIL|ok|\s+cluster_test.go)' 
test_rc=${PIPESTATUS[0]}
set -e

# Snapshot what teardown must remove, then tear down.
recorded_netns=$(ls "$CLUSTER_DIR/podlet/netns" 2>/dev/null || true)
recorded_pids=$(cat "$CLUSTER_DIR"/pids/* 2>/dev/null | awk '{print $1}'; ls "$CLUSTER_DIR/podlet/pids" 2>/dev/null || true)
if ((test_rc != 0)); then
  mkdir -p "$OUT/cluster-test-logs"
  cp -r "$CLUSTER_DIR/logs/." "$OUT/cluster-test-logs/" 2>/dev/null || true
  log "cluster test FAILED; logs kept in $OUT/cluster-test-logs"
fi
down_start=$SECONDS
down_done=1
"$ROOT/conformance/scripts/cluster-down.sh"
t_down=$((SECONDS - down_start))

left=()
netns_exists && left+=("netns $NETNS")
for ns in $recorded_netns; do
  [[ -e /run/netns/$ns ]] && left+=("pod netns $ns")
done
for pid in $recorded_pids; do
  [[ -d /proc/$pid ]] && left+=("process $pid ($(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | cut -c1-60))")
done
grep -qE "/run/netns/($NETNS|${recorded_netns//$'\n'/|}) " /proc/mounts 2>/dev/null && left+=("netns mounts")
[[ -e $ETCD_DIR ]] && left+=("$ETCD_DIR")
[[ -e $CLUSTER_DIR ]] && left+=("$CLUSTER_DIR")
if ((${#left[@]})); then
  log "FAIL: left behind after cluster-down: ${left[*]}"
  exit 1
fi
log "teardown left nothing behind ($(wc -w <<<"$recorded_netns") pod namespaces, $(wc -w <<<"$recorded_pids") processes checked)"
log "bring-up ${t_up}s, teardown ${t_down}s"
if ((test_rc != 0)); then
  log "FAIL: conformance/clustertest failed (exit $test_rc)"
  exit 1
fi
log "PASS"
