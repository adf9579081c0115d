#include <evos/net/reachability.hpp>

#include <fmt/core.h>

namespace evos::net {

std::string_view to_string(ProbeState state) noexcept {
  switch (state) {
    case ProbeState::ok: return "ok";
    case ProbeState::lost: return "lost";
    case ProbeState::noroute: return "noroute";
    case ProbeState::error: return "error";
  }
  return "error";
}

std::optional<ProbeState> parse_probe_state(std::string_view text) noexcept {
  for (auto s : {ProbeState::ok, ProbeState::lost, ProbeState::noroute, ProbeState::error})
    if (text == to_string(s)) return s;
  return std::nullopt;
}

unsigned HostResult::loss_percent() const {
  if (sent == 0) return 100;
  const unsigned got = received > sent ? sent : received;
  return (sent - got) * 100 / sent;
}

Summary summarize(std::span<const HostResult> hosts, std::uint32_t multiplier) {
  Summary s;
  for (const auto& h : hosts) {
    ++s.total;
    s.weight_total += h.weight;
    if (!h.reachable()) continue;
    ++s.reachable;
    s.weight_reachable += h.weight;
  }
  s.score = s.weight_reachable * multiplier;
  s.reach = s.total > 0 && s.reachable == s.total ? Reach::all : s.reachable == 0 ? Reach::none : Reach::some;
  return s;
}

std::string describe_unreachable(std::span<const HostResult> hosts) {
  std::string out;
  for (const auto& h : hosts) {
    if (h.reachable()) continue;
    if (!out.empty()) out += ", ";
    out += h.host;
    if (!h.address.empty() && h.address != h.host) out += fmt::format(" [{}]", h.address);
    out += fmt::format(" ({} {}/{}{}{})", to_string(h.state), h.sent - h.received, h.sent, h.error.empty() ? "" : ": ",
                       h.error);
  }
  return out;
}

Assessment assess(const Summary& summary, std::span<const HostResult> hosts, std::optional<std::uint64_t> failure_score) {
  Assessment a;
  if (summary.reach != Reach::all) {
    a.health = Health::degraded;
    a.why = summary.reach == Reach::none
                ? fmt::format("no test IP reachable (score 0): {}", describe_unreachable(hosts))
                : fmt::format("{} of {} test IPs reachable (score {}); unreachable: {}", summary.reachable, summary.total,
                              summary.score, describe_unreachable(hosts));
  }
  if (failure_score && summary.score < *failure_score) {
    a.health = Health::failed;
    a.why = fmt::format("score {} is below failure_score {}{}{}", summary.score, *failure_score, a.why.empty() ? "" : "; ",
                        a.why);
  }
  return a;
}

}  // namespace evos::net
