#!/usr/bin/env bash
# `make conformance`: the upstream Gateway API conformance suite (the release pinned
# in conformance/go.mod, unmodified) against Gatehouse.
#
#   build -> local cluster up (unless already up, or KUBECONFIG is set) -> gatehouse-controller
#   inside the cluster namespace (it provisions the proxies) -> GatewayClass `gatehouse`
#   -> suite -> report + summary -> teardown (unless KEEP=1 or the cluster was already up)
#
# Environment:
#   KEEP=1              leave the local cluster (and controller) running afterwards
#   RUN_TEST=Name       run one test (report goes to _out/conformance/, not reports/)
#   PROFILES=A,B        profiles to run (default: GATEWAY-HTTP + every GATEWAY-* profile
#                       whose route kind features/features.yaml marks supported)
#   FEATURES=all|A,B    also run tests of features not claimed (report goes to _out/conformance/)
#   SKIP_TESTS=A,B      tests to skip
#   KUBECONFIG=path     run against that cluster (kind + Helm, see conformance/README.md)
#   SUITE_TIMEOUT=3h    go test timeout for the whole suite
#   SKIP_BUILD=1        do not run `make build` (use the binaries in _out/bin as they are)
#   STRICT=1            exit non-zero when any test failed (default: only on harness errors)
#   PROVISIONER=host    host (default): the controller runs one gatehouse-proxy child per
#                       Gateway with an address from ADDRESS_POOL; kubernetes: a Deployment,
#                       Service and ServiceAccount per Gateway, proxy pods run by the podlet
#                       (report goes to _out/conformance/)
#   PROXY_SERVICE_TYPE  the Gateways' Service type with PROVISIONER=kubernetes (LoadBalancer)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

GATEWAY_CLASS=${GATEWAY_CLASS:-gatehouse}
CONTROLLER_NAME=gatehouse.dev/gateway-controller
ADDRESS_POOL=${ADDRESS_POOL:-10.245.0.10-10.245.0.250}
# GatewayStaticAddresses: one address the controller may use (inside its pool and the
# namespace's local range) and one it must refuse.
USABLE_ADDRESS=${USABLE_ADDRESS:-10.245.0.250}
UNUSABLE_ADDRESS=${UNUSABLE_ADDRESS:-10.246.0.1}
SUITE_TIMEOUT=${SUITE_TIMEOUT:-3h}
IMPL_URL=${IMPL_URL:-https://gatehouse.dev}
IMPL_CONTACT=${IMPL_CONTACT:-gatehouse maintainers}
MODE=default
PROVISIONER=${PROVISIONER:-host}
case $PROVISIONER in
  host | kubernetes) ;;
  *) echo "PROVISIONER must be host or kubernetes" >&2; exit 2 ;;
esac

# One local-cluster run per clone at a time: such runs share the cluster state directory.
# A PID file rather than flock: an inherited lock descriptor would stay held by processes
# that outlive the run (the Bazel server `make build` starts, KEEP=1's cluster).
LOCK_FILE="$OUT/.conformance.pid"
lock_held=0
take_lock() {
  local other
  mkdir -p "$OUT"
  for _ in 1 2 3; do
    if (set -C; echo $$ >"$LOCK_FILE") 2>/dev/null; then lock_held=1; return 0; fi
    other=$(cat "$LOCK_FILE" 2>/dev/null || true)
    if [[ $other =~ ^[0-9]+$ ]] && [[ -r /proc/$other/cmdline ]] &&
      tr '\0' ' ' <"/proc/$other/cmdline" | grep -q 'conformance\.sh'; then
      die "another make conformance is running in this clone (pid $other)"
    fi
    rm -f "$LOCK_FILE" # left by a run that is gone
  done
  die "cannot take $LOCK_FILE"
}
release_lock() {
  ((lock_held)) && [[ $(cat "$LOCK_FILE" 2>/dev/null) == "$$" ]] && rm -f "$LOCK_FILE"
  lock_held=0
}
if [[ -z ${KUBECONFIG:-} ]]; then
  take_lock
  trap release_lock EXIT
fi

start_all=$SECONDS
notes=()
note() { notes+=("$1"); log "$1"; }

external=0
if [[ -n ${KUBECONFIG:-} ]]; then
  external=1
  EXT_KUBECONFIG=$(readlink -f "$KUBECONFIG")
  [[ -f $EXT_KUBECONFIG ]] || die "KUBECONFIG=$KUBECONFIG does not exist"
fi

# --- build ---------------------------------------------------------------------
if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  log "building gatehouse (make build)"
  if ! make -C "$ROOT" --no-print-directory build; then
    note "make build FAILED: the suite runs against whatever binaries are in _out/bin"
  fi
fi
log "building the pinned tools (cached) and the harness"
"$ROOT/tools/build.sh" k8s etcd echo
build_harness
t_build=$((SECONDS - start_all))

# --- what to claim -------------------------------------------------------------
registry_supported=$(python3 "$ROOT/features/gen.py" --registry "$ROOT/features/features.yaml" \
  --upstream "$ROOT/features/upstream.json" --suite-flags) || die "features/features.yaml is invalid"
registry_profiles=$(python3 "$ROOT/features/gen.py" --registry "$ROOT/features/features.yaml" \
  --upstream "$ROOT/features/upstream.json" --profiles)
profiles=${PROFILES:-$(tr ',' '\n' <<<"GATEWAY-HTTP,$registry_profiles" | awk 'NF && !seen[$0]++' | paste -sd,)}
suite_features=()
supported_for_summary=$registry_supported
case ${FEATURES:-} in
  "") # The registry's claims. With none yet, name the profiles' core features so the
      # suite does not try to infer them from the GatewayClass (it refuses an empty set).
    if [[ -n $registry_supported ]]; then
      suite_features=(--supported-features="$registry_supported")
    else
      suite_features=(--supported-features=Gateway,HTTPRoute,ReferenceGrant)
      supported_for_summary=Gateway,HTTPRoute,ReferenceGrant
    fi ;;
  all) # Every feature of the Gateway profiles: --all-features would also turn on the
       # mesh tests, which need a mesh (and pod exec) this harness does not provide.
    all_gateway=$(python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
print(",".join(sorted(f["name"] for f in d["features"] if f["group"] != "Mesh")))' "$ROOT/features/upstream.json")
    suite_features=(--supported-features="$all_gateway")
    supported_for_summary=$all_gateway ;;
  *) suite_features=(--supported-features="$FEATURES"); supported_for_summary=$FEATURES ;;
esac

gwapi_version=$(gateway_api_version)
impl_version=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)
run_dir="$OUT/conformance/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$run_dir"
official=0
if [[ -z ${FEATURES:-}${RUN_TEST:-}${PROFILES:-}${SKIP_TESTS:-} && $PROVISIONER == host ]]; then
  official=1 # the committed report: the registry's claims, every claimed profile
fi

# --- cluster -------------------------------------------------------------------
brought_up=0
controller_started=0
finish() {
  local rc=$?
  trap - EXIT INT TERM
  if ((controller_started)) && [[ ${KEEP:-0} != 1 ]]; then
    stop_bg gatehouse-controller 15
    stop_exe_in_netns "$proxy_bin" # proxies the controller did not stop
  fi
  if ((!external)) && [[ -d "$CLUSTER_DIR/logs" ]]; then
    cp -r "$CLUSTER_DIR/logs" "$run_dir/cluster-logs" 2>/dev/null || true
  fi
  if ((brought_up)) && [[ ${KEEP:-0} != 1 ]]; then
    "$ROOT/conformance/scripts/cluster-down.sh" || rc=1
  elif [[ ${KEEP:-0} == 1 ]] && ((!external)); then
    log "KEEP=1: the cluster and gatehouse-controller stay up (make cluster-down removes them)"
  fi
  release_lock
  exit $rc
}
trap finish EXIT
trap 'exit 130' INT TERM

if ((external)); then
  log "running against KUBECONFIG=$EXT_KUBECONFIG (no local cluster)"
  KC_FILE=$EXT_KUBECONFIG
  run_in() { "$@"; }
  k() { "$TOOLS/kubectl" --kubeconfig "$KC_FILE" "$@"; }
else
  if ! "$ROOT/conformance/scripts/cluster-up.sh" --check 2>/dev/null; then
    brought_up=1
    "$ROOT/conformance/scripts/cluster-up.sh"
  else
    log "using the local cluster that is already up"
  fi
  KC_FILE=$LOCAL_KUBECONFIG
  run_in() { in_netns "$@"; }
  k() { kc "$@"; }
fi
t_up=$((SECONDS - start_all - t_build))

# --- gatehouse -----------------------------------------------------------------
controller_bin="$OUT/bin/gatehouse-controller"
proxy_bin="$OUT/bin/gatehouse-proxy"
controller_log="$run_dir/cluster-logs/gatehouse-controller.log"
if ((!external)); then
  stop_bg gatehouse-controller 15 # one left by KEEP=1
  stop_exe_in_netns "$proxy_bin"
  if [[ -x $controller_bin ]]; then
    [[ -x $proxy_bin ]] || note "the proxy binary $proxy_bin is MISSING: Gateways cannot be programmed"
    if [[ $PROVISIONER == kubernetes ]]; then
      # Proxy pods (run by the podlet in their own namespaces) reach the stream on
      # the node address; there is no kube-proxy, so no Service address would work.
      # Without a LoadBalancer implementation each Gateway's address is its proxy
      # pod's IP (the ready endpoints of its Service).
      provisioner_args=(--provisioner=kubernetes --proxy-image="$PROXY_IMAGE"
        --controller-service-address="$NODE_IP:18000" --stream-listen="$NODE_IP:18000"
        --proxy-service-type="${PROXY_SERVICE_TYPE:-LoadBalancer}" --address-pool="$ADDRESS_POOL")
    else
      provisioner_args=(--provisioner=host --proxy-binary="$proxy_bin"
        --address-pool="$ADDRESS_POOL" --stream-listen=127.0.0.1:18000)
    fi
    log "starting gatehouse-controller in netns $NETNS, $PROVISIONER provisioner (log: $controller_log)"
    start_bg gatehouse-controller "$controller_bin" --source=kube --kubeconfig="$LOCAL_KUBECONFIG" \
      --controller-name="$CONTROLLER_NAME" "${provisioner_args[@]}"
    controller_started=1
    sleep 1
    alive gatehouse-controller || note "gatehouse-controller EXITED right after start (see $controller_log)"
  else
    note "the controller binary $controller_bin is MISSING: nothing implements the GatewayClass, every test fails"
  fi
fi

k apply -f - >/dev/null <<EOF
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: $GATEWAY_CLASS
spec:
  controllerName: $CONTROLLER_NAME
EOF
accepted() {
  [[ $(k get gatewayclass "$GATEWAY_CLASS" \
    -o jsonpath='{.status.conditions[?(@.type=="Accepted")].status}' 2>/dev/null) == True ]]
}
if wait_for "GatewayClass $GATEWAY_CLASS Accepted=True" 60 accepted; then
  published=$(k get gatewayclass "$GATEWAY_CLASS" -o jsonpath='{range .status.supportedFeatures[*]}{.name}{"\n"}{end}' | sort | paste -sd,)
  if [[ $published != "$registry_supported" ]]; then
    note "GatewayClass.status.supportedFeatures ($published) differs from features/features.yaml ($registry_supported)"
  fi
else
  note "GatewayClass $GATEWAY_CLASS was not Accepted within 60s"
fi

# --- suite ---------------------------------------------------------------------
report="$run_dir/report.yaml"
suite_args=(
  -test.v=test2json -test.run='^TestConformance$' -test.timeout="$SUITE_TIMEOUT"
  --gateway-class="$GATEWAY_CLASS" --conformance-profiles="$profiles" "${suite_features[@]}"
  --report-output="$report" --mode="$MODE"
  --organization=gatehouse --project=gatehouse --url="$IMPL_URL" --version="$impl_version" --contact="$IMPL_CONTACT"
  --usable-address="$USABLE_ADDRESS" --unusable-address="$UNUSABLE_ADDRESS"
)
[[ -n ${RUN_TEST:-} ]] && suite_args+=(--run-test="$RUN_TEST")
[[ -n ${SKIP_TESTS:-} ]] && suite_args+=(--skip-tests="$SKIP_TESTS")
log "suite: profiles $profiles; features ${suite_features[*]}; provisioner $PROVISIONER; run dir $run_dir"
start_suite=$SECONDS
set +e
run_in env -i PATH=/usr/bin:/bin HOME="$HOME" KUBECONFIG="$KC_FILE" \
  "$HARNESS/test2json" -t -p gateway-api-conformance \
  "$HARNESS/gateway-api-conformance.test" "${suite_args[@]}" >"$run_dir/suite.jsonl" 2>"$run_dir/suite.stderr"
suite_rc=$?
set -e
t_suite=$((SECONDS - start_suite))
jq -j 'select(.Output != null) | .Output' <"$run_dir/suite.jsonl" >"$run_dir/suite.log" 2>/dev/null || true
log "suite finished (exit $suite_rc) in ${t_suite}s; log: $run_dir/suite.log"

# --- report --------------------------------------------------------------------
published_report=""
if [[ -s $report ]]; then
  channel=$(awk '/^gatewayAPIChannel:/ {print $2}' "$report")
  name="${channel:-experimental}-${impl_version}-${MODE}-report.yaml"
  if ((official)); then
    dest="$ROOT/reports/$gwapi_version/gatehouse"
    mkdir -p "$dest"
    cp "$report" "$dest/$name"
    published_report="$dest/$name"
    "$ROOT/conformance/scripts/report-readme.sh" "$dest" "$gwapi_version"
  else
    cp "$report" "$run_dir/$name"
    published_report="$run_dir/$name"
  fi
else
  note "the suite wrote NO report (it did not finish; see $run_dir/suite.log)"
fi
((controller_started)) && notes+=("controller log (with the proxies' output): $controller_log")

summary_args=(--events="$run_dir/suite.jsonl" --report="${published_report:-$report}" --profiles="$profiles"
  --supported-features="$supported_for_summary")
[[ -n ${RUN_TEST:-} ]] && summary_args+=(--run-test="$RUN_TEST")
[[ -n ${SKIP_TESTS:-} ]] && summary_args+=(--skip-tests="$SKIP_TESTS")
for n in "${notes[@]}"; do summary_args+=(--note="$n"); done
summary_args+=(--note="times: build ${t_build}s, cluster ${t_up}s, suite ${t_suite}s, total $((SECONDS - start_all))s; run dir $run_dir")
"$HARNESS/summary" "${summary_args[@]}" | tee "$run_dir/summary.txt"

if [[ -z $published_report ]]; then
  exit 1
fi
if [[ ${STRICT:-0} == 1 && $suite_rc -ne 0 ]]; then
  exit 1
fi
exit 0
