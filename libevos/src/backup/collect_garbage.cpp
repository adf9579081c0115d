#include <evos/backup/collect_garbage.hpp>

#include <algorithm>

namespace evos::backup {

Result<GcResult> collect_garbage(const Store& store, const GcOptions& options) {
  auto lock = store.lock_gc();
  if (!lock) return std::move(lock).error();
  GcResult result;
  const std::int64_t start = wall_clock_ms();

  // Mark. A manifest that cannot be read stops the sweep: its chunks would look unused.
  auto ids = store.list_backups();
  if (!ids) return std::move(ids).error();
  std::set<Digest> referenced;
  for (const auto& id : *ids) {
    auto m = store.read_manifest(id);
    if (!m)
      return Error(m.error().code(), fmt::format("{}; garbage collection removes nothing while a manifest is unreadable "
                                                 "(restore it, or remove that backup with `evosctl backup forget`)",
                                                 m.error().message()));
    ++result.manifests;
    for (const auto& d : m->disks)
      for (const auto& c : d.chunks)
        if (c) referenced.insert(*c);
  }

  // Writers first, then the chunks: a backup that starts after this read touches or writes
  // everything it uses after the cutoff.
  auto writers = store.writers();
  if (!writers) return std::move(writers).error();
  std::optional<std::int64_t> oldest;
  for (const auto& w : *writers) oldest = std::min(oldest.value_or(w.since_ms), w.since_ms);
  result.cutoff_ms = gc_cutoff_ms(start, oldest, options.margin_ms);

  auto chunks = store.list_chunks();
  if (!chunks) return std::move(chunks).error();
  const GcPlan plan = plan_gc(*chunks, referenced, result.cutoff_ms);
  result.referenced = plan.referenced;
  result.pending = plan.pending;
  if (!options.dry_run) {
    for (const auto& c : plan.remove) {
      auto removed = store.remove_chunk_if_older(c.id, result.cutoff_ms);
      if (!removed) return std::move(removed).error();
      if (*removed) {
        ++result.removed;
        result.bytes_freed += c.bytes;
      } else {
        ++result.pending;
      }
    }
    auto tmp = store.remove_stale_temporaries(result.cutoff_ms);
    if (!tmp) return std::move(tmp).error();
    result.temporaries_removed = *tmp;
  } else {
    result.removed = plan.remove.size();
    result.bytes_freed = plan.bytes_freed;
  }
  return result;
}

}  // namespace evos::backup
