#!/usr/bin/env python3
"""The registry's honesty rule: a feature is `supported` only when the latest committed
conformance report proves it. Reads reports/<version>/gatehouse/*-report.yaml (the suite's
own output) and fails for every supported feature the report does not back."""
import glob
import os
import sys

import yaml


def latest_report(version):
    paths = glob.glob(os.path.join("reports", version, "gatehouse", "*-report.yaml"))
    if not paths:
        return None, None
    # The newest report by its own `date` field (file mtimes do not survive a clone).
    best = max(paths, key=lambda p: str(yaml.safe_load(open(p)).get("date", "")))
    return best, yaml.safe_load(open(best))


def main():
    registry = yaml.safe_load(open("features/features.yaml"))
    import json
    upstream = json.load(open("features/upstream.json"))
    version = upstream["version"]
    supported = [e for e in registry if e.get("status") == "supported"]
    path, report = latest_report(version)
    if not supported:
        print("honesty: no feature claimed yet")
        return 0
    if report is None:
        print(f"honesty: {len(supported)} features marked supported but no report under "
              f"reports/{version}/gatehouse/", file=sys.stderr)
        return 1
    failed, proven = set(), set()
    for p in report.get("profiles", []):
        core = p.get("core", {})
        ext = p.get("extended", {}) or {}
        failed.update(core.get("failedTests", []) or [])
        failed.update(core.get("skippedTests", []) or [])
        failed.update(ext.get("failedTests", []) or [])
        failed.update(ext.get("skippedTests", []) or [])
        proven.update(ext.get("supportedFeatures", []) or [])
        if core.get("result") in ("success", "partial"):
            prof = next((x for x in upstream["profiles"] if x["name"] == p.get("name")), None)
            if prof:
                proven.update(prof["core"])
    problems = []
    for e in supported:
        bad = sorted(set(e.get("tests", [])) & failed)
        if bad:
            problems.append(f"{e['name']}: supported, but {', '.join(bad)} failed or were skipped in {path}")
        on_profile = any(e["name"] in set(p["core"]) | set(p["extended"]) for p in upstream["profiles"]
                         if p["name"].startswith("GATEWAY-"))
        if on_profile and e["name"] not in proven:
            problems.append(f"{e['name']}: supported, but {path} does not list it as supported")
    for p in problems:
        print("honesty: " + p, file=sys.stderr)
    if not problems:
        print(f"honesty: {len(supported)} supported features backed by {path}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
