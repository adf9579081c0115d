// evos::backup::format_progress: the one line a backup, restore or verify shows while it runs:
// bytes done of total, rate, time left (docs/backup.md, "Progress").
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace evos::backup {

struct Progress {
  std::uint64_t done = 0;   // bytes of the disk(s) covered so far
  std::uint64_t total = 0;
  std::chrono::milliseconds elapsed{0};
};

// "1.2 GiB of 2.0 GiB (60%), 410 MiB/s, 2 s left"; no rate or ETA before 200 ms have passed.
std::string format_progress(const Progress& p);
// "1.5 KiB", "632.0 MiB", "2.0 GiB": binary units with one decimal.
std::string format_bytes(std::uint64_t bytes);

}  // namespace evos::backup
