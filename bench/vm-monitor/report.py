#!/usr/bin/env python3
"""report.py - summarize the vm-monitor benchmark (run.sh writes the inputs).

--runs FILE   one line per timed run: "NAME RUN wall_ns=N user_us=N sys_us=N exit=N daemon_ticks=N"
--trace FILE  one line per traced run: "NAME RUN execs=N forks=N"

Prints a table, then "RESULT key=value" lines; --json FILE writes the same figures as JSON.
Medians and p90 (nearest rank) are over the timed runs; ratios are of medians. Exits 1 if any
run did not exit 0 or a name has no runs (nothing is judged against thresholds).
"""
import argparse
import json
import math
import statistics
import sys

NAMES = [("evos", "ocf:evos:vm"), ("vd", "ocf:heartbeat:VirtualDomain"), ("floor", "floor.c")]


def parse(path):
    rows = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            fields = dict(p.split("=", 1) for p in parts[2:])
            rows.append((parts[0], parts[1], {k: int(v) for k, v in fields.items()}))
    return rows


def p90(values):
    s = sorted(values)
    return s[max(0, math.ceil(0.9 * len(s)) - 1)]


def spread(values):
    lo, hi = min(values), max(values)
    return str(lo) if lo == hi else f"{lo}-{hi}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", required=True)
    ap.add_argument("--trace", required=True)
    ap.add_argument("--clk-tck", type=int, default=100)
    ap.add_argument("--load-before", default="")
    ap.add_argument("--load-after", default="")
    ap.add_argument("--nproc", type=int, default=0)
    ap.add_argument("--json")
    a = ap.parse_args()

    runs, traces = parse(a.runs), parse(a.trace)
    ok = True
    res = {}
    for name, label in NAMES:
        rs = [f for n, _, f in runs if n == name]
        ts = [f for n, _, f in traces if n == name]
        if not rs or not ts:
            print(f"vm-monitor: no runs for {name}", file=sys.stderr)
            ok = False
            continue
        bad = [f["exit"] for f in rs if f["exit"] != 0]
        if bad:
            print(f"vm-monitor: {name}: {len(bad)} runs did not exit 0: {bad}", file=sys.stderr)
            ok = False
        wall = [f["wall_ns"] / 1e6 for f in rs]
        cpu = [(f["user_us"] + f["sys_us"]) / 1e3 for f in rs]
        execs = [f["execs"] for f in ts]
        forks = [f["forks"] for f in ts]
        res[name] = {
            "label": label,
            "runs": len(rs),
            "wall_ms_median": statistics.median(wall),
            "wall_ms_p90": p90(wall),
            "wall_ms_min": min(wall),
            "cpu_ms_median": statistics.median(cpu),
            "cpu_ms_p90": p90(cpu),
            "user_ms_median": statistics.median(f["user_us"] / 1e3 for f in rs),
            "sys_ms_median": statistics.median(f["sys_us"] / 1e3 for f in rs),
            "libvirtd_cpu_ms_mean": sum(f.get("daemon_ticks", 0) for f in rs) * 1000.0 / a.clk_tck / len(rs),
            "execs": statistics.median(execs),
            "execs_range": spread(execs),
            "forks": statistics.median(forks),
            "forks_range": spread(forks),
            "trace_runs": len(ts),
        }
    if len(res) != len(NAMES):
        return 1

    e, v, f = res["evos"], res["vd"], res["floor"]
    ratios = {
        "evos_over_floor_wall": e["wall_ms_median"] / f["wall_ms_median"],
        "evos_over_floor_cpu": e["cpu_ms_median"] / f["cpu_ms_median"],
        "vd_over_evos_wall": v["wall_ms_median"] / e["wall_ms_median"],
        "vd_over_evos_cpu": v["cpu_ms_median"] / e["cpu_ms_median"],
    }

    print()
    print(f"monitor of one running domain, {e['runs']} timed runs each (alternating), "
          f"{e['trace_runs']} traced; load {a.load_before} -> {a.load_after} on {a.nproc} CPUs")
    hdr = f"{'':30} {'wall med':>9} {'wall p90':>9} {'CPU med':>8} {'CPU p90':>8} {'libvirtd':>9} {'execs':>6} {'forks':>6}"
    print(hdr)
    print(f"{'':30} {'ms':>9} {'ms':>9} {'ms':>8} {'ms':>8} {'ms/mon':>9} {'':>6} {'':>6}")
    for name, label in NAMES:
        r = res[name]
        print(f"{label:30} {r['wall_ms_median']:9.2f} {r['wall_ms_p90']:9.2f} {r['cpu_ms_median']:8.2f} "
              f"{r['cpu_ms_p90']:8.2f} {r['libvirtd_cpu_ms_mean']:9.2f} {r['execs_range']:>6} {r['forks_range']:>6}")
    print(f"ours / floor:          wall x{ratios['evos_over_floor_wall']:.2f}   CPU x{ratios['evos_over_floor_cpu']:.2f}")
    print(f"VirtualDomain / ours:  wall x{ratios['vd_over_evos_wall']:.2f}   CPU x{ratios['vd_over_evos_cpu']:.2f}")
    print("(CPU = user+sys of the process and its waited-for descendants; libvirtd = mean CPU of the\n"
          " daemon per monitor, from 1/CLK_TCK ticks; execs = successful execve incl. the program's own;\n"
          " forks = processes created below it)")
    print()

    for name, _ in NAMES:
        for k, val in res[name].items():
            if k != "label":
                print(f"RESULT {name}_{k}={val:.3f}" if isinstance(val, float) else f"RESULT {name}_{k}={val}")
    for k, val in ratios.items():
        print(f"RESULT ratio_{k}={val:.3f}")
    print(f"RESULT load_before={a.load_before.replace(' ', ',')}")
    print(f"RESULT load_after={a.load_after.replace(' ', ',')}")

    if a.json:
        with open(a.json, "w") as out:
            json.dump({"benchmark": "vm-monitor", "results": res, "ratios": ratios,
                       "load_before": a.load_before, "load_after": a.load_after, "nproc": a.nproc},
                      out, indent=2)
            out.write("\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
