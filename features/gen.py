#!/usr/bin/env python3
"""Validates features/features.yaml against the pinned release and generates from it.

Inputs: the registry (features.yaml) and the release's own data (upstream.json, made by
update-upstream.sh from the Go modules). Outputs, one per mode:
  --check                      validate only (exit 1 with every problem listed)
  --cc-header/--cc-source      the C++ table behind GatewayClass.status.supportedFeatures
  --suite-flags                comma-separated supported feature names for the suite
  --profiles                   comma-separated GATEWAY-* profiles to run
  --report-skeleton            an expected ConformanceReport (upstream schema)
Validation runs in every mode, so no output is produced from a broken registry.
"""

import argparse
import json
import sys

import yaml

STATUSES = ("supported", "planned", "unsupported")
# The route kind each GATEWAY-* profile is about; a profile is claimed when its core
# features are all supported.
GATEWAY_PROFILES = ("GATEWAY-HTTP", "GATEWAY-TLS", "GATEWAY-TCP", "GATEWAY-UDP", "GATEWAY-GRPC")


def load(registry_path, upstream_path):
    with open(registry_path) as f:
        registry = yaml.safe_load(f)
    with open(upstream_path) as f:
        upstream = json.load(f)
    return registry, upstream


def validate(registry, upstream):
    """Returns a list of problems (empty when the registry is consistent)."""
    problems = []
    if not isinstance(registry, list):
        return ["features.yaml must be a YAML list of entries"]
    up_features = {f["name"]: f for f in upstream["features"]}
    up_tests = {t["name"]: t for t in upstream["tests"]}
    seen = set()
    for i, e in enumerate(registry):
        where = f"entry {i}"
        if not isinstance(e, dict) or "name" not in e:
            problems.append(f"{where}: needs a name")
            continue
        name = e["name"]
        where = f"{name}"
        if name in seen:
            problems.append(f"{where}: listed twice")
        seen.add(name)
        up = up_features.get(name)
        if up is None:
            problems.append(f"{where}: not a feature of Gateway API {upstream['version']}")
            continue
        if e.get("group") != up["group"]:
            problems.append(f"{where}: group {e.get('group')!r}, upstream says {up['group']!r}")
        if e.get("channel") != up["channel"]:
            problems.append(f"{where}: channel {e.get('channel')!r}, upstream says {up['channel']!r}")
        status = e.get("status")
        if status not in STATUSES:
            problems.append(f"{where}: status must be one of {STATUSES}, got {status!r}")
        if status == "unsupported" and not e.get("reason"):
            problems.append(f"{where}: unsupported needs a reason")
        modules = e.get("modules")
        if not isinstance(modules, list) or any(not str(m).startswith("//") for m in modules):
            problems.append(f"{where}: modules must be a list of Bazel labels")
        elif status == "supported" and not modules:
            problems.append(f"{where}: a supported feature names the targets that implement it")
        tests = e.get("tests")
        if not isinstance(tests, list):
            problems.append(f"{where}: tests must be a list")
            continue
        for t in tests:
            ut = up_tests.get(t)
            if ut is None:
                problems.append(f"{where}: test {t} does not exist upstream")
            elif name not in ut["features"]:
                problems.append(f"{where}: test {t} does not exercise {name}")
    # A claim must be provable: every test listed for a supported feature runs only when
    # all the features it needs are claimed too.
    claimed = {e["name"] for e in registry if isinstance(e, dict) and e.get("status") == "supported"}
    for e in registry:
        if not isinstance(e, dict) or e.get("status") != "supported":
            continue
        for t in e.get("tests") or []:
            need = set(up_tests.get(t, {}).get("features", [])) - claimed
            if need:
                problems.append(f"{e['name']}: supported, but its test {t} also needs "
                                f"{', '.join(sorted(need))}, which is not supported")
    for name in sorted(set(up_features) - seen):
        problems.append(f"{name}: feature of Gateway API {upstream['version']} missing from features.yaml")
    return problems


def supported(registry):
    return sorted(e["name"] for e in registry if e.get("status") == "supported")


def claimed_profiles(registry, upstream):
    sup = set(supported(registry))
    out = []
    for p in upstream["profiles"]:
        if p["name"] in GATEWAY_PROFILES and set(p["core"]) <= sup:
            out.append(p["name"])
    return out


def cc_header():
    return """// Generated from features/features.yaml by features/gen.py. Do not edit.
// The conformance features Gatehouse claims: GatewayClass.status.supportedFeatures.
#pragma once

#include <string_view>
#include <vector>

namespace gatehouse::features {

// Sorted by name (the API requires it), at most 64 entries.
const std::vector<std::string_view>& SupportedFeatures();

bool IsSupported(std::string_view name);

// The Gateway API release these names come from, e.g. "v1.7.0".
std::string_view GatewayApiVersion();

}  // namespace gatehouse::features
"""


def cc_source(registry, upstream):
    names = supported(registry)
    body = "".join(f'      "{n}",\n' for n in names)
    return f"""// Generated from features/features.yaml by features/gen.py. Do not edit.
#include "features/supported_features.h"

#include <algorithm>

namespace gatehouse::features {{

const std::vector<std::string_view>& SupportedFeatures() {{
  static const std::vector<std::string_view> kNames = {{
{body}  }};
  return kNames;
}}

bool IsSupported(std::string_view name) {{
  const auto& names = SupportedFeatures();
  return std::binary_search(names.begin(), names.end(), name);
}}

std::string_view GatewayApiVersion() {{ return "{upstream['version']}"; }}

}}  // namespace gatehouse::features
"""


def report_skeleton(registry, upstream):
    """The report we expect the suite to write, before running it: per claimed profile,
    the supported/unsupported extended features and the tests that will count."""
    sup = set(supported(registry))
    profiles = []
    for p in upstream["profiles"]:
        if p["name"] not in claimed_profiles(registry, upstream):
            continue
        feats = set(p["core"]) | set(p["extended"])
        core_tests, ext_tests = [], []
        for t in upstream["tests"]:
            tf = set(t["features"])
            if not tf <= feats or not tf <= (sup | set(p["core"])):
                continue
            (core_tests if tf <= set(p["core"]) else ext_tests).append(t["name"])
        entry = {
            "name": p["name"],
            "core": {"result": "pending", "expectedTests": core_tests,
                     "statistics": {"Passed": 0, "Failed": 0, "Skipped": 0}},
        }
        if ext_tests:
            entry["extended"] = {
                "result": "pending",
                "expectedTests": ext_tests,
                "statistics": {"Passed": 0, "Failed": 0, "Skipped": 0},
                "supportedFeatures": sorted(set(p["extended"]) & sup),
                "unsupportedFeatures": sorted(set(p["extended"]) - sup),
            }
        profiles.append(entry)
    report = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "ConformanceReport",
        "gatewayAPIVersion": upstream["version"],
        "gatewayAPIChannel": "experimental",
        "implementation": {
            "organization": "gatehouse",
            "project": "gatehouse",
            "url": "https://gatehouse.dev",
            "version": "unreleased",
            "contact": ["gatehouse maintainers"],
        },
        "mode": "default",
        "profiles": profiles,
    }
    header = ("# Generated from features/features.yaml by features/gen.py: the report the\n"
              "# upstream suite is expected to produce. `expectedTests` is ours (the real report\n"
              "# has only counts); every other key is the upstream ConformanceReport schema.\n")
    return header + yaml.safe_dump(report, sort_keys=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--registry", default="features/features.yaml")
    ap.add_argument("--upstream", default="features/upstream.json")
    mode = ap.add_mutually_exclusive_group(required=True)
    for m in ("check", "cc-header", "cc-source", "suite-flags", "profiles", "report-skeleton"):
        mode.add_argument("--" + m, action="store_true")
    ap.add_argument("--out", help="write here instead of stdout")
    args = ap.parse_args()

    registry, upstream = load(args.registry, args.upstream)
    problems = validate(registry, upstream)
    if problems:
        for p in problems:
            print(f"features.yaml: {p}", file=sys.stderr)
        return 1
    if args.check:
        text = f"features.yaml: {len(registry)} features, {len(supported(registry))} supported\n"
    elif args.cc_header:
        text = cc_header()
    elif args.cc_source:
        text = cc_source(registry, upstream)
    elif args.suite_flags:
        text = ",".join(supported(registry)) + "\n"
    elif args.profiles:
        text = ",".join(claimed_profiles(registry, upstream) or ["GATEWAY-HTTP"]) + "\n"
    else:
        text = report_skeleton(registry, upstream)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
