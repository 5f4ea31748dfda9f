#!/usr/bin/env bash
# Runs //controller/kube:real_apiserver_test against a real, throwaway control
# plane: etcd and kube-apiserver (the harness's pinned builds, tools/build.sh)
# on 127.0.0.1 with free ports, a fresh PKI, and the Gateway API CRDs of the
# pinned release. Everything it starts lives in a temp dir and is removed on exit.
# Usage: controller/kube/testing/real_apiserver.sh [CRD channel: standard|experimental]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
CHANNEL=${1:-standard}
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
export PATH="$PATH:$HOME/.cache/gatehouse/go-bootstrap/bin"

"$ROOT/tools/build.sh" k8s etcd >&2
BIN="$ROOT/_out/tools/bin"
crd_dir="$(cd "$ROOT/conformance" && go list -m -f '{{.Dir}}' sigs.k8s.io/gateway-api)/config/crd/$CHANNEL"

W=$(mktemp -d /tmp/gatehouse-kube-XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ETCD_CLIENT=$(free_port); ETCD_PEER=$(free_port); API=$(free_port)

cd "$W"
ossl() { openssl "$@" 2>/dev/null; }
# OpenSSL 3's `req -x509 -CA` issues a CA-signed certificate in one step.
cert() { # name subject [-CA ca.crt -CAkey ca.key] [-addext ...]...
  local name=$1 subject=$2
  shift 2
  ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -keyout "$name.key" -out "$name.crt" -subj "$subject" "$@"
}
cert ca "/CN=gatehouse-kube-test-ca"
cert apiserver "/CN=kube-apiserver" -CA ca.crt -CAkey ca.key \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -addext "extendedKeyUsage=serverAuth"
cert admin "/O=system:masters/CN=admin" -CA ca.crt -CAkey ca.key \
  -addext "extendedKeyUsage=clientAuth"
ossl genrsa -out sa.key 2048
ossl rsa -in sa.key -pubout -out sa.pub
cat >kubeconfig <<KC
apiVersion: v1
kind: Config
current-context: test
clusters: [{name: test, cluster: {server: "https://127.0.0.1:$API", certificate-authority: ca.crt}}]
users: [{name: admin, user: {client-certificate: admin.crt, client-key: admin.key}}]
contexts: [{name: test, context: {cluster: test, user: admin}}]
KC

"$BIN/etcd" --name=t --data-dir="$W/etcd" \
  --listen-client-urls="http://127.0.0.1:$ETCD_CLIENT" --advertise-client-urls="http://127.0.0.1:$ETCD_CLIENT" \
  --listen-peer-urls="http://127.0.0.1:$ETCD_PEER" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER" \
  --initial-cluster="t=http://127.0.0.1:$ETCD_PEER" --unsafe-no-fsync=true --log-level=warn \
  --listen-metrics-urls="http://127.0.0.1:$(free_port)" >"$W/etcd.log" 2>&1 &
PIDS+=($!)
"$BIN/kube-apiserver" --etcd-servers="http://127.0.0.1:$ETCD_CLIENT" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API" \
  --endpoint-reconciler-type=none \
  --tls-cert-file=apiserver.crt --tls-private-key-file=apiserver.key --client-ca-file=ca.crt \
  --service-account-issuer=https://kubernetes.default.svc --service-account-key-file=sa.pub \
  --service-account-signing-key-file=sa.key --service-cluster-ip-range=10.96.0.0/16 \
  --authorization-mode=RBAC --profiling=false >"$W/apiserver.log" 2>&1 &
PIDS+=($!)

kc() { "$BIN/kubectl" --kubeconfig "$W/kubeconfig" "$@"; }
for _ in $(seq 1 120); do
  kc get --raw=/readyz >/dev/null 2>&1 && break
  sleep 0.5
done
kc get --raw=/readyz >/dev/null || { tail -20 "$W/apiserver.log" >&2; exit 1; }
kc apply --server-side -f "$crd_dir" >/dev/null
kc wait --for=condition=Established crd --all --timeout=60s >/dev/null

cd "$ROOT"
bazel test //controller/kube:real_apiserver_test --test_env=KUBECONFIG="$W/kubeconfig" \
  --test_output=all --cache_test_results=no
