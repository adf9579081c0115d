#include <evos/backup/gc_plan.hpp>

namespace evos::backup {

std::int64_t gc_cutoff_ms(std::int64_t gc_start_ms, std::optional<std::int64_t> oldest_writer_start_ms, std::int64_t margin_ms) {
  std::int64_t from = gc_start_ms;
  if (oldest_writer_start_ms && *oldest_writer_start_ms < from) from = *oldest_writer_start_ms;
  return from - margin_ms;
}

GcPlan plan_gc(const std::vector<ChunkFile>& chunks, const std::set<Digest>& referenced, std::int64_t cutoff_ms) {
  GcPlan plan;
  for (const auto& c : chunks) {
    if (referenced.count(c.id)) {
      ++plan.referenced;
    } else if (c.mtime_ms >= cutoff_ms) {
      ++plan.pending;
    } else {
      plan.remove.push_back(c);
      plan.bytes_freed += c.bytes;
    }
  }
  return plan;
}

}  // namespace evos::backup
