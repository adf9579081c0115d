// The state file of one ocf:evos:ping instance: its existence means "started" (as the state file
// of ocf:pacemaker:ping does); it keeps the addresses names resolved to at start, so a monitor
// neither waits for DNS nor mistakes a DNS outage for a network outage, and the last detail line.
//
//   evos-ping-state 1
//   address <host> <address>
//   detail <detail line>
#pragma once

#include <evos/error.hpp>

#include <map>
#include <string>
#include <string_view>

namespace evos::net {

struct PingState {
  std::map<std::string, std::string> addresses;  // host name as listed → numeric address
  std::string detail;                            // the last detail line, "" before the first round

  bool operator==(const PingState&) const = default;
};

std::string format_state(const PingState& state);
// Errc::invalid_argument for a damaged file (the caller treats it like a missing cache).
Result<PingState> parse_state(std::string_view text);

}  // namespace evos::net
