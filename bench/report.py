#!/usr/bin/env python3
"""Writes the M1 markdown report from the per-target results of bench/run.sh."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402


def parse(s: str) -> dict:
    rps, per_cpu, p50, p99, errors = s.split()
    return {"rps": float(rps), "cpu": float(per_cpu), "p50": float(p50), "p99": float(p99),
            "errors": int(errors)}


def main() -> None:
    ap = argparse.ArgumentParser()
    for k in ("out", "duration", "runs", "conns", "direct", "gatehouse", "nginx", "haproxy", "h2_gatehouse",
              "h2_nginx", "h2_haproxy", "router_file"):
        ap.add_argument("--" + k.replace("_", "-"), required=True)
    ap.add_argument("--busy", default="")
    a = ap.parse_args()
    rows = {k: parse(getattr(a, k)) for k in ("direct", "gatehouse", "nginx", "haproxy")}
    g = rows["gatehouse"]["cpu"]
    best_peer = max(rows["nginx"]["cpu"], rows["haproxy"]["cpu"])
    m = benchlib.machine()
    lines = [
        "# M1: HTTP/1.1 keep-alive proxy efficiency",
        "",
        f"Measured {m['when']} by `make bench` (bench/run.sh) at commit `{m['commit']}` on {m['nproc']} "
        f"CPUs ({m['cpu']}), {m['kernel']}.",
        "",
        f"Load condition: {benchlib.load_note(a.busy)}",
        "",
        f"Method (performance.md §7 M1): `wrk -t1 -c{a.conns} -d{a.duration}s` on CPU 0 with the backend "
        "(nginx `return 200 \"hello, world\\n\"`); each proxy alone on the last CPU with one worker "
        "(gatehouse `--workers=1` in snapshot-file mode, nginx `worker_processes 1` with upstream "
        "`keepalive 64`, HAProxy `nbthread 1` with `http-reuse always`); access logs off. "
        "**req/CPU-s** = requests completed / (utime+stime of the proxy's processes) over the run; "
        f"median of {a.runs} run(s). The direct row is wrk straight to the backend (CPU of the backend).",
        "",
        "| target | req/s | req per CPU-second | vs gatehouse | p50 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, label in (("gatehouse", "gatehouse-proxy"), ("nginx", "nginx 1.22 (proxy)"),
                        ("haproxy", "HAProxy 2.6"), ("direct", "direct to backend")):
        r = rows[name]
        ratio = g / r["cpu"] if r["cpu"] else float("nan")
        lines.append(f"| {label} | {r['rps']:.0f} | {r['cpu']:.0f} | {ratio:.2f}x | {r['p50']:.3f} | "
                     f"{r['p99']:.3f} | {r['errors']} |")
    lines += [
        "",
        f"- gatehouse / best of nginx, HAProxy (req per CPU-second): **{g / best_peer:.2f}x** (target ≥ 1.05x)",
        f"- gatehouse / nginx: {g / rows['nginx']['cpu']:.2f}x; gatehouse / HAProxy: "
        f"{g / rows['haproxy']['cpu']:.2f}x",
        f"- gatehouse / direct server: {g / rows['direct']['cpu']:.2f}x (target ≥ 0.55x)",
        "",
        "The \"vs gatehouse\" column is gatehouse's req/CPU-s divided by that row's. On a 2-CPU machine the "
        "load generator and backend share one CPU, so req/s is bounded by them; req per CPU-second is the "
        "comparable number.",
    ]
    h2 = {k: parse(getattr(a, "h2_" + k)) for k in ("gatehouse", "nginx", "haproxy")}
    hg = h2["gatehouse"]["cpu"]
    lines += [
        "",
        "## HTTP/2 (h2c) frontend",
        "",
        f"`h2load -c16 -m100 -D {a.duration}` against each proxy's h2c listener (prior knowledge); upstream "
        "stays HTTP/1.1 keep-alive to the same backend. Mean ms is h2load's mean time per request.",
        "",
        "| target | req/s | req per CPU-second | vs gatehouse | mean ms | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, label in (("gatehouse", "gatehouse-proxy"), ("nginx", "nginx 1.22 (`listen ... http2`)"),
                        ("haproxy", "HAProxy 2.6 (`proto h2`)")):
        r = h2[name]
        lines.append(f"| {label} | {r['rps']:.0f} | {r['cpu']:.0f} | {hg / r['cpu']:.2f}x | {r['p50']:.3f} | "
                     f"{r['errors']} |")
    lines += ["", f"- gatehouse / best of nginx, HAProxy (h2c, req per CPU-second): "
                  f"**{hg / max(h2['nginx']['cpu'], h2['haproxy']['cpu']):.2f}x** (target ≥ 1.0x)"]
    router = open(a.router_file).read().strip()
    if router:
        lines += ["", "## Route lookup (`bazel run -c opt //proxy/router:router_bench`)", "", "```", router, "```"]
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
