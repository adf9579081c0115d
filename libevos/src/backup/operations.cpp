#include <evos/backup/operations.hpp>

#include <evos/file/atomic_write.hpp>
#include <evos/vm/domain_copy.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>

namespace evos::backup {

Result<void> commit_backup(const Store& store, const Manifest& manifest) {
  if (auto s = store.sync(); !s) return s;
  return store.write_manifest(manifest);
}

Result<std::optional<Manifest>> latest_backup(const Store& store, const std::string& vm) {
  auto ids = store.list_backups(vm);
  if (!ids) return std::move(ids).error();
  if (ids->empty()) return std::optional<Manifest>();
  auto m = store.read_manifest(ids->back());
  if (!m) return std::move(m).error();
  return std::optional<Manifest>(std::move(*m));
}

Result<Manifest> back_up_image(const Store& store, const ImageBackupRequest& request, const RunOptions& options) {
  if (auto p = vm::name_problem(request.name)) return Error(Errc::invalid_argument, *p);
  auto lock = store.lock_vm(request.name, fmt::format("a backup of {}", request.name));
  if (!lock) return std::move(lock).error();
  auto reader = open_file_reader(request.path);
  if (!reader) return std::move(reader).error();
  const std::int64_t start = wall_clock_ms();
  const auto started = Clock::now();
  auto base = latest_backup(store, request.name);
  if (!base) return std::move(base).error();

  Manifest m;
  m.vm = request.name;
  m.time = format_backup_time(start);
  m.mode = Mode::image;
  m.consistency = Consistency::offline;
  m.node = this_host();
  m.evos_version = EVOS_VERSION;
  m.chunk_size = store.config().chunk_size;
  if (*base) m.base = (*base)->id();
  DiskJob job{"image", reader->get(), nullptr, std::nullopt};
  auto disk = back_up_disk(store, job, options);
  if (!disk) return std::move(disk).error();
  m.disks.push_back(std::move(*disk));
  m.duration_ms = static_cast<std::uint64_t>(std::chrono::duration_cast<Millis>(Clock::now() - started).count());
  if (auto c = commit_backup(store, m); !c) return std::move(c).error();
  return m;
}

Result<DiskRecord> restore_backup_disk(const Store& store, const DiskRestoreRequest& request, const RunOptions& options) {
  auto m = store.read_manifest(request.backup);
  if (!m) return std::move(m).error();
  const DiskRecord* disk = nullptr;
  std::string names;
  for (const auto& d : m->disks) {
    names += (names.empty() ? "" : ", ") + d.target;
    if (d.target == request.disk || (request.disk.empty() && m->disks.size() == 1)) disk = &d;
  }
  if (!disk)
    return make_error(request.disk.empty() ? Errc::invalid_argument : Errc::not_found, "backup {} {} (its disks: {})",
                      m->id(), request.disk.empty() ? "has several disks: name one with --disk" : fmt::format("has no disk {}", request.disk), names);
  if (auto r = restore_disk(store, *disk, request.target, options); !r) return std::move(r).error().context(fmt::format("backup {}", m->id()));
  return *disk;
}

Result<std::vector<PruneResult>> prune_backups(const Store& store, const std::optional<std::string>& vm,
                                               const RetentionPolicy& policy, bool dry_run) {
  if (policy.keeps_nothing())
    return Error(Errc::invalid_argument, "prune needs at least one --keep-* option (a prune that keeps nothing is refused)");
  auto ids = store.list_backups(vm);
  if (!ids) return std::move(ids).error();
  std::map<std::string, std::vector<PruneCandidate>> groups;
  for (const auto& id : *ids) {
    auto ms = parse_backup_time(id.time);
    if (ms) groups[id.vm].push_back({id.vm + "/" + id.time, *ms});
  }
  std::vector<PruneResult> out;
  for (auto& [name, candidates] : groups) {
    PruneResult r{name, plan_prune(std::move(candidates), policy)};
    if (!dry_run) {
      auto lock = store.lock_vm(name, fmt::format("a prune of {}", name));
      if (!lock) return std::move(lock).error();
      for (const auto& d : r.decisions) {
        if (d.keep) continue;
        auto id = parse_backup_id(d.id);
        if (!id) return std::move(id).error();
        if (auto rm = store.remove_manifest(*id); !rm) return std::move(rm).error();
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

Result<void> forget_backup(const Store& store, const BackupId& id) {
  auto lock = store.lock_vm(id.vm, fmt::format("forgetting a backup of {}", id.vm));
  if (!lock) return std::move(lock).error();
  if (auto r = store.remove_manifest(id); !r) {
    if (r.error().code() == Errc::not_found) return make_error(Errc::not_found, "there is no backup {}/{} in {}", id.vm, id.time, store.dir());
    return r;
  }
  return {};
}

Result<Key> load_key_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return make_error(errno == ENOENT ? Errc::not_found : Errc::invalid_argument, "cannot read the key file {}: {}", path, std::strerror(errno));
  struct stat st {};
  const bool stat_ok = ::fstat(fd, &st) == 0;
  ::close(fd);
  if (!stat_ok || !S_ISREG(st.st_mode)) return make_error(Errc::invalid_argument, "the key file {} is not a regular file", path);
  if (st.st_mode & 077)
    return make_error(Errc::invalid_argument, "the key file {} is readable by others (mode {:03o}): chmod 600 it", path, st.st_mode & 0777);
  auto text = read_file(path, 64u << 10);
  if (!text) return std::move(text).error();
  auto key = parse_key_file(std::string_view(reinterpret_cast<const char*>(text->data()), text->size()));
  if (!key) return std::move(key).error().context(fmt::format("key file {}", path));
  return key;
}

Result<Key> create_key_file(const std::string& path) {
  auto key = generate_key();
  if (!key) return key;
  if (auto w = file::write_atomically(path, format_key_file(*key), {.mode = 0600, .replace = false}); !w) return std::move(w).error();
  return key;
}

}  // namespace evos::backup
