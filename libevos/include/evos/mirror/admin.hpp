// What evosctl (and the agent, for requests left to it) decide about mirrors, pure except for
// `resolve_here`, which acts through the drbd::Control port:
//  - leave checks: may NODE be put in standby or shut down now? Not while it is the sync source
//    of a running resync (it holds the only UpToDate copy). In a two-node mirror either node's
//    DRBD view shows both ends, so the check runs on whichever node evosctl runs on;
//  - split-brain recovery: `evosctl mirror resolve RES --discard NODE` discards NODE's changes.
//    Each side has its part: the victim reconnects with --discard-my-data, the survivor
//    reconnects. evosctl does this node's part at once and leaves the peer's part as a request
//    (the transient node attribute evos-mirror-resolve-RES = discard|connect on the peer), which
//    the peer's mirror agent carries out at its next monitor and then removes.
#pragma once

#include <evos/deadline.hpp>
#include <evos/drbd/control.hpp>
#include <evos/drbd/state.hpp>
#include <evos/error.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evos::mirror {

// The peer's name as this node's DRBD knows it ("" when no connection is configured).
std::string peer_of(const drbd::ResourceState& state);

// May this node's data be thrown away for a full resync from its peer (drbdadm invalidate)? Only
// while a peer is connected with UpToDate data, so the one good copy is never the one discarded.
// Errc::not_found if the resource is not up here; Errc::invalid_argument with the reason and the
// resource's state otherwise.
Result<void> check_resync(const drbd::ResourceState& state);

struct LeaveCheck {
  bool ok = true;
  std::vector<std::string> refusals;  // one message per resource that refuses
};

// May `node` stop replicating (standby, shutdown, power off)? `states` is what `drbdsetup status`
// shows on `local_node`. A node that is neither this node nor a peer of a resource is not checked
// for that resource.
LeaveCheck check_leave(const std::vector<drbd::ResourceState>& states, const std::string& node,
                       const std::string& local_node);

enum class ResolveRequest { discard, connect };
std::string_view to_string(ResolveRequest request) noexcept;
std::optional<ResolveRequest> parse_resolve_request(std::string_view text);
// "evos-mirror-resolve-<resource>": the transient node attribute carrying the peer's part.
std::string resolve_attribute(const std::string& resource);

struct ResolvePlan {
  bool discard_here = false;  // this node is the victim
  std::string peer;
  ResolveRequest for_peer = ResolveRequest::connect;
};

// Checks that the resource is in split brain here (or StandAlone after one), that `discard_node`
// names this node or its peer, and that the victim's data is not in use here (a Primary is never
// the victim: demote it or discard the other node's changes).
Result<ResolvePlan> plan_resolve(const drbd::ResourceState& state, const std::string& local_node,
                                 const std::string& discard_node);

// Whether this node's part of a recovery is still to do: its connection is StandAlone (or in
// split brain). A connected resource needs nothing.
bool needs_reconnect(const drbd::ResourceState& state);

// This node's part: the victim disconnects and connects with --discard-my-data; the survivor
// connects. Refuses to discard on a Primary.
Result<void> resolve_here(drbd::Control& control, const drbd::ResourceState& state, ResolveRequest part,
                          Deadline deadline);

}  // namespace evos::mirror
