#include <evos/cluster/attributes.hpp>
#include <evos/cluster/config_changes.hpp>
#include <evos/cluster/pacemaker_tools.hpp>

#include <fmt/format.h>

namespace evos::cluster {

Result<void> enable_fence_race(const std::string& rendered_crm, Deadline deadline) {
  auto current = query_configuration(deadline);
  if (!current) return std::move(current).error();
  auto saved = read_fencing_before(*current);
  if (!saved) return std::move(saved).error();
  std::string config = rendered_crm;
  if (!*saved) {
    auto before = read_fencing(*current);
    if (!before) return std::move(before).error();
    config += fencing_before_crm(*before);
  }
  return load_crm_configuration(config, deadline);
}

Result<FenceRaceRemoval> disable_fence_race(Deadline deadline) {
  auto config = query_configuration(deadline);
  if (!config) return std::move(config).error();
  auto plan = plan_fence_race_removal(*config);
  if (!plan) return std::move(plan).error();
  if (!plan->topology_xml.empty())
    if (auto r = replace_fencing_topology(plan->topology_xml, deadline); !r) return std::move(r).error();
  if (plan->restore_delay)
    if (auto r = Attributes().set_cluster_option("priority-fencing-delay", plan->priority_fencing_delay, deadline); !r)
      return std::move(r).error();
  if (!plan->removal.ids.empty())
    if (auto r = remove_from_cib(plan->removal, deadline); !r) return std::move(r).error();
  return plan;
}

Result<CibRemoval> disable_testip(Deadline deadline) {
  auto config = query_configuration(deadline);
  if (!config) return std::move(config).error();
  auto plan = plan_testip_removal(*config);
  if (!plan) return std::move(plan).error();
  if (auto r = remove_from_cib(*plan, deadline); !r) return std::move(r).error();
  return plan;
}

Result<CibRemoval> remove_resource(const std::string& resource_id, bool stop, Deadline deadline) {
  auto config = query_configuration(deadline);
  if (!config) return std::move(config).error();
  auto plan = plan_vm_removal(*config, resource_id);
  if (!plan) return std::move(plan).error();
  auto st = read_pacemaker_status(deadline);
  if (!st) return std::move(st).error();
  if (const auto* r = st->resource(resource_id); r && r->active) {
    if (!stop)
      return make_error(Errc::invalid_argument, "{} runs on {}: add --stop to stop it through the cluster first", resource_id,
                        fmt::join(r->nodes, ", "));
    if (auto m = set_resource_meta(resource_id, "target-role", "Stopped", deadline); !m) return std::move(m).error();
    auto stopped = wait_for_resource(resource_id, deadline, [](const ResourceStatus* x) { return !x || !x->active; });
    if (!stopped) return std::move(stopped).error();
    // Constraints may have changed while it stopped (a move cleared, a rule added): plan again.
    config = query_configuration(deadline);
    if (!config) return std::move(config).error();
    plan = plan_vm_removal(*config, resource_id);
    if (!plan) return std::move(plan).error();
  }
  if (auto r = remove_from_cib(*plan, deadline); !r) return std::move(r).error();
  return plan;
}

}  // namespace evos::cluster
