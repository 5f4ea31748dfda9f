#!/usr/bin/env bash
# Builds the pinned third-party binaries of the conformance harness (kube-apiserver,
# kube-controller-manager, kubectl, etcd, echo-basic, helm) from the Go modules in
# tools/*/, once per pin: each module's binaries live in
#   ${GATEHOUSE_TOOLS_CACHE:-$HOME/.cache/gatehouse/tools}/<sha256 of its go.mod, go.sum and recipe>/bin
# outside the clone, so a fresh clone on the same machine reuses them, and
# _out/tools/bin/<name> links to them. A module is rebuilt only when its pins change.
#
# Usage: tools/build.sh [k8s] [etcd] [echo] [helm]    (default: all)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
export PATH="$PATH:$HOME/.cache/gatehouse/go-bootstrap/bin"
CACHE=${GATEHOUSE_TOOLS_CACHE:-$HOME/.cache/gatehouse/tools}
LINKS="$ROOT/_out/tools/bin"
mkdir -p "$CACHE" "$LINKS"

log() { printf '%s tools: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# The recipe of each module: its binaries and the command that builds them into $1.
# Anything here is part of the cache key, so changing a flag rebuilds.
recipe_k8s() {
  local kv; kv=$(cd "$ROOT/tools/k8s" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
  local minor; minor=$(cut -d. -f2 <<<"$kv")
  # Upstream's flags (hack/lib/golang.sh) plus the version stamps hack/lib/version.sh sets.
  local ldf="-s -w"
  local p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldf+=" -X $p.gitVersion=$kv -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  echo "bins: kube-apiserver kube-controller-manager kubectl"
  echo "cmd: CGO_ENABLED=0 go build -trimpath -tags selinux,notest,grpcnotrace -ldflags '$ldf' -o \"\$OUT/\"" \
    "k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl"
}
recipe_etcd() {
  echo "bins: etcd"
  # The package's directory is "v3", so -o names the binary.
  echo "cmd: CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o \"\$OUT/etcd\" go.etcd.io/etcd/server/v3"
}
recipe_echo() {
  echo "bins: echo-basic"
  echo "cmd: CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o \"\$OUT/echo-basic\" sigs.k8s.io/gateway-api/conformance/echo-basic"
}
recipe_helm() {
  local hv; hv=$(cd "$ROOT/tools/helm" && go list -m -f '{{.Version}}' helm.sh/helm/v3)
  local kv; kv=$(cd "$ROOT/tools/k8s" && go list -m -f '{{.Version}}' k8s.io/kubernetes)
  local minor; minor=$(cut -d. -f2 <<<"$kv")
  # Stamp the version and the Kubernetes version `helm lint`/`helm template` assume.
  local ldf="-s -w -X helm.sh/helm/v3/internal/version.version=$hv -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  ldf+=" -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$minor"
  ldf+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$minor"
  echo "bins: helm"
  echo "cmd: CGO_ENABLED=0 go build -trimpath -ldflags '$ldf' -o \"\$OUT/helm\" helm.sh/helm/v3/cmd/helm"
}

# key MODULE: the cache key of a module (its pins, the recipe and the toolchain).
key() {
  local m=$1
  {
    echo "$GOTOOLCHAIN"
    "recipe_$m"
    cat "$ROOT/tools/$m/go.mod" "$ROOT/tools/$m/go.sum"
  } | sha256sum | cut -c1-16
}

build_module() {
  local m=$1 recipe bins cmd k dir
  recipe=$("recipe_$m")
  bins=$(sed -n 's/^bins: //p' <<<"$recipe")
  cmd=$(sed -n 's/^cmd: //p' <<<"$recipe")
  k=$(key "$m")
  dir="$CACHE/$m-$k"
  (
    # One builder per key at a time (two make targets may race here).
    exec 9>"$CACHE/$m-$k.lock"
    flock 9
    if [[ -f "$dir/.complete" ]]; then
      exit 0
    fi
    log "building $m ($bins) into $dir; a first build takes minutes"
    local start=$SECONDS
    rm -rf "$dir.tmp"
    mkdir -p "$dir.tmp/bin"
    (cd "$ROOT/tools/$m" && OUT="$dir.tmp/bin" bash -c "set -euo pipefail; export OUT; $cmd")
    touch "$dir.tmp/.complete"
    rm -rf "$dir"
    mv "$dir.tmp" "$dir"
    log "built $m in $((SECONDS - start))s"
  )
  local b
  for b in $bins; do
    ln -sfn "$dir/bin/$b" "$LINKS/$b"
  done
}

mods=("$@")
((${#mods[@]})) || mods=(k8s etcd echo helm)
for m in "${mods[@]}"; do
  [[ -d "$ROOT/tools/$m" ]] || { echo "tools/build.sh: no module tools/$m" >&2; exit 2; }
  build_module "$m"
done
