#include <evos/backup/progress.hpp>

#include <fmt/core.h>

namespace evos::backup {

std::string format_bytes(std::uint64_t bytes) {
  static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return fmt::format("{} B", bytes);
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  return fmt::format("{:.1f} {}", v, units[u]);
}

std::string format_progress(const Progress& p) {
  const unsigned percent = p.total ? static_cast<unsigned>(p.done * 100 / p.total) : 100;
  std::string line = fmt::format("{} of {} ({}%)", format_bytes(p.done), format_bytes(p.total), percent);
  if (p.elapsed.count() < 200 || p.done == 0) return line;
  const double rate = static_cast<double>(p.done) * 1000.0 / static_cast<double>(p.elapsed.count());
  line += fmt::format(", {}/s", format_bytes(static_cast<std::uint64_t>(rate)));
  if (p.done < p.total) {
    const auto left = static_cast<std::uint64_t>(static_cast<double>(p.total - p.done) / rate + 0.5);
    line += left < 120 ? fmt::format(", {} s left", left) : fmt::format(", {} min left", (left + 30) / 60);
  }
  return line;
}

}  // namespace evos::backup
