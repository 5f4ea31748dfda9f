#!/usr/bin/env bash
# Writes README.md next to the committed conformance reports: how they were made
# and how to reproduce one. Usage: report-readme.sh DIR GATEWAY_API_VERSION
set -euo pipefail
dir=$1 version=$2
cat >"$dir/README.md" <<README
# Gatehouse: Gateway API $version conformance reports

Each \`<channel>-<gatehouse version>-<mode>-report.yaml\` here is the unmodified output of
the upstream conformance suite (\`sigs.k8s.io/gateway-api/conformance\` $version, pinned in
\`conformance/go.mod\`), run by \`make conformance\` at that Gatehouse version
(\`git describe --always --dirty\`). The newest report by its \`date\` field is the one the
feature registry's honesty check (\`features/check.sh\`) reads.

The suite runs with the features \`features/features.yaml\` marks \`supported\` (the same list
the controller publishes in \`GatewayClass.status.supportedFeatures\`), the profile
GATEWAY-HTTP plus every other GATEWAY-* profile whose route kind is supported, mode
\`default\`, and the \`experimental\` CRDs of $version.

## Reproduce

On Debian 12 as root (network namespaces), with access to Debian's archive and the Go
module proxy:

\`\`\`sh
git checkout <the commit in the report's implementation.version>
make conformance          # builds, brings up a local control plane, runs the suite, tears down
\`\`\`

The run prints a per-profile summary and keeps its files (suite log, \`go test -json\`
events, controller log) under \`_out/conformance/<timestamp>/\`. Runs with \`RUN_TEST=\`,
\`PROFILES=\`, \`FEATURES=\` or \`SKIP_TESTS=\` write their report there instead of here.

To run against a real cluster (kind + Helm) instead of the local control plane, see
\`conformance/README.md\`.
README
