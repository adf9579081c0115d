"""bench/backup: the row of evos backing up a running TCG guest through QEMU's dirty bitmap.

The bench image (converted to qcow2: persistent bitmaps need it) is the disk of the tiny test guest
(tests/support/build-guest.sh), running on one libvirtd host of tests/support/virt-hosts.sh. The
first backup reads every allocated block over NBD (libvirt's pull-mode backup); before each later
one, the same writes the plain-file rows get are written into the running VM's disk through QEMU's
own block layer (HMP `qemu-io` on the guest's virtio-blk device: the tiny guest cannot be told to
write thousands of chosen blocks, and a write through the device's block backend is what QEMU's
dirty bitmap records, as it records the guest's). HMP costs ~13 ms per command, so each 4 MiB
chunk the phase touches is written once with its content after the phase's writes (kept in a
shadow copy of the image): the disk's content and the set of dirty chunks are the same as with one
write per block. The guest keeps ticking in sector 0 meanwhile (never overwritten here). The writes
are applied cumulatively, since a bitmap backup reads what changed since the previous backup: the
time of each row is the cost of that change alone.
"""
import json
import os
import shutil
import subprocess
import time

VM = "evbench"
CHUNK = 4 * 1024 * 1024
GUEST_SECTOR = 512  # the tiny guest's counter (tests/support/build-guest.sh): left to the guest
# QOM path of the guest disk's block backend: qemu-io -d takes a qdev id; libvirt names the
# virtio-blk device of vda "virtio-disk0" (its block backend has no name of its own).
DEVICE = "/machine/peripheral/virtio-disk0/virtio-backend"


class VmRow:
    key, name = "evos_vm", "evos, dirty bitmap of a running TCG guest"

    def __init__(self, work, evosctl, virt_hosts, guest_dir, log, sh, measure):
        self.work, self.evosctl, self.virt_hosts, self.guest_dir = work, evosctl, virt_hosts, guest_dir
        self.log, self.sh, self.measure = log, sh, measure
        self.base = os.path.join(work, "vm")
        self.prefix = "bb" + "%04d" % (os.getpid() % 10000)
        self.env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
                    "EVOS_TEST_PREFIX": self.prefix, "EVOS_TEST_BASE": os.path.join(self.base, "hosts")}
        self.up = False
        self.qcow2 = os.path.join(self.base, "orig.qcow2")

    def hosts(self, *args, stdin=None):
        p = subprocess.run([self.virt_hosts, *args], env=self.env, input=stdin, capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"virt-hosts {' '.join(args)} failed ({p.returncode}): {(p.stderr or p.stdout).strip()[-1500:]}")
        return p.stdout

    def start_hosts(self, orig_image):
        os.makedirs(self.base, exist_ok=True)
        self.log(f"vm row: converting the image to qcow2, starting a libvirtd host (prefix {self.prefix})")
        self.orig = orig_image
        self.sh(["qemu-img", "convert", "-O", "qcow2", orig_image, self.qcow2])
        self.hosts("up")
        self.up = True
        self.uri = self.hosts("uri", "1").strip()

    def stop_hosts(self):
        if self.up:
            subprocess.run([self.virt_hosts, "down"], env=self.env, capture_output=True)
            self.up = False

    def one_run(self, run, phases, writes_by_phase, logs):
        """The row's results for one run: {phase: measure() result + bytes_read}; a failed phase
        ends the run's row (later phases would start from another state)."""
        d = os.path.join(self.base, f"run{run}")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(os.path.join(d, "scratch"))
        shutil.copyfile(self.qcow2, os.path.join(d, f"{VM}.qcow2"))
        shadow = os.path.join(d, "shadow.img")
        self.sh(["cp", "--sparse=always", self.orig, shadow])
        xml = os.path.join(d, f"{VM}.xml")
        self.hosts("domain-xml", VM, d, self.guest_dir, xml, "128")
        self.hosts("virsh", "1", "define", xml)
        mark = self.hosts("serial-mark", d, VM).strip()
        self.hosts("virsh", "1", "start", VM)
        results = {}
        store = os.path.join(d, "store")
        try:
            self.hosts("wait-boot", d, VM, mark, "120")
            self.sh([self.evosctl, "backup", "store", "init", "--store", store])
            broken = None
            for phase in phases:
                if broken:
                    results[phase] = {"ok": False, "skipped": broken}
                    continue
                if phase in writes_by_phase:
                    try:
                        self.write_into_vm(writes_by_phase[phase], shadow, os.path.join(d, f"w-{phase}"))
                    except RuntimeError as e:
                        results[phase] = {"ok": False, "rc": None, "stderr_tail": str(e)}
                        broken = f"{phase}: writing into the VM failed"
                        self.log(f"run {run + 1} {self.name} {phase}: FAILED: {e}")
                        continue
                argv = [self.evosctl, "-c", self.uri, "backup", "create", VM, "--store", store,
                        "--scratch-dir", os.path.join(d, "scratch"), "--json"]
                r = self.measure(argv, self.env, os.path.join(logs, f"{run}-{self.key}-{phase}"))
                if r["ok"]:
                    try:
                        with open(os.path.join(logs, f"{run}-{self.key}-{phase}.out")) as f:
                            disk = json.load(f)["disks"][0]
                        r["bytes_read"], r["method"] = disk["bytes_read"], disk["method"]
                    except (OSError, ValueError, KeyError, IndexError) as e:
                        r = {**r, "ok": False, "rc": 0, "stderr_tail": f"unreadable --json output: {e}"}
                results[phase] = r
                if not r["ok"]:
                    broken = f"{phase} failed"
                    self.log(f"run {run + 1} {self.name} {phase}: FAILED (exit {r['rc']}): {r.get('stderr_tail', '').strip()[-400:]}")
                else:
                    self.log(f"run {run + 1} {phase:7} {'evos, VM bitmap':15} {r['seconds']:7.2f} s"
                             f"  {(r['rss_kib'] or 0) / 1024:6.0f} MiB  read {r['bytes_read'] / 2**20:.0f} MiB ({r['method']})")
        finally:
            subprocess.run([self.virt_hosts, "virsh", "1", "destroy", VM], env=self.env, capture_output=True)
            subprocess.run([self.virt_hosts, "virsh", "1", "undefine", VM, "--checkpoints-metadata"], env=self.env,
                           capture_output=True)
            shutil.rmtree(d, ignore_errors=True)
        return results

    def write_into_vm(self, writes, shadow, tmp):
        """The writes applied to the shadow copy, then each chunk they touch written into the
        running guest's disk by HMP qemu-io, all through one virsh session (commands on stdin)."""
        os.makedirs(tmp)
        touched = set()
        with open(shadow, "r+b") as f:
            for offset, data in writes:
                f.seek(offset)
                f.write(data)
                touched.update(range(offset // CHUNK, (offset + len(data) - 1) // CHUNK + 1))
        size = os.path.getsize(shadow)
        lines = []
        with open(shadow, "rb") as f:
            for c in sorted(touched):
                start = max(c * CHUNK, GUEST_SECTOR)
                length = min((c + 1) * CHUNK, size) - start
                f.seek(start)
                src = os.path.join(tmp, f"{c}.bin")
                with open(src, "wb") as out:
                    out.write(f.read(length))
                lines.append(f"qemu-monitor-command {VM} --hmp 'qemu-io -d {DEVICE} \"write -s {src} {start} {length}\"'")
        t0 = time.monotonic()
        out = self.hosts("virsh", "1", stdin="\n".join(lines) + "\n")
        bad = [l for l in out.splitlines() if "error" in l.lower() or "conflict" in l.lower()]
        if bad:
            raise RuntimeError(f"writing into the VM's disk failed: {bad[0]}")
        self.log(f"  {len(writes)} writes = {len(lines)} chunks written into the running VM in {time.monotonic() - t0:.1f} s")
        shutil.rmtree(tmp)
