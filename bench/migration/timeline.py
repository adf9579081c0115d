#!/usr/bin/env python3
"""timeline.py DIR - where each live migration's downtime went, from the libvirtd debug logs
bench/migration/run.sh --trace DIR keeps (DIR/NODE-libvirtd.log; QEMU monitor traffic).

A migration is a QEMU STOP event on one node followed by a RESUME event on the other. Between
them it reports, in ms after the STOP (QEMU's own event timestamps where there are some, else
libvirtd's log time):
  device     the source's MIGRATION event "device" (libvirt let QEMU go on after pre-switchover)
  src-done   the source's MIGRATION event "completed": the last RAM and device state sent
  dst-done   the destination's MIGRATION event "completed": all of it loaded
  cont       libvirtd on the destination sends "cont" (after libvirt's Finish phase began)
  resume     the destination's RESUME event: the guest runs again
and QEMU's own downtime (query-migrate's "downtime" on the source: stop to the end of the copy),
the RAM it copied while the guest was stopped (ram.downtime-bytes) and how long that takes at the
job's last measured rate (ram.mbps)."""
import glob
import json
import os
import re
import sys
from datetime import datetime, timezone

LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})[+-]\d{4}: .*?(QEMU_MONITOR_RECV_EVENT|QEMU_MONITOR_RECV_REPLY|QEMU_MONITOR_SEND_MSG|QEMU_MONITOR_IO_WRITE): mon=(0x[0-9a-f]+) (?:event|reply|msg|buf)=(.*)$")


def log_time(s):
    return datetime.strptime(s, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc).timestamp() * 1000


def parse(path, node):
    out = []
    for line in open(path, errors="replace"):
        m = LINE.match(line.rstrip("\n"))
        if not m:
            continue
        t = log_time(m.group(1))
        kind, body = m.group(2), m.group(4)
        try:
            obj = json.loads(body.split(" len=")[0]) if body.startswith("{") else None
        except ValueError:
            obj = None
        if kind == "QEMU_MONITOR_RECV_EVENT" and obj:
            ts = obj.get("timestamp", {})
            if "seconds" in ts:
                t = ts["seconds"] * 1000 + ts.get("microseconds", 0) / 1000
            ev = obj.get("event")
            if ev == "MIGRATION":
                ev = "MIGRATION-" + obj.get("data", {}).get("status", "?")
            out.append((t, node, ev, None))
        elif kind == "QEMU_MONITOR_RECV_REPLY" and obj:
            r = obj.get("return")
            if isinstance(r, dict) and r.get("status") == "completed" and "downtime" in r:
                out.append((t, node, "query-migrate-completed",
                            (r.get("downtime"), r.get("ram", {}).get("downtime-bytes"), r.get("ram", {}).get("mbps"))))
        elif kind in ("QEMU_MONITOR_SEND_MSG", "QEMU_MONITOR_IO_WRITE") and '"cont"' in body:
            out.append((t, node, "cont", None))
    return out


def main():
    d = sys.argv[1]
    events = []
    for p in sorted(glob.glob(os.path.join(d, "*-libvirtd.log"))):
        events += parse(p, os.path.basename(p).split("-libvirtd.log")[0])
    events.sort()
    rows = []
    for i, (t, node, ev, _) in enumerate(events):
        if ev != "STOP":
            continue
        r = {"src": node, "stop": t}
        for t2, n2, ev2, v2 in events[i + 1:]:
            if t2 - t > 10000:
                break
            if n2 == node and ev2 == "MIGRATION-completed" and "src_done" not in r:
                r["src_done"] = t2 - t
            elif n2 == node and ev2 == "MIGRATION-device" and "device" not in r:
                r["device"] = t2 - t
            elif n2 == node and ev2 == "query-migrate-completed" and "qemu_downtime" not in r:
                r["qemu_downtime"], r["final_bytes"], r["mbps"] = v2
            elif n2 != node and ev2 == "MIGRATION-completed" and "dst_done" not in r:
                r["dst_done"] = t2 - t
            elif n2 != node and ev2 == "cont" and "cont" not in r:
                r["cont"] = t2 - t
            elif n2 != node and ev2 == "RESUME":
                r["resume"] = t2 - t
                r["dst"] = n2
                break
        if "resume" in r:
            rows.append(r)
    print("| # | from → to | QEMU downtime | RAM copied while stopped (MiB) | its time at the job's rate | device | src-done | dst-done | cont | resume |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    f = lambda v: "-" if v is None else f"{v:.0f}"
    for k, r in enumerate(rows, 1):
        fb, mbps = r.get("final_bytes"), r.get("mbps")
        copy = fb * 8 / (mbps * 1e3) if fb and mbps else None
        print(f"| {k} | {r['src']} → {r['dst']} | {f(r.get('qemu_downtime'))} | "
              f"{'-' if fb is None else f'{fb / 1048576:.1f}'} | {f(copy)} | {f(r.get('device'))} | {f(r.get('src_done'))} | "
              f"{f(r.get('dst_done'))} | {f(r.get('cont'))} | {f(r.get('resume'))} |")
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
