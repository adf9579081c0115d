// ocf:evos:mirror, one DRBD 9 resource as a promotable clone. Behaviour lives in evos::mirror
// (MirrorService over drbd::Control, the promotion attribute and the agent's memory); this file
// only wires it to the OCF calling convention and maps results to exit codes.
#include <evos/drbd/drbdsetup_control.hpp>
#include <evos/mirror/adapters.hpp>
#include <evos/mirror/admin.hpp>
#include <evos/mirror/agent_info.hpp>
#include <evos/mirror/service.hpp>
#include <evos/ocf/runner.hpp>

namespace {

using evos::ocf::Outcome;
using evos::ocf::Status;
namespace mirror = evos::mirror;

Outcome to_outcome(const mirror::Assessment& a) { return evos::ocf::outcome_of(a.health, a.why, a.primary); }

Outcome from(const evos::Result<void>& r) { return Outcome::from(r); }

std::string meta_either(const evos::ocf::Request& req, const char* current, const char* legacy) {
  std::string v = req.meta(current);
  return v.empty() ? req.meta(legacy) : v;
}

Outcome handle(const evos::ocf::Context& ctx) {
  const auto& req = ctx.request;
  auto params = mirror::MirrorParams::from(ctx.params);
  if (!params) return Outcome::from(params.error());
  auto clone = mirror::clone_meta(req.meta("clone_max"), req.meta("clone_node_max"),
                                  meta_either(req, "promoted_max", "master_max"),
                                  meta_either(req, "promoted_node_max", "master_node_max"));
  if (!clone) return Outcome::from(clone.error());
  if (req.action == "reload-agent") {
    ctx.log.info("reloaded parameters; they apply from the next action");
    return {};
  }

  evos::drbd::DrbdsetupControl control({.config_file = params->config_file});
  if (req.action == "validate-all") {
    // Level 10 also reaches DRBD (drbdsetup runs; the resource need not be up).
    if (req.check_level < 10) return {};
    auto s = control.state(params->resource, ctx.deadline);
    return s ? Outcome{} : Outcome::from(s.error());
  }

  auto path = mirror::MemoryFile::default_path(req.instance);
  if (!path) return Outcome::from(path.error());
  mirror::MemoryFile memory(*path);
  mirror::CrmAttributePromotion attribute;
  // Recovery requests are addressed by Pacemaker node name, which Pacemaker passes to every action.
  const std::string node = req.meta("on_node");
  mirror::AttrdResolveRequests requests(mirror::resolve_attribute(params->resource), node);
  mirror::MirrorService service(control, attribute, memory, ctx.log, *params, node.empty() ? nullptr : &requests);

  if (req.action == "start") return from(service.start(ctx.deadline));
  if (req.action == "stop") return from(service.stop(ctx.deadline));
  if (req.action == "promote") return from(service.promote(clone->dual_primary(), ctx.deadline));
  if (req.action == "demote") return from(service.demote(ctx.deadline));
  if (req.action == "notify") {
    mirror::Notification n{.type = req.meta("notify_type"),
                           .operation = req.meta("notify_operation"),
                           .promote_nodes = mirror::split_node_list(req.meta("notify_promote_uname")),
                           .demote_nodes = mirror::split_node_list(req.meta("notify_demote_uname")),
                           .local_node = req.meta("on_node")};
    return from(service.notify(n, clone->dual_primary(), ctx.deadline));
  }
  if (req.action == "monitor") {
    auto a = service.monitor(req.is_probe(), clone->dual_primary(), ctx.deadline);
    // A monitor that cannot read DRBD is this node's trouble (OCF_ERR_GENERIC, recovered), except
    // for a missing installation, which Pacemaker must see as such.
    if (!a) return Outcome::from(a.error());
    return to_outcome(*a);
  }
  return {Status::err_unimplemented, "action " + req.action + " is not implemented"};
}

}  // namespace

int main(int argc, char** argv) { return evos::ocf::run(argc, argv, mirror::mirror_agent_info(), handle); }
