// The Pacemaker side of a stop-mode backup (evos_io: it runs the Pacemaker tools).
#include <evos/backup/stop_control.hpp>

#include <evos/cluster/admin.hpp>
#include <evos/cluster/cib_plan.hpp>
#include <evos/cluster/pacemaker_tools.hpp>

#include <fmt/core.h>

namespace evos::backup {
namespace {

// target-role Stopped and back. The target-role the primitive had is put back afterwards (none:
// the attribute is deleted again), also when the stop does not finish in time, so the VM is left
// as the cluster had it.
class PacemakerStopControl final : public VmStopControl {
 public:
  PacemakerStopControl(std::string resource, std::string target_role)
      : resource_(std::move(resource)), before_(std::move(target_role)) {}
  [[nodiscard]] std::string describe() const override { return fmt::format("through Pacemaker (resource {})", resource_); }

  Result<void> stop(Deadline deadline) override {
    if (auto r = cluster::set_resource_meta(resource_, "target-role", "Stopped", deadline); !r)
      return std::move(r).error().context(fmt::format("stop {}", resource_));
    auto done = cluster::wait_for_resource(resource_, deadline, [](const cluster::ResourceStatus* s) {
      return s && !s->active && s->nodes.empty();
    });
    if (!done) {
      // Give the VM back to the cluster as it was; the backup is not taken.
      (void)cluster::set_resource_meta(resource_, "target-role", before_, Deadline::after(std::chrono::seconds(30)));
      return std::move(done).error().context(fmt::format("stop {} (its target-role is back to '{}')", resource_,
                                                         before_.empty() ? "Started" : before_));
    }
    return {};
  }

  Result<void> start(Deadline deadline) override {
    if (auto r = cluster::set_resource_meta(resource_, "target-role", before_, deadline); !r)
      return std::move(r).error().context(fmt::format("start {} again", resource_));
    auto done = cluster::wait_for_resource(resource_, deadline, [](const cluster::ResourceStatus* s) {
      return s && s->active && !s->nodes.empty() && s->role == "Started";
    });
    if (!done) return std::move(done).error().context(fmt::format("start {} again", resource_));
    return {};
  }

 private:
  std::string resource_;
  std::string before_;
};

}  // namespace

Result<std::unique_ptr<VmStopControl>> stop_control_for(vm::Hypervisor& hypervisor, const std::string& vm,
                                                        Deadline deadline) {
  auto config = cluster::query_configuration_if_running(deadline);
  if (!config) return std::move(config).error().context(fmt::format("find out whether {} is a cluster resource", vm));
  if (*config) {
    const std::string id = cluster::vm_resource_id(vm);
    auto primitive = cluster::find_primitive(**config, id);
    if (!primitive) return std::move(primitive).error();
    if (*primitive) {
      if ((*primitive)->agent != "ocf:evos:vm")
        return make_error(Errc::invalid_config, "cluster resource {} is a {}, not an ocf:evos:vm: evos does not stop it",
                          id, (*primitive)->agent);
      if ((*primitive)->target_role == "Stopped")
        return make_error(Errc::invalid_config, "cluster resource {} has target-role Stopped already", id);
      return std::unique_ptr<VmStopControl>(std::make_unique<PacemakerStopControl>(id, (*primitive)->target_role));
    }
  }
  return std::unique_ptr<VmStopControl>(std::make_unique<HypervisorStopControl>(hypervisor, vm));
}

}  // namespace evos::backup
