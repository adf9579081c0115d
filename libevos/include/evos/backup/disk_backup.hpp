// evos::backup::back_up_disk: one disk into the store, in parallel: each worker reads a chunk,
// skips it if all zero, names it (Codec::digest), and stores it only if the store does not hold it
// yet (then it only touches it, for GC). An incremental backup reads only the chunks QEMU's dirty
// bitmap marks and takes every other chunk from the base backup's list, after touching it; a base
// chunk that has gone missing is read again rather than referenced.
#pragma once

#include <evos/backup/chunk_map.hpp>
#include <evos/backup/manifest.hpp>
#include <evos/backup/progress.hpp>
#include <evos/backup/store.hpp>
#include <evos/deadline.hpp>
#include <evos/error.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace evos::backup {

// Where a disk's bytes come from: an image file or block device, a libvirt backup's NBD export.
class BlockReader {
 public:
  virtual ~BlockReader() = default;
  [[nodiscard]] virtual std::uint64_t size() const = 0;
  // Fills `out` from `offset`; safe to call from several threads at once.
  [[nodiscard]] virtual Result<void> read(std::uint64_t offset, std::span<std::uint8_t> out) const = 0;
  [[nodiscard]] virtual std::string describe() const = 0;
  // Where the disk holds data, if the source can tell (SEEK_DATA/SEEK_HOLE on a sparse file, NBD
  // base:allocation): a chunk outside every data extent is zero and is not read. nullopt: unknown.
  [[nodiscard]] virtual Result<std::optional<std::vector<Extent>>> data_extents() const { return std::optional<std::vector<Extent>>(); }
};

// A regular file or block device, opened read-only (O_NOFOLLOW: a symlink is refused).
Result<std::unique_ptr<BlockReader>> open_file_reader(const std::string& path);


using ProgressSink = std::function<void(const Progress&)>;

struct DiskJob {
  std::string target;  // "vda", "image"
  const BlockReader* reader = nullptr;
  const DiskRecord* base = nullptr;  // the same disk in the previous backup, for an incremental
  // The chunks to read when the base is given (from the dirty bitmap); nullopt: read them all.
  std::optional<std::vector<std::uint64_t>> dirty_chunks;
};

struct RunOptions {
  unsigned threads = 0;  // 0: the default of worker_count / backup_worker_count
  ProgressSink progress;  // called from the calling thread about every 250 ms, and once at the end
};

Result<DiskRecord> back_up_disk(const Store& store, const DiskJob& job, const RunOptions& options);

// The number of workers for `threads` (0: the cores, at most 8): restore and verify, whose work is
// all CPU (decompress, hash) and page-cache writes.
unsigned worker_count(unsigned threads);

// The number of workers a backup uses for `threads` (0: two per core, at most 16). A backup's
// worker waits for each new chunk's fdatasync (docs/backup-format.md: a chunk that exists is
// whole) and, for a VM, for its NBD reads; a second worker per core compresses meanwhile.
unsigned backup_worker_count(unsigned threads);

}  // namespace evos::backup
