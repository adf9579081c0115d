#include <evos/daemon/testip.hpp>

namespace evos::daemon {

std::vector<TestIpRecord> records_of(const std::vector<net::HostResult>& results) {
  std::vector<TestIpRecord> out;
  out.reserve(results.size());
  for (const auto& r : results) out.push_back({r.host, r.reachable(), r.avg_rtt, {}});
  return out;
}

std::optional<std::string> value_to_publish(std::optional<std::uint64_t> published, const net::Summary& summary) {
  if (published == summary.score) return std::nullopt;
  return std::to_string(summary.score);
}

}  // namespace evos::daemon
