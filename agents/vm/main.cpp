// ocf:evos:vm's full agent, one libvirt domain per resource. Behaviour lives in evos::vm (Service,
// Params, identity); this file only wires it to the OCF calling convention and maps results to
// codes. Pacemaker runs the front end (front.cpp), which answers the recurring monitors evosd
// vouches for and execs this for everything else (docs/vm-agent.md, "Two binaries").
#include <evos/ocf/runner.hpp>
#include <evos/virt/libvirt_hypervisor.hpp>
#include <evos/vm/agent_info.hpp>
#include <evos/vm/identity.hpp>
#include <evos/vm/hypervisor_wait.hpp>
#include <evos/vm/identity_store.hpp>
#include <evos/vm/operation_record.hpp>
#include <evos/vm/service.hpp>

namespace {

using evos::ocf::Outcome;
using evos::ocf::Status;
namespace vm = evos::vm;

Outcome to_outcome(const vm::Assessment& a) { return evos::ocf::outcome_of(a.health, a.why); }

Outcome from(const evos::Result<void>& r) { return Outcome::from(r); }

// validate-all: level 0 checks parameter syntax only (done before we get here); level 10 also
// reads the config, reaches the hypervisor and checks that this node has every libvirt network
// the domain names, active (OCF 1.1, "validate-all"; a missing network is 5, OCF_ERR_INSTALLED:
// missing on this node, so the VM may still run on the other).
Outcome validate(const evos::ocf::Context& ctx, const vm::Params& params) {
  if (ctx.request.check_level < 10) return {};
  auto xml = vm::read_domain_xml(params.config);
  if (!xml) return Outcome::from(xml.error());
  auto id = vm::resolve_identity({params.domain, vm::parse_domain_identity(*xml), std::nullopt});
  if (!id) return Outcome::from(id.error());
  auto hv = evos::virt::connect_libvirt(params.hypervisor, evos::virt::Access::read_only);
  if (!hv) return Outcome::from(hv.error());
  vm::Service service(**hv, ctx.log, params, *id);
  return Outcome::from(service.check_networks(*xml));
}

Outcome handle(const evos::ocf::Context& ctx) {
  const auto& req = ctx.request;
  auto params = vm::Params::from(ctx.params);
  if (!params) return Outcome::from(params.error());
  if (req.action == "validate-all") return validate(ctx, *params);
  if (req.action == "reload-agent") {
    // Every reloadable parameter is read afresh by each action: nothing to re-apply.
    ctx.log.info("reloaded parameters; they apply from the next action");
    return {};
  }

  auto xml = vm::read_domain_xml(params->config);
  evos::Result<vm::DomainIdentity> from_config =
      xml ? vm::parse_domain_identity(*xml) : evos::Result<vm::DomainIdentity>(xml.error());
  if (req.action == "start" && !from_config) return Outcome::from(from_config.error());

  const vm::IdentityStore store(vm::IdentityStore::default_directory(), req.instance);
  auto id = vm::resolve_identity({params->domain, from_config, store.load()});
  if (!id) return Outcome::from(id.error());
  if (!from_config)
    ctx.log.warning("{}; acting on domain '{}' by its {} name", from_config.error().message(), id->name,
                    params->domain.empty() ? "remembered" : "configured");

  // What this action does is recorded for evosd, which must never take a stop Pacemaker ordered
  // for a failure (vm/operation_record.hpp).
  const vm::OperationRecords records(vm::OperationRecords::default_directory());
  auto note = [&](std::optional<vm::Phase> phase) {
    if (phase) records.note(req.instance, id->name, id->uuid, *phase, ctx.log);
  };
  auto note_monitor = [&](bool running) { records.note_monitor(req.instance, id->name, id->uuid, running, ctx.log); };
  // evosd has been asked already: the front end answers the monitors it vouches for and hands the
  // rest here, which ask libvirt (docs/evosd.md, "Cheap monitors").
  const auto change = vm::phase_change(req.action);
  note(change.before);

  // A monitor only reads: a read-only connection is cheaper for libvirtd and cannot change anything.
  const auto access = req.action == "monitor" ? evos::virt::Access::read_only : evos::virt::Access::read_write;
  // A starting or restarting libvirtd is waited for (vm/hypervisor_wait.hpp says why and how long).
  const auto wait = vm::hypervisor_wait(req.action, req.is_probe(), ctx.deadline.remaining());
  auto hv = evos::virt::connect_libvirt(params->hypervisor, access, evos::Deadline::after(wait));
  if (!hv) {
    note(change.after_failure);
    return Outcome::from(hv.error());
  }
  vm::Service service(**hv, ctx.log, *params, *id);

  Outcome outcome;
  if (req.action == "start") {
    outcome = from(service.start(*xml, ctx.deadline));
  } else if (req.action == "stop") {
    outcome = from(service.stop(ctx.deadline));
  } else if (req.action == "monitor") {
    auto a = service.monitor(req.check_level);
    outcome = a ? to_outcome(*a) : Outcome::from(a.error());
  } else if (req.action == "migrate_to") {
    if (req.migrate_target.empty())
      return {Status::err_args, "migrate_to needs OCF_RESKEY_CRM_meta_migrate_target"};
    auto stats = service.migrate_to(req.migrate_target, evos::virt::libvirt_connector(), ctx.deadline);
    outcome = stats ? Outcome{} : Outcome::from(stats.error());
  } else if (req.action == "migrate_from") {
    auto a = service.migrate_from(ctx.deadline);
    outcome = a ? to_outcome(*a) : Outcome::from(a.error());
  } else {
    return {Status::err_unimplemented, "action " + req.action + " is not implemented"};
  }
  if (req.action == "monitor") {
    if (outcome.status == Status::success || outcome.status == Status::degraded) note_monitor(true);
    else if (outcome.status == Status::not_running) note_monitor(false);
  } else {
    note(outcome.status == Status::success ? change.after_success : change.after_failure);
  }
  // Remember the domain while the config is readable, so a later unreadable config cannot hide it.
  if (from_config && outcome.status == Status::success) store.remember(*id, ctx.log);
  return outcome;
}

}  // namespace

int main(int argc, char** argv) { return evos::ocf::run(argc, argv, vm::agent_info(), handle); }
