#include <evos/vm/delete_plan.hpp>

#include <fmt/core.h>
#include <fmt/format.h>

namespace evos::vm {

Result<DeletePlan> plan_delete(const DeleteFacts& f, bool defined_here) {
  if (!f.yes)
    return make_error(Errc::invalid_argument, "vm delete {} removes its definition{}: add --yes to confirm", f.name,
                      f.keep_disks ? "" : " and its disks");
  if (f.ha_resource && f.ha_active)
    return make_error(Errc::invalid_argument, "VM {} runs on {} ({}): stop it first (evosctl vm stop {})", f.name,
                      fmt::join(f.ha_nodes, ", "), *f.ha_resource, f.name);
  if (f.active_here)
    return make_error(Errc::invalid_argument, "VM {} is {} on this node: stop it first (evosctl vm stop {})", f.name, f.state_here,
                      f.name);
  if (!f.keep_disks && !f.backing_users.empty()) {
    std::vector<std::string> uses;
    for (const auto& u : f.backing_users) uses.push_back(fmt::format("{} reads {}", u.user, u.backing));
    return make_error(Errc::invalid_argument, "VM {}'s disks are backing files of other images ({}): delete those first, or --keep-disks",
                      f.name, fmt::join(uses, "; "));
  }
  return DeletePlan{.remove_ha = f.ha_resource.has_value(), .undefine = defined_here, .remove_disks = !f.keep_disks};
}

}  // namespace evos::vm
