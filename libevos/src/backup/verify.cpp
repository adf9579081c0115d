#include <evos/backup/verify.hpp>

#include <evos/file/atomic_write.hpp>
#include <evos/vm/domain_copy.hpp>

#include "parallel.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>

namespace evos::backup {

Result<VerifyReport> verify_backups(const Store& store, const std::vector<BackupId>& ids, const RunOptions& options) {
  VerifyReport report;
  std::map<Digest, std::set<std::string>> needed;  // chunk -> backups
  std::uint64_t total = 0;
  for (const auto& id : ids) {
    const std::string name = id.vm + "/" + id.time;
    auto m = store.read_manifest(id);
    if (!m) {
      report.bad_manifests.emplace(name, m.error().message());
      continue;
    }
    report.checked.push_back(name);
    for (const auto& d : m->disks)
      for (const auto& c : d.chunks)
        if (c) needed[*c].insert(name);
  }
  std::vector<const std::pair<const Digest, std::set<std::string>>*> chunks;
  chunks.reserve(needed.size());
  for (const auto& entry : needed) chunks.push_back(&entry);
  total = chunks.size() * store.config().chunk_size;

  std::mutex mutex;
  std::atomic<std::uint64_t> bytes{0}, done{0};
  const auto start = Clock::now();
  auto tick = [&] {
    if (options.progress)
      options.progress({std::min(total, done.load() * store.config().chunk_size), total,
                        std::chrono::duration_cast<Millis>(Clock::now() - start)});
  };
  auto work = [&](std::uint64_t i, unsigned) -> Result<void> {
    const auto& [id, users] = *chunks[i];
    auto data = store.read_chunk(id);
    ++done;
    if (data) {
      bytes += data->size();
      return {};
    }
    std::lock_guard lock(mutex);
    report.damaged_chunks.push_back({id, data.error().message(), {users.begin(), users.end()}});
    return {};  // keep going: the report names every damaged chunk
  };
  if (auto r = detail::parallel_for(chunks.size(), worker_count(options.threads), work, tick); !r) return std::move(r).error();
  tick();
  report.chunks = chunks.size();
  report.bytes = bytes;
  std::set<std::string> damaged;
  for (const auto& [name, problem] : report.bad_manifests) damaged.insert(name);
  for (const auto& c : report.damaged_chunks) damaged.insert(c.backups.begin(), c.backups.end());
  report.damaged_backups.assign(damaged.begin(), damaged.end());
  std::sort(report.damaged_chunks.begin(), report.damaged_chunks.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return report;
}

std::vector<VerifyRecord> verify_records(const VerifyReport& report, std::int64_t now_unix_ms) {
  std::vector<std::string> looked_at = report.checked;
  for (const auto& [id, problem] : report.bad_manifests) looked_at.push_back(id);
  return verify_records(looked_at, report.damaged_backups, now_unix_ms);
}

Result<void> write_verify_records(const Store& store, const std::vector<VerifyRecord>& records) {
  for (const auto& r : records) {
    if (auto p = vm::name_problem(r.vm)) return Error(Errc::invalid_argument, *p);
    const std::string path = fmt::format("{}/verify/{}.json", store.dir(), r.vm);
    if (auto w = file::write_atomically(path, format_verify_record(r), {.mode = 0600, .create_parent = 0700}); !w) return w;
  }
  return {};
}

Result<std::optional<VerifyRecord>> read_verify_record(const Store& store, const std::string& vm) {
  if (auto p = vm::name_problem(vm)) return Error(Errc::invalid_argument, *p);
  const std::string path = fmt::format("{}/verify/{}.json", store.dir(), vm);
  auto bytes = read_file(path, 1u << 20);
  if (!bytes) {
    if (bytes.error().code() == Errc::not_found) return std::optional<VerifyRecord>{};
    return std::move(bytes).error();
  }
  auto r = parse_verify_record(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()), path);
  if (!r) return std::move(r).error();
  if (r->vm != vm) return make_error(Errc::backend, "{} is damaged: it names VM {}", path, r->vm);
  return std::optional<VerifyRecord>(std::move(*r));
}

}  // namespace evos::backup
