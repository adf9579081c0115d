#!/usr/bin/env python3
"""bench/backup inner part, run by run.sh (root) with a fresh work directory.

One ext4 image made from a real directory tree (mkfs.ext4 -d), backed up by evos (a plain store
and an encrypted one), restic and borg (unencrypted and repokey) in the same run: a first backup,
backups after 1% and 10% of the image's used 4 KiB blocks were overwritten (scattered, fixed
seed), backups after 1% and 10% of its data was rewritten in place (whole 4 MiB regions, as a
database or a rewritten file changes its own extents), a restore (compared byte for byte with the
image it came from) and a verify of the whole repository. The same writes go into a running TCG
guest whose disk is that image, backed up by evos through QEMU's dirty bitmap (vm_row.py). Each run starts every tool from a fresh, empty repository, so runs are comparable;
tools alternate inside every phase and their order rotates from run to run.

Every command runs under /usr/bin/time (peak RSS) and is timed here with a monotonic clock. A
command that exits non-zero is reported as failed and never counted; the later phases of that
tool in that run are skipped (they would start from another state). Any failure, and any restore
that differs from its image, makes the bench exit 1 after the report.
"""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time

BLOCK = 4096
CHUNK = 4 * 1024 * 1024
# Where the image's files come from: Debian system directories, a mix of shared libraries and
# binaries (compress ~2-3x) and text, locales and documentation (compress more).
TREE_ROOTS = ("/usr/lib/x86_64-linux-gnu", "/usr/share", "/usr/bin")
BACKUP_PHASES = ("first", "incr1", "incr10", "reg1", "reg10")
PHASES = BACKUP_PHASES + ("restore", "verify")
PHASE_TITLES = {
    "first": "first backup",
    "incr1": "backup after 1% of the used blocks changed",
    "incr10": "backup after 10% of the used blocks changed",
    "reg1": "backup after 1% of the data was rewritten in place (whole 4 MiB regions)",
    "reg10": "backup after 10% of the data was rewritten in place (whole 4 MiB regions)",
    "restore": "restore of the last backup",
    "verify": "verify (read and check the whole repository)",
}
SEEDS = {"incr1": 1301, "incr10": 1310, "reg1": 2301, "reg10": 2310}
PERCENT = {"incr1": 1, "incr10": 10, "reg1": 1, "reg10": 10}
LAST = BACKUP_PHASES[-1]  # the image the restore is compared with


def log(msg):
    print(f"bench/backup: {msg}", file=sys.stderr, flush=True)


def sh(argv, **kw):
    """An untimed helper command that must succeed."""
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({p.returncode}): {p.stderr.strip()[-2000:]}")
    return p.stdout


def parse_size(text):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    t = text.strip().upper().removesuffix("IB").removesuffix("B")
    if t and t[-1] in units:
        return int(float(t[:-1]) * units[t[-1]])
    return int(t)


def du_bytes(path):
    """Disk usage (allocated blocks) of a directory tree, as du counts it."""
    return int(sh(["du", "-s", "-B1", path]).split()[0])


# ---------------------------------------------------------------------------------------------
# The image


def pick_tree(target):
    """Children of TREE_ROOTS (files and directories, sizes from du --apparent-size), taken
    round-robin in name order and added while they fit, until ~target bytes."""
    lists = []
    for root in TREE_ROOTS:
        if not os.path.isdir(root):
            continue
        out = subprocess.run(["du", "-abx", "--max-depth=1", root], capture_output=True, text=True).stdout
        entries = []
        for line in out.splitlines():
            size, path = line.split("\t", 1)
            if path != root and (os.path.isfile(path) or os.path.isdir(path)) and not os.path.islink(path):
                entries.append((path, int(size)))
        lists.append(sorted(entries))
    chosen, total = [], 0
    while total < target * 0.98 and any(lists):
        for entries in lists:
            while entries:
                path, size = entries.pop(0)
                if total + size <= target * 1.01:
                    chosen.append(path)
                    total += size
                    break
    return chosen, total


def build_image(work, size, data_bytes):
    tree = os.path.join(work, "tree")
    os.makedirs(tree)
    chosen, total = pick_tree(data_bytes)
    log(f"copying {len(chosen)} entries of {', '.join(TREE_ROOTS)} ({total / 2**20:.0f} MiB by du) into {tree}")
    by_parent = {}
    for path in chosen:
        by_parent.setdefault(os.path.dirname(path), []).append(path)
    for parent, paths in by_parent.items():
        dest = tree + parent
        os.makedirs(dest, exist_ok=True)
        for i in range(0, len(paths), 200):
            sh(["cp", "-a", *paths[i:i + 200], dest])
    image = os.path.join(work, "orig.img")
    log(f"mkfs.ext4 -d {tree} {image} {size}")
    sh(["mkfs.ext4", "-q", "-F", "-L", "evosbench", "-d", tree, image, str(size // 1024) + "k"])
    shutil.rmtree(tree)
    return image, chosen, total


def used_blocks(image):
    """Indexes of the image's non-zero 4 KiB blocks: the part mkfs.ext4 filled (file data and
    metadata); the rest is zeros (holes)."""
    zero_chunk, zero_block = bytes(CHUNK), bytes(BLOCK)
    used = []
    with open(image, "rb", buffering=0) as f:
        base = 0
        while True:
            buf = f.read(CHUNK)
            if not buf:
                break
            if buf != zero_chunk[:len(buf)]:
                mv = memoryview(buf)
                for o in range(0, len(buf), BLOCK):
                    if mv[o:o + BLOCK] != zero_block[:len(mv[o:o + BLOCK])]:
                        used.append((base + o) // BLOCK)
            base += len(buf)
    return used


def scattered_writes(used, percent, seed):
    """percent% of the used blocks overwritten with random bytes, chosen uniformly (fixed seed):
    changes scattered over the data. With 4 MiB chunks this touches nearly every chunk."""
    rng = random.Random(seed)
    picked = sorted(rng.sample(used, round(len(used) * percent / 100)))
    return [(b * BLOCK, rng.randbytes(BLOCK)) for b in picked]


def region_writes(image, used, percent, seed):
    """percent% of the data rewritten in place: whole 4 MiB regions that hold data, chosen at
    random (fixed seed) until their used blocks add up to percent% of all used blocks. Each gets
    the content of another region with data (so it compresses like real data), its 4 KiB blocks
    each changed in their first 8 bytes (so no chunk is a duplicate)."""
    rng = random.Random(seed)
    per_region = {}
    for b in used:
        per_region[b * BLOCK // CHUNK] = per_region.get(b * BLOCK // CHUNK, 0) + 1
    regions = sorted(per_region)
    order = regions[:]
    rng.shuffle(order)
    goal, total, picked = round(len(used) * percent / 100), 0, []
    for r in order:
        if total >= goal:
            break
        picked.append(r)
        total += per_region[r]
    size = os.path.getsize(image)
    writes = []
    with open(image, "rb") as f:
        for r in sorted(picked):
            f.seek(rng.choice(regions) * CHUNK)
            data = bytearray(f.read(CHUNK))
            data = data[:min(CHUNK, size - r * CHUNK)]
            for o in range(0, len(data), BLOCK):
                data[o:o + 8] = rng.randbytes(8)
            writes.append((r * CHUNK, bytes(data)))
    return writes


def mutated_copy(image, writes, path):
    """A sparse copy of image with the writes applied."""
    sh(["cp", "--sparse=always", image, path])
    with open(path, "r+b") as f:
        for offset, data in writes:
            f.seek(offset)
            f.write(data)
        f.flush()
        os.fsync(f.fileno())
    touched = {c for offset, data in writes for c in range(offset // CHUNK, (offset + len(data) - 1) // CHUNK + 1)}
    written = sum(len(d) for _, d in writes)
    return {"writes": len(writes), "bytes": written, "blocks": written // BLOCK, "chunks_4mib_touched": len(touched)}


def warm(path):
    """Read a file once, so every tool starts with it in the page cache."""
    with open(path, "rb", buffering=0) as f:
        while f.read(16 << 20):
            pass


def place(src, disk):
    """Make disk (the path every tool backs up, as a VM's disk has one path) the file src, by an
    atomic rename of a hard link."""
    tmp = disk + ".new"
    if os.path.exists(tmp):
        os.unlink(tmp)
    os.link(src, tmp)
    os.rename(tmp, disk)


# ---------------------------------------------------------------------------------------------
# Measuring


def measure(argv, env, logbase, cwd=None):
    """Run argv under /usr/bin/time; wall time from a monotonic clock around it."""
    os.sync()  # write back what earlier steps left dirty, so it is not charged to this command
    tfile = logbase + ".time"
    with open(logbase + ".out", "wb") as out, open(logbase + ".err", "wb") as err:
        t0 = time.monotonic()
        p = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", tfile, *argv], env=env, cwd=cwd,
                           stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        seconds = time.monotonic() - t0
    rss_kib = None
    try:
        with open(tfile) as f:
            last = f.read().strip().splitlines()[-1].split()
        rss_kib = int(last[1])
    except (OSError, IndexError, ValueError):
        pass
    r = {"ok": p.returncode == 0, "rc": p.returncode, "seconds": round(seconds, 4), "rss_kib": rss_kib,
         "argv": argv}
    if not r["ok"]:
        with open(logbase + ".err", "rb") as f:
            r["stderr_tail"] = f.read()[-1500:].decode(errors="replace")
    return r


class Tool:
    """One row: how a program inits a repository, backs up the image, restores and verifies.
    Another row (e.g. evos backing up a running guest through its dirty bitmap) is a subclass
    added to make_tools()."""
    key = name = ""
    encrypted = False

    def __init__(self, work, run):
        self.work, self.run = work, run
        self.repo = os.path.join(work, "repos", f"{self.key}-{run}")
        self.env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": os.path.join(work, "home"), "LANG": "C.UTF-8"}
        self.archives = 0

    def init(self):
        raise NotImplementedError

    def backup(self, disk):
        raise NotImplementedError

    def restore(self, target_dir, disk):
        """argv, cwd, and the path of the restored file."""
        raise NotImplementedError

    def verify(self):
        raise NotImplementedError

    def cleanup(self):
        shutil.rmtree(self.repo, ignore_errors=True)


class Evos(Tool):
    key, name = "evos", "evos"

    def __init__(self, work, run, evosctl):
        super().__init__(work, run)
        self.evosctl = evosctl
        self.key_args = []

    def _base(self):
        return [self.evosctl, "backup"]

    def init(self):
        return [*self._base(), "store", "init", "--store", self.repo, *self.key_args]

    def backup(self, disk):
        return [*self._base(), "create", "--store", self.repo, *self.key_args, "--image", disk, "--name", "bench", "--json"]

    def last_id(self):
        ids = json.loads(sh([*self._base(), "list", "--store", self.repo, *self.key_args, "--json"], env=self.env))
        return ids[-1]["id"]

    def restore(self, target_dir, disk):
        to = os.path.join(target_dir, "disk.img")
        return [*self._base(), "restore", "--store", self.repo, *self.key_args, self.last_id(), "--to", to], None, to

    def verify(self):
        return [*self._base(), "verify", "--store", self.repo, *self.key_args]


class EvosEncrypted(Evos):
    key, name, encrypted = "evos_enc", "evos, encrypted", True

    def __init__(self, work, run, evosctl, key_file):
        super().__init__(work, run, evosctl)
        self.key_args = ["--key-file", key_file]


class Restic(Tool):
    key, name, encrypted = "restic", "restic", True

    def __init__(self, work, run):
        super().__init__(work, run)
        # the password lives in the environment of the bench's restic processes only
        self.env.update({"RESTIC_PASSWORD": "evos-bench", "RESTIC_CACHE_DIR": os.path.join(work, "cache", f"restic-{run}")})

    def init(self):
        return ["restic", "--repo", self.repo, "init"]

    def backup(self, disk):
        return ["restic", "--repo", self.repo, "backup", "--host", "bench", disk]

    def restore(self, target_dir, disk):
        # restic recreates the absolute path under --target
        return (["restic", "--repo", self.repo, "restore", "latest", "--host", "bench", "--target", target_dir], None,
                os.path.join(target_dir, disk.lstrip("/")))

    def verify(self):
        return ["restic", "--repo", self.repo, "check", "--read-data"]

    def cleanup(self):
        super().cleanup()
        shutil.rmtree(self.env["RESTIC_CACHE_DIR"], ignore_errors=True)


class Borg(Tool):
    key, name = "borg", "borg"
    encryption = "none"

    def __init__(self, work, run):
        super().__init__(work, run)
        # cache, config and security dirs inside the work dir (removed at exit), not root's home
        self.env.update({"BORG_BASE_DIR": os.path.join(work, "borg-base", f"{self.key}-{run}"),
                         "BORG_PASSPHRASE": "evos-bench",
                         "BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK": "yes",
                         "BORG_RELOCATED_REPO_ACCESS_IS_OK": "yes"})

    def init(self):
        return ["borg", "init", "--encryption", self.encryption, self.repo]

    def backup(self, disk):
        self.archives += 1
        return ["borg", "create", "--chunker-params", "fixed,4194304", "--compression", "zstd,1",
                f"{self.repo}::b{self.archives}", disk]

    def restore(self, target_dir, disk):
        return (["borg", "extract", "--sparse", f"{self.repo}::b{self.archives}"], target_dir,
                os.path.join(target_dir, disk.lstrip("/")))

    def verify(self):
        return ["borg", "check", "--verify-data", self.repo]

    def cleanup(self):
        super().cleanup()
        shutil.rmtree(self.env["BORG_BASE_DIR"], ignore_errors=True)


class BorgRepokey(Borg):
    key, name, encrypted = "borg_repokey", "borg, repokey", True
    encryption = "repokey"


def make_tools(work, run, evosctl, key_file):
    return [Evos(work, run, evosctl), EvosEncrypted(work, run, evosctl, key_file), Restic(work, run), Borg(work, run),
            BorgRepokey(work, run)]


# ---------------------------------------------------------------------------------------------
# One run


def one_run(run, args, work, images, disk, key_file, logs, vm_row, writes):
    tools = make_tools(work, run, args.evosctl, key_file)
    shift = run % len(tools)
    tools = tools[shift:] + tools[:shift]  # rotate the order from run to run
    results = {t.key: {} for t in tools}
    sizes = {t.key: {} for t in tools}
    broken = {}
    mismatches = []

    def record(t, phase, r):
        results[t.key][phase] = r
        if not r["ok"]:
            broken[t.key] = f"{phase} failed"
            log(f"run {run + 1} {t.name} {phase}: FAILED (exit {r['rc']}): {r.get('stderr_tail', '').strip()[-400:]}")

    for t in tools:
        os.makedirs(os.path.dirname(t.repo), exist_ok=True)
        r = measure(t.init(), t.env, os.path.join(logs, f"{run}-{t.key}-init"))
        if not r["ok"]:
            broken[t.key] = "init failed"
            results[t.key]["init"] = r
            log(f"run {run + 1} {t.name} init: FAILED: {r.get('stderr_tail', '').strip()[-400:]}")

    for phase in BACKUP_PHASES:
        src = images["orig" if phase == "first" else phase]
        place(src, disk)
        warm(disk)
        for t in tools:
            if t.key in broken:
                results[t.key][phase] = {"ok": False, "skipped": broken[t.key]}
                continue
            r = measure(t.backup(disk), t.env, os.path.join(logs, f"{run}-{t.key}-{phase}"))
            record(t, phase, r)
            if r["ok"]:
                os.sync()
                sizes[t.key][phase] = du_bytes(t.repo)
            log(f"run {run + 1} {phase:7} {t.name:15} {r['seconds']:7.2f} s  {(r['rss_kib'] or 0) / 1024:6.0f} MiB"
                f"{'' if r['ok'] else '  FAILED'}")

    for t in tools:
        if t.key in broken:
            results[t.key]["restore"] = {"ok": False, "skipped": broken[t.key]}
            continue
        target = os.path.join(work, "restore", f"{t.key}-{run}")
        os.makedirs(target)
        argv, cwd, restored = t.restore(target, disk)
        r = measure(argv, t.env, os.path.join(logs, f"{run}-{t.key}-restore"), cwd=cwd)
        if r["ok"]:
            same = subprocess.run(["cmp", "-s", restored, images[LAST]]).returncode == 0
            r["identical"] = same
            r["restored_allocated"] = du_bytes(restored)
            if not same:
                mismatches.append(f"run {run} {t.name}: {restored} differs from {images[LAST]}")
                log(f"run {run + 1} {t.name} restore: DIFFERS from the image (cmp)")
        results[t.key]["restore"] = r
        if not r["ok"]:
            log(f"run {run + 1} {t.name} restore: FAILED (exit {r['rc']}): {r.get('stderr_tail', '').strip()[-400:]}")
        log(f"run {run + 1} restore {t.name:15} {r['seconds']:7.2f} s  {(r['rss_kib'] or 0) / 1024:6.0f} MiB"
            f"{'' if r['ok'] else '  FAILED'}{'' if r.get('identical', True) else '  DIFFERS'}")
        shutil.rmtree(target)

    for t in tools:
        if t.key in broken:
            results[t.key]["verify"] = {"ok": False, "skipped": broken[t.key]}
            continue
        r = measure(t.verify(), t.env, os.path.join(logs, f"{run}-{t.key}-verify"))
        results[t.key]["verify"] = r
        if not r["ok"]:
            log(f"run {run + 1} {t.name} verify: FAILED (exit {r['rc']}): {r.get('stderr_tail', '').strip()[-400:]}")
        log(f"run {run + 1} verify  {t.name:15} {r['seconds']:7.2f} s  {(r['rss_kib'] or 0) / 1024:6.0f} MiB"
            f"{'' if r['ok'] else '  FAILED'}")

    for t in tools:
        t.cleanup()
    names = {t.key: t.name for t in tools}
    if vm_row:
        results[vm_row.key] = vm_row.one_run(run, BACKUP_PHASES, {p: writes[p] for p in BACKUP_PHASES if p != "first"}, logs)
        sizes[vm_row.key] = {}
        names[vm_row.key] = vm_row.name
    return results, sizes, mismatches, names


# ---------------------------------------------------------------------------------------------
# Report


def summarize(all_results, all_sizes, names):
    keys = list(names)
    summary = {}
    for k in keys:
        s = {"name": names[k], "phases": {}, "store_bytes": {}}
        for phase in PHASES:
            rs = [r[k].get(phase) for r in all_results if k in r and r[k].get(phase) is not None]
            ok = [r for r in rs if r.get("ok")]
            secs = [r["seconds"] for r in ok]
            rss = [r["rss_kib"] for r in ok if r.get("rss_kib")]
            s["phases"][phase] = {
                "runs_ok": len(ok), "runs_failed": len([r for r in rs if not r.get("ok") and "skipped" not in r]),
                "runs_skipped": len([r for r in rs if "skipped" in r]),
                "seconds": secs,
                "median": statistics.median(secs) if secs else None,
                "min": min(secs) if secs else None,
                "rss_max_kib": max(rss) if rss else None,
                "bytes_read": [r["bytes_read"] for r in ok if "bytes_read" in r],
            }
        for phase in BACKUP_PHASES:
            v = [sz[k][phase] for sz in all_sizes if k in sz and phase in sz[k]]
            s["store_bytes"][phase] = int(statistics.median(v)) if v else None
        summary[k] = s
    return summary


def fmt_s(v):
    return "—" if v is None else f"{v:.2f}"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def fmt_r(v):
    return "—" if v is None else f"{v:.2f}×"


def report(summary, info):
    lines = []
    p = lines.append
    p(f"## bench/backup: {info['date']}, commit {info['commit']}, {info['machine']}")
    p("")
    p(f"Image: {info['image_size'] / 2**30:.2f} GiB ext4 (mkfs.ext4 -d) with {info['tree_bytes'] / 2**20:.0f} MiB of files"
      f" ({info['tree_entries']} entries of {', '.join(TREE_ROOTS)}); {info['used_bytes'] / 2**20:.0f} MiB of it non-zero"
      f" ({info['used_blocks']} blocks of 4 KiB).")
    for phase in BACKUP_PHASES[1:]:
        m = info["mutations"][phase]
        p(f"- {PHASE_TITLES[phase]}: {m['writes']} writes, {m['bytes'] / 2**20:.1f} MiB, {m['chunks_4mib_touched']} of the"
          f" 4 MiB chunks touched")
    p(f"Runs: {info['runs']} (fresh repositories each run). Load average: {info['load_before']} before,"
      f" {info['load_after']} after. Versions: {info['versions']['restic']}; {info['versions']['borg']}.")
    p("")
    bases = [(k, summary[k]) for k in ("evos", "evos_enc", "evos_vm") if k in summary]
    for phase in PHASES:
        use_min = phase == "restore"
        p(f"### {PHASE_TITLES[phase]}" + (" (minimum of the runs; median beside it)" if use_min else " (median of the runs)"))
        p("")
        pick = "min" if use_min else "median"
        other = "median" if use_min else "min"
        cols = [(k, b) for k, b in bases if b["phases"][phase]["runs_ok"]]
        p("| tool | seconds | " + ("median | " if use_min else "min | ") + "".join(f"÷ {b['name']} | " for _, b in cols)
          + "peak RSS | runs ok/failed |")
        p("|---|---|---|" + "---|" * len(cols) + "---|---|")
        for k, s in summary.items():
            ph = s["phases"][phase]
            if not ph["runs_ok"] and not ph["runs_failed"] and not ph["runs_skipped"]:
                continue  # a row that has no such phase (the VM row: restore, verify)
            v = ph[pick]
            rs = "".join(f"{fmt_r(ratio(v, b['phases'][phase][pick]))} | " for _, b in cols)
            rss = "—" if ph["rss_max_kib"] is None else f"{ph['rss_max_kib'] / 1024:.0f} MiB"
            fails = f"{ph['runs_ok']}/{ph['runs_failed']}" + (f" ({ph['runs_skipped']} skipped)" if ph["runs_skipped"] else "")
            p(f"| {s['name']} | {fmt_s(v)} | {fmt_s(ph[other])} | {rs}{rss} | {fails} |")
        vm = summary.get("evos_vm")
        if vm and vm["phases"][phase]["bytes_read"]:
            reads = vm["phases"][phase]["bytes_read"]
            p("")
            p(f"{vm['name']}: read {statistics.median(reads) / 2**20:.0f} MiB over NBD (median); the plain-file rows"
              f" read all of the image's data.")
        p("")
    vm = summary.get("evos_vm")
    if vm:
        def med(phase):
            return vm["phases"][phase]["median"]
        p("### Proportionality of the running VM's backups (median seconds, 10% ÷ 1%)")
        p("")
        for a, b, what in (("incr1", "incr10", "scattered blocks"), ("reg1", "reg10", "whole regions")):
            p(f"- {what}: {fmt_s(med(a))} s → {fmt_s(med(b))} s: {fmt_r(ratio(med(b), med(a)))}")
        p("")
    p("### Store size on disk (du) after each backup, and data backed up ÷ store")
    p("")
    p("| tool | after first | after +1% | after +10% | after regions +1% | after regions +10% | non-zero data ÷ store (first) | image ÷ store (first) | 5 images ÷ store |")
    p("|---|---|---|---|---|---|---|---|---|")
    for k, s in summary.items():
        b = s["store_bytes"]
        if b["first"] is None:
            continue

        def mib(v):
            return "—" if v is None else f"{v / 2**20:.0f} MiB"
        p(f"| {s['name']} | {mib(b['first'])} | {mib(b['incr1'])} | {mib(b['incr10'])} | {mib(b['reg1'])} | {mib(b['reg10'])} |"
          f" {fmt_r(ratio(info['used_bytes'], b['first']))} | {fmt_r(ratio(info['image_size'], b['first']))} |"
          f" {fmt_r(ratio(5 * info['image_size'], b['reg10']))} |")
    p("")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", required=True)
    ap.add_argument("--evosctl", required=True)
    ap.add_argument("--commit", default="unknown")
    ap.add_argument("--size", default="2G")
    ap.add_argument("--data-mib", type=int, default=600)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json")
    ap.add_argument("--virt-hosts", help="tests/support/virt-hosts.sh: with --guest-dir, adds the running-VM row")
    ap.add_argument("--guest-dir", help="the tiny test guest (tests/support/build-guest.sh output)")
    args = ap.parse_args()
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    size = parse_size(args.size)
    if size % BLOCK or size < 64 << 20:
        ap.error(f"--size {args.size}: must be a multiple of 4 KiB, at least 64 MiB")
    if args.data_mib < 1 or args.data_mib << 20 > size * 0.8:
        ap.error(f"--data-mib {args.data_mib}: must be at least 1 and leave room in a {args.size} image")
    work = args.work
    logs = os.path.join(work, "logs")
    os.makedirs(logs)
    os.makedirs(os.path.join(work, "home"))
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())

    orig, chosen, tree_bytes = build_image(work, size, args.data_mib << 20)
    used = used_blocks(orig)
    images = {"orig": orig}
    mutations, writes = {}, {}
    for phase in BACKUP_PHASES[1:]:
        images[phase] = os.path.join(work, f"{phase}.img")
        if phase.startswith("incr"):
            writes[phase] = scattered_writes(used, PERCENT[phase], SEEDS[phase])
        else:
            writes[phase] = region_writes(orig, used, PERCENT[phase], SEEDS[phase])
        mutations[phase] = mutated_copy(orig, writes[phase], images[phase])
        log(f"{phase}: {mutations[phase]['bytes'] / 2**20:.1f} MiB in {mutations[phase]['writes']} writes,"
            f" {mutations[phase]['chunks_4mib_touched']} 4 MiB chunks touched")
    for img in images.values():
        warm(img)
    disk = os.path.join(work, "disk.img")
    key_file = os.path.join(work, "evos.key")
    sh([args.evosctl, "backup", "key", "create", key_file])

    vm_row = None
    if args.virt_hosts and args.guest_dir:
        from vm_row import VmRow
        vm_row = VmRow(work, args.evosctl, args.virt_hosts, args.guest_dir, log, sh, measure)
    all_results, all_sizes, mismatches, names = [], [], [], {}
    try:
        if vm_row:
            vm_row.start_hosts(orig)
        for run in range(args.runs):
            log(f"run {run + 1} of {args.runs}, load {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            res, sizes, mm, n = one_run(run, args, work, images, disk, key_file, logs, vm_row, writes)
            all_results.append(res)
            all_sizes.append(sizes)
            mismatches += mm
            names.update(n)
    finally:
        if vm_row:
            vm_row.stop_hosts()
    order = [k for k in ("evos", "evos_enc", "evos_vm", "restic", "borg", "borg_repokey") if k in names]
    names = {k: names[k] for k in order}
    summary = summarize(all_results, all_sizes, names)
    info = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": args.commit,
        "machine": f"{os.cpu_count()} CPUs, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB",
        "image_size": size, "tree_bytes": tree_bytes, "tree_entries": len(chosen),
        "used_blocks": len(used), "used_bytes": len(used) * BLOCK, "mutations": mutations, "runs": args.runs,
        "load_before": load_before, "load_after": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "versions": {"restic": sh(["restic", "version"]).strip(), "borg": sh(["borg", "--version"]).strip()},
        "options": {
            "evos": "store init (4 MiB chunks, zstd 1, SHA-256), create --image, default --threads",
            "evos_enc": "store init --key-file (AES-256-GCM, HMAC chunk names)",
            "evos_vm": "create VM (libvirt pull-mode backup over NBD, checkpoints), the image as the qcow2 disk of a running TCG guest",
            "restic": "repository v2 (compression auto, AES-256-CTR + Poly1305), content-defined chunks, restore without --verify",
            "borg": "init -e none; create --chunker-params fixed,4194304 --compression zstd,1; extract --sparse",
            "borg_repokey": "init -e repokey (AES-256-CTR + HMAC-SHA256), otherwise as borg",
        },
    }
    text = report(summary, info)
    print(text)
    failed = [f"run {i} {names[k]} {ph}" for i, res in enumerate(all_results) for k in res for ph, r in res[k].items()
              if not r.get("ok") and "skipped" not in r]
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"info": info, "summary": summary, "runs": all_results, "store_bytes": all_sizes,
                       "failed": failed, "restore_mismatches": mismatches, "report_markdown": text}, f, indent=1)
    for m in mismatches:
        log(f"MISMATCH: {m}")
    for fl in failed:
        log(f"FAILED: {fl}")
    if failed or mismatches:
        log("the bench failed: see above (failed runs are not counted in the figures)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
