#include <evos/cluster/vm_ha.hpp>
#include <evos/cluster/vm_ha_io.hpp>

#include <evos/cluster/pacemaker_tools.hpp>
#include <evos/proc/run.hpp>

#include <fmt/core.h>
#include <fmt/format.h>

namespace evos::cluster {

// crm_exit_t CRM_EX_NOT_CONNECTED (Pacemaker's include/crm/common/results.h).
constexpr int crm_ex_not_connected = 102;

Result<VmHaView> view_vm_ha(const std::string& definition, Deadline deadline, const std::string& name) {
  VmHaView v;
  auto r = proc::run({"cibadmin", "--query", "--scope", "configuration"}, deadline);
  if (!r) {
    if (r.error().code() != Errc::not_installed) return std::move(r).error().context("read the cluster configuration");
    v.installed = false;
    v.why_no_cluster = "Pacemaker is not installed on this node";
    return v;
  }
  if (r->exit_code == crm_ex_not_connected) {
    std::string err = r->err;
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    v.why_no_cluster = "the cluster is not running on this node (cibadmin: " + err.substr(0, err.find('\n')) + ")";
    return v;
  }
  if (!r->ok())
    return make_error(Errc::backend, "read the cluster configuration: cibadmin exited with {}: {}", r->exit_code, r->err);
  v.cluster = true;
  auto found = find_vm_resource(r->out, definition);
  if (!found) return std::move(found).error();
  v.resource = *found;
  if (!name.empty()) {
    auto taken = has_id(r->out, vm_resource_id(name));
    if (!taken) return std::move(taken).error();
    v.id_taken = *taken;
  }
  if (!v.resource) return v;
  auto st = read_pacemaker_status(deadline);
  if (!st) return std::move(st).error();
  if (const auto* s = st->resource(*v.resource)) {
    v.active = s->active;
    v.nodes = s->nodes;
  }
  return v;
}

Result<std::string> enable_vm_ha(const std::string& template_text, const VmHaSettings& settings, bool start, Deadline deadline) {
  auto config = render_vm_shared(template_text, settings);
  if (!config) return std::move(config).error();
  if (!start) {
    config = vm_shared_stopped(*config);
    if (!config) return std::move(config).error();
  }
  if (auto r = load_crm_configuration(*config, deadline); !r) return std::move(r).error();
  return vm_resource_id(settings.name);
}

Result<PacemakerStatus> set_vm_target_role(const std::string& resource, bool started, Deadline deadline) {
  if (auto r = set_resource_meta(resource, "target-role", started ? "Started" : "Stopped", deadline); !r)
    return std::move(r).error();
  auto st = wait_for_resource(resource, deadline, [started](const ResourceStatus* r) { return vm_resource_reached(r, started); });
  if (!st) return std::move(st).error().context(fmt::format("wait for {} to be {}", resource, started ? "started" : "stopped"));
  return st;
}

}  // namespace evos::cluster
