#!/usr/bin/env python3
"""Reads one wrk --latency (or h2load) output; prints "rps req_per_cpu_s p50_ms p99_ms errors".

Arguments: wrk output file, proxy CPU ticks used during the run, CLK_TCK.
"""
import re
import sys


def ms(value: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", value)
    if not m:
        return float("nan")
    n, unit = float(m.group(1)), m.group(2)
    return n / 1000 if unit == "us" else n * 1000 if unit == "s" else n


def main() -> None:
    text = open(sys.argv[1]).read()
    ticks, hz = int(sys.argv[2]), int(sys.argv[3])
    if "finished in" in text:  # h2load
        m = re.search(r"requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored", text)
        done, failed, errored = int(m.group(2)), int(m.group(3)), int(m.group(4))
        rps = float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", text).group(1))
        m = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text)
        errors = failed + errored + (int(m.group(3)) + int(m.group(4)) if m else 0)
        # h2load reports per-request mean and sd, not percentiles.
        mean = re.search(r"time for request:\s+(\S+)\s+(\S+)\s+(\S+)", text)
        p50 = ms(mean.group(3)) if mean else float("nan")
        cpu_s = ticks / hz
        print(f"{rps:.0f} {done / cpu_s if cpu_s else float('nan'):.0f} {p50:.3f} nan {errors}")
        return
    total = int(re.search(r"(\d+) requests in", text).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    # Anchored: "+/- Stdev" columns elsewhere also end in "50%".
    p50 = ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1))
    p99 = ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
    errors = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        errors += sum(int(g) for g in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        errors += int(m.group(1))
    cpu_s = ticks / hz
    per_cpu = total / cpu_s if cpu_s > 0 else float("nan")
    print(f"{rps:.0f} {per_cpu:.0f} {p50:.3f} {p99:.3f} {errors}")


if __name__ == "__main__":
    main()
