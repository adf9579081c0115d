#include <evos/daemon/socket.hpp>
#include <evos/vm/identity.hpp>
#include <evos/vm/identity_store.hpp>
#include <evos/vm/monitor_front.hpp>
#include <evos/vm/operation_record.hpp>
#include <evos/vm/params.hpp>

namespace evos::vm {

std::optional<ocf::Outcome> monitor_from_evosd(const ocf::Context& ctx) {
  const auto& req = ctx.request;
  // Probes and deep monitors always ask libvirt (docs/evosd.md, "Cheap monitors").
  if (req.action != "monitor" || req.is_probe() || req.check_level >= 10) return std::nullopt;
  auto params = Params::from(ctx.params);
  if (!params || params->evosd_socket.empty()) return std::nullopt;
  // An unreadable config is the full agent's to report (it warns and goes on by the remembered
  // name); the front end only answers when the identity is beyond doubt.
  auto xml = read_domain_xml(params->config);
  if (!xml) return std::nullopt;
  auto from_config = parse_domain_identity(*xml);
  if (!from_config) return std::nullopt;
  const IdentityStore store(IdentityStore::default_directory(), req.instance);
  auto id = resolve_identity({params->domain, from_config, store.load()});
  if (!id) return std::nullopt;
  const auto v = daemon::ask_running(params->evosd_socket, id->name, id->uuid, params->hypervisor,
                                     Deadline::after(daemon::monitor_ask_budget).earliest(ctx.deadline));
  if (!v.running) {
    ctx.log.debug("monitor asks libvirt itself: {}", v.why);
    return std::nullopt;
  }
  // The record evosd reads to tell an ordered stop from a failure (vm/operation_record.hpp).
  const OperationRecords records(OperationRecords::default_directory());
  records.note_monitor(req.instance, id->name, id->uuid, true, ctx.log);
  return ocf::Outcome{};
}

}  // namespace evos::vm
