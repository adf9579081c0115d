// What one round of probes found, per host and in total, and what it means for the node.
#pragma once

#include <evos/net/host_list.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace evos::net {

using Micros = std::chrono::microseconds;

// A host of the list with the address it is probed at (numeric text, e.g. "fd00::1").
struct Target {
  HostSpec spec;
  std::string address;
  Family family = Family::ipv4;  // of `address`
};

// Why a host that did not answer did not answer, as far as this node can tell.
enum class ProbeState {
  ok,       // at least one echo reply
  lost,     // probes left, no reply came back within the window
  noroute,  // the kernel refused to send (no route, network down, neighbour unreachable)
  error,    // another send error (e.g. EPERM from a local firewall)
};

std::string_view to_string(ProbeState state) noexcept;
std::optional<ProbeState> parse_probe_state(std::string_view text) noexcept;

struct HostResult {
  std::string host;     // as in the host list
  std::string address;  // what was probed ("" if it never got an address)
  std::uint32_t weight = 1;
  ProbeState state = ProbeState::lost;
  unsigned sent = 0;      // echo requests attempted
  unsigned received = 0;  // distinct echo replies
  std::optional<Micros> min_rtt;  // over the replies
  std::optional<Micros> avg_rtt;
  std::string error;  // the last send error, for logs ("" if none)

  [[nodiscard]] bool reachable() const { return received > 0; }
  // Of the probes sent, the share without a reply, 0..100 (100 when none was sent).
  [[nodiscard]] unsigned loss_percent() const;
  bool operator==(const HostResult&) const = default;
};

enum class Reach { all, some, none };

struct Summary {
  std::uint64_t score = 0;             // multiplier x sum of the weights of the reachable hosts
  unsigned reachable = 0;              // hosts
  unsigned total = 0;
  std::uint64_t weight_reachable = 0;  // sum of the weights of the reachable hosts
  std::uint64_t weight_total = 0;
  Reach reach = Reach::none;
};

Summary summarize(std::span<const HostResult> hosts, std::uint32_t multiplier);

// The monitor's verdict: all hosts reached → healthy; some → degraded (OCF_DEGRADED); none →
// degraded too, never "success" (ocf:pacemaker:ping reports an all-down node as healthy); a
// score below failure_score (if set) → failed, which Pacemaker recovers. Never a fatal code:
// what the network does is not a configuration error.
enum class Health { healthy, degraded, failed };

struct Assessment {
  Health health = Health::healthy;
  std::string why;  // for the exit reason: which hosts are unreachable
};

Assessment assess(const Summary& summary, std::span<const HostResult> hosts, std::optional<std::uint64_t> failure_score);

// "198.18.1.254 (lost 3/3), fd00::1 (noroute 3/3)": the unreachable hosts, for messages.
std::string describe_unreachable(std::span<const HostResult> hosts);

}  // namespace evos::net
