// evos::backup::plan_gc: mark-and-sweep garbage collection of chunks that is safe against a backup
// running at the same time (the rule of Proxmox Backup Server's GC, chunk_store.rs): a chunk is
// removed only if no manifest references it AND its mtime is older than the cutoff, the start of
// the GC or of the oldest running backup, whichever is earlier, minus a safety margin. A running
// backup touches (utimensat) every existing chunk it reuses and writes new ones after it started,
// so everything it will reference is younger than the cutoff.
#pragma once

#include <evos/backup/digest.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <vector>

namespace evos::backup {

// Clocks of NAS clients and servers differ; mtimes are the server's. Proxmox uses 5 minutes.
inline constexpr std::int64_t gc_safety_margin_ms = 5 * 60 * 1000;

std::int64_t gc_cutoff_ms(std::int64_t gc_start_ms, std::optional<std::int64_t> oldest_writer_start_ms,
                          std::int64_t margin_ms = gc_safety_margin_ms);

struct ChunkFile {
  Digest id{};
  std::int64_t mtime_ms = 0;
  std::uint64_t bytes = 0;
};

struct GcPlan {
  std::vector<ChunkFile> remove;
  std::uint64_t referenced = 0;  // kept: a manifest names them
  std::uint64_t pending = 0;     // kept: unreferenced but younger than the cutoff (a backup may be writing them)
  std::uint64_t bytes_freed = 0;
};

GcPlan plan_gc(const std::vector<ChunkFile>& chunks, const std::set<Digest>& referenced, std::int64_t cutoff_ms);

}  // namespace evos::backup
