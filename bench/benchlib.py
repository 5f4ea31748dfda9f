"""Shared by the bench/m*.py drivers: Gateway API manifests for the directory source, nginx
server blocks for the peer, a polling HTTP client, percentiles, RSS, and the machine
description every report starts with. Loopback only."""
import datetime
import http.client
import json
import os
import platform
import re
import subprocess
import time

NAMESPACE = "bench"
DOMAIN = "bench.test"


def host_of(name: str) -> str:
    return f"{name}.{DOMAIN}"


# ---- manifests (the shapes e2e/e2e_test.cc uses) ----

def gateway_yaml(port: int) -> str:
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {{name: gatehouse}}
spec: {{controllerName: gatehouse.dev/gateway-controller}}
---
apiVersion: v1
kind: Namespace
metadata: {{name: {NAMESPACE}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gw, namespace: {NAMESPACE}}}
spec:
  gatewayClassName: gatehouse
  addresses: [{{type: IPAddress, value: 127.0.0.1}}]
  listeners: [{{name: http, protocol: HTTP, port: {port}}}]
"""


def service_yaml(name: str, address: str, port: int) -> str:
    return f"""apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: {NAMESPACE}}}
spec:
  ports: [{{name: http, port: 8080, targetPort: {port}}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: {name}-1
  namespace: {NAMESPACE}
  labels: {{kubernetes.io/service-name: {name}}}
addressType: IPv4
ports: [{{name: http, port: {port}}}]
endpoints: [{{addresses: ["{address}"], conditions: {{ready: true}}}}]
"""


def route_yaml(name: str, service: str, response_header: tuple = None) -> str:
    """One HTTPRoute on its own hostname (name.bench.test) to `service`, optionally with a
    ResponseHeaderModifier that sets one header."""
    filters = ""
    if response_header:
        filters = (f"\n    filters: [{{type: ResponseHeaderModifier, responseHeaderModifier: "
                   f"{{set: [{{name: {response_header[0]}, value: {response_header[1]}}}]}}}}]")
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {name}, namespace: {NAMESPACE}}}
spec:
  parentRefs: [{{name: gw}}]
  hostnames: ["{host_of(name)}"]
  rules:
  - backendRefs: [{{name: {service}, port: 8080}}]{filters}
"""


def stage(content: str, tmp_dir: str, name: str) -> str:
    """Writes content to a file in tmp_dir (outside the watched directory, so the write itself
    raises no file event) and returns its path; publish() renames it into place."""
    path = os.path.join(tmp_dir, name + ".tmp")
    with open(path, "w") as f:
        f.write(content)
    return path


def publish(staged: str, final: str) -> None:
    os.rename(staged, final)


# ---- nginx peer ----

NGINX_HTTP_EXTRA = "server_names_hash_max_size 131072; server_names_hash_bucket_size 128;"


def nginx_server_block(name: str, upstream: str, listen_port: int, add_header: tuple = None) -> str:
    hdr = f"\n    add_header {add_header[0]} {add_header[1]} always;" if add_header else ""
    return (f"server {{ listen 127.0.0.1:{listen_port}; server_name {host_of(name)};\n"
            f"  location / {{ proxy_pass http://{upstream}; proxy_http_version 1.1; "
            f"proxy_set_header Connection \"\";{hdr} }} }}\n")


def nginx_upstream_block(name: str, address: str, port: int) -> str:
    return f"upstream {name} {{ server {address}:{port}; keepalive 16; }}\n"


def add_gen_parsers(sub, gen, nginx_gen):
    """The `gen` (directory-source manifests) and `nginx-gen` (peer config) subcommands."""
    for name, fn in (("gen", gen), ("nginx-gen", nginx_gen)):
        p = sub.add_parser(name)
        p.add_argument("--dir", required=True)
        p.add_argument("--routes", type=int, required=True)
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--backend-port", type=int, required=True)
        p.set_defaults(fn=fn)


# ---- HTTP polling ----

class Poller:
    """A keep-alive HTTP/1.1 client that reconnects after any error; get() returns
    (status, headers) with status 0 for a transport error."""

    def __init__(self, port: int, address: str = "127.0.0.1", timeout: float = 2.0):
        self.port, self.address, self.timeout = port, address, timeout
        self.conn = None
        self.connections = 0

    def get(self, host: str, path: str = "/"):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.address, self.port, timeout=self.timeout)
                self.connections += 1
            try:
                self.conn.request("GET", path, headers={"Host": host})
                r = self.conn.getresponse()
                r.read()
                if r.will_close:
                    self.close()
                return r.status, r.headers
            except (OSError, http.client.HTTPException):
                self.close()
                # A keep-alive connection the server closed while idle is not a failure of
                # the request; a second error is.
                if attempt == 1:
                    return 0, None
        return 0, None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def poll_until(poller: Poller, host: str, want, t0: float, period: float = 0.001,
               timeout: float = 10.0):
    """Polls host every `period` seconds from t0 (time.monotonic()) until want(status) holds;
    returns (seconds since t0, polls) or (None, polls) after timeout."""
    polls = 0
    while True:
        status, _ = poller.get(host)
        polls += 1
        now = time.monotonic()
        if want(status):
            return now - t0, polls
        if now - t0 > timeout:
            return None, polls
        delay = t0 + polls * period - now
        if delay > 0:
            time.sleep(delay)


def wait_all(port: int, hosts, timeout: float = 120.0, period: float = 0.001):
    """Waits until every host answered 200 once; returns the seconds it took or None."""
    t0 = time.monotonic()
    pending = list(hosts)
    poller = Poller(port, timeout=1.0)
    while pending:
        status, _ = poller.get(pending[0])
        if status == 200:
            pending.pop(0)
            continue
        if time.monotonic() - t0 > timeout:
            return None
        time.sleep(period)
    return time.monotonic() - t0


# ---- numbers ----

def percentile(values, p: float) -> float:
    """Nearest-rank percentile of values (p in 0..100)."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


def _sum_kib(pids, path: str, key: str) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/{path}") as f:
                for line in f:
                    if line.startswith(key):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def rss_kib(pids) -> int:
    """Sum of VmRSS (KiB) of the given PIDs."""
    return _sum_kib(pids, "status", "VmRSS:")


def pss_kib(pids) -> int:
    """Sum of Pss (KiB): shared pages counted once across the PIDs."""
    return _sum_kib(pids, "smaps_rollup", "Pss:")


def children(pid: int):
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


def settled_rss(pids_fn, interval: float = 1.0, window: float = 6.0, tolerance: float = 0.01,
                max_wait: float = 90.0):
    """Reads RSS every `interval` until the readings of the last `window` seconds stay within
    `tolerance` (relative) of each other; returns the last reading (KiB). The window must span
    periodic work (the directory source rescans every 2 s and the allocator keeps what a rescan
    grew), or a reading between two rescans is too low."""
    readings = [rss_kib(pids_fn())]
    need = int(window / interval) + 1
    deadline = time.monotonic() + max_wait
    while time.monotonic() < deadline:
        time.sleep(interval)
        readings.append(rss_kib(pids_fn()))
        last = readings[-need:]
        if len(last) == need and max(last) and (max(last) - min(last)) / max(last) < tolerance:
            break
    return readings[-1]


def tcp_bytes_sent(sport: int) -> int:
    """Bytes sent (tcp_info bytes_sent, from `ss -ti`) on the established loopback sockets
    whose local port is sport: what a server wrote to its clients, framing included."""
    out = subprocess.run(["ss", "-tinH", "state", "established", f"( sport = :{sport} )"],
                         capture_output=True, text=True).stdout
    return sum(int(m) for m in re.findall(r"\bbytes_sent:(\d+)", out))


# ---- report header ----

def machine() -> dict:
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    # BENCH_COMMIT describes binaries built elsewhere (CONTROLLER_BIN/PROXY_BIN from a clean
    # clone); otherwise they are this tree's _out/bin, built from HEAD plus the working tree.
    commit = os.environ.get("BENCH_COMMIT", "")
    if not commit:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        git = lambda *args: subprocess.run(["git", *args], capture_output=True, text=True,  # noqa: E731
                                           cwd=root).stdout.strip()
        commit = git("rev-parse", "--short", "HEAD")
        if git("status", "--porcelain", "--untracked-files=no", "--", "controller", "proxy", "api"):
            commit += " (+ uncommitted changes in controller/proxy/api)"
    return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": f"{platform.system()} {platform.release()}",
            "commit": commit,
            "when": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "loadavg": open("/proc/loadavg").read().split()[:3]}


def busy_processes(exclude=(), top: int = 5):
    """The processes using the most CPU right now (one second of sampling), to state the
    load condition a run was measured under."""
    def ticks():
        out = {}
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) in exclude:
                continue
            try:
                with open(f"/proc/{pid}/stat") as f:
                    s = f.read()
                name = s[s.index("(") + 1:s.rindex(")")]
                fields = s[s.rindex(")") + 2:].split()
                out[int(pid)] = (name, int(fields[11]) + int(fields[12]))
            except (OSError, ValueError):
                pass
        return out
    a = ticks()
    time.sleep(1.0)
    b = ticks()
    hz = os.sysconf("SC_CLK_TCK")
    use = sorted(((b[p][1] - a[p][1]) / hz * 100, b[p][0]) for p in b if p in a)
    return [(name, pct) for pct, name in reversed(use[-top:]) if pct >= 1]


def header(title: str, script: str, command: str, load_note: str) -> list:
    m = machine()
    return [
        f"# {title}",
        "",
        f"Measured {m['when']} by `{script}` at commit `{m['commit']}` on {m['nproc']} CPUs "
        f"({m['cpu']}), {m['kernel']}.",
        "",
        f"Command: `{command}`",
        "",
        f"Load condition: {load_note}",
        "",
    ]


def load_note(path: str) -> str:
    """The load condition from the records `benchlib.py busy FILE` appended at the start and end
    of a run."""
    records = json.load(open(path)) if path and os.path.exists(path) else []
    parts = []
    for label, r in zip(("at the start", "at the end"), records):
        others = ", ".join(f"{n} {p:.0f}%" for n, p in r["busy"]) or "none above 1%"
        parts.append(f"{label}: load average {' '.join(r['loadavg'])}, other processes busy (CPU % of "
                     f"one core over 1 s) {others}")
    return ("; ".join(parts) + ". " if parts else "") + (
        "On a 2-CPU machine shared with other work, absolute numbers are noisy; the ratios "
        "against the peers measured in the same run are the comparable figures.")


if __name__ == "__main__":
    import sys
    if sys.argv[1:2] == ["busy"]:  # busy FILE [PID...]: appends the load now, minus these PIDs
        path = sys.argv[2]
        records = json.load(open(path)) if os.path.exists(path) else []
        busy = busy_processes(exclude={os.getpid(), os.getppid()} | {int(p) for p in sys.argv[3:]})
        records.append({"loadavg": open("/proc/loadavg").read().split()[:3], "busy": busy})
        json.dump(records, open(path, "w"))
