#include <evos/backup/vm_backup.hpp>

#include <evos/backup/nbd_reader.hpp>
#include <evos/backup/vm_plan.hpp>
#include <evos/vm/domain_copy.hpp>

#include <openssl/rand.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace evos::backup {
namespace {

// The private directory of one backup job: the NBD socket and the scratch files live here.
class JobDir {
 public:
  static Result<JobDir> make(const std::string& parent) {
    struct stat st {};
    if (::stat(parent.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      return make_error(Errc::invalid_argument, "the scratch directory {} does not exist", parent);
    std::string path = parent + "/evos-backup-XXXXXX";
    if (!::mkdtemp(path.data())) return make_error(Errc::backend, "cannot make a directory in {}: {}", parent, std::strerror(errno));
    // QEMU writes the socket and scratch files here: it may run as the scratch directory's owner.
    if (::chown(path.c_str(), st.st_uid, st.st_gid) != 0) {
      ::rmdir(path.c_str());
      return make_error(Errc::backend, "cannot hand {} to the owner of {}: {}", path, parent, std::strerror(errno));
    }
    return JobDir(path);
  }
  JobDir(JobDir&& o) noexcept : path_(std::exchange(o.path_, {})) {}
  JobDir(const JobDir&) = delete;
  ~JobDir() {
    if (path_.empty()) return;
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  explicit JobDir(std::string p) : path_(std::move(p)) {}
  std::string path_;
};

std::string new_token() {
  std::uint8_t bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return "0";
  return bytes_to_hex(bytes, sizeof bytes);
}

// Ends the pull backup's job however the backup ends: the NBD export goes with it.
struct JobGuard {
  VmHost& host;
  const std::string& vm;
  bool active = true;
  Result<void> end() {
    if (!active) return {};
    active = false;
    return host.abort_job(vm);
  }
  ~JobGuard() {
    if (active) (void)host.abort_job(vm);
  }
};

const DiskRecord* find_disk(const Manifest* m, const std::string& target) {
  if (!m) return nullptr;
  for (const auto& d : m->disks)
    if (d.target == target) return &d;
  return nullptr;
}

Result<VmBackupResult> offline(const Store& store, const RunOptions& options, Manifest m, const std::vector<VmDisk>& disks,
                               std::string plan = "the VM is shut off: its images read through qemu-nbd, every block") {
  m.mode = Mode::stop;
  m.consistency = Consistency::offline;
  m.plan = std::move(plan);
  const auto started = Clock::now();
  for (const auto& d : disks) {
    auto reader = NbdReader::open({.image = d.source, .format = d.format}, backup_worker_count(options.threads));
    if (!reader) return std::move(reader).error().context(fmt::format("disk {}", d.target));
    auto disk = back_up_disk(store, {d.target, reader->get(), nullptr, std::nullopt}, options);
    if (!disk) return std::move(disk).error();
    disk->source = d.source;
    m.disks.push_back(std::move(*disk));
  }
  m.duration_ms = static_cast<std::uint64_t>(std::chrono::duration_cast<Millis>(Clock::now() - started).count());
  if (auto c = commit_backup(store, m); !c) return std::move(c).error();
  return VmBackupResult{std::move(m), "", {}};
}

// Mode stop of a running VM: stop it, read it offline, start it again whatever the backup did.
Result<VmBackupResult> stopped(const Store& store, const VmBackupRequest& r, const RunOptions& options, Manifest m,
                               const std::string& inactive_xml) {
  if (!r.stop_control) return Error(Errc::invalid_argument, "mode stop needs a way to stop the VM (stop control)");
  auto disks = backup_disks(inactive_xml);
  if (!disks) return std::move(disks).error();
  const std::string how = r.stop_control->describe();
  if (auto s = r.stop_control->stop(Deadline::after(r.stop_timeout)); !s)
    return std::move(s).error().context(fmt::format("stop {} for its backup ({})", r.vm, how));
  auto backup = offline(store, options, std::move(m), *disks,
                        fmt::format("stopped {}, its images read through qemu-nbd, every block, then started again", how));
  auto started = r.stop_control->start(Deadline::after(r.start_timeout));
  if (!started) {
    if (backup)
      return make_error(started.error().code(), "backup {} was taken, but {} did not start again: {}", backup->manifest->id(),
                        r.vm, started.error().message());
    return make_error(backup.error().code(), "{}; and {} did not start again: {}", backup.error().message(), r.vm,
                      started.error().message());
  }
  return backup;
}

}  // namespace

Result<VmBackupResult> back_up_vm(const Store& store, VmHost& host, const VmBackupRequest& r, const RunOptions& options) {
  if (auto p = vm::name_problem(r.vm)) return Error(Errc::invalid_argument, *p);
  if (r.mode != Mode::snapshot && r.mode != Mode::suspend && r.mode != Mode::stop)
    return make_error(Errc::invalid_argument, "a VM backup's mode is snapshot, suspend or stop, not {}", to_string(r.mode));
  auto state = host.run_state(r.vm);
  // The HA VM agent defines a VM only on the node that runs it: elsewhere it is unknown.
  if (!state && state.error().code() == Errc::not_found && r.only_if_running)
    return VmBackupResult{std::nullopt, fmt::format("{} is not defined on this host: skipped", r.vm), {}};
  if (!state) return std::move(state).error();
  if (*state == VmRunState::shut_off && r.only_if_running)
    return VmBackupResult{std::nullopt, fmt::format("{} is not running on this host: skipped", r.vm), {}};
  auto lock = store.lock_vm(r.vm, fmt::format("a backup of {}", r.vm));
  if (!lock) return std::move(lock).error();

  auto inactive_xml = host.domain_xml(r.vm, true);
  if (!inactive_xml) return std::move(inactive_xml).error();
  Manifest m;
  m.vm = r.vm;
  m.time = format_backup_time(wall_clock_ms());
  m.node = this_host();
  m.evos_version = EVOS_VERSION;
  m.chunk_size = store.config().chunk_size;
  m.domain_xml = *inactive_xml;
  auto base = latest_backup(store, r.vm);
  if (!base) return std::move(base).error();
  if (*base) m.base = (*base)->id();
  const Manifest* base_manifest = *base ? &**base : nullptr;

  if (*state == VmRunState::shut_off) {
    auto disks = backup_disks(*inactive_xml);
    if (!disks) return std::move(disks).error();
    return offline(store, options, std::move(m), *disks);
  }
  if (r.mode == Mode::stop) return stopped(store, r, options, std::move(m), *inactive_xml);

  const auto started = Clock::now();
  VmBackupResult result;
  auto live_xml = host.domain_xml(r.vm, false);
  if (!live_xml) return std::move(live_xml).error();
  auto disks = backup_disks(*live_xml);
  if (!disks) return std::move(disks).error();
  auto token = host.run_token(r.vm);
  if (!token) return std::move(token).error();

  // The base's checkpoint, redefined here if this host does not know it (a live migration).
  bool base_checkpoint_here = false;
  if (base_manifest && base_manifest->checkpoint) {
    auto known = host.checkpoints(r.vm);
    if (!known) return std::move(known).error();
    base_checkpoint_here = std::find(known->begin(), known->end(), *base_manifest->checkpoint) != known->end();
    if (!base_checkpoint_here && !base_manifest->checkpoint_xml.empty() && token->has_value()) {
      auto xml = checkpoint_for_redefine(base_manifest->checkpoint_xml);
      auto re = xml ? host.redefine_checkpoint(r.vm, *xml) : Result<void>(xml.error());
      if (re)
        base_checkpoint_here = true;
      else
        result.warnings.push_back(re.error().message());
    }
  }
  std::map<std::string, std::uint64_t> sizes;
  for (const auto& d : *disks)
    if (const auto* old = find_disk(base_manifest, d.target)) sizes[d.target] = old->size;  // checked against NBD below
  IncrementalPlan plan = plan_incremental({base_manifest, *token, *disks, sizes});
  if (plan.incremental && !base_checkpoint_here) plan = {false, "this host does not know the last backup's checkpoint: full read"};

  if (!token->has_value()) {
    *token = new_token();
    if (auto s = host.set_run_token(r.vm, **token); !s) return std::move(s).error();
  }
  m.run_token = *token;
  m.checkpoint = checkpoint_name(m.time);
  const std::string cp_xml = checkpoint_xml(*m.checkpoint, *disks);

  auto busy = host.backup_running(r.vm);
  if (!busy) return std::move(busy).error();
  if (*busy)
    return make_error(Errc::backend, "a backup job already runs on {} (a backup from another store or tool): try again once it ended", r.vm);
  auto dir = JobDir::make(r.scratch_dir);
  if (!dir) return std::move(dir).error();
  const std::string socket = dir->path() + "/nbd.sock";

  // The point in time: paused (suspend) and/or frozen only around virDomainBackupBegin.
  bool paused = false;
  if (r.mode == Mode::suspend && *state == VmRunState::running) {
    if (auto p = host.pause(r.vm); !p) return std::move(p).error();
    paused = true;
  }
  auto frozen = *state == VmRunState::running ? host.freeze(r.vm) : Result<bool>(false);
  if (!frozen) {
    if (paused) (void)host.resume(r.vm);
    return std::move(frozen).error();
  }
  auto begin = host.begin_backup(r.vm, pull_backup_xml(*disks, socket, dir->path(), plan.incremental ? base_manifest->checkpoint : std::nullopt), cp_xml);
  if (!begin && plan.incremental) {
    // An inconsistent or missing bitmap (QEMU refuses it): a full read is always right.
    result.warnings.push_back(begin.error().message());
    plan = {false, "the last backup's dirty bitmap is unusable here: full read"};
    begin = host.begin_backup(r.vm, pull_backup_xml(*disks, socket, dir->path(), std::nullopt), cp_xml);
  }
  Result<void> thawed = *frozen ? host.thaw(r.vm) : Result<void>();
  if (paused) (void)host.resume(r.vm);
  if (!begin) return std::move(begin).error();
  JobGuard job{host, r.vm};
  if (!thawed) result.warnings.push_back(thawed.error().message());
  m.consistency = *frozen ? Consistency::frozen : Consistency::crash_consistent;
  m.mode = r.mode;

  for (const auto& d : *disks) {
    const DiskRecord* old = plan.incremental && d.bitmap_capable() ? find_disk(base_manifest, d.target) : nullptr;
    NbdSource source{.socket = socket, .export_name = d.target};
    if (old) source.dirty_bitmap_context = "qemu:dirty-bitmap:backup-" + d.target;
    auto reader = NbdReader::open(source, backup_worker_count(options.threads));
    if (!reader) return std::move(reader).error().context(fmt::format("disk {}", d.target));
    DiskJob disk_job{d.target, reader->get(), nullptr, std::nullopt};
    if (old && old->size == (*reader)->size()) {
      auto dirty = (*reader)->dirty_extents();
      if (!dirty) return std::move(dirty).error();
      disk_job.base = old;
      disk_job.dirty_chunks = chunks_touched(*dirty, store.config().chunk_size, (*reader)->size());
    }
    auto disk = back_up_disk(store, disk_job, options);
    if (!disk) return std::move(disk).error();
    disk->source = d.source;
    m.disks.push_back(std::move(*disk));
  }
  if (auto e = job.end(); !e) return std::move(e).error();
  auto saved_cp = host.checkpoint_xml(r.vm, *m.checkpoint);
  if (saved_cp) m.checkpoint_xml = *saved_cp;
  else result.warnings.push_back(saved_cp.error().message());
  m.plan = plan.reason;
  m.duration_ms = static_cast<std::uint64_t>(std::chrono::duration_cast<Millis>(Clock::now() - started).count());
  if (auto c = commit_backup(store, m); !c) return std::move(c).error();

  // One checkpoint per VM: the next backup needs only this one.
  if (auto known = host.checkpoints(r.vm); known)
    for (const auto& name : *known)
      if (name != *m.checkpoint && name.rfind("evos-", 0) == 0)
        if (auto del = host.delete_checkpoint(r.vm, name); !del) result.warnings.push_back(del.error().message());
  result.manifest = std::move(m);
  return result;
}

Result<VmRestoreResult> restore_vm(const Store& store, VmHost& host, const VmRestoreRequest& r, const RunOptions& options) {
  if (auto p = vm::name_problem(r.new_name)) return Error(Errc::invalid_argument, *p);
  auto m = store.read_manifest(r.backup);
  if (!m) return std::move(m).error();
  if (m->domain_xml.empty()) return make_error(Errc::invalid_argument, "backup {} is an image backup, not a VM's: restore its disk with backup restore", m->id());
  auto existing = host.run_state(r.new_name);
  if (existing) return make_error(Errc::invalid_argument, "a VM named {} exists on this host: restore under another name (--as)", r.new_name);
  if (existing.error().code() != Errc::not_found) return std::move(existing).error();
  VmRestoreResult out;
  for (const auto& d : m->disks) out.disk_files[d.target] = fmt::format("{}/{}-{}.img", r.disk_dir, r.new_name, d.target);
  auto xml = domain_for_restore(m->domain_xml, r.new_name, out.disk_files, r.disk_dir);
  if (!xml) return std::move(xml).error();
  for (const auto& d : m->disks)
    if (auto w = restore_disk(store, d, {out.disk_files[d.target], false}, options); !w)
      return std::move(w).error().context(fmt::format("restore backup {} as {}", m->id(), r.new_name));
  if (auto def = host.define(*xml); !def) return std::move(def).error();
  if (r.start)
    if (auto s = host.start(r.new_name); !s) return std::move(s).error();
  out.domain_xml = std::move(*xml);
  return out;
}

}  // namespace evos::backup
