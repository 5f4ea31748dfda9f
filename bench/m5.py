#!/usr/bin/env python3
"""M5 (performance.md §7): zero-loss reconfiguration under load. `run` drives one target:
K long-lived keep-alive clients plus a wrk load, first steady, then while the route flips every
INTERVAL between backend A and B (and a response-header filter comes and goes); it counts
non-2xx, failed requests, server-closed connections and the throughput/p99 change, and checks
that the flips were visible. `report` writes reports/perf/m5-churn.md. Driven by bench/m5.sh."""
import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

HOST = bl.host_of("flip")
HEADER = ("X-Flip", "on")


def state(k: int):
    """Change k: backend A on even k, B on odd; the filter is on for k % 4 in (2, 3), so both
    dimensions flip independently and all four combinations must be seen."""
    return ("a" if k % 2 == 0 else "b"), (k % 4 >= 2)


# ---- how each target is reconfigured ----

def render_gatehouse(k, a):
    backend, filt = state(k)
    return bl.route_yaml("flip", f"svc-{backend}", HEADER if filt else None)


def render_nginx(k, a):
    backend, filt = state(k)
    return bl.nginx_server_block("flip", f"be_{backend}", a.port, HEADER if filt else None)


def render_haproxy(k, a):
    backend, filt = state(k)
    return open(a.template).read().replace("@BACKEND@", f"be_{backend}").replace(
        "@FILTER@", f"  http-response set-header {HEADER[0]} {HEADER[1]}" if filt else "")


RENDER = {"gatehouse": render_gatehouse, "nginx": render_nginx, "haproxy": render_haproxy}


def apply(k, a):
    staged = bl.stage(RENDER[a.target](k, a), a.tmp, "flip")
    bl.publish(staged, a.config)
    if a.target == "nginx":
        return subprocess.run(a.reload, shell=True, capture_output=True).returncode == 0
    if a.target == "haproxy":
        os.kill(a.master_pid, signal.SIGUSR2)
    return True


# ---- CPU of a process tree, including reaped children (old nginx/HAProxy workers) ----

def tree_ticks(pid: int) -> int:
    def stat(p):
        with open(f"/proc/{p}/stat") as f:
            s = f.read()
        return s[s.rindex(")") + 2:].split()
    try:
        f = stat(pid)
    except OSError:
        return 0
    total = int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])  # utime stime cutime cstime
    for c in bl.children(pid):
        try:
            g = stat(c)
            total += int(g[11]) + int(g[12])
        except OSError:
            pass
    return total


# ---- long-lived clients ----

class LongLived(threading.Thread):
    """One keep-alive connection looping GETs. Per phase: requests, non-2xx, requests that got
    no response, connections the server closed (Connection: close or EOF/reset); and in the churn
    phase the sequence of (backend, filter) it saw."""

    def __init__(self, port, interval, phase):
        super().__init__(daemon=True)
        self.port, self.interval, self.phase = port, interval, phase
        self.stop = False
        self.counts = {}
        self.seen = []

    def count(self, key):
        c = self.counts.setdefault(self.phase[0], {"requests": 0, "non2xx": 0, "failed": 0, "closed": 0})
        c[key] += 1

    def run(self):
        import http.client
        conn = None
        while not self.stop:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                conn.request("GET", "/", headers={"Host": HOST})
                r = conn.getresponse()
                r.read()
                self.count("requests")
                if not 200 <= r.status < 300:
                    self.count("non2xx")
                elif self.phase[0] == "churn":
                    self.seen.append((r.headers.get("X-Backend", ""), r.headers.get(HEADER[0]) == HEADER[1]))
                if r.will_close:
                    self.count("closed")
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                self.count("requests")
                self.count("failed")
                self.count("closed")
                conn.close()
                conn = None
            time.sleep(self.interval)
        if conn is not None:
            conn.close()


def wrk(a, seconds, out_path):
    script = os.path.join(a.tmp, "wrk.lua")
    with open(script, "w") as f:
        f.write(f'wrk.headers["Host"] = "{HOST}"\nfunction delay() return {a.wrk_delay_ms} end\n')
    return subprocess.Popen(["taskset", "-c", str(a.load_cpu), "wrk", "-t1", f"-c{a.wrk_conns}",
                             f"-d{seconds}s", "--latency", "-s", script, f"http://127.0.0.1:{a.port}/"],
                            stdout=open(out_path, "w"), stderr=subprocess.STDOUT)


def parse_wrk(path):
    import re
    text = open(path).read()
    r = {"requests": int(re.search(r"(\d+) requests in", text).group(1)),
         "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
         "p50_ms": None, "p99_ms": None, "socket_errors": 0, "non2xx": 0, "raw": text}
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)", text, re.M)
        if m:
            v = float(m.group(1))
            r[key] = v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        r["socket_errors"] = sum(int(g) for g in m.groups())
        r["socket_errors_detail"] = m.group(0)
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        r["non2xx"] = int(m.group(1))
    return r


def cmd_run(a):
    os.makedirs(a.tmp, exist_ok=True)
    hz = os.sysconf("SC_CLK_TCK")
    if not apply(0, a):
        sys.exit("m5: first reconfiguration failed")
    poller = bl.Poller(a.port)
    deadline = time.monotonic() + 30
    while True:
        status, headers = poller.get(HOST)
        if status == 200 and headers.get("X-Backend") == "a" and headers.get(HEADER[0]) is None:
            break
        if time.monotonic() > deadline:
            sys.exit(f"m5: {a.target} never served the flip route from backend a")
        time.sleep(0.05)
    poller.close()
    # Let the reload the first change caused (nginx, HAProxy) finish, so no client starts on a
    # worker that is about to leave; then warm up.
    time.sleep(2)
    wrk(a, 2, os.path.join(a.tmp, "wrk-warmup.txt")).wait()

    phase = ["steady"]
    clients = [LongLived(a.port, a.ll_interval, phase) for _ in range(a.longlived)]
    for c in clients:
        c.start()
    time.sleep(0.5)

    cpu = {}
    t = (tree_ticks(a.proxy_pid), tree_ticks(a.controller_pid) if a.controller_pid else 0)
    wrk(a, a.steady, os.path.join(a.tmp, "wrk-steady.txt")).wait()
    t2 = (tree_ticks(a.proxy_pid), tree_ticks(a.controller_pid) if a.controller_pid else 0)
    cpu["steady"] = [(t2[i] - t[i]) / hz for i in range(2)]

    phase[0] = "churn"
    churn_seconds = a.changes * a.interval
    w = wrk(a, max(1, round(churn_seconds)), os.path.join(a.tmp, "wrk-churn.txt"))
    t = t2
    start = time.monotonic()
    failed_applies, late = 0, 0
    for k in range(1, a.changes + 1):
        due = start + (k - 1) * a.interval
        now = time.monotonic()
        if now < due:
            time.sleep(due - now)
        elif now - due > a.interval:
            late += 1
        if not apply(k, a):
            failed_applies += 1
    time.sleep(max(0.0, start + churn_seconds - time.monotonic()))
    w.wait()
    t2 = (tree_ticks(a.proxy_pid), tree_ticks(a.controller_pid) if a.controller_pid else 0)
    cpu["churn"] = [(t2[i] - t[i]) / hz for i in range(2)]
    churn_elapsed = time.monotonic() - start
    phase[0] = "after"
    time.sleep(0.3)
    for c in clients:
        c.stop = True
    for c in clients:
        c.join(timeout=10)

    ll = {}
    for ph in ("steady", "churn"):
        agg = {"requests": 0, "non2xx": 0, "failed": 0, "closed": 0, "clients_closed": 0}
        for c in clients:
            cc = c.counts.get(ph, {})
            for k in ("requests", "non2xx", "failed", "closed"):
                agg[k] += cc.get(k, 0)
            agg["clients_closed"] += 1 if cc.get("closed", 0) else 0
        ll[ph] = agg
    transitions = []
    combos = set()
    for c in clients:
        backends = [b for b, _ in c.seen]
        transitions.append(sum(1 for i in range(1, len(backends)) if backends[i] != backends[i - 1]))
        combos |= set(c.seen)
    unknown = sorted({b for c in clients for b, _ in c.seen} - {"a", "b"})
    visible = (min(transitions) >= a.changes // 2 if transitions else False) and len(combos & {
        ("a", False), ("a", True), ("b", False), ("b", True)}) == 4 and not unknown
    out = {"target": a.target, "changes": a.changes, "interval": a.interval, "churn_elapsed": churn_elapsed,
           "late_changes": late, "failed_applies": failed_applies,
           "wrk": {"steady": parse_wrk(os.path.join(a.tmp, "wrk-steady.txt")),
                   "churn": parse_wrk(os.path.join(a.tmp, "wrk-churn.txt"))},
           "wrk_conns": a.wrk_conns, "wrk_delay_ms": a.wrk_delay_ms, "steady": a.steady,
           "longlived": a.longlived, "ll_interval": a.ll_interval, "ll": ll,
           "transitions_min": min(transitions) if transitions else 0,
           "transitions_max": max(transitions) if transitions else 0,
           "combos": sorted([b, f] for b, f in combos), "unknown_backends": unknown, "flip_visible": visible,
           "cpu": cpu}
    json.dump(out, open(a.out, "w"))
    s, c = out["wrk"]["steady"], out["wrk"]["churn"]
    print(f"m5: {a.target}: wrk steady {s['rps']:.0f} rps churn {c['rps']:.0f} rps, non-2xx "
          f"{c['non2xx']}, socket errors {c['socket_errors']}; long-lived churn {ll['churn']}; "
          f"transitions min {out['transitions_min']}, flip visible {visible}", file=sys.stderr)


def cmd_gen(a):
    """Directory-source manifests: class, namespace, Gateway and the two backend Services; the
    flip route itself is written by the first change."""
    with open(os.path.join(a.dir, "gateway.yaml"), "w") as f:
        f.write("---\n".join([bl.gateway_yaml(a.port), bl.service_yaml("svc-a", "127.0.0.2", a.a_port),
                              bl.service_yaml("svc-b", "127.0.0.3", a.b_port)]))


def cmd_report(a):
    runs = [json.load(open(f)) for f in a.runs]
    r0 = runs[0]
    lines = bl.header("M5: zero-loss reconfiguration under load", "bench/m5.sh", a.command, bl.load_note(a.busy))
    lines += [
        "Method (performance.md §7 M5, reduced):",
        "",
        f"- One route `flip.bench.test` is reconfigured every {r0['interval'] * 1000:.0f} ms, "
        f"{r0['changes']} times (the spec's 10,000 changes take 33 min at this cadence; "
        "`CHANGES=10000 bench/m5.sh` runs them). Change k routes to backend A (k even) or B (k odd) "
        "and sets the response header `X-Flip: on` when k mod 4 is 2 or 3, so backend and filter "
        "flip independently. Backends: one nginx (CPU 0) with two servers on 127.0.0.2 and "
        "127.0.0.3 that answer `X-Backend: a` / `b`.",
        f"- Load: `wrk -t1 -c{r0['wrk_conns']}` with a Lua `delay()` of {r0['wrk_delay_ms']} ms per "
        f"request (a moderate, not saturating rate), {r0['steady']} s steady, then for the churn "
        f"window; plus {r0['longlived']} long-lived clients (Python `http.client`, one keep-alive "
        f"connection each, a GET every {r0['ll_interval'] * 1000:.0f} ms) through both phases. "
        "Load generator on CPU 0, each proxy alone on CPU 1 with one worker.",
        "- **gatehouse**: the route file is replaced atomically (rename) in the controller's "
        "directory; the controller (CPU 0) pushes a new snapshot, the proxy swaps it. "
        "**nginx 1.22**: its server-block file is replaced, then `nginx -s reload`. "
        "**HAProxy 2.6**: master-worker (`-W`), the config file is replaced, then SIGUSR2 to the "
        "master. nginx and HAProxy have upstream keep-alive (`keepalive 16`, `http-reuse always`).",
        "- A long-lived connection counts as *closed* when the server ends it (a `Connection: close` "
        "response, or EOF/reset on the next request); a *failed* request got no response at all "
        "(the server closed the idle connection as the request went out: a browser would retry it, "
        "a non-idempotent request could not be). The flip is *visible* when every long-lived client "
        f"saw at least {r0['changes'] // 2} backend changes during the churn and all four "
        "(backend, filter) combinations were seen.",
        "",
        "## Results",
        "",
        "| target | wrk req/s steady → churn | throughput change | wrk p99 ms steady → churn | "
        "wrk non-2xx | wrk socket errors | long-lived: requests | non-2xx | failed | closed | "
        "clients closed | flip visible (min backend changes seen) |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in runs:
        s, c, ll = r["wrk"]["steady"], r["wrk"]["churn"], r["ll"]["churn"]
        dip = (c["rps"] / s["rps"] - 1) * 100 if s["rps"] else float("nan")
        lines.append(
            f"| {r['target']} | {s['rps']:.0f} → {c['rps']:.0f} | {dip:+.1f}% | {s['p99_ms']:.2f} → "
            f"{c['p99_ms']:.2f} | {c['non2xx']} | {c['socket_errors']} | {ll['requests']} | {ll['non2xx']} | "
            f"{ll['failed']} | {ll['closed']} | {ll['clients_closed']}/{r['longlived']} | "
            f"{'yes' if r['flip_visible'] else '**NO**'} ({r['transitions_min']}) |")
    lines += ["", "Steady phase (no changes), same columns for the long-lived clients:", "",
              "| target | long-lived requests | non-2xx | failed | closed |", "|---|---:|---:|---:|---:|"]
    for r in runs:
        ll = r["ll"]["steady"]
        lines.append(f"| {r['target']} | {ll['requests']} | {ll['non2xx']} | {ll['failed']} | {ll['closed']} |")
    lines += ["", "CPU seconds used during each phase (proxy: the process tree incl. reaped old "
              "workers; controller: gatehouse only) and the churn schedule:", "",
              "| target | proxy CPU s steady | proxy CPU s churn | controller CPU s churn | changes late "
              "(> 1 interval behind) | failed reconfigurations | churn window s |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        lines.append(f"| {r['target']} | {r['cpu']['steady'][0]:.2f} | {r['cpu']['churn'][0]:.2f} | "
                     f"{r['cpu']['churn'][1]:.2f} | {r['late_changes']} | {r['failed_applies']} | "
                     f"{r['churn_elapsed']:.1f} |")
    g = next((r for r in runs if r["target"] == "gatehouse"), None)
    if g:
        s, c, ll = g["wrk"]["steady"], g["wrk"]["churn"], g["ll"]["churn"]
        dip = (1 - c["rps"] / s["rps"]) * 100 if s["rps"] else float("nan")
        verdict = lambda ok: "met" if ok else "**not met**"  # noqa: E731
        errors = c["non2xx"] + ll["non2xx"]
        lines += ["", "## gatehouse against the §7 targets", "",
                  f"- 0 non-2xx: {errors}, {verdict(errors == 0)}",
                  f"- 0 resets / failed requests: wrk socket errors {c['socket_errors']}, long-lived failed "
                  f"{ll['failed']}, {verdict(c['socket_errors'] + ll['failed'] == 0)}",
                  f"- 0 long-lived connections closed: {ll['closed']}, {verdict(ll['closed'] == 0)}",
                  f"- ≤ 5 % throughput dip: {dip:.1f} %, {verdict(dip <= 5)}",
                  f"- p99 ≤ 2x steady during churn: {c['p99_ms']:.2f} vs {s['p99_ms']:.2f} ms "
                  f"({c['p99_ms'] / s['p99_ms']:.2f}x), {verdict(c['p99_ms'] <= 2 * s['p99_ms'])}",
                  f"- flips visible to every long-lived client: {verdict(g['flip_visible'])}"]
    lines += ["", "## Raw wrk output", ""]
    for r in runs:
        for ph in ("steady", "churn"):
            lines += [f"{r['target']}, {ph}:", "", "```", r["wrk"][ph]["raw"].strip(), "```", ""]
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    bad = [r["target"] for r in runs if not r["flip_visible"]]
    if bad:
        sys.exit(f"m5: the flips were not visible through {', '.join(bad)}: the measurement is not valid")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("gen")
    p.add_argument("--dir", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--a-port", type=int, required=True)
    p.add_argument("--b-port", type=int, required=True)
    p.set_defaults(fn=cmd_gen)
    p = sub.add_parser("run")
    p.add_argument("--target", choices=sorted(RENDER), required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--config", required=True, help="the file each change replaces")
    p.add_argument("--tmp", required=True)
    p.add_argument("--template", default="", help="haproxy: config with @BACKEND@ and @FILTER@")
    p.add_argument("--reload", default="", help="nginx: reload command")
    p.add_argument("--master-pid", type=int, default=0, help="haproxy: master to SIGUSR2")
    p.add_argument("--proxy-pid", type=int, required=True)
    p.add_argument("--controller-pid", type=int, default=0)
    p.add_argument("--changes", type=int, default=300)
    p.add_argument("--interval", type=float, default=0.2)
    p.add_argument("--steady", type=int, default=10)
    p.add_argument("--longlived", type=int, default=20)
    p.add_argument("--ll-interval", type=float, default=0.05)
    p.add_argument("--wrk-conns", type=int, default=10)
    p.add_argument("--wrk-delay-ms", type=int, default=2)
    p.add_argument("--load-cpu", type=int, default=0)
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_run)
    p = sub.add_parser("report")
    p.add_argument("--out", required=True)
    p.add_argument("--command", required=True)
    p.add_argument("--busy", default="")
    p.add_argument("--runs", nargs="+", required=True)
    p.set_defaults(fn=cmd_report)
    a = ap.parse_args()
    a.fn(a)


if __name__ == "__main__":
    main()
