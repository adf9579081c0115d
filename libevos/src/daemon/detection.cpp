#include <evos/daemon/detection.hpp>

#include <fmt/core.h>

#include <algorithm>

namespace evos::daemon {

using vm::Power;
using vm::Reason;

LocalVerdict decide_local(const std::string& domain, const std::optional<vm::DomainState>& before,
                          const vm::DomainState& now, bool already_reported,
                          const std::vector<vm::OperationRecord>& records, bool damaged) {
  const std::string state = vm::describe(now);
  const bool stopped = now.power == Power::shut_off || now.power == Power::absent || now.power == Power::crashed;
  if (!stopped) return {false, {}, fmt::format("domain '{}' is {}", domain, state)};
  if (now.reason == Reason::migration)
    return {false, {}, fmt::format("domain '{}' is {}: it migrated away", domain, state)};
  if (before && (before->power == Power::shut_off || before->power == Power::absent || before->power == Power::crashed))
    return {false, {}, fmt::format("domain '{}' was not running before ({})", domain, vm::describe(*before))};
  if (already_reported) return {false, {}, fmt::format("domain '{}': its failure was already reported", domain)};

  std::vector<const vm::OperationRecord*> mine;
  for (const auto& r : records)
    if (r.domain == domain) mine.push_back(&r);
  if (mine.empty())
    return {false, {}, fmt::format("domain '{}' is {}; no VM agent manages it on this node{}", domain, state,
                                   damaged ? " (some operation records are damaged)" : "")};
  if (mine.size() > 1)
    return {false, {}, fmt::format("domain '{}' is {}; {} resources name it, reporting none", domain, state, mine.size())};
  const auto& rec = *mine.front();
  if (rec.phase != vm::Phase::active)
    return {false, {}, fmt::format("domain '{}' is {}; resource '{}' is {} (an action Pacemaker ordered)", domain,
                                   state, rec.instance, vm::to_string(rec.phase))};
  return {true, rec.instance,
          fmt::format("domain '{}' is {} while resource '{}' is active on this node", domain, state, rec.instance)};
}

Report decide_report(const LocalVerdict& local, const cluster::PacemakerStatus& status, const std::string& node) {
  if (!local.candidate) return {false, local.why};
  const auto* r = status.resource(local.resource);
  if (!r) return {false, fmt::format("{}, but Pacemaker has no resource '{}'", local.why, local.resource)};
  if (r->agent != "ocf:evos:vm")
    return {false, fmt::format("{}, but resource '{}' is a {}, not an ocf:evos:vm", local.why, local.resource, r->agent)};
  if (!r->managed)
    return {false, fmt::format("{}, but resource '{}' is unmanaged (maintenance)", local.why, local.resource)};
  if (r->failed) return {false, fmt::format("{}, and Pacemaker already has it failed", local.why)};
  if (r->blocked) return {false, fmt::format("{}, but resource '{}' is blocked", local.why, local.resource)};
  if (const auto* n = status.node(node); n && n->maintenance)
    return {false, fmt::format("{}, but node '{}' is in maintenance", local.why, node)};
  if (!r->active || std::find(r->nodes.begin(), r->nodes.end(), node) == r->nodes.end())
    return {false, fmt::format("{}, but Pacemaker does not hold resource '{}' active on '{}'", local.why, local.resource, node)};
  if (r->role != "Started")
    return {false, fmt::format("{}, but resource '{}' is {} (an action in flight)", local.why, local.resource, r->role)};
  return {true, local.why};
}

}  // namespace evos::daemon
