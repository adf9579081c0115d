#!/usr/bin/env python3
"""Scrapes exporters alternately and reports the wall time of one scrape and what it holds.

scrape.py [--runs N] [--warmup N] [--vms N] [--json FILE] NAME=URL [NAME=URL ...] NAME=URL
The last exporter is the peer; every other one is measured against it (ratio = it/peer). A scrape that fails (not
200, an exception) is discarded and counted. Exit 1 if an exporter never answered or no run of
one succeeded."""
import argparse, json, re, statistics, sys, time, urllib.request

p = argparse.ArgumentParser()
p.add_argument("--runs", type=int, default=30)
p.add_argument("--warmup", type=int, default=3)
p.add_argument("--vms", type=int, default=20)
p.add_argument("--json")
p.add_argument("targets", nargs="+")
a = p.parse_args()
targets = [t.split("=", 1) for t in a.targets]
if len(targets) < 2:
    p.error("at least two NAME=URL: the measured ones, then the peer")


def scrape(url):
    t0 = time.monotonic()
    with urllib.request.urlopen(url, timeout=30) as r:
        body = r.read().decode()
        status = r.status
    return time.monotonic() - t0, status, body


def content(body):
    # The exporter's own metrics: not the Go runtime's and process metrics the peer's client
    # library adds (go_*, process_*, promhttp_*), which say nothing about the VMs.
    samples = [l for l in body.splitlines() if l and not l.startswith("#")
               and not l.startswith(("go_", "process_", "promhttp_"))]
    names = {re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", l).group(0) for l in samples}
    domains = set(re.findall(r'(?:vm|domain)="([^"]*)"', body))
    return len(samples), len(names), len(domains)


# Wait until both answer with every domain (libvirt-exporter answers before it connects).
deadline = time.monotonic() + 60
for name, url in targets:
    while True:
        try:
            _, status, body = scrape(url)
            if status == 200 and content(body)[2] >= a.vms:
                break
        except Exception:
            pass
        if time.monotonic() > deadline:
            print(f"monitor: {name} did not answer with {a.vms} domains at {url}", file=sys.stderr)
            sys.exit(1)
        time.sleep(0.2)

times = {n: [] for n, _ in targets}
failed = {n: 0 for n, _ in targets}
shape = {}
for i in range(a.warmup + a.runs):
    for name, url in targets:
        try:
            dt, status, body = scrape(url)
        except Exception:
            failed[name] += 1
            continue
        if status != 200:
            failed[name] += 1
            continue
        shape[name] = content(body)
        if i >= a.warmup:
            times[name].append(dt)

result = {"vms": a.vms, "runs": a.runs, "exporters": {}}
for name, _ in targets:
    if not times[name]:
        print(f"monitor: no successful scrape of {name}", file=sys.stderr)
        sys.exit(1)
    s, m, d = shape[name]
    result["exporters"][name] = {"median_ms": statistics.median(times[name]) * 1000,
                                 "p90_ms": sorted(times[name])[int(0.9 * (len(times[name]) - 1))] * 1000,
                                 "ok": len(times[name]), "failed": failed[name],
                                 "samples": s, "metric_names": m, "domains": d}
peer = targets[-1][0]
o = result["exporters"][peer]
print(f"{'exporter':<30} {'median ms':>10} {'p90 ms':>8} {'ok':>4} {'failed':>6} {'samples':>8} {'names':>6} {'domains':>7}")
for name, r in result["exporters"].items():
    print(f"{name:<30} {r['median_ms']:>10.2f} {r['p90_ms']:>8.2f} {r['ok']:>4} {r['failed']:>6} {r['samples']:>8} {r['metric_names']:>6} {r['domains']:>7}")
result["ratios"] = {}
for name, _ in targets[:-1]:
    e = result["exporters"][name]
    ratio = e["median_ms"] / o["median_ms"]
    result["ratios"][name] = {"ratio_median": ratio, "speedup": o["median_ms"] / e["median_ms"]}
    print(f"RESULT {name}: scrape_ratio={ratio:.3f} ({name}/{peer}, median wall time; {1 / ratio:.2f}x faster)"
          f" samples={e['samples']} names={e['metric_names']} (peer {o['samples']}, {o['metric_names']})")
# The first exporter's, as before several were measured.
first = result["ratios"][targets[0][0]]
result["ratio_median"], result["speedup"] = first["ratio_median"], first["speedup"]
if a.json:
    with open(a.json, "w") as f:
        json.dump(result, f, indent=2)
