#!/usr/bin/env bash
# Regenerates features/upstream.json (features, profiles and tests of the pinned
# Gateway API release) from the Go modules pinned in conformance/go.mod.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN="${GOTOOLCHAIN:-go1.27.3}"
(cd conformance && go run ./cmd/upstream-features) > features/upstream.json.tmp
mv features/upstream.json.tmp features/upstream.json
echo "features/upstream.json: $(python3 -c 'import json;d=json.load(open("features/upstream.json"));print(d["version"], len(d["features"]), "features", len(d["tests"]), "tests")')"
