// Continuous test-IP probing in evosd: what a round means for the node state and for the node
// attribute. The probing itself is the ping agent's (net::IcmpProber, net::summarize), so the
// score is the one ocf:evos:ping computes for the same hosts and multiplier.
#pragma once

#include <evos/daemon/node_state.hpp>
#include <evos/net/reachability.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace evos::daemon {

// The node state's view of a round's results (since is set by NodeState::apply_round).
std::vector<TestIpRecord> records_of(const std::vector<net::HostResult>& results);

// The attribute value to write after a round: the score, unless `published` is that score
// already (an attribute write happens only on a change, and again after a failed write).
std::optional<std::string> value_to_publish(std::optional<std::uint64_t> published, const net::Summary& summary);

}  // namespace evos::daemon
