#!/usr/bin/env python3
"""HTTP load on a serving node with wrk (Debian's package): each endpoint at 1, 32 and 256 connections,
then an optional soak. Prints requests/s, p50 and p99 latency, errors, and the server's resident memory
before and after.

    bench_http.py BASE_URL SERVER_PID TOKEN [--duration S] [--soak MINUTES]

Receiving packages is measured by `puente bench exchange` (a package's signature and figures are
checked and stored once each, so a load of the same bytes would only measure the duplicate refusal).
TOKEN is a statistician's API token (the statistics API is also asked with it, as a client with an
account would). wrk runs with two threads on the same machine as the server.
"""
import argparse
import re
import subprocess
import time

ENDPOINTS = [
    ("statistics API, 2 dimensions", "/api/v1/stats?measure=returns&by=department,sex", False),
    ("statistics API, 2 dimensions, with a token", "/api/v1/stats?measure=returns&by=department,sex", True),
    ("statistics API, 3 dimensions, CSV", "/api/v1/stats?measure=entries&by=month,sex,age_group&format=csv", False),
    ("dashboard overview /", "/", False),
    ("dashboard returns page", "/returns", False),
    ("dashboard movements page", "/movements", False),
    ("login page", "/login", False),
    ("health", "/health", False),
]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def milliseconds(text):
    value, unit = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def wrk(url, connections, seconds, token=None):
    command = ["wrk", "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{seconds}s", "--latency",
               "--timeout", "10s"]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
    p50 = milliseconds(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = milliseconds(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    errors = 0
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(g) for g in m.groups())
    return rate, p50, p99, requests, errors


def table(args):
    print("| endpoint | connections | requests/s | p50 ms | p99 ms | errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, path, with_token in ENDPOINTS:
        for connections in (1, 32, 256):
            rate, p50, p99, requests, errors = wrk(
                args.base + path, connections, args.duration, args.token if with_token else None)
            print(f"| {label} | {connections} | {rate:,.0f} | {p50:.2f} | {p99:.2f} | {errors} of {requests:,} |",
                  flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("pid", type=int)
    parser.add_argument("token")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--soak", type=float, default=0)
    parser.add_argument("--soak-only", action="store_true", help="skip the table, only soak")
    args = parser.parse_args()

    # Warm: the cube loads and every page is drawn once before anything is timed.
    for _, path, with_token in [] if args.soak_only else ENDPOINTS:
        wrk(args.base + path, 1, 1, args.token if with_token else None)
    before = rss_kib(args.pid)
    print(f"Server memory before: {before / 1024:.0f} MiB")
    if not args.soak_only:
        table(args)
    after = rss_kib(args.pid)
    print(f"Server memory after: {after / 1024:.0f} MiB")

    if args.soak:
        # The statistics API and a page in turn, a minute each, for the soak's length: the memory after each
        # minute, and every error.
        print(f"Soak, {args.soak:g} minutes at 32 connections, alternating the statistics API and /returns:")
        started, minute, samples, failures = time.monotonic(), 0, [], 0
        while time.monotonic() - started < args.soak * 60:
            _, path, _ = ENDPOINTS[0] if minute % 2 == 0 else ENDPOINTS[4]
            rate, p50, p99, requests, errors = wrk(args.base + path, 32, 60)
            failures += errors
            samples.append(rss_kib(args.pid))
            print(f"  minute {minute + 1}: {path} {rate:,.0f} requests/s, p99 {p99:.1f} ms, errors {errors}, "
                  f"server {samples[-1] / 1024:.0f} MiB", flush=True)
            minute += 1
        growth = (samples[-1] - samples[0]) / 1024 if samples else 0
        print(f"Soak: {failures} errors; memory {samples[0] / 1024:.0f} → {samples[-1] / 1024:.0f} MiB "
              f"({growth:+.0f} MiB from the first minute to the last)")


if __name__ == "__main__":
    main()
