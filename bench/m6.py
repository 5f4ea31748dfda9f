#!/usr/bin/env python3
"""M6 (performance.md §7): memory per route and a churn leak check. `gen`/`nginx-gen` write N
routes, each with its own Service and EndpointSlice (nginx: its own upstream); `measure` waits
until the routes serve and RSS settles; `churn` creates and deletes routes at a fixed rate and
samples RSS; `report` writes reports/perf/m6-memory.md. Driven by bench/m6.sh."""
import argparse
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402


def route_file(name: str, backend_port: int) -> str:
    """One route with its own Service/EndpointSlice (all endpoints are the local backend, so any
    route can be checked with a request)."""
    return bl.route_yaml(name, f"svc-{name}") + "---\n" + bl.service_yaml(f"svc-{name}", "127.0.0.1", backend_port)


def cmd_gen(a):
    os.makedirs(a.dir, exist_ok=True)
    with open(os.path.join(a.dir, "gateway.yaml"), "w") as f:
        f.write(bl.gateway_yaml(a.port))
    for i in range(a.routes):
        with open(os.path.join(a.dir, f"route-{i:05d}.yaml"), "w") as f:
            f.write(route_file(f"r{i}", a.backend_port))


def cmd_nginx_gen(a):
    os.makedirs(a.dir, exist_ok=True)
    with open(os.path.join(a.dir, "http.conf"), "w") as f:
        f.write(bl.NGINX_HTTP_EXTRA + "\n")
        f.write(f"server {{ listen 127.0.0.1:{a.port} default_server; return 404; }}\n")
        for i in range(a.routes):
            f.write(bl.nginx_upstream_block(f"u{i}", "127.0.0.1", a.backend_port))
            f.write(bl.nginx_server_block(f"r{i}", f"u{i}", a.port))


def sampled_hosts(n: int, k: int = 20, seed: int = 1):
    if n == 0:
        return []
    rng = random.Random(seed)
    return [bl.host_of(f"r{i}") for i in sorted({0, n - 1} | set(rng.sample(range(n), min(k, n))))]


def wait_listener(port: int, timeout: float = 120):
    """With no routes the listener answers 404 to every host."""
    poller = bl.Poller(port, timeout=1.0)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if poller.get(bl.host_of("none"))[0] == 404:
            return True
        time.sleep(0.01)
    return False


def cmd_measure(a):
    """Waits until a sampled set of routes serve 200 (or, with none, until the listener answers
    404), then until RSS settles; appends one record to --out."""
    hosts = sampled_hosts(a.routes)
    ok = bl.wait_all(a.port, hosts, timeout=a.timeout) is not None if hosts else wait_listener(a.port)
    if not ok:
        sys.exit(f"m6: {a.target} with {a.routes} routes did not serve within {a.timeout} s")
    pids = {"controller": [a.controller_pid] if a.controller_pid else [],
            "proxy": [a.proxy_pid] + (bl.children(a.proxy_pid) if a.with_children else [])}
    rec = {"target": a.target, "routes": a.routes}
    for role, p in pids.items():
        if p:
            rec[f"{role}_rss_kib"] = bl.settled_rss(lambda p=p: p)
            rec[f"{role}_pss_kib"] = bl.pss_kib(p)
    if a.controller_pid and a.idle_seconds > 0:
        # Nothing changes now: whatever CPU the controller uses is its idle cost at this size.
        t0, c0 = time.monotonic(), cpu_ticks(a.controller_pid)
        time.sleep(a.idle_seconds)
        rec["controller_idle_cpu_pct"] = ((cpu_ticks(a.controller_pid) - c0) / os.sysconf("SC_CLK_TCK")
                                          / (time.monotonic() - t0) * 100)
    out = json.load(open(a.out)) if os.path.exists(a.out) else []
    out.append(rec)
    json.dump(out, open(a.out, "w"))
    print(f"m6: {a.target} {a.routes} routes: " + ", ".join(f"{k} {v}" for k, v in rec.items()
                                                           if k.endswith("_kib")), file=sys.stderr)


def cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def count_applied(log: str) -> int:
    try:
        return sum(1 for line in open(log) if '"snapshot applied"' in line)
    except OSError:
        return 0


def cmd_churn(a):
    """Every second: create `rate` new routes (own Service/EndpointSlice, one file each) and
    delete the ones created the second before, for `duration` seconds; RSS every `every` s.
    Then the last batch is checked to serve 200 and removed; RSS after settling."""
    os.makedirs(a.tmp, exist_ok=True)
    pids = {"controller": [a.controller_pid], "proxy": [a.proxy_pid]}
    before = {r: bl.settled_rss(lambda p=p: p) for r, p in pids.items()}
    applied0 = count_applied(a.proxy_log)
    series = []
    prev = []
    created = 0
    start = time.monotonic()
    next_sample = start
    tick = 0
    while time.monotonic() - start < a.duration:
        due = start + tick
        if time.monotonic() < due:
            time.sleep(due - time.monotonic())
        batch = []
        for j in range(a.rate):
            name = f"c{tick}x{j}"
            staged = bl.stage(route_file(name, a.backend_port), a.tmp, name)
            final = os.path.join(a.dir, f"churn-{name}.yaml")
            bl.publish(staged, final)
            batch.append((name, final))
            created += 1
        for _, path in prev:
            os.unlink(path)
        prev = batch
        tick += 1
        if time.monotonic() >= next_sample:
            series.append([round(time.monotonic() - start, 1), bl.rss_kib(pids["controller"]),
                           bl.rss_kib(pids["proxy"])])
            next_sample += a.every
    churn_s = time.monotonic() - start
    # The last batch must serve (the churn really reached the proxy), then goes away.
    served = bl.wait_all(a.port, [bl.host_of(n) for n, _ in prev], timeout=60) is not None
    for _, path in prev:
        os.unlink(path)
    poller = bl.Poller(a.port)
    gone, _ = bl.poll_until(poller, bl.host_of(prev[-1][0]), lambda s: s == 404, time.monotonic(),
                            period=0.01, timeout=60) if prev else (0, 0)
    time.sleep(a.settle)
    after = {r: bl.settled_rss(lambda p=p: p) for r, p in pids.items()}
    out = {"rate": a.rate, "duration": a.duration, "churn_s": churn_s, "ticks": tick, "created": created,
           "deleted": created, "base_routes": a.base_routes, "before": before, "after": after,
           "series": series, "last_batch_served": served, "last_batch_removed": gone is not None,
           "snapshots_applied": count_applied(a.proxy_log) - applied0}
    json.dump(out, open(a.out, "w"))
    print(f"m6: churn {created} routes in {churn_s:.0f} s: controller {before['controller']} -> "
          f"{after['controller']} KiB, proxy {before['proxy']} -> {after['proxy']} KiB, "
          f"{out['snapshots_applied']} snapshots applied", file=sys.stderr)


def late_growth(churn) -> str:
    """A leak keeps growing; an allocator reaching its high-water mark steps up early and stays.
    So also compare the end with the middle of the churn."""
    mid = next((x for x in churn["series"] if x[0] >= churn["duration"] / 2), None)
    if not mid:
        return ""
    f = churn["after"]
    return (f"From the middle of the churn ({mid[0]:.0f} s) to the end: controller "
            f"{(f['controller'] / mid[1] - 1) * 100:+.1f} %, proxy {(f['proxy'] / mid[2] - 1) * 100:+.1f} %.")


def cmd_report(a):
    recs = json.load(open(a.measure))
    churn = json.load(open(a.churn)) if a.churn and os.path.exists(a.churn) else None
    gh = {r["routes"]: r for r in recs if r["target"] == "gatehouse"}
    ngx = {r["routes"]: r for r in recs if r["target"] == "nginx"}
    ns = sorted(gh)
    lines = bl.header("M6: memory per route and churn", "bench/m6.sh", a.command, bl.load_note(a.busy))
    lines += [
        "Method (performance.md §7 M6):",
        "",
        "- **gatehouse**: for each N a fresh `gatehouse-controller --source=dir:DIR --provisioner=none` "
        "and `gatehouse-proxy --workers=1` (both ours), N HTTPRoutes each in its own file with its own "
        "Service and EndpointSlice (3 objects per route; every endpoint is the local nginx backend). "
        "Measured once a sampled set of routes (first, last, 20 random) serve 200 and VmRSS "
        "(`/proc/PID/status`, read every second) has stayed within 1 % for 6 s (the directory "
        "source rescans every 2 s and RSS climbs over the first rescans).",
        "- **nginx 1.22** (peer, `worker_processes 1`): N `server` blocks (own `server_name`, "
        "`location / { proxy_pass ...; }`), each with its own `upstream` (`keepalive 16`), started "
        "fresh per N; RSS of master + worker summed (they share pages, which RSS counts twice; the "
        "PSS column counts shared pages once).",
        "- Per route = (RSS at N - RSS at 0) / N.",
        "",
        "## RSS (KiB)",
        "",
        "| N routes | controller | proxy | gatehouse total | nginx master+worker RSS | nginx PSS |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for n in ns:
        g, x = gh[n], ngx.get(n, {})
        total = g["controller_rss_kib"] + g["proxy_rss_kib"]
        lines.append(f"| {n:,} | {g['controller_rss_kib']:,} | {g['proxy_rss_kib']:,} | {total:,} | "
                     f"{x.get('proxy_rss_kib', 0):,} | {x.get('proxy_pss_kib', 0):,} |")
    idle = [(n, gh[n]["controller_idle_cpu_pct"]) for n in ns if "controller_idle_cpu_pct" in gh[n]]
    if idle:
        lines += ["", "Controller CPU while nothing changes (after settling, over 10 s; % of one core): " +
                  ", ".join(f"{n:,} routes {p:.1f} %" for n, p in idle) +
                  ". No snapshot is published meanwhile; the directory source still rescans the "
                  "directory every 2 s (DirOptions.resync_interval)."]
    lines += ["", "## Per route (KiB)", "",
              "| N routes | controller | proxy | gatehouse total | nginx (RSS) | proxy / nginx | "
              "gatehouse total / nginx |",
              "|---:|---:|---:|---:|---:|---:|---:|"]
    per = {}
    if 0 in gh:
        for n in ns:
            if n == 0:
                continue
            c = (gh[n]["controller_rss_kib"] - gh[0]["controller_rss_kib"]) / n
            p = (gh[n]["proxy_rss_kib"] - gh[0]["proxy_rss_kib"]) / n
            x = ((ngx[n]["proxy_rss_kib"] - ngx[0]["proxy_rss_kib"]) / n) if n in ngx and 0 in ngx else float("nan")
            per[n] = (c, p, x)
            lines.append(f"| {n:,} | {c:.2f} | {p:.2f} | {c + p:.2f} | {x:.2f} | {p / x:.2f}x | "
                         f"{(c + p) / x:.2f}x |")
    if churn:
        b, f = churn["before"], churn["after"]
        gc = (f["controller"] / b["controller"] - 1) * 100
        gp = (f["proxy"] / b["proxy"] - 1) * 100
        peak_c = max([s[1] for s in churn["series"]] or [0])
        peak_p = max([s[2] for s in churn["series"]] or [0])
        lines += ["", "## Churn", "",
                  f"On top of {churn['base_routes']:,} routes: every second {churn['rate']} new routes "
                  "(own Service/EndpointSlice, one file each, renamed in) are created and the previous "
                  f"second's {churn['rate']} deleted, for {churn['duration']} s (the spec asks 30 min: "
                  "`CHURN_SECONDS=1800 bench/m6.sh`). Afterwards the last batch must serve 200 (it "
                  f"did: {'yes' if churn['last_batch_served'] else '**no**'}), is deleted (gone: "
                  f"{'yes' if churn['last_batch_removed'] else '**no**'}), and RSS is read after settling.",
                  "",
                  f"- routes created and deleted: {churn['created']:,} in {churn['churn_s']:.0f} s; "
                  f"snapshots the proxy applied meanwhile: {churn['snapshots_applied']} (the directory "
                  "source batches events that arrive within its 50 ms debounce)",
                  "",
                  "| process | RSS before KiB | peak during KiB | after KiB | growth |",
                  "|---|---:|---:|---:|---:|",
                  f"| controller | {b['controller']:,} | {peak_c:,} | {f['controller']:,} | {gc:+.1f}% |",
                  f"| proxy | {b['proxy']:,} | {peak_p:,} | {f['proxy']:,} | {gp:+.1f}% |",
                  "",
                  *([late_growth(churn), ""] if late_growth(churn) else []),
                  "RSS during the churn (s, controller KiB, proxy KiB): " +
                  "; ".join(f"{s[0]:.0f}: {s[1]:,}, {s[2]:,}" for s in churn["series"])]
    verdict = lambda ok: "met" if ok else "**not met**"  # noqa: E731
    if per:
        n = max(per)
        c, p, _ = per[n]
        lines += ["", "## Against the §7 targets", "",
                  f"- proxy ≤ 4 KiB/route (at {n:,}): {p:.2f}, {verdict(p <= 4)}",
                  f"- controller ≤ 16 KiB/route incl. its object cache (at {n:,}): {c:.2f}, {verdict(c <= 16)}"]
        if churn:
            lines.append(f"- RSS growth ≤ 5 % after churn ({churn['duration']} s, not 30 min): controller "
                         f"{gc:+.1f} %, proxy {gp:+.1f} %, {verdict(gc <= 5 and gp <= 5)}"
                         + (f" ({late_growth(churn)[0].lower()}{late_growth(churn)[1:].rstrip('.')})" if late_growth(churn) else ""))
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    if churn and not (churn["last_batch_served"] and churn["last_batch_removed"]):
        sys.exit("m6: the churn did not reach the proxy: the measurement is not valid")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    bl.add_gen_parsers(sub, cmd_gen, cmd_nginx_gen)
    p = sub.add_parser("measure")
    p.add_argument("--target", required=True)
    p.add_argument("--routes", type=int, required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--proxy-pid", type=int, required=True)
    p.add_argument("--controller-pid", type=int, default=0)
    p.add_argument("--with-children", action="store_true", help="add the proxy's children (nginx worker)")
    p.add_argument("--idle-seconds", type=float, default=10)
    p.add_argument("--timeout", type=float, default=180)
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_measure)
    p = sub.add_parser("churn")
    p.add_argument("--dir", required=True)
    p.add_argument("--tmp", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--backend-port", type=int, required=True)
    p.add_argument("--base-routes", type=int, required=True)
    p.add_argument("--controller-pid", type=int, required=True)
    p.add_argument("--proxy-pid", type=int, required=True)
    p.add_argument("--proxy-log", required=True)
    p.add_argument("--rate", type=int, default=20)
    p.add_argument("--duration", type=int, default=120)
    p.add_argument("--every", type=float, default=10)
    p.add_argument("--settle", type=float, default=3)
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_churn)
    p = sub.add_parser("report")
    p.add_argument("--out", required=True)
    p.add_argument("--command", required=True)
    p.add_argument("--busy", default="")
    p.add_argument("--measure", required=True)
    p.add_argument("--churn", default="")
    p.set_defaults(fn=cmd_report)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
