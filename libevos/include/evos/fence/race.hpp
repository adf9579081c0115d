// fence_evos_race: a fencing-topology device placed before the real fence device of each node,
// which delays the fencing of node T only when a delay can change who survives (docs/fence-race.md).
//
// Pacemaker's priority-fencing-delay makes the node running the VMs win the fence race of a split
// two-node cluster, but it also delays the fencing of a node that really died while running VMs,
// so every real failover pays the whole delay. This device first looks (one ICMP round to T on a
// network other than the cluster link, and to the test IPs) and then delays only when both nodes
// may be alive and racing:
//   this node reaches no test IP        -> it is the isolated one: delay, so the healthy peer wins
//   T does not answer                   -> T is dead (or cut off from everything): no delay
//   T answers (a split)                 -> delay if T runs more VMs than this node, else none
//   T answers, VM counts unknown        -> delay (see decide_race)
// Like fence_heuristics_ping (fence-agents) it never powers anything off itself and never fails a
// fence action: the real device after it on the same level does the fencing.
//
// Everything here is pure: parameters, the decision, the VM counts from Pacemaker's status, the
// meta-data. The agent (agents/fence-race/main.cpp) wires in the ICMP prober and crm_mon.
#pragma once

#include <evos/cluster/status.hpp>
#include <evos/deadline.hpp>
#include <evos/error.hpp>
#include <evos/fence/agent_options.hpp>
#include <evos/net/host_list.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evos::fence {

inline constexpr std::string_view race_agent_name = "fence_evos_race";
inline constexpr unsigned race_probe_attempts = 2;
// What the agent keeps of power_timeout for itself besides the delay: crm_mon (bounded by
// race_status_budget), name resolution and process start-up.
inline constexpr Millis race_status_budget{2000};
inline constexpr Millis race_margin{500};

struct RaceParams {
  std::map<std::string, std::vector<net::HostSpec>> peer_addresses;  // node -> address literals
  std::vector<net::HostSpec> test_ips;
  Millis delay{5000};
  Millis timeout{500};          // the ICMP round
  Millis power_timeout{20000};  // the whole action never takes longer (fence-agents' option)
  bool verbose = false;

  // Errc::invalid_config naming the parameter. Reads only the parameters it knows.
  static Result<RaceParams> from(const Options& options);
};

// "node1=198.18.1.1 node2=198.18.1.2,fd00::2 node2=[fd00::3]": entries separated by white space,
// a node name (evos::text token syntax), '=', one or more address literals separated by ','; a
// node may appear several times. Addresses only, no DNS names: a fence action must not depend on
// a resolver, and peers' addresses do not change.
Result<std::map<std::string, std::vector<net::HostSpec>>> parse_peer_addresses(std::string_view text);

// The delay parameters alone, with their defaults: the fallback when the rest is unusable.
Millis fallback_delay(const Options& options);
Millis fallback_power_timeout(const Options& options);

struct VmCounts {
  unsigned target = 0;  // active VMs on the node being fenced
  unsigned local = 0;   // active VMs on the other nodes (this node, in a two-node cluster)
  bool operator==(const VmCounts&) const = default;
};

// Active resources whose agent is ocf:evos:vm or ocf:heartbeat:VirtualDomain, per side. A VM that
// is active on both (a live migration in flight) counts on both sides.
VmCounts count_vms(const cluster::PacemakerStatus& status, std::string_view target);

// What one ICMP round (and, if it mattered, Pacemaker's status) found.
struct RaceFacts {
  std::string target;             // the node being fenced (for the log)
  unsigned test_ips = 0;          // configured
  unsigned test_ips_reached = 0;
  bool target_known = true;       // peer_addresses has addresses for the target
  bool target_answered = false;   // at least one of them answered
  std::optional<VmCounts> vms;    // nullopt: the status could not be read (or was not needed)
};

enum class Verdict {
  isolated,       // this node reaches no test IP: delay
  target_dead,    // the target does not answer: no delay
  target_busier,  // split, the target runs more VMs: delay
  local_busier,   // split, this node runs at least as many VMs: no delay
  counts_unknown, // split, the VM counts could not be read: delay
};

std::string_view to_string(Verdict verdict) noexcept;

struct RaceDecision {
  Verdict verdict = Verdict::counts_unknown;
  Millis delay{0};
  std::string why;  // for the log: the facts behind the verdict
};

// Whether the VM counts can change the verdict (so crm_mon need not run otherwise).
bool counts_matter(const RaceFacts& facts);

RaceDecision decide_race(const RaceFacts& facts, Millis delay);

// The delay actually slept: cut so that the action ends `race_margin` before `power_timeout`
// after its start, given what has already been spent.
Millis bounded_delay(Millis wanted, Millis elapsed, Millis power_timeout);

// fence-agents meta-data XML (the RelaxNG schema of fence-agents' lib/metadata.rng).
std::string race_metadata_xml();

}  // namespace evos::fence
