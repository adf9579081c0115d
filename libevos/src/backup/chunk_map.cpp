#include <evos/backup/chunk_map.hpp>

#include <algorithm>
#include <cstring>

namespace evos::backup {

std::vector<std::uint64_t> chunks_touched(std::span<const Extent> dirty, std::uint64_t chunk_size, std::uint64_t disk_size) {
  std::vector<std::uint64_t> out;
  if (chunk_size == 0) return out;
  for (const auto& e : dirty) {
    if (e.length == 0 || e.offset >= disk_size) continue;
    const std::uint64_t end = std::min(disk_size, e.offset + std::min(e.length, disk_size - e.offset));
    for (std::uint64_t c = e.offset / chunk_size; c * chunk_size < end; ++c) out.push_back(c);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool all_zero(std::span<const std::uint8_t> data) noexcept {
  // Compare with itself shifted by one block: memcmp is vectorised, a byte loop is not.
  constexpr std::size_t block = 64;
  if (data.size() < block) return std::all_of(data.begin(), data.end(), [](std::uint8_t b) { return b == 0; });
  for (std::size_t i = 0; i < block; ++i)
    if (data[i] != 0) return false;
  return std::memcmp(data.data(), data.data() + block, data.size() - block) == 0;
}

}  // namespace evos::backup
