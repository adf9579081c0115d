// The per-host detail of the last monitor, one line of text that ocf:evos:ping publishes as the
// private node attribute "<name>-detail" (attrd_updater -p: kept by pacemaker-attrd on every node,
// never written to the CIB, so RTTs changing every few seconds cause no CIB writes) and keeps in
// its state file. `evosctl cluster status` reads it with `attrd_updater -Q -A -n <name>-detail`.
//
// Format, version 1 (fields separated by one space; host fields by ','):
//   1 <unix-time> <score> <host>,<address>,<state>,<weight>,<sent>,<received>,<min-us>,<avg-us> ...
// e.g.
//   1 1718000000 2000 198.18.1.254,198.18.1.254,ok,1,1,1,85,85 gw,198.18.2.1,lost,1,3,0,-,-
// <address> is "-" when the host had none; <min-us>/<avg-us> are round-trip times in
// microseconds, "-" without replies; <state> is ok|lost|noroute|error. Host names and addresses
// never contain ',' or ' ' (see host_list.hpp), so no quoting is needed, and the line contains no
// '"' either, so it survives attrd_updater's `value="..."` output as is.
#pragma once

#include <evos/error.hpp>
#include <evos/net/reachability.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace evos::net {

struct Detail {
  int version = 1;
  std::int64_t unix_time = 0;  // when the round ended (seconds since the epoch)
  std::uint64_t score = 0;
  std::vector<HostResult> hosts;  // error texts are not carried (they stay in the agent's log)
};

std::string format_detail(const Detail& detail);

// Errc::invalid_argument for anything that is not a version-1 detail line.
Result<Detail> parse_detail(std::string_view line);

}  // namespace evos::net
