#!/usr/bin/env bash
# `make cluster-up`: a single-node Kubernetes control plane in a network namespace,
# built from Go modules (no Docker): etcd on tmpfs, kube-apiserver,
# kube-controller-manager, the podlet (kubelet + scheduler + CNI for one node) and
# the Gateway API CRDs of the pinned release. Writes $CLUSTER_DIR/admin.kubeconfig.
# Idempotent: a healthy cluster is left as it is. On failure or Ctrl-C it tears
# down whatever it started.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

CRD_CHANNEL=${CRD_CHANNEL:-experimental}

healthy() {
  [[ -f "$CLUSTER_DIR/state" ]] && netns_exists && alive etcd && alive kube-apiserver &&
    alive kube-controller-manager && alive podlet &&
    kc get --raw=/readyz >/dev/null 2>&1
}

if [[ ${1:-} == --check ]]; then # exit status only: is a healthy cluster up?
  healthy
  exit
fi
if healthy; then
  log "cluster already up (netns $NETNS); KUBECONFIG=$LOCAL_KUBECONFIG"
  exit 0
fi

reason=$(can_netns) || die "cannot bring up the local cluster: $reason"

if netns_exists && ! owns_netns; then
  die "netns $NETNS exists but was not created from this clone ($CLUSTER_DIR): another clone's" \
    "cluster? Use GATEHOUSE_NETNS=<another name>, or FORCE=1 make cluster-down to remove it"
fi
if netns_exists || [[ -d "$CLUSTER_DIR/pids" ]]; then
  log "found a half-up cluster; tearing it down first"
  "$ROOT/conformance/scripts/cluster-down.sh"
fi

start=$SECONDS
log "building the pinned tools (cached) and the harness"
"$ROOT/tools/build.sh" k8s etcd echo
build_harness
t_build=$((SECONDS - start))

# From here on, anything that fails (or Ctrl-C) removes what was started.
cleanup_on_failure() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ $rc -ne 0 ]]; then
    log "bring-up failed (exit $rc); logs in $CLUSTER_DIR/logs; tearing down"
    tail -n 20 "$CLUSTER_DIR"/logs/*.log 2>/dev/null | sed 's/^/    /' >&2 || true
    "$ROOT/conformance/scripts/cluster-down.sh" --keep-logs || true
  fi
  exit $rc
}
trap cleanup_on_failure EXIT
trap 'exit 130' INT TERM

rm -rf "$CLUSTER_DIR"
mkdir -p "$CLUSTER_DIR"/{pki,logs,pids}
echo "starting" >"$CLUSTER_DIR/state"
echo "$NETNS" >"$CLUSTER_DIR/netns"

# --- network -------------------------------------------------------------------
log "network namespace $NETNS: bridge cni0 $NODE_IP/$POD_CIDR_PREFIX, Gateway addresses $GATEWAY_RANGE"
ip netns add "$NETNS"
ip -n "$NETNS" link set lo up
ip -n "$NETNS" link add cni0 type bridge
ip -n "$NETNS" addr add "$NODE_IP/$POD_CIDR_PREFIX" dev cni0
ip -n "$NETNS" link set cni0 up
# Every address in the Gateway range is local: proxies bind them with no setup.
ip -n "$NETNS" route add local "$GATEWAY_RANGE" dev lo

# --- PKI -----------------------------------------------------------------------
P="$CLUSTER_DIR/pki"
log "PKI (openssl)"
(
  cd "$P"
  ossl() { openssl "$@" 2>/dev/null; }
  ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -keyout ca.key -out ca.crt -subj "/CN=gatehouse-local-ca"
  sign() { # name subject extensions
    ossl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2"
    printf '%s\n' "$3" >"$1.ext"
    ossl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -out "$1.crt" -extfile "$1.ext"
    rm -f "$1.csr" "$1.ext"
  }
  sign apiserver "/CN=kube-apiserver" \
    "subjectAltName=IP:127.0.0.1,IP:$NODE_IP,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth"
  sign admin "/O=system:masters/CN=admin" \
    "keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
  ossl genrsa -out sa.key 2048
  ossl rsa -in sa.key -pubout -out sa.pub
)
b64() { base64 -w0 <"$1"; }
cat >"$LOCAL_KUBECONFIG" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: gatehouse-local
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: $(b64 "$P/ca.crt")
users:
- name: admin
  user:
    client-certificate-data: $(b64 "$P/admin.crt")
    client-key-data: $(b64 "$P/admin.key")
contexts:
- name: gatehouse-local
  context: {cluster: gatehouse-local, user: admin}
current-context: gatehouse-local
EOF
chmod 600 "$LOCAL_KUBECONFIG"

# --- etcd ----------------------------------------------------------------------
log "etcd (data on tmpfs: $ETCD_DIR)"
rm -rf "$ETCD_DIR"
mkdir -p "$ETCD_DIR"
start_bg etcd "$TOOLS/etcd" --name=local --data-dir="$ETCD_DIR" \
  --listen-client-urls=http://127.0.0.1:2379 --advertise-client-urls=http://127.0.0.1:2379 \
  --listen-peer-urls=http://127.0.0.1:2380 --initial-advertise-peer-urls=http://127.0.0.1:2380 \
  --initial-cluster=local=http://127.0.0.1:2380 --unsafe-no-fsync=true --log-level=warn \
  --listen-metrics-urls=http://127.0.0.1:2381
wait_for "etcd" 30 in_netns bash -c 'exec 3<>/dev/tcp/127.0.0.1/2379'

# --- kube-apiserver ------------------------------------------------------------
log "kube-apiserver"
start_bg kube-apiserver "$TOOLS/kube-apiserver" \
  --etcd-servers=http://127.0.0.1:2379 \
  --bind-address=0.0.0.0 --secure-port=6443 --advertise-address="$NODE_IP" \
  --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" \
  --client-ca-file="$P/ca.crt" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$P/sa.pub" --service-account-signing-key-file="$P/sa.key" \
  --service-cluster-ip-range="$SERVICE_CIDR" \
  --authorization-mode=RBAC \
  --disable-admission-plugins=ServiceAccount \
  --allow-privileged=true \
  --kubelet-preferred-address-types=InternalIP \
  --profiling=false
wait_for "kube-apiserver /readyz" 90 kc get --raw=/readyz
alive kube-apiserver || die "kube-apiserver exited"

# --- kube-controller-manager ---------------------------------------------------
log "kube-controller-manager"
# No node-lifecycle/taint-eviction controllers: they would evict pods whenever the
# podlet's heartbeat is late. The rest is what Deployments, Services, namespace
# deletion and garbage collection need.
start_bg kube-controller-manager "$TOOLS/kube-controller-manager" \
  --kubeconfig="$LOCAL_KUBECONFIG" \
  --authentication-kubeconfig="$LOCAL_KUBECONFIG" --authorization-kubeconfig="$LOCAL_KUBECONFIG" \
  --leader-elect=false --use-service-account-credentials=false \
  --controllers=deployment-controller,replicaset-controller,endpointslice-controller,endpointslice-mirroring-controller,endpoints-controller,namespace-controller,garbage-collector-controller,serviceaccount-controller,service-cidr-controller \
  --authentication-skip-lookup=true \
  --bind-address=127.0.0.1 --secure-port=10257 --cert-dir="$CLUSTER_DIR/kcm"

# --- podlet --------------------------------------------------------------------
log "podlet (node $NODE_NAME)"
start_bg podlet "$HARNESS/podlet" \
  --kubeconfig="$LOCAL_KUBECONFIG" --node-name="$NODE_NAME" --node-ip="$NODE_IP" \
  --pod-pool="$POD_POOL" --pod-prefix-len="$POD_CIDR_PREFIX" --bridge=cni0 \
  --echo-binary="$TOOLS/echo-basic" --state-dir="$CLUSTER_DIR/podlet" \
  --image-binary="$PROXY_IMAGE_REPO=$OUT/bin/gatehouse-proxy"
wait_for "node $NODE_NAME" 60 kc get node "$NODE_NAME"
alive kube-controller-manager || die "kube-controller-manager exited"
alive podlet || die "podlet exited"

# --- Gateway API CRDs of the pinned release ------------------------------------
crd_dir="$(go_mod_field sigs.k8s.io/gateway-api Dir)/config/crd/$CRD_CHANNEL"
log "Gateway API $(gateway_api_version) CRDs ($CRD_CHANNEL channel), server-side"
if [[ -f "$crd_dir/kustomization.yaml" ]]; then
  kc apply --server-side -k "$crd_dir" >/dev/null
else
  kc apply --server-side -f "$crd_dir" >/dev/null
fi
kc wait --for=condition=Established crd --all --timeout=60s >/dev/null
wait_for "default ServiceAccount" 30 kc get serviceaccount default -n default

echo "up" >"$CLUSTER_DIR/state"
trap - EXIT INT TERM
log "cluster up in $((SECONDS - start))s (tools+harness build ${t_build}s)"
log "KUBECONFIG=$LOCAL_KUBECONFIG (reachable inside netns $NETNS:" \
    "nsenter --net=/run/netns/$NETNS -- $TOOLS/kubectl --kubeconfig $LOCAL_KUBECONFIG get pods -A)"
