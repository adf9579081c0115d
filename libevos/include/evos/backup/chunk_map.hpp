// evos::backup::chunks_touched: which fixed-size chunks of a disk an incremental backup must read,
// from the extents QEMU's dirty bitmap reports (byte offset and length, any alignment).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace evos::backup {

struct Extent {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

// Sorted chunk indexes, each once; extents past the disk's end are clipped.
std::vector<std::uint64_t> chunks_touched(std::span<const Extent> dirty, std::uint64_t chunk_size, std::uint64_t disk_size);

// Number of chunks of a disk of `size` bytes.
inline std::uint64_t chunk_count(std::uint64_t size, std::uint64_t chunk_size) { return (size + chunk_size - 1) / chunk_size; }

// True if every byte is zero: such a chunk is recorded as null and never stored.
bool all_zero(std::span<const std::uint8_t> data) noexcept;

}  // namespace evos::backup
