#!/usr/bin/env python3
"""bench.py - evosd's own cost, and the VM agent's monitor through evosd vs direct vs the floor.

    bench.py --evosd EVOSD --agent AGENT --floor FLOOR --measure MEASURE --work DIR
             [--domains 50] [--idle 60] [--settle 10] [--scrape-every 15] [--runs 40]
             [--warmup 3] [--prefix co] [--json FILE]

Everything runs on libvirt's test driver with a custom driver file (test:///DIR/node.xml, --domains
running domains). The test driver is per connection: every process that opens the URI parses the
file and gets its own copy of those domains, all running, so evosd, the agent and the floor all
see the same running domains without a libvirtd (they would not share any change made through
one connection; nothing here changes anything).

Part 1, evosd's own cost: three evosd processes on the same driver file, side by side through one
idle window of --idle seconds after --settle seconds of settling:
  scraped  metrics on 127.0.0.1 (a free port), history on, GET /metrics every --scrape-every s
  default  metrics on, history on, never scraped (evosd as installed with no Prometheus)
  bare     metrics off, history off (events, heartbeat, socket only)
Per process: VmRSS (sampled every second: the largest and the last), VmHWM at the end, CPU
(utime+stime of all threads, /proc/PID/stat) over the window as a share of one core, voluntary
and involuntary context switches per second (wake-ups), threads, and the CPU and wake-ups per
thread (/proc/PID/task/TID: which thread is awake).

Part 2, the monitor: after the idle window, --runs runs each, alternating, after --warmup rounds:
  evosd   the agent's recurring monitor with evosd_socket on the "bare" evosd (which knows the
          domain): the front end takes evosd's fresh "running", never loading libvirt
  direct  the same monitor with evosd_socket naming a path where nothing listens (a node without
          evosd): the front end execs the full agent, which connects to libvirt itself (here:
          parses the driver file)
  floor   bench/vm-monitor/floor.c on the same URI and domain: connect, look up, get state
  noop    bench/evosd/noop.c: a program linked to libvirt that returns at once (loading libvirt's
          client library and its dependencies, and nothing else)
  noop-c++ bench/evosd/noop_cxx.cpp: a C++ program linked only to the C++ runtime that returns
          at once (what the agent's front end, linked without libvirt, has to load at least)
  exec    /bin/true: the cost of creating and exec'ing any process at all
Each run goes through bench/vm-monitor/measure (wall from fork to wait4, CPU of the process).
A run that exits non-zero is discarded and counted; evosd's socket request counter must grow by
one per evosd run, or the evosd row is void. Then once each, untimed: LD_DEBUG=statistics (the
dynamic loader's startup time and relocations) and the shared libraries loaded, summed over
every program the run execs (the agent's front end execs the full agent for "direct").
Exit status: 0 if everything ran (no thresholds on the figures), 1 otherwise.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid

CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(f"evosd-bench: {msg}", file=sys.stderr, flush=True)


def die(msg):
    log(f"FAIL: {msg}")
    sys.exit(1)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ask(sock_path, request, timeout=5.0):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    s.connect(sock_path)
    s.sendall((json.dumps(request) + "\n").encode())
    line = s.makefile().readline()
    s.close()
    return json.loads(line)


def proc_cpu_ticks(path):
    """utime+stime (fields 14, 15) of /proc/PID/stat or /proc/PID/task/TID/stat."""
    with open(path) as f:
        data = f.read()
    rest = data[data.rindex(")") + 2:].split()
    return int(rest[11]) + int(rest[12])


def proc_child_ticks(pid):
    """cutime+cstime (fields 16, 17): CPU of the children evosd ran and waited for (crm_mon...)."""
    with open(f"/proc/{pid}/stat") as f:
        data = f.read()
    rest = data[data.rindex(")") + 2:].split()
    return int(rest[13]) + int(rest[14])


def status_fields(path):
    out = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def kib(field):
    return int(field.split()[0])


def threads(pid):
    """{tid: (ticks, voluntary, involuntary)} for every thread of pid."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            st = status_fields(f"/proc/{pid}/task/{tid}/status")
            out[int(tid)] = (proc_cpu_ticks(f"/proc/{pid}/task/{tid}/stat"),
                             int(st["voluntary_ctxt_switches"]), int(st["nonvoluntary_ctxt_switches"]))
        except (FileNotFoundError, ProcessLookupError, KeyError):
            pass
    return out


class Evosd:
    def __init__(self, name, args, work, uri, prefix):
        self.name = name
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir)
        self.sock = os.path.join(self.dir, "run", "evosd.sock")
        self.port = None
        cmd = [args.evosd, "--uri", uri, "--socket", self.sock, "--node", f"{prefix}1", "--no-report", "--no-corosync-events",
               "--records", os.path.join(self.dir, "rsc", "evos-vm-ops")]
        if name == "bare":
            cmd += ["--metrics-listen", "off", "--history", "off"]
        else:
            self.port = free_port()
            cmd += ["--metrics-listen", f"127.0.0.1:{self.port}", "--history", os.path.join(self.dir, "history.db")]
        self.log_path = os.path.join(self.dir, "evosd.log")
        self.logf = open(self.log_path, "w")
        # evosd reads no environment: a clean one, as systemd gives it
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.logf, stderr=subprocess.STDOUT,
                                     env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
        self.pid = self.proc.pid

    def wait_ready(self, domains, timeout=30.0):
        end = time.monotonic() + timeout
        last = None
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                break
            try:
                st = ask(self.sock, {"op": "status"})
                running = [d for d in st.get("domains", []) if d.get("state") == "running"]
                last = st
                if len(running) >= domains and st.get("libvirt", {}).get("synced", False) is not False:
                    return st
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        with open(self.log_path) as f:
            sys.stderr.write(f.read())
        die(f"evosd {self.name} never listed {domains} running domains (last status: {str(last)[:400]})")

    def requests(self):
        st = ask(self.sock, {"op": "status"})
        return st["counters"]["socket_requests"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        return self.proc.returncode


def scrape(port):
    t0 = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        body = r.read()
        ok = r.status == 200
    return ok, time.monotonic() - t0, len(body)


def idle_window(daemons, args):
    """Part 1: sample every daemon once a second through the window."""
    log(f"settling {args.settle} s")
    time.sleep(args.settle)
    load0 = loadavg()
    t0 = time.monotonic()
    start = {}
    for d in daemons:
        st = status_fields(f"/proc/{d.pid}/status")
        th = threads(d.pid)
        start[d.name] = dict(ticks=proc_cpu_ticks(f"/proc/{d.pid}/stat"), cticks=proc_child_ticks(d.pid), vol=sum(t[1] for t in th.values()),
                             invol=sum(t[2] for t in th.values()), threads=th)
    rss = {d.name: [] for d in daemons}
    scrapes = dict(ok=0, failed=0, seconds=[])
    next_scrape = t0
    scraped = [d for d in daemons if d.name == "scraped"][0]
    log(f"idle window {args.idle} s (load {load0}); scraping 'scraped' every {args.scrape_every} s")
    while True:
        now = time.monotonic()
        if now - t0 >= args.idle:
            break
        if now >= next_scrape:
            try:
                ok, secs, _ = scrape(scraped.port)
                scrapes["ok" if ok else "failed"] += 1
                if ok:
                    scrapes["seconds"].append(secs)
            except OSError as e:
                scrapes["failed"] += 1
                log(f"scrape failed: {e}")
            next_scrape += args.scrape_every
        for d in daemons:
            rss[d.name].append(kib(status_fields(f"/proc/{d.pid}/status")["VmRSS"]))
        time.sleep(max(0.0, min(1.0, t0 + args.idle - time.monotonic())))
    elapsed = time.monotonic() - t0
    load1 = loadavg()
    out = {}
    for d in daemons:
        st = status_fields(f"/proc/{d.pid}/status")
        s = start[d.name]
        ticks = proc_cpu_ticks(f"/proc/{d.pid}/stat") - s["ticks"]
        cticks = proc_child_ticks(d.pid) - s["cticks"]
        now_threads = threads(d.pid)
        per_thread = []
        for tid, (tk, vol, inv) in sorted(now_threads.items()):
            b = s["threads"].get(tid, (0, 0, 0))
            try:
                with open(f"/proc/{d.pid}/task/{tid}/comm") as f:
                    comm = f.read().strip()
            except OSError:
                comm = "?"
            per_thread.append(dict(tid=tid, comm=comm, cpu_ms=(tk - b[0]) * 1000 / CLK_TCK,
                                   wakeups_per_s=round((vol - b[1]) / elapsed, 2),
                                   new=tid not in s["threads"]))
        out[d.name] = dict(
            pid=d.pid,
            rss_mib_max=max(rss[d.name]) / 1024, rss_mib_last=rss[d.name][-1] / 1024,
            hwm_mib=kib(st["VmHWM"]) / 1024, threads=int(st["Threads"]),
            cpu_ms=ticks * 1000 / CLK_TCK, cpu_pct_of_core=100.0 * ticks / CLK_TCK / elapsed,
            children_cpu_ms=cticks * 1000 / CLK_TCK, children_cpu_pct_of_core=100.0 * cticks / CLK_TCK / elapsed,
            # over the threads alive at the end (a thread that ended in the window is not counted)
            voluntary_per_s=(sum(t[1] for t in now_threads.values()) - s["vol"]) / elapsed,
            involuntary_per_s=(sum(t[2] for t in now_threads.values()) - s["invol"]) / elapsed,
            per_thread=per_thread)
    return dict(elapsed_s=elapsed, load_before=load0, load_after=load1, daemons=out,
                scrapes=dict(ok=scrapes["ok"], failed=scrapes["failed"],
                             median_ms=1000 * statistics.median(scrapes["seconds"]) if scrapes["seconds"] else None))


def parse_measure(line):
    return {k: int(v) for k, v in (f.split("=") for f in line.split())}


def monitors(args, uri, dom, dom_xml, bare, work):
    """Part 2: the monitor through evosd, direct, the floor and /bin/true, alternating."""
    base_env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "OCF_ROOT": "/usr/lib/ocf",
                "OCF_RESOURCE_INSTANCE": f"vm-{dom}", "OCF_RESKEY_config": dom_xml,
                "OCF_RESKEY_hypervisor": uri, "OCF_RESKEY_CRM_meta_interval": "10000",
                "OCF_RESKEY_CRM_meta_timeout": "30000"}
    nowhere = os.path.join(work, "no-evosd", "evosd.sock")
    rows = {
        "evosd": (dict(base_env, HA_RSCTMP=os.path.join(work, "rsc-evosd"), OCF_RESKEY_evosd_socket=bare.sock),
                  [args.agent, "monitor"]),
        "direct": (dict(base_env, HA_RSCTMP=os.path.join(work, "rsc-direct"), OCF_RESKEY_evosd_socket=nowhere),
                   [args.agent, "monitor"]),
        "floor": (dict(base_env), [args.floor, uri, dom]),
        "noop": (dict(base_env), [args.noop]),
        "noop-c++": (dict(base_env), [args.noop_cxx]),
        "exec": (dict(base_env), ["/bin/true"]),
    }
    for env, _ in rows.values():
        if "HA_RSCTMP" in env:
            os.makedirs(env["HA_RSCTMP"], exist_ok=True)
    results = {n: [] for n in rows}
    failed = {n: 0 for n in rows}
    outdir = os.path.join(work, "out")
    os.makedirs(outdir)

    def run(name, tag):
        env, argv = rows[name]
        out = os.path.join(outdir, f"{name}.{tag}")
        r = subprocess.run([args.measure, "-o", out, "-p", str(bare.pid), "--"] + argv, env=env,
                           capture_output=True, text=True)
        if r.returncode != 0:
            die(f"measure failed on {name}: {r.stderr.strip()}")
        m = parse_measure(r.stdout)
        if m["exit"] != 0:
            with open(out) as f:
                log(f"{name} ({tag}) exited {m['exit']}: {f.read().strip()[:300]}")
            return None
        return m

    load0 = loadavg()
    log(f"monitor: {args.warmup} warm-up rounds, then {args.runs} runs each, alternating {' '.join(rows)} (load {load0})")
    for i in range(args.warmup):
        for n in rows:
            run(n, f"warmup{i}")
    req0 = bare.requests()
    for i in range(args.runs):
        for n in rows:
            m = run(n, str(i))
            if m is None:
                failed[n] += 1
            else:
                results[n].append(m)
    # the status request itself counts as one
    asked = bare.requests() - req0 - 1
    load1 = loadavg()
    if asked != args.runs:
        die(f"evosd answered {asked} requests during {args.runs} evosd-row runs: the agent did not take evosd's answer")

    def stats(name):
        ms = results[name]
        wall = [m["wall_ns"] / 1e6 for m in ms]
        cpu = [(m["user_us"] + m["sys_us"]) / 1e3 for m in ms]
        if not ms:
            return dict(ok=0, failed=failed[name])
        q = statistics.quantiles(wall, n=10) if len(wall) >= 2 else wall
        return dict(ok=len(ms), failed=failed[name], wall_ms_median=statistics.median(wall),
                    wall_ms_p90=q[-1], cpu_ms_median=statistics.median(cpu),
                    daemon_ticks=sum(m.get("daemon_ticks", 0) for m in ms))

    out = {n: stats(n) for n in rows}
    for n in ("evosd", "direct", "floor"):
        if out[n]["ok"] == 0:
            die(f"every {n} run failed: the monitor part is void")

    # untimed: the dynamic loader's own statistics, and the libraries loaded, summed over every
    # program the run execs (the VM agent's front end hands "direct" to the full agent: two
    # programs, each with its own ld.so start-up; docs/vm-agent.md, "Two binaries")
    for n, (env, argv) in rows.items():
        r = subprocess.run(argv, env=dict(env, LD_DEBUG="statistics,files"), capture_output=True, text=True)
        startups = re.findall(r"total startup time in dynamic loader:\s*([0-9,]+) cycles", r.stderr)
        # at start-up only ("final number of relocations", printed at exit, includes lazy ones)
        relocs = re.findall(r"(?<!final )number of relocations:\s*([0-9]+)", r.stderr)
        maps = len(re.findall(r"file=\S+ \[0\];\s+generating link map", r.stderr))
        out[n]["programs"] = len(startups)
        out[n]["ld_startup_cycles"] = sum(int(x.replace(",", "")) for x in startups) if startups else None
        out[n]["relocations"] = sum(int(x) for x in relocs) if relocs else None
        # the shared objects each program maps, and ld.so itself once per program (as ldd counts)
        out[n]["shared_libraries"] = maps + len(startups) if startups else None
    return dict(load_before=load0, load_after=load1, runs=args.runs, warmup=args.warmup,
                evosd_requests=asked, rows=out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--evosd", required=True)
    p.add_argument("--agent", required=True)
    p.add_argument("--floor", required=True)
    p.add_argument("--measure", required=True)
    p.add_argument("--noop", required=True)
    p.add_argument("--noop-cxx", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--domains", type=int, default=50)
    p.add_argument("--idle", type=float, default=60)
    p.add_argument("--settle", type=float, default=10)
    p.add_argument("--scrape-every", type=float, default=15)
    p.add_argument("--runs", type=int, default=40)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--prefix", default="eb")
    p.add_argument("--json")
    args = p.parse_args()
    if not re.fullmatch(r"[a-z][a-z0-9]{0,7}", args.prefix):
        die("--prefix: a lower-case letter and up to 7 letters or digits")

    work = args.work
    node_xml = os.path.join(work, "node.xml")
    doms = []
    for i in range(1, args.domains + 1):
        name = f"{args.prefix}-vm{i:02d}"
        u = str(uuid.uuid5(uuid.NAMESPACE_URL, f"evos-bench-evosd/{name}"))
        xml = (f"<domain type='test'><name>{name}</name><uuid>{u}</uuid><memory unit='MiB'>64</memory>"
               f"<vcpu>1</vcpu><os><type>hvm</type></os></domain>")
        with open(os.path.join(work, f"{name}.xml"), "w") as f:
            f.write(xml + "\n")
        doms.append((name, xml))
    with open(node_xml, "w") as f:
        f.write("<node>\n" + "\n".join(x for _, x in doms) + "\n</node>\n")
    uri = f"test://{node_xml}"
    log(f"{args.domains} running domains on {uri}")

    daemons = []
    try:
        for name in ("scraped", "default", "bare"):
            daemons.append(Evosd(name, args, work, uri, args.prefix))
        for d in daemons:
            st = d.wait_ready(args.domains)
            log(f"evosd {d.name} (pid {d.pid}) lists {len(st['domains'])} domains")
        idle = idle_window(daemons, args)
        bare = [d for d in daemons if d.name == "bare"][0]
        dom = doms[len(doms) // 2][0]
        mon = monitors(args, uri, dom, os.path.join(work, f"{dom}.xml"), bare, work)
    finally:
        codes = {d.name: d.stop() for d in daemons}
    bad = {n: c for n, c in codes.items() if c != 0}
    if bad:
        die(f"evosd did not exit 0 on SIGTERM: {bad}")

    report(args, idle, mon)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(domains=args.domains, uri_kind="test driver file", idle=idle, monitor=mon,
                           nproc=os.cpu_count()), f, indent=2)


def report(args, idle, mon):
    print(f"\n## evosd's own cost: {args.domains} running domains on the test driver, "
          f"{idle['elapsed_s']:.0f} s idle window (load {idle['load_before']} -> {idle['load_after']})\n")
    print("| evosd | RSS max / last | VmHWM | CPU, % of one core | its children's CPU (crm_mon, drbdsetup...) | wake-ups/s (voluntary) | threads |")
    print("|---|---|---|---|---|---|---|")
    what = {"scraped": f"metrics + history, /metrics every {args.scrape_every:g} s",
            "default": "metrics + history, not scraped", "bare": "metrics off, history off"}
    for n, d in idle["daemons"].items():
        print(f"| {n} ({what[n]}) | {d['rss_mib_max']:.1f} / {d['rss_mib_last']:.1f} MiB | {d['hwm_mib']:.1f} MiB "
              f"| {d['cpu_pct_of_core']:.3f} % ({d['cpu_ms']:.0f} ms) "
              f"| {d['children_cpu_pct_of_core']:.3f} % ({d['children_cpu_ms']:.0f} ms) | {d['voluntary_per_s']:.1f} | {d['threads']} |")
    s = idle["scrapes"]
    print(f"\nScrapes of 'scraped': {s['ok']} ok, {s['failed']} failed"
          + (f", median {s['median_ms']:.1f} ms" if s["median_ms"] is not None else ""))
    print("\nPer thread (CPU ms in the window, voluntary wake-ups/s):")
    for n, d in idle["daemons"].items():
        parts = [f"{t['comm']}[{t['tid']}] {t['cpu_ms']:.0f} ms, {t['wakeups_per_s']}/s" + (" (new)" if t["new"] else "")
                 for t in d["per_thread"]]
        print(f"  {n}: " + "; ".join(parts))
    rows = mon["rows"]
    floor = rows["floor"]["wall_ms_median"]
    floor_cpu = rows["floor"]["cpu_ms_median"]
    print(f"\n## VM agent monitor, {mon['runs']} runs each, alternating (load {mon['load_before']} -> {mon['load_after']})\n")
    print("| row | ok / failed | wall median | wall p90 | CPU median | ÷ floor (wall) | ÷ floor (CPU) | programs | shared libs | ld.so startup (cycles) | relocations |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n, r in rows.items():
        print(f"| {n} | {r['ok']} / {r['failed']} | {r['wall_ms_median']:.2f} ms | {r['wall_ms_p90']:.2f} ms "
              f"| {r['cpu_ms_median']:.2f} ms | {r['wall_ms_median'] / floor:.2f} | {r['cpu_ms_median'] / floor_cpu:.2f} "
              f"| {r['programs']} | {r['shared_libraries']} | {r['ld_startup_cycles']} | {r['relocations']} |")
    for n, d in idle["daemons"].items():
        print(f"RESULT evosd_{n}_rss_mib={d['rss_mib_max']:.1f} evosd_{n}_cpu_pct={d['cpu_pct_of_core']:.3f} "
              f"evosd_{n}_children_cpu_pct={d['children_cpu_pct_of_core']:.3f} evosd_{n}_wakeups_per_s={d['voluntary_per_s']:.1f}")
    print(f"RESULT monitor_evosd_over_floor={rows['evosd']['wall_ms_median'] / floor:.2f} "
          f"monitor_direct_over_floor={rows['direct']['wall_ms_median'] / floor:.2f} "
          f"monitor_noop_over_floor={rows['noop']['wall_ms_median'] / floor:.2f} "
          f"monitor_noop_cxx_over_floor={rows['noop-c++']['wall_ms_median'] / floor:.2f} "
          f"monitor_exec_over_floor={rows['exec']['wall_ms_median'] / floor:.2f}")


if __name__ == "__main__":
    main()
