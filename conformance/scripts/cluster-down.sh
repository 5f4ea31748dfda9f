#!/usr/bin/env bash
# `make cluster-down`: stops everything cluster-up (and conformance.sh) started, by
# recorded PID, then every process still inside the cluster's network namespaces
# (all of them started by this harness), removes the pod namespaces the podlet
# recorded, the cluster namespace, etcd's tmpfs data and the run state. Safe to
# run when nothing is up. --keep-logs keeps $CLUSTER_DIR/logs for a post-mortem.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

keep_logs=0
[[ ${1:-} == --keep-logs ]] && keep_logs=1

# The namespace of the run this state belongs to (GATEHOUSE_NETNS may differ).
[[ -f "$CLUSTER_DIR/netns" ]] && NETNS=$(<"$CLUSTER_DIR/netns")
if netns_exists && ! owns_netns && [[ ${FORCE:-0} != 1 ]]; then
  log "netns $NETNS exists but was not created from this clone ($CLUSTER_DIR); leaving it." \
    "FORCE=1 make cluster-down removes it (and everything running in it)."
  exit 0
fi

stopped=0
had_cluster=0
{ netns_exists || [[ -d $CLUSTER_DIR ]]; } && had_cluster=1
# Reverse start order: the controller stops its proxies, the podlet its pods.
for name in gatehouse-controller podlet kube-controller-manager kube-apiserver etcd; do
  if [[ -f "$CLUSTER_DIR/pids/$name" ]]; then
    grace=10
    [[ $name == podlet ]] && grace=30
    stop_bg "$name" "$grace"
    stopped=$((stopped + 1))
  fi
done
for f in "$CLUSTER_DIR"/pids/*; do # anything else recorded
  [[ -e $f ]] && stop_bg "$(basename "$f")" 5
done

# kill_netns_pids NS: SIGKILL every process in netns NS. The namespace was created
# by this harness, so everything in it is ours.
kill_netns_pids() {
  local pids
  pids=$(ip netns pids "$1" 2>/dev/null | tr '\n' ' ')
  [[ -n ${pids// /} ]] || return 0
  log "killing leftover processes in netns $1: $pids"
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
  sleep 0.2
}

# Pod processes the podlet recorded (by PID, checked against their executable).
if [[ -d "$CLUSTER_DIR/podlet/pids" ]]; then
  for f in "$CLUSTER_DIR"/podlet/pids/*; do
    [[ -e $f ]] || continue
    pid=$(basename "$f")
    exe=$(head -n1 "$f")
    if [[ -d /proc/$pid && $(readlink -f "/proc/$pid/exe" 2>/dev/null) == "$exe" ]]; then
      kill -KILL -- "-$pid" "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
  done
fi

# Pod namespaces the podlet recorded.
if [[ -d "$CLUSTER_DIR/podlet/netns" ]]; then
  for f in "$CLUSTER_DIR"/podlet/netns/*; do
    [[ -e $f ]] || continue
    ns=$(basename "$f")
    if [[ -e /run/netns/$ns ]]; then
      kill_netns_pids "$ns"
      ip netns del "$ns" 2>/dev/null || log "could not delete netns $ns"
    fi
    rm -f "$f"
  done
fi

if netns_exists; then
  kill_netns_pids "$NETNS"
  ip netns del "$NETNS" || log "could not delete netns $NETNS"
fi

rm -rf "$ETCD_DIR"
if [[ -d $CLUSTER_DIR ]]; then
  if ((keep_logs)); then
    find "$CLUSTER_DIR" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} +
  else
    rm -rf "$CLUSTER_DIR"
  fi
fi

# What must be gone now.
left=()
netns_exists && left+=("netns $NETNS")
grep -q "/run/netns/$NETNS " /proc/mounts && left+=("mount /run/netns/$NETNS")
[[ -e $ETCD_DIR ]] && left+=("$ETCD_DIR")
if ((${#left[@]})); then
  log "ERROR: left behind: ${left[*]}"
  exit 1
fi
if ((had_cluster)); then
  log "cluster down (netns $NETNS removed, $stopped recorded processes stopped)"
else
  log "no cluster to tear down (netns $NETNS)"
fi
