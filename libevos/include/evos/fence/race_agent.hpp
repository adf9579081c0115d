// fence_evos_race's actions (race.hpp holds the decision; docs/fence-race.md): one look (an ICMP
// round, Pacemaker's status only when the VM counts can matter), the bounded sleep, the fallback
// to a fixed delay whenever the device cannot look, and what each fence-agents action answers.
// Pure over ports (the ICMP prober, the resolver, crm_mon, the clock), so every verdict and every
// fallback is unit-tested; the agent (agents/fence-race/main.cpp) reads the calling convention,
// wires the real ports in, prints `out` and exits with `exit_code`.
#pragma once

#include <evos/cluster/status.hpp>
#include <evos/deadline.hpp>
#include <evos/error.hpp>
#include <evos/fence/agent_options.hpp>
#include <evos/fence/race.hpp>
#include <evos/log.hpp>
#include <evos/net/ping_service.hpp>

#include <functional>
#include <string>

namespace evos::fence {

struct RacePorts {
  net::Resolver& resolver;  // test IP names (bounded by race_resolve_budget)
  net::Prober& prober;      // the ICMP round
  // Pacemaker's status (crm_mon), bounded by race_status_budget.
  std::function<Result<cluster::PacemakerStatus>(Deadline)> status;
  std::function<void(Millis)> sleep;
  std::function<Millis()> elapsed;  // since the action started
};

inline constexpr Millis race_resolve_budget{1000};

// What one ICMP round says, from the results of probing `peer_count` target addresses followed
// by the test IPs (`test_ips` configured); vms stays unknown.
RaceFacts assemble_facts(const std::string& target, bool target_known, std::size_t peer_count, unsigned test_ips,
                         const std::vector<net::HostResult>& results);

// One look at `target`, then the decision. An error means this node could not look at all (the
// ICMP round failed); a status that cannot be read leaves the counts unknown (logged).
Result<RaceDecision> look(const RaceParams& params, const std::string& target, RacePorts& ports, Log& log);

struct RaceOutcome {
  bool fell_back = false;          // could not look: the fixed delay
  std::optional<Verdict> verdict;  // when it looked
  Millis slept{0};
};

// off / reboot. Never fails (this device is first on the fencing level, and a failing device
// fails the whole level, so a node that could not look would block the real fence device and
// with it every recovery): bad parameters, no target, a hostile target name or a failed look
// fall back to the fixed delay (what pcmk_delay_base would do). The sleep is cut by
// bounded_delay so the action ends within power_timeout.
RaceOutcome race(const Options& options, const Result<RaceParams>& params, const std::string& target, RacePorts& ports,
                 Log& log);

struct ActionResult {
  int exit_code = 0;  // FenceAgentAPI: 0 success, 1 failure
  std::string out;    // for stdout
};

// Every action of the device: metadata, off/reboot (race), validate-all (fails on bad
// parameters), on (always succeeds: nothing to turn on), monitor/status (warn about bad
// parameters but never fail: a failing monitor bans the device and with it the level), list (the
// nodes of peer_addresses); anything else fails naming the action.
ActionResult run_action(const Options& options, const Result<RaceParams>& params, RacePorts& ports, Log& log);

}  // namespace evos::fence
