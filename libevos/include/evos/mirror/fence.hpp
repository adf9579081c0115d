// The DRBD fence-peer / unfence-peer handler's decisions (pure). DRBD runs the handler when it
// loses its peer while `fencing resource-and-stonith` is set: I/O is frozen until the handler
// answers (drbd.conf(5), "fence-peer"; exit codes 3 peer Inconsistent, 4 peer Outdated, 5 peer
// unreachable, 6 peer Primary, 7 peer fenced; anything else keeps I/O frozen).
//
// evos' policy, for two nodes:
//  1. A constraint goes into the CIB first: the clone may be Promoted only on nodes with UpToDate
//     data (UP_TO_DATE_NODES), so the peer, whose data is now stale, is never promoted while it is
//     placed. The constraint is cibadmin XML, built here; nothing is parsed from text output.
//  2. Pacemaker says the peer is online (the replication link broke, the cluster link did not,
//     both nodes still reach their test IPs): exit 1, I/O stays frozen. Replication and the VM
//     halt until the link returns, and the data never diverges.
//  3. The peer is unclean (lost with the cluster link): wait, bounded, until Pacemaker has fenced
//     it (offline and clean), then exit 7 and I/O resumes here.
//  4. No quorum, no DC in time, or no answer in time: exit 1 (frozen); a person or the link decides.
// After the resync (DRBD's unfence-peer, or after-resync-target on 8.4-style configs) the
// constraint is removed.
#pragma once

#include <evos/cluster/status.hpp>
#include <evos/error.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evos::mirror {

// What DRBD passes to the handler (environment).
struct FenceRequest {
  std::string resource;                   // DRBD_RESOURCE
  std::optional<int> my_node_id;          // DRBD_MY_NODE_ID
  std::optional<int> peer_node_id;        // DRBD_PEER_NODE_ID
  std::map<int, std::string> node_names;  // DRBD_NODE_ID_<n>
  std::optional<std::uint64_t> up_to_date_mask;  // UP_TO_DATE_NODES (0x...), bit n = node id n

  [[nodiscard]] std::string me() const;
  [[nodiscard]] std::string peer() const;
  // The nodes that may be Promoted: UpToDate ones by name (this node alone if DRBD gave no mask).
  [[nodiscard]] std::vector<std::string> up_to_date_nodes() const;
};

// Errc::invalid_argument naming the variable for anything malformed; node names must be tokens.
Result<FenceRequest> parse_fence_env(const std::map<std::string, std::string>& env);

std::string fence_constraint_id(const std::string& resource);  // "evos-fence-<resource>"

// <rsc_location id="evos-fence-RES" rsc="CLONE"><rule role="Promoted" score="-INFINITY"
// boolean-op="and"> #uname ne each allowed node </rule></rsc_location>. With no allowed node the
// rule bans promotion everywhere (#uname defined).
std::string fence_constraint_xml(const std::string& resource, const std::string& clone,
                                 const std::vector<std::string>& allowed);

// The promotable clone running DRBD resource `resource` (ocf:evos:mirror drbd_resource=, or
// ocf:linbit:drbd drbd_resource=), from `cibadmin --query --scope resources` XML.
Result<std::string> find_mirror_clone(std::string_view resources_xml, const std::string& resource);

enum class PeerState { online, unclean, fenced, unknown };
PeerState peer_state(const cluster::PacemakerStatus& status, const std::string& peer);

struct FenceDecision {
  bool wait = false;  // ask Pacemaker again
  int exit_code = 1;
  std::string why;
};

inline constexpr int fence_exit_frozen = 1;
inline constexpr int fence_exit_peer_fenced = 7;

FenceDecision decide_fence(const cluster::PacemakerStatus& status, const std::string& peer);

}  // namespace evos::mirror
