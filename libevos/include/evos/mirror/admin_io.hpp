// evosctl's mirror actions that leave the process (evos_io): this node's name, the .res file, and
// the two Pacemaker calls `mirror resolve` and `node standby` make. The Pacemaker calls are here,
// in one place, so that a shared Pacemaker-attribute adapter can take them over without touching
// evosctl. All run by argv with a deadline (evos::proc::run); nothing is parsed from text output.
#pragma once

#include <evos/deadline.hpp>
#include <evos/error.hpp>
#include <evos/mirror/admin.hpp>

#include <string>
#include <string_view>

namespace evos::mirror {

// This node's name as DRBD and Pacemaker use it (`uname -n`, gethostname(2)); "" if unknown.
std::string local_node_name();

// Writes a .res file atomically (evos::file::write_atomically, mode 0644 as drbd-utils' own
// files); `replace` false refuses an existing file (Errc::invalid_argument "<path> exists").
Result<void> write_res_file(const std::string& path, std::string_view text, bool replace);

// The peer's part of a split-brain recovery, as the transient node attribute its mirror agent acts
// on: `attrd_updater -n evos-mirror-resolve-RES -U discard|connect -N PEER`.
Result<void> request_peer_part(const std::string& resource, const std::string& peer, ResolveRequest part,
                               Deadline deadline);

// `crm_attribute --node NODE --name standby --update on --lifetime forever` (Pacemaker's node
// standby attribute; Pacemaker then moves the node's resources away).
Result<void> put_in_standby(const std::string& node, Deadline deadline);

}  // namespace evos::mirror
