// evos::backup::collect_garbage: mark (read every manifest) and sweep (plan_gc) under the store's
// GC lock. It refuses to sweep if any manifest cannot be read: a chunk it names might look unused.
#pragma once

#include <evos/backup/gc_plan.hpp>
#include <evos/backup/store.hpp>

namespace evos::backup {

struct GcResult {
  std::uint64_t manifests = 0;
  std::uint64_t removed = 0;
  std::uint64_t bytes_freed = 0;
  std::uint64_t referenced = 0;
  std::uint64_t pending = 0;
  std::uint64_t temporaries_removed = 0;
  std::int64_t cutoff_ms = 0;
};

struct GcOptions {
  std::int64_t margin_ms = gc_safety_margin_ms;
  bool dry_run = false;
};

Result<GcResult> collect_garbage(const Store& store, const GcOptions& options);

}  // namespace evos::backup
