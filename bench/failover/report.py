#!/usr/bin/env python3
"""report.py KILLS_TSV CONFIG_TXT NPROC LOADAVG [JSON_OUT] - the bench/failover report.

KILLS_TSV lines (run.sh kill_once): series agent i victim survivor victim_was_dc kill_cmd_ms
running_s tick_s last_tick first_tick ok. Prints per series and agent the median and max of
"node death -> running on the survivor" and "-> next guest tick", the ratio of medians
VirtualDomain/evos, the goals (issue 16: median <= 2 s, max <= 3 s) as facts, RESULT lines, and writes
JSON if asked. Exit 1 if a kill has no measurement or lost a write."""
import json
import re
import statistics
import sys

rows = []
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    if len(f) != 13:
        continue
    num = lambda x: float(x) if x not in ("", "-") else None
    steps = dict(kv.split("=", 1) for kv in f[12].split() if "=" in kv)
    rows.append(dict(series=f[0], agent=f[1], i=int(f[2]), victim=f[3], survivor=f[4], victim_was_dc=f[5] == "yes",
                     kill_cmd_ms=int(f[6]), running_s=num(f[7]), tick_s=num(f[8]),
                     last_tick=int(f[9]) if f[9] else None, first_tick=int(f[10]) if f[10] else None, ok=f[11] == "yes",
                     steps_ms={k: int(v) for k, v in steps.items() if k != "priority_delay_s"},
                     priority_delay_s=steps.get("priority_delay_s")))
config = open(sys.argv[2]).read()
nproc, loadavg = sys.argv[3], sys.argv[4]
# corosync-cmapctl's runtime values, as run.sh wrote them into the configuration
runtime = dict(re.findall(r"runtime\.config\.totem\.(token|consensus) \(u32\) = (\d+)", config))
totem = f"token {runtime.get('token', '?')} ms, consensus {runtime.get('consensus', '?')} ms"

def stats(values):
    v = [x for x in values if x is not None]
    if not v:
        return None
    return dict(n=len(v), median=round(statistics.median(v), 2), max=round(max(v), 2), min=round(min(v), 2))

summary = {}
for series in sorted({r["series"] for r in rows}, key=lambda s: (s != "pfd=1s", s)):
    summary[series] = {}
    for agent in ("evos", "VirtualDomain"):
        rs = [r for r in rows if r["series"] == series and r["agent"] == agent]
        if rs:
            summary[series][agent] = dict(kills=len(rs), running=stats(r["running_s"] for r in rs),
                                          tick=stats(r["tick_s"] for r in rs),
                                          victim_was_dc=sum(r["victim_was_dc"] for r in rs),
                                          lost_writes=sum(1 for r in rs if r["first_tick"] is None or r["last_tick"] is None
                                                          or r["first_tick"] <= r["last_tick"]))

print()
print(f"bench/failover: node power-off -> VM running on the survivor ({totem}; {nproc} CPUs, load {loadavg})")
print(f"{'series':<8} {'agent':<14} {'kills':>5} {'running median':>15} {'max':>6} {'tick median':>12} {'max':>6} {'DC died':>8} {'lost':>5}")
for series, agents in summary.items():
    for agent, s in agents.items():
        r, t = s["running"] or {}, s["tick"] or {}
        print(f"{series:<8} {agent:<14} {s['kills']:>5} {r.get('median', '-'):>14} s {r.get('max', '-'):>5} s"
              f" {t.get('median', '-'):>11} s {t.get('max', '-'):>5} s {s['victim_was_dc']:>8} {s['lost_writes']:>5}")
# by whether the DC died, and where the time went (medians of the steps, ms after the power-off)
print()
print("by role of the killed node (median death -> running, s) and the steps (median ms after the power-off, survivor's log):")
print(f"{'series':<8} {'agent':<14} {'killed':<8} {'n':>3} {'running':>8} {'lost':>6} {'scheduled':>10} {'fence req':>10}"
      f" {'fenced':>7} {'start':>6} {'started':>8}")
by_role = {}
for series in summary:
    for agent in ("evos", "VirtualDomain"):
        for dcd in (True, False):
            rs = [r for r in rows if r["series"] == series and r["agent"] == agent and r["victim_was_dc"] == dcd]
            if not rs:
                continue
            st = stats(r["running_s"] for r in rs)
            med = lambda k: (lambda v: round(statistics.median(v)) if v else None)([r["steps_ms"][k] for r in rs if k in r["steps_ms"]])
            steps = {k: med(k) for k in ("lost", "scheduled", "fence_requested", "fenced", "start_initiated", "started")}
            by_role.setdefault(series, {}).setdefault(agent, {})["dc" if dcd else "non_dc"] = dict(running=st, steps_ms=steps)
            fmt = lambda x: "-" if x is None else str(x)
            print(f"{series:<8} {agent:<14} {'DC' if dcd else 'non-DC':<8} {len(rs):>3} {fmt(st and st['median']):>8}"
                  f" {fmt(steps['lost']):>6} {fmt(steps['scheduled']):>10} {fmt(steps['fence_requested']):>10}"
                  f" {fmt(steps['fenced']):>7} {fmt(steps['start_initiated']):>6} {fmt(steps['started']):>8}")
# step durations (ms, medians): what the agent decides is the start operation; the rest is
# Corosync (lost), Pacemaker (schedule), the fencer (fence: priority delay + fence agent)
print()
print("step durations (median / max ms): detect = power-off -> peer lost; schedule = lost -> fencing requested;")
print("fence = requested -> fenced (priority delay + fence agent); start op = start initiated -> start returned;")
print("running = fenced -> running on the survivor")
print(f"{'series':<8} {'agent':<14} {'detect':>12} {'schedule':>12} {'fence':>12} {'start op':>12} {'running':>12}")
durations = {}
for series in summary:
    for agent in ("evos", "VirtualDomain"):
        rs = [r for r in rows if r["series"] == series and r["agent"] == agent]
        if not rs:
            continue
        def span(a, b, rs=rs):
            v = [r["steps_ms"][b] - (r["steps_ms"][a] if a else 0) for r in rs if b in r["steps_ms"] and (not a or a in r["steps_ms"])]
            return dict(median=round(statistics.median(v)), max=max(v)) if v else None
        run = [round(r["running_s"] * 1000) - r["steps_ms"]["fenced"] for r in rs if r["running_s"] is not None and "fenced" in r["steps_ms"]]
        d = dict(detect=span(None, "lost"), schedule=span("lost", "fence_requested"), fence=span("fence_requested", "fenced"),
                 start_op=span("start_initiated", "started"),
                 running_after_fenced=dict(median=round(statistics.median(run)), max=max(run)) if run else None)
        durations.setdefault(series, {})[agent] = d
        cell = lambda x: "-" if not x else f"{x['median']} / {x['max']}"
        print(f"{series:<8} {agent:<14} {cell(d['detect']):>12} {cell(d['schedule']):>12} {cell(d['fence']):>12}"
              f" {cell(d['start_op']):>12} {cell(d['running_after_fenced']):>12}")
results = {}
for series, agents in summary.items():
    key = {"pfd=1s": "pfd1s", "pfd=0": "pfd0"}.get(series, series)
    for agent, s in agents.items():
        a = "evos" if agent == "evos" else "vd"
        for what in ("running", "tick"):
            if s[what]:
                results[f"{key}_{a}_{what}_median_s"] = s[what]["median"]
                results[f"{key}_{a}_{what}_max_s"] = s[what]["max"]
        if durations.get(series, {}).get(agent, {}).get("start_op"):
            results[f"{key}_{a}_start_op_median_ms"] = durations[series][agent]["start_op"]["median"]
        results[f"{key}_{a}_kills"] = s["kills"]
        results[f"{key}_{a}_lost_writes"] = s["lost_writes"]
    e, v = agents.get("evos"), agents.get("VirtualDomain")
    for what in ("running", "tick"):
        if e and v and e[what] and v[what] and e[what]["median"] > 0:
            results[f"{key}_ratio_vd_over_evos_{what}_median"] = round(v[what]["median"] / e[what]["median"], 2)
    de, dv = durations.get(series, {}).get("evos", {}), durations.get(series, {}).get("VirtualDomain", {})
    if de.get("start_op") and dv.get("start_op") and de["start_op"]["median"] > 0:
        results[f"{key}_ratio_vd_over_evos_start_op_median"] = round(dv["start_op"]["median"] / de["start_op"]["median"], 2)
for key in ("running", "tick"):
    for a in ("evos", "vd"):
        m0, m1 = results.get(f"pfd0_{a}_{key}_median_s"), results.get(f"pfd1s_{a}_{key}_median_s")
        if m0 is not None and m1 is not None:
            results[f"pfd_cost_{a}_{key}_median_s"] = round(m1 - m0, 2)
print()
for series, agents in summary.items():
    key = {"pfd=1s": "pfd1s", "pfd=0": "pfd0"}.get(series, series)
    for what in ("running", "tick", "start_op"):
        r = results.get(f"{key}_ratio_vd_over_evos_{what}_median")
        if r is not None:
            print(f"{series}: VirtualDomain/evos, median {what}: {r}")
def goal(series, label):
    x = summary.get(series, {}).get("evos")
    if x and x["running"]:
        med, mx = x["running"]["median"], x["running"]["max"]
        print(f"{label:<52} median {med} s {'<=' if med <= 2 else '>'} 2 s, max {mx} s {'<=' if mx <= 3 else '>'} 3 s")
goal("race", "goal (evos, fence race device, death -> running):")
goal("pfd=1s", "     (evos, priority-fencing-delay 1s):")
goal("pfd=0", "     (evos, priority-fencing-delay 0, no protection):")
print()
for k in ("token", "consensus"):
    if k in runtime:
        results[f"corosync_{k}_ms"] = int(runtime[k])
for k, v in results.items():
    print(f"RESULT {k}={v}")
if len(sys.argv) > 5:
    with open(sys.argv[5], "w") as out:
        json.dump(dict(nproc=int(nproc), loadavg=loadavg, summary=summary, by_role=by_role, durations_ms=durations, results=results, kills=rows,
                       config=config),
                  out, indent=2)
    print(f"JSON written to {sys.argv[5]}")
print()
print("cluster configuration used:")
print(config)
bad = [r for r in rows if not r["ok"]]
sys.exit(1 if bad else 0)
