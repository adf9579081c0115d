// The VM agent's front end (docs/vm-agent.md, "Two binaries"): a recurring shallow monitor that
// evosd vouches for is answered without loading libvirt; everything else is declined, for the
// full agent to answer. Declining is always safe (the full agent asks libvirt), so anything in
// doubt declines.
#pragma once

#include <evos/ocf/runner.hpp>

#include <optional>

namespace evos::vm {

// Where the front end finds the full agent: this path below its own directory, in the build tree
// and in every install (the provider directory is what Pacemaker runs from, and what every stage
// and lab mounts as one piece).
inline constexpr const char* full_agent_subpath = "libexec/vm";

// Answers success, and records the monitor (OperationRecords::note_monitor) like the full agent
// would have, only for a recurring monitor (interval > 0) of check level below 10 with
// `evosd_socket` set, a readable config naming the domain, and evosd vouching with a fresh
// libvirt connection (daemon::ask_running, at most daemon::monitor_ask_budget). nullopt otherwise.
std::optional<ocf::Outcome> monitor_from_evosd(const ocf::Context& ctx);

}  // namespace evos::vm
