#!/usr/bin/env python3
"""report.py MIGRATIONS_TSV QUIET_TSV CONFIG NPROC LOAD_BEFORE LOAD_AFTER MEM_MIB DIRTY_MIB [JSON]

The report of bench/migration/run.sh: per agent, median / p95 / max of the guest-observed
downtime (the probe's longest gap between two ICMP replies), libvirt's downtime and elapsed time,
the agent's migrate_to and migrate_from exec-time and the wall time through Pacemaker; failed
migrations are counted and left out. p95 is the nearest-rank percentile (the 19th of 20 sorted
values). Exit 1 if an agent has no good migration."""
import json
import math
import statistics
import sys

COLS = ["agent", "i", "from", "to", "gap_ms", "libvirt_downtime_ms", "libvirt_elapsed_ms", "migrate_to_ms",
        "migrate_from_ms", "wall_ms", "ok", "why"]
METRICS = [("gap_ms", "guest-observed downtime (probe gap)"), ("libvirt_downtime_ms", "libvirt downtime"),
           ("libvirt_elapsed_ms", "libvirt elapsed"), ("migrate_to_ms", "migrate_to (agent)"),
           ("migrate_from_ms", "migrate_from (agent)"), ("wall_ms", "move → placed (wall)")]


def num(v):
    try:
        return float(v)
    except ValueError:
        return None


def p95(v):
    s = sorted(v)
    return s[max(0, math.ceil(0.95 * len(s)) - 1)]


def summary(v):
    if not v:
        return None
    return {"n": len(v), "median": statistics.median(v), "p95": p95(v), "max": max(v), "min": min(v)}


def main():
    a = sys.argv[1:]
    rows = [dict(zip(COLS, l.rstrip("\n").split("\t"))) for l in open(a[0]) if l.strip()]
    quiet = [l.rstrip("\n").split("\t") for l in open(a[1]) if l.strip()]
    config = open(a[2]).read()
    nproc, load_before, load_after, mem, dirty = a[3:8]
    out_json = a[8] if len(a) > 8 else None
    agents = ["evos", "VirtualDomain"]
    res = {"migrations": rows, "nproc": int(nproc), "load_before": load_before, "load_after": load_after,
           "memory_mib": int(mem), "dirty_mib": int(dirty), "agents": {}}
    lines = [f"# bench/migration: guest {mem} MiB (TCG, 1 vCPU) rewriting {dirty} MiB of RAM in a loop; "
             f"{nproc} CPUs, load average before {load_before}, after {load_after}", ""]
    lines.append("| agent | metric (ms) | n | median | p95 | max | min |")
    lines.append("|---|---|---|---|---|---|---|")
    bad = 0
    for ag in agents:
        good = [r for r in rows if r["agent"] == ag and r["ok"] == "yes"]
        failed = [r for r in rows if r["agent"] == ag and r["ok"] != "yes"]
        q = [num(x[2]) for x in quiet if x[0] == ag and num(x[2]) is not None]
        pause = [num(x[3]) for x in quiet if x[0] == ag and len(x) > 3 and num(x[3]) is not None]
        d = {"ok": len(good), "failed": len(failed), "failed_why": [r["why"] for r in failed], "quiet_gap_ms": summary(q),
             "pause_gap_ms": summary(pause)}
        for key, label in METRICS:
            s = summary([num(r[key]) for r in good if num(r[key]) is not None])
            d[key] = s
            if s:
                lines.append(f"| {ag} | {label} | {s['n']} | {s['median']:.0f} | {s['p95']:.0f} | {s['max']:.0f} | {s['min']:.0f} |")
        if d["quiet_gap_ms"]:
            s = d["quiet_gap_ms"]
            lines.append(f"| {ag} | longest gap in a quiet window (no migration) | {s['n']} | {s['median']:.0f} | "
                         f"{s['p95']:.0f} | {s['max']:.0f} | {s['min']:.0f} |")
        if d["pause_gap_ms"]:
            s = d["pause_gap_ms"]
            lines.append(f"| {ag} | longest gap around a pause and resume on the same host (control) | {s['n']} | "
                         f"{s['median']:.0f} | {s['p95']:.0f} | {s['max']:.0f} | {s['min']:.0f} |")
        # what the guest takes to answer after libvirt has resumed it: its gap minus libvirt's downtime
        after = [num(r["gap_ms"]) - num(r["libvirt_downtime_ms"]) for r in good
                 if num(r["gap_ms"]) is not None and num(r["libvirt_downtime_ms"]) is not None]
        d["gap_minus_libvirt_ms"] = summary(after)
        if d["gap_minus_libvirt_ms"]:
            s = d["gap_minus_libvirt_ms"]
            lines.append(f"| {ag} | guest gap minus libvirt downtime (the resumed guest's first answer) | {s['n']} | "
                         f"{s['median']:.0f} | {s['p95']:.0f} | {s['max']:.0f} | {s['min']:.0f} |")
        res["agents"][ag] = d
        if not good:
            bad += 1
    lines.append("")
    for ag in agents:
        d = res["agents"][ag]
        lines.append(f"{ag}: {d['ok']} migrations ok, {d['failed']} failed and discarded"
                     + (f" ({', '.join(d['failed_why'])})" if d["failed"] else ""))
    e, v = res["agents"]["evos"].get("gap_ms"), res["agents"]["VirtualDomain"].get("gap_ms")
    if e and v and e["median"] > 0:
        lines.append(f"guest-observed downtime, VirtualDomain / evos: median {v['median'] / e['median']:.2f}, "
                     f"p95 {v['p95'] / e['p95']:.2f}, max {v['max'] / e['max']:.2f}")
    lines.append("")
    for ag in agents:
        s = res["agents"][ag].get("gap_ms")
        if s:
            lines.append(f"RESULT {ag} guest_downtime_ms median={s['median']:.1f} p95={s['p95']:.1f} max={s['max']:.1f} "
                         f"n={s['n']} failed={res['agents'][ag]['failed']}")
    report = "\n".join(lines)
    print(report)
    res["report"] = report
    res["config"] = config
    if out_json:
        with open(out_json, "w") as f:
            json.dump(res, f, indent=2)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
