#!/usr/bin/env python3
"""M4 (performance.md §7): route propagation latency. Generates the N-route manifests and the
nginx peer's server blocks, takes the add/remove samples, times the cold start, and writes
reports/perf/m4-propagation.md. Driven by bench/m4.sh; each subcommand prints or writes JSON."""
import argparse
import datetime
import json
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402


def route_name(i: int) -> str:
    return f"r{i}"


def cmd_gen(a):
    """Directory-source manifests: class, namespace, Gateway, one Service and N route files."""
    os.makedirs(a.dir, exist_ok=True)
    with open(os.path.join(a.dir, "gateway.yaml"), "w") as f:
        f.write(bl.gateway_yaml(a.port) + "---\n" + bl.service_yaml("backend", "127.0.0.1", a.backend_port))
    for i in range(a.routes):
        with open(os.path.join(a.dir, f"route-{i:05d}.yaml"), "w") as f:
            f.write(bl.route_yaml(route_name(i), "backend"))


def cmd_nginx_gen(a):
    """The nginx peer's http-level config: one upstream, a 404 default server, and one include
    file per route (server block with its own server_name), like the route files."""
    routes = os.path.join(a.dir, "routes")
    os.makedirs(routes, exist_ok=True)
    with open(os.path.join(a.dir, "http.conf"), "w") as f:
        f.write(bl.NGINX_HTTP_EXTRA + "\n" + bl.nginx_upstream_block("backend", "127.0.0.1", a.backend_port))
        f.write(f"server {{ listen 127.0.0.1:{a.port} default_server; return 404; }}\n")
        f.write(f"include {routes}/*.conf;\n")
    for i in range(a.routes):
        with open(os.path.join(routes, f"route-{i:05d}.conf"), "w") as f:
            f.write(bl.nginx_server_block(route_name(i), "backend", a.port))


def cmd_wait(a):
    took = bl.wait_all(a.port, [bl.host_of(route_name(i)) for i in a.routes_idx], timeout=a.timeout)
    if took is None:
        sys.exit(f"m4: routes {a.routes_idx} did not all serve 200 within {a.timeout} s")
    print(f"{took:.3f}")


def cmd_sample(a):
    """S samples: publish one new route (t0 = just before the rename), poll every 1 ms until
    200; then delete it (t0 = just before the unlink) and poll until 404. For nginx the
    reload command runs after the rename/unlink, inside the timed window."""
    rng = random.Random(a.seed)
    poller = bl.Poller(a.port)
    os.makedirs(a.tmp, exist_ok=True)
    add, remove, timeouts = [], [], 0
    add_wall = []  # wall-clock t0 of each add, to line up with the processes' log lines
    sent0 = bl.tcp_bytes_sent(a.stream_port) if a.stream_port else 0
    reloads_failed = 0

    def reload():
        nonlocal reloads_failed
        if a.reload:
            if subprocess.run(a.reload, shell=True, capture_output=True).returncode != 0:
                reloads_failed += 1

    for s in range(a.samples):
        name = f"new{s}"
        host = bl.host_of(name)
        if a.target == "nginx":
            content = bl.nginx_server_block(name, "backend", a.port)
            final = os.path.join(a.dir, f"new-{s}.conf")
        else:
            content = bl.route_yaml(name, "backend")
            final = os.path.join(a.dir, f"new-{s}.yaml")
        staged = bl.stage(content, a.tmp, name)
        for change, want, into in ((lambda: bl.publish(staged, final), 200, add),
                                   (lambda: os.unlink(final), 404, remove)):
            wall, t0 = time.time(), time.monotonic()
            change()
            reload()
            took, _ = bl.poll_until(poller, host, lambda st: st == want, t0, timeout=a.timeout)
            if took is None:
                timeouts += 1
                continue
            into.append(took * 1000)
            if want == 200:
                add_wall.append((wall, took))
        time.sleep(a.gap + rng.random() * 0.05)
    out = {"target": a.target, "routes": a.n, "samples": a.samples, "add_ms": add, "remove_ms": remove,
           "timeouts": timeouts, "reloads_failed": reloads_failed,
           "connections": poller.connections}
    if a.controller_log and a.proxy_log:
        out["phases_ms"] = phases(add_wall, a.controller_log, a.proxy_log)
    if a.stream_port:
        out["stream_bytes_per_change"] = (bl.tcp_bytes_sent(a.stream_port) - sent0) / (2 * a.samples)
    json.dump(out, open(a.out, "w"))
    print(f"m4: {a.target} N={a.n}: add p50 {bl.percentile(add, 50):.1f} ms, p99 "
          f"{bl.percentile(add, 99):.1f} ms, remove p50 {bl.percentile(remove, 50):.1f} ms, "
          f"timeouts {timeouts}", file=sys.stderr)


def log_times(path: str, msg: str):
    """Wall-clock times (s) of the JSON log lines with this msg."""
    out = []
    for line in open(path):
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if ev.get("msg") == msg:
            ts = datetime.datetime.strptime(ev["ts"].rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f")
            out.append(ts.replace(tzinfo=datetime.timezone.utc).timestamp())
    return sorted(out)


def phases(adds, controller_log, proxy_log):
    """Splits each add into t0 -> controller logs "snapshot published" (debounce, directory
    rescan, graph, translate) -> proxy logs "snapshot applied" (send, decode, table build,
    swap) -> first 200 (the poll). Controller timestamps have 1 ms resolution."""
    published = log_times(controller_log, "snapshot published")
    applied = log_times(proxy_log, "snapshot applied")
    out = {"controller": [], "proxy": [], "poll": []}
    for t0, took in adds:
        pub = next((t for t in published if t >= t0 - 0.001), None)
        app = next((t for t in applied if pub is not None and t >= pub - 0.001), None)
        if pub is None or app is None or app > t0 + took + 0.002:
            continue
        out["controller"].append((pub - t0) * 1000)
        out["proxy"].append((app - pub) * 1000)
        out["poll"].append((t0 + took - app) * 1000)
    return out


COLD_STEPS = (("config stream listening", "process start"), ("directory source loaded", "read + parse files"),
              ("snapshot published", "graph + translate"), ("snapshot applied", "proxy start, connect, build"))


def cold_phases(log: str, t0: float, t1: float):
    """Cold start split at the first log line of each step (the host-provisioned proxy logs to
    the controller's stderr): [(label, seconds)], the last one up to the first 200."""
    out, prev = [], t0
    for msg, label in COLD_STEPS:
        times = [t for t in log_times(log, msg) if t >= t0 - 0.001]
        if not times:
            return []
        out.append((label, times[0] - prev))
        prev = times[0]
    out.append(("until the first 200", t1 - prev))
    return out


def cmd_cold(a):
    """Time from t0 (EPOCHREALTIME taken just before the first process was started) until a
    sampled set of routes (first, last, and `sample` random ones) all served 200."""
    rng = random.Random(a.seed)
    idx = sorted({0, a.routes - 1} | set(rng.sample(range(a.routes), min(a.sample, a.routes))))
    took = bl.wait_all(a.port, [bl.host_of(route_name(i)) for i in idx], timeout=a.timeout)
    t1 = time.time()
    out = {"target": a.target, "routes": a.routes, "sampled": len(idx),
           "seconds": None if took is None else t1 - float(a.t0)}
    if a.log and took is not None:
        out["phases_s"] = cold_phases(a.log, float(a.t0), t1)
    runs = json.load(open(a.out)) if os.path.exists(a.out) else []
    runs.append(out)
    json.dump(runs, open(a.out, "w"))
    print(f"m4: cold start {a.target} {a.routes} routes: "
          f"{'timeout' if took is None else f'{(t1 - float(a.t0)) * 1000:.0f} ms'}", file=sys.stderr)


def stats(values):
    p = bl.percentile
    return {"p50": p(values, 50), "p90": p(values, 90), "p99": p(values, 99),
            "max": max(values) if values else float("nan")}


def cmd_report(a):
    samples = [json.load(open(f)) for f in a.samples]
    cold = [r for f in a.cold for r in json.load(open(f))]
    by = {(s["target"], s["routes"]): s for s in samples}
    ns = sorted({s["routes"] for s in samples})
    lines = bl.header("M4: route propagation latency", "bench/m4.sh", a.command, bl.load_note(a.busy))
    lines += [
        "Method (performance.md §7 M4, directory source: no API server on the box, so t0 is the "
        "file write):",
        "",
        "- **gatehouse**: `gatehouse-controller --source=dir:DIR --provisioner=none` (CPU 0) with N "
        "existing HTTPRoutes, one file each (own hostname `rI.bench.test`, all to one Service whose "
        "EndpointSlice points at a local nginx `return 200`), and `gatehouse-proxy --workers=1` "
        "(CPU 1) connected over the gRPC stream and serving. A sample writes a new route file "
        "outside the directory, takes t0 just before `rename(2)` into it, then polls the new "
        "hostname every 1 ms on a keep-alive connection (reconnecting on error) until 200 = t1. "
        "Then it unlinks the file (t0) and polls until 404 (\"remove\"), so N stays constant. "
        "The controller debounces directory events by 50 ms (DirOptions.debounce), which is "
        "included in every gatehouse figure.",
        "- **nginx 1.22** (peer, one worker, CPU 1): the same N routes as one `server` block each "
        "(own `server_name`, `include routes/*.conf`, one keep-alive upstream, a `default_server` "
        "returning 404). A sample renames a new server-block file into the include directory "
        "(t0), runs `nginx -s reload` and polls the same way until 200; removal likewise until 404.",
        "- Between samples 100-150 ms of quiet. p99 of 50 samples is the second-largest value; "
        "the percentiles are nearest-rank.",
        "",
        "## Add one route: time until it serves 200 (ms)",
        "",
        "| N routes | target | samples | p50 | p90 | p99 | max | remove p50 | remove p99 | timeouts |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in ns:
        for t in ("gatehouse", "nginx"):
            s = by.get((t, n))
            if not s:
                continue
            st, rm = stats(s["add_ms"]), stats(s["remove_ms"])
            lines.append(f"| {n:,} | {t} | {s['samples']} | {st['p50']:.1f} | {st['p90']:.1f} | "
                         f"{st['p99']:.1f} | {st['max']:.1f} | {rm['p50']:.1f} | {rm['p99']:.1f} | "
                         f"{s['timeouts']} |")
    lines += ["", "## Ratios", ""]
    for n in ns:
        g, x = by.get(("gatehouse", n)), by.get(("nginx", n))
        if g and x:
            gs, xs = stats(g["add_ms"]), stats(x["add_ms"])
            lines.append(f"- N = {n:,}: gatehouse / nginx add latency p50 **{gs['p50'] / xs['p50']:.2f}x**, "
                         f"p99 {gs['p99'] / xs['p99']:.2f}x (lower is better for gatehouse)")
    lo, hi = ns[0], ns[-1]
    for t in ("gatehouse", "nginx"):
        a_, b_ = by.get((t, lo)), by.get((t, hi))
        if a_ and b_ and lo != hi:
            sa, sb = stats(a_["add_ms"]), stats(b_["add_ms"])
            lines.append(f"- {t} growth {lo:,} → {hi:,} routes: p50 **{sb['p50'] / sa['p50']:.2f}x**, "
                         f"p99 {sb['p99'] / sa['p99']:.2f}x")
    ph = [s for s in samples if s["target"] == "gatehouse" and s.get("phases_ms")]
    if ph:
        lines += ["", "## Where gatehouse's add latency goes (median ms)", "",
                  "From the processes' own log lines: t0 → the controller logs `snapshot published` "
                  "(directory debounce of 50 ms, rescan, graph, translate) → the proxy logs `snapshot "
                  "applied` (stream send, decode, table build, swap) → first 200 seen by the poller.",
                  "", "| N routes | samples matched | controller | stream + proxy | poll |",
                  "|---:|---:|---:|---:|---:|"]
        for s in sorted(ph, key=lambda s: s["routes"]):
            p = s["phases_ms"]
            lines.append(f"| {s['routes']:,} | {len(p['controller'])} | {bl.percentile(p['controller'], 50):.1f} | "
                         f"{bl.percentile(p['proxy'], 50):.1f} | {bl.percentile(p['poll'], 50):.1f} |")
    wchar = [(s["routes"], s["stream_bytes_per_change"]) for s in samples
             if s["target"] == "gatehouse" and "stream_bytes_per_change" in s]
    if wchar:
        lines += ["", "## Bytes on the config stream per one-route change", "",
                  "TCP `bytes_sent` (from `ss -ti`) of the controller's end of the gRPC stream over all "
                  "add+remove changes of the sampling, divided by their number (includes gRPC/HTTP/2 "
                  "framing and keep-alive pings). The snapshot is sent whole on every change "
                  "(`StreamResponse.snapshot`), so this grows with N.", "",
                  "| N routes | KiB per change |", "|---:|---:|"]
        for n, w in sorted(wchar):
            lines.append(f"| {n:,} | {w / 1024:.1f} |")
    if cold:
        lines += ["", "## Cold start", "",
                  "t0 = just before the first process starts; t1 = a sampled set of routes (the first, "
                  "the last and random others) have all served 200 once (polled every 1 ms, "
                  "connection refused counts as not yet). gatehouse: the controller starts with "
                  "`--provisioner=host --proxy-binary=... --proxy-workers=1` and spawns the proxy "
                  "itself (the product's own start-up path). nginx: the master starts with the same "
                  "N server blocks.", "",
                  "| target | N routes | sampled routes | runs | median s | min s | max s |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for t in ("gatehouse", "nginx"):
            runs = [r for r in cold if r["target"] == t]
            secs = [r["seconds"] for r in runs if r["seconds"] is not None]
            if not runs:
                continue
            fails = len(runs) - len(secs)
            lines.append(f"| {t} | {runs[0]['routes']:,} | {runs[0]['sampled']} | {len(runs)}"
                         f"{f' ({fails} timed out)' if fails else ''} | {bl.percentile(secs, 50):.3f} | "
                         f"{min(secs) if secs else float('nan'):.3f} | {max(secs) if secs else float('nan'):.3f} |")
        steps = [r["phases_s"] for r in cold if r["target"] == "gatehouse" and r.get("phases_s")]
        if steps:
            lines += ["", "gatehouse cold start by step (s, from the log lines; one column per run, in run "
                      "order; a slow run shows which step the machine's other load slowed):", "",
                      "| step | " + " | ".join(f"run {i + 1}" for i in range(len(steps))) + " |",
                      "|---|" + "---:|" * len(steps)]
            for k, (label, _) in enumerate(steps[0]):
                lines.append(f"| {label} | " + " | ".join(f"{st[k][1]:.3f}" for st in steps) + " |")
        gs = [r["seconds"] for r in cold if r["target"] == "gatehouse" and r["seconds"] is not None]
        xs = [r["seconds"] for r in cold if r["target"] == "nginx" and r["seconds"] is not None]
        if gs and xs:
            lines.append("")
            lines.append(f"- cold start gatehouse / nginx (median): **{bl.percentile(gs, 50) / bl.percentile(xs, 50):.2f}x**")
    g_hi = by.get(("gatehouse", hi))
    if g_hi:
        st = stats(g_hi["add_ms"])
        g_lo = by.get(("gatehouse", lo))
        growth = stats(g_hi["add_ms"])["p50"] / stats(g_lo["add_ms"])["p50"] if g_lo else float("nan")
        gs = [r["seconds"] for r in cold if r["target"] == "gatehouse" and r["seconds"] is not None]
        verdict = lambda ok: "met" if ok else "**not met**"  # noqa: E731
        lines += ["", "## Against the §7 targets", "",
                  f"- p50 ≤ 5 ms at {hi:,} routes: {st['p50']:.1f} ms, {verdict(st['p50'] <= 5)}",
                  f"- p99 ≤ 20 ms at {hi:,} routes: {st['p99']:.1f} ms, {verdict(st['p99'] <= 20)}"]
        if lo != hi:
            lines.append(f"- growth {lo:,} → {hi:,} ≤ 1.5x (p50): {growth:.2f}x, {verdict(growth <= 1.5)}")
        if gs:
            lines.append(f"- cold start of {cold[0]['routes']:,} routes ≤ 1 s: {bl.percentile(gs, 50):.2f} s, "
                         f"{verdict(bl.percentile(gs, 50) <= 1)}")
        if wchar:
            w = dict(wchar).get(hi)
            if w is not None:
                lines.append(f"- bytes on the stream per one-route change ≤ 2 KiB: {w / 1024:.0f} KiB at "
                             f"{hi:,} routes (full snapshot per change), {verdict(w <= 2048)}")
    lines += ["", "## Raw samples (ms)", ""]
    for s in sorted(samples, key=lambda s: (s["routes"], s["target"])):
        lines.append(f"- {s['target']} N={s['routes']} add: " + " ".join(f"{v:.1f}" for v in s["add_ms"]))
        lines.append(f"- {s['target']} N={s['routes']} remove: " + " ".join(f"{v:.1f}" for v in s["remove_ms"]))
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    bl.add_gen_parsers(sub, cmd_gen, cmd_nginx_gen)
    p = sub.add_parser("wait")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--routes-idx", type=int, nargs="+", required=True)
    p.add_argument("--timeout", type=float, default=120)
    p.set_defaults(fn=cmd_wait)
    p = sub.add_parser("sample")
    p.add_argument("--target", choices=("gatehouse", "nginx"), required=True)
    p.add_argument("--dir", required=True, help="where new route files go (watched dir / nginx include dir)")
    p.add_argument("--tmp", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--samples", type=int, default=50)
    p.add_argument("--gap", type=float, default=0.1)
    p.add_argument("--timeout", type=float, default=10)
    p.add_argument("--reload", default="")
    p.add_argument("--stream-port", type=int, default=0)
    p.add_argument("--controller-log", default="")
    p.add_argument("--proxy-log", default="")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_sample)
    p = sub.add_parser("cold")
    p.add_argument("--target", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--routes", type=int, required=True)
    p.add_argument("--sample", type=int, default=20)
    p.add_argument("--t0", required=True, help="EPOCHREALTIME before the first start")
    p.add_argument("--log", default="", help="gatehouse: the controller's stderr (proxy lines included)")
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_cold)
    p = sub.add_parser("report")
    p.add_argument("--out", required=True)
    p.add_argument("--command", required=True)
    p.add_argument("--busy", default="")
    p.add_argument("--samples", nargs="*", default=[])
    p.add_argument("--cold", nargs="*", default=[])
    p.set_defaults(fn=cmd_report)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
