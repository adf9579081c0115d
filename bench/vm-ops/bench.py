#!/usr/bin/env python3
"""bench/vm-ops inner part, run by run.sh (root) with a fresh work directory and an XFS
(reflink=1) on a loop device mounted as the VM storage.

One raw VM disk (an ext4 image made from a real directory tree by mkfs.ext4 -d, the same kind as
bench/backup's, the rest zeros) is cloned, in every run, by:
  - reflink:  evosctl vm clone SRC NEW --full (FICLONE; the run fails unless evosctl says reflink)
  - overlay:  evosctl vm clone TPL NEW --linked (a qcow2 overlay on the template TPL's disk)
  - copy:     qemu-img convert -f raw -O raw SRC NEW, then fsync (Proxmox's full clone; evos's
              fallback where the file system has no reflinks, which fsyncs too)
  - cp --reflink=always: the FICLONE floor, without evosctl's checks and qemu-img calls
Each is timed with a monotonic clock (median of the runs; a failed run is reported and not
counted); its space is the file system's used blocks (statvfs) after minus before, both after a
sync. Then 16 MiB are written into one reflink clone, to show the blocks are unshared when written.
"""
import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

BLOCK = 4096
here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("backup_bench", os.path.join(here, "..", "backup", "bench.py"))
backup_bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(backup_bench)


def log(msg):
    print(f"bench/vm-ops: {msg}", file=sys.stderr, flush=True)


def sh(argv):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({p.returncode}): {p.stderr.strip()[-2000:]}")
    return p.stdout


def used_blocks(path):
    """The file system's used 4 KiB blocks once it has settled: XFS frees a removed file's blocks
    in the background (inode inactivation), so statvfs is read until two readings 0.3 s apart
    agree (at most 30 s)."""
    def read():
        os.sync()
        st = os.statvfs(path)
        return (st.f_blocks - st.f_bfree) * st.f_frsize // BLOCK
    last, end = read(), time.monotonic() + 30
    while time.monotonic() < end:
        time.sleep(0.3)
        now = read()
        if now == last:
            return now
        last = now
    return last


def unshared_blocks(path):
    """The file's data blocks that FIEMAP does not flag shared (filefrag -v: 'shared'), in 4 KiB
    blocks: the data a reflink clone owns alone."""
    out = sh(["filefrag", "-v", "-b4096", path])
    total = 0
    for line in out.splitlines():
        parts = [p.strip() for p in line.split(":")]
        if len(parts) >= 5 and parts[0].isdigit():
            length = int(parts[3].split()[0] if parts[3] else 0)
            if "shared" not in line:
                total += length
    return total


def domain_xml(name, disk):
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='{disk}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--storage", required=True)
    ap.add_argument("--evosctl", required=True)
    ap.add_argument("--commit", default="unknown")
    ap.add_argument("--size", default="2G")
    ap.add_argument("--data-mib", type=int, default=580)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json")
    args = ap.parse_args()
    size = backup_bench.parse_size(args.size)
    S, E = args.storage, args.evosctl
    load_start = open("/proc/loadavg").read().split()[:3]

    orig, chosen, tree_bytes = backup_bench.build_image(args.work, size, args.data_mib << 20)
    src_dir = os.path.join(S, "src")
    os.makedirs(src_dir)
    src = os.path.join(src_dir, "src-vda.img")
    sh(["cp", "--sparse=always", orig, src])
    os.unlink(orig)
    with open(os.path.join(src_dir, "src.xml"), "w") as f:
        f.write(domain_xml("src", src))
    data_bytes = int(sh(["du", "-B1", src]).split()[0])
    log(f"source {src}: {size / 2**30:.2f} GiB, {data_bytes / 2**20:.0f} MiB allocated ({tree_bytes / 2**20:.0f} MiB of files)")
    # The template for linked clones: a reflink clone of the source, made a template.
    sh([E, "vm", "clone", "src", "tpl", "--full", "--storage", S])
    sh([E, "vm", "template", "tpl", "--storage", S])
    with open(src, "rb") as f:  # warm page cache for every method alike
        while f.read(16 << 20):
            pass

    def evos_clone(method, source, extra):
        def run(name):
            out = sh([E, "vm", "clone", source, name, *extra, "--storage", S, "--json"])
            used = json.loads(out)["disks"][0]["method"]
            if used != method:
                raise RuntimeError(f"evosctl cloned by {used}, not {method}: {out}")
        return run

    def convert(name):
        d = os.path.join(S, name)
        os.makedirs(d)
        dst = os.path.join(d, f"{name}-vda.img")
        sh(["qemu-img", "convert", "-f", "raw", "-O", "raw", src, dst])
        fd = os.open(dst, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def cp_reflink(name):
        d = os.path.join(S, name)
        os.makedirs(d)
        sh(["cp", "--reflink=always", src, os.path.join(d, f"{name}-vda.img")])

    methods = [
        ("reflink", "evosctl vm clone --full (reflink)", evos_clone("reflink", "src", ["--full"])),
        ("overlay", "evosctl vm clone --linked (qcow2 overlay on a template)", evos_clone("overlay", "tpl", ["--linked"])),
        ("copy", "qemu-img convert + fsync (full copy, as Proxmox)", convert),
        ("floor", "cp --reflink=always (FICLONE alone)", cp_reflink),
    ]
    results = {m: {"title": t, "seconds": [], "extra_blocks": [], "failed": 0, "errors": []} for m, t, _ in methods}
    for run in range(args.runs):
        order = methods[run % len(methods):] + methods[:run % len(methods)]
        for key, _, fn in order:
            name = f"{key}{run + 1}"
            before = used_blocks(S)
            t0 = time.monotonic()
            try:
                fn(name)
            except Exception as e:  # a failed run is reported, never counted
                results[key]["failed"] += 1
                results[key]["errors"].append(str(e)[-500:])
                log(f"run {run + 1} {key}: FAILED: {e}")
                shutil.rmtree(os.path.join(S, name), ignore_errors=True)
                continue
            seconds = time.monotonic() - t0
            extra = used_blocks(S) - before
            results[key]["seconds"].append(seconds)
            results[key]["extra_blocks"].append(extra)
            log(f"run {run + 1} {key}: {seconds:.3f} s, {extra} extra blocks")
            if not (key == "reflink" and run == 0):
                shutil.rmtree(os.path.join(S, name))
    # Written blocks are unshared: 16 MiB of new data into the first reflink clone.
    written = None
    unshared_after = None
    unshared_clone = unshared_blocks(os.path.join(S, "reflink1", "reflink1-vda.img")) \
        if os.path.exists(os.path.join(S, "reflink1", "reflink1-vda.img")) else None
    clone = os.path.join(S, "reflink1", "reflink1-vda.img")
    if os.path.exists(clone):
        before = used_blocks(S)
        with open(clone, "r+b") as f:
            f.seek(64 << 20)
            f.write(os.urandom(16 << 20))
            f.flush()
            os.fsync(f.fileno())
        written = used_blocks(S) - before
        unshared_after = unshared_blocks(clone)
        log(f"16 MiB written into a reflink clone: {written} extra blocks")
    load_end = open("/proc/loadavg").read().split()[:3]

    copy_med = statistics.median(results["copy"]["seconds"]) if results["copy"]["seconds"] else None
    lines = [f"bench/vm-ops, commit {args.commit}, {args.runs} runs, load {' '.join(load_start)} -> {' '.join(load_end)}",
             f"Source: raw {size / 2**30:.2f} GiB ext4 image (mkfs.ext4 -d, {tree_bytes / 2**20:.0f} MiB of files), "
             f"{data_bytes / 2**20:.0f} MiB allocated ({data_bytes // BLOCK} blocks of 4 KiB), on XFS reflink=1 (loop device)",
             "",
             "| method | seconds, median (min) | full copy ÷ method | extra blocks (4 KiB), median | extra ÷ source data | runs ok/failed |",
             "|---|---|---|---|---|---|"]
    for key, title, _ in methods:
        r = results[key]
        if r["seconds"]:
            med, mn = statistics.median(r["seconds"]), min(r["seconds"])
            ratio = f"{copy_med / med:.0f}×" if copy_med else "-"
            xb = statistics.median(r["extra_blocks"])
            r.update(median=med, min=mn, ratio=copy_med / med if copy_med else None, extra_median=xb)
            lines.append(f"| {title} | {med:.3f} ({mn:.3f}) | {ratio} | {xb:.0f} | {xb * BLOCK / data_bytes:.4f} | "
                         f"{len(r['seconds'])}/{r['failed']} |")
        else:
            lines.append(f"| {title} | failed | - | - | - | 0/{r['failed']} |")
    if written is not None:
        lines += ["", f"A reflink clone's data blocks not shared with the source (FIEMAP): {unshared_clone}; "
                      f"after 16 MiB (4096 blocks) were written into it: {written} extra blocks on the file system, "
                      f"{unshared_after} unshared."]
    report = "\n".join(lines)
    print(report)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"commit": args.commit, "size": size, "data_bytes": data_bytes, "tree_bytes": tree_bytes,
                       "runs": args.runs, "load": [load_start, load_end], "results": results,
                       "written_16mib_extra_blocks": written, "unshared_blocks": unshared_clone,
                       "unshared_blocks_after_write": unshared_after, "report": report}, f, indent=2)
    return 1 if any(r["failed"] for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
