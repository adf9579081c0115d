// The parameters of ocf:evos:ping: declared once (specs), read into a typed struct.
#pragma once

#include <evos/deadline.hpp>
#include <evos/error.hpp>
#include <evos/net/host_list.hpp>
#include <evos/ocf/params.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace evos::net {

inline constexpr std::string_view default_attribute = "evos-testip";
// Pacemaker's INFINITY: a score-attribute value at or above it is +INFINITY, and two nodes with
// different connectivity could no longer be told apart.
inline constexpr std::uint64_t pacemaker_infinity = 1000000;

struct PingParams {
  std::vector<HostSpec> hosts;
  std::string attribute;        // the node attribute carrying the score
  std::uint32_t multiplier = 1000;
  unsigned attempts = 3;
  Millis timeout{1000};         // the probe window of one monitor
  Millis dampen{5000};
  std::optional<std::uint64_t> failure_score;
  std::string interface;        // "" = any
  bool detail = true;           // publish "<attribute>-detail"

  [[nodiscard]] std::string detail_attribute() const { return attribute + "-detail"; }

  static Result<PingParams> from(const ocf::ParamValues& values);
};

const std::vector<ocf::ParamSpec>& ping_param_specs();

// Durations as Pacemaker writes them: "5" (seconds, as ocf:pacemaker:ping reads its timeout),
// "5s", "500ms", "2m". Errc::invalid_config naming `param` otherwise.
Result<Millis> parse_duration(std::string_view text, std::string_view param);

// attrd_updater's -d argument for a dampening ("5s", "1500ms").
std::string format_dampen(Millis dampen);

}  // namespace evos::net
