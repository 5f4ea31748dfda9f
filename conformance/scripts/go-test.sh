#!/usr/bin/env bash
# `make test-go` (part of `make test`): the Go test infrastructure without a
# cluster: go vet and go test of the podlet, the summary and the suite wrapper
# (compiled, not run), shell syntax of the harness scripts, and helm lint/template
# of deploy/helm/gatehouse with the pinned helm.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

cd "$ROOT/conformance"
log "go vet"
go vet ./...
log "go test (podlet, summary; the cluster test skips without a cluster)"
go test -race -count=1 ./internal/... ./cmd/... ./clustertest/...
log "the suite wrapper compiles"
go test -c -o /dev/null ./suite

log "shell syntax"
for f in "$ROOT"/conformance/scripts/*.sh "$ROOT/tools/build.sh"; do
  bash -n "$f"
done

log "helm lint/template (pinned helm from tools/helm)"
"$ROOT/tools/build.sh" helm
chart="$ROOT/deploy/helm/gatehouse"
"$TOOLS/helm" lint --strict "$chart"
for provisioner in kubernetes host none; do
  out=$("$TOOLS/helm" template t "$chart" --namespace gatehouse-system --set controller.provisioner=$provisioner)
  kinds="ServiceAccount ClusterRole ClusterRoleBinding Deployment GatewayClass"
  # The kubernetes provisioner's proxies reach the controller through its Service.
  [[ $provisioner == kubernetes ]] && kinds+=" Service"
  for kind in $kinds; do
    grep -q "^kind: $kind$" <<<"$out" || { log "helm template ($provisioner) has no $kind"; exit 1; }
  done
  grep -q -- "--provisioner=$provisioner" <<<"$out" || { log "helm template lacks --provisioner=$provisioner"; exit 1; }
done
default=$("$TOOLS/helm" template t "$chart" --namespace gatehouse-system)
for want in --provisioner=kubernetes --controller-service-address=t-gatehouse.gatehouse-system.svc:18000 \
  --proxy-image=gatehouse.dev/gatehouse-proxy:; do
  grep -q -- "$want" <<<"$default" || { log "helm template (defaults) lacks $want"; exit 1; }
done
log "PASS"
