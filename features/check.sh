#!/usr/bin/env bash
# `make test-features`: the registry is complete and consistent with the pinned release,
# every module it names is a real Bazel target, and every `supported` claim is backed by
# the latest committed conformance report.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN="${GOTOOLCHAIN:-go1.27.3}"

# 1. upstream.json is what the pinned modules say (regenerate with features/update-upstream.sh).
fresh=$(mktemp)
trap 'rm -f "$fresh"' EXIT
(cd conformance && go run ./cmd/upstream-features) > "$fresh"
if ! diff -q "$fresh" features/upstream.json >/dev/null; then
  echo "features/upstream.json is stale for the release pinned in conformance/go.mod;" \
       "run features/update-upstream.sh" >&2
  exit 1
fi

# 2. Every feature present, names/groups/channels/tests consistent.
python3 features/gen.py --check

# 3. Every module is a Bazel target.
mapfile -t labels < <(python3 -c '
import yaml
for e in yaml.safe_load(open("features/features.yaml")):
    for m in e.get("modules") or []: print(m)' | sort -u)
if ((${#labels[@]})); then
  missing=0
  for l in "${labels[@]}"; do
    if ! bazel query --noshow_progress "$l" >/dev/null 2>&1; then
      echo "features.yaml names $l, which is not a Bazel target" >&2
      missing=1
    fi
  done
  ((missing == 0)) || exit 1
  echo "features.yaml: ${#labels[@]} module targets exist"
fi

# 4. Honesty.
python3 features/honesty.py
