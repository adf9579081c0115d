#!/usr/bin/env python3
"""timeline.py PACEMAKER_LOG T0_MS VICTIM SURVIVOR RSC - where a failover's time goes.

Reads the survivor's pacemaker.log and prints, as milliseconds after T0_MS (the node's power-off;
Unix time in ms), the first of each step after T0: the peer is lost (Corosync membership), the
scheduler decides to fence, fencing is requested (with Pacemaker's priority delay), the fencing
completes, the start is initiated, the start returns. Prints one line "key=ms ..." (missing steps
are left out). Log timestamps ("Nov 21 23:29:31.389") carry no year: T0's year is used."""
import datetime
import re
import sys

log, t0_ms, victim, survivor, rsc = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
t0 = datetime.datetime.fromtimestamp(t0_ms / 1000)
steps = [
    ("lost", re.compile(rf"pacemaker-controld.*Node {re.escape(victim)} state is now lost")),
    ("scheduled", re.compile(rf"pacemaker-schedulerd.*Scheduling node {re.escape(victim)} for fencing")),
    ("fence_requested", re.compile(rf"pacemaker-controld.*Requesting fencing \(\w+\) of node {re.escape(victim)}")),
    ("fenced", re.compile(rf"pacemaker-fenced.*Operation '\w+' targeting {re.escape(victim)} by \S+ .*: OK")),
    ("start_initiated", re.compile(rf"pacemaker-controld.*Initiating start operation {re.escape(rsc)}_start_0")),
    ("started", re.compile(rf"pacemaker-controld.*Result of start operation for {re.escape(rsc)} on {re.escape(survivor)}: ok")),
]
stamp = re.compile(r"^(\w{3} +\d+ \d\d:\d\d:\d\d\.\d{3}) ")
found, prio = {}, None
with open(log, errors="replace") as f:
    for line in f:
        m = stamp.match(line)
        if not m:
            continue
        try:
            t = datetime.datetime.strptime(f"{t0.year} {m.group(1)}", "%Y %b %d %H:%M:%S.%f")
        except ValueError:
            continue
        ms = int((t - t0).total_seconds() * 1000)
        if ms < -50:      # log lines from before the kill (clock granularity: a little slack)
            continue
        for key, rx in steps:
            if key not in found and rx.search(line):
                found[key] = ms
                if key == "fence_requested":
                    p = re.search(r"priority_delay=(\d+)", line)
                    prio = p.group(1) if p else None
print(" ".join(f"{k}={found[k]}" for k, _ in steps if k in found) + (f" priority_delay_s={prio}" if prio is not None else ""))
