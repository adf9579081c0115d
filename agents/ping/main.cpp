// ocf:evos:ping, test-IP connectivity as a node attribute. Behaviour lives in evos::net
// (PingService over a resolver, an ICMP prober, attrd_updater and a state file); this file only
// wires it to the OCF calling convention and maps results to exit codes.
#include <evos/net/attrd_updater.hpp>
#include <evos/net/icmp_prober.hpp>
#include <evos/net/ping_agent_info.hpp>
#include <evos/net/ping_service.hpp>
#include <evos/net/state_file.hpp>
#include <evos/net/system_resolver.hpp>
#include <evos/ocf/runner.hpp>

namespace {

using evos::ocf::Outcome;
using evos::ocf::Status;
namespace net = evos::net;

Outcome to_outcome(const net::Assessment& a) {
  switch (a.health) {
    case net::Health::healthy: return {Status::success, {}};
    case net::Health::degraded: return {Status::degraded, a.why};
    case net::Health::failed: return {Status::err_generic, a.why};
  }
  return {Status::err_generic, a.why};
}

// A monitor never returns a fatal code: whatever goes wrong while probing or publishing is this
// node's transient trouble, for Pacemaker to recover (OCF_ERR_GENERIC), not a reason to ban the
// clone. Parameter errors are reported before the handler runs (OCF_ERR_CONFIGURED).
Outcome soft(const evos::Error& e) { return {Status::err_generic, e.message()}; }

Outcome handle(const evos::ocf::Context& ctx) {
  const auto& req = ctx.request;
  auto params = net::PingParams::from(ctx.params);
  if (!params) return Outcome::from(params.error());
  if (req.action == "validate-all" && req.check_level < 10) return {};

  auto path = net::StateFile::default_path(req.instance);
  if (!path) return Outcome::from(path.error());
  net::StateFile store(*path);
  net::SystemResolver resolver;
  net::IcmpProber prober;
  net::AttrdUpdater attrd;
  net::PingService service(resolver, prober, attrd, store, ctx.log, *params);

  if (req.action == "start") {
    auto r = service.start(ctx.deadline);
    return r ? Outcome{} : Outcome::from(r.error());
  }
  if (req.action == "stop") {
    auto r = service.stop(ctx.deadline);
    return r ? Outcome{} : Outcome::from(r.error());
  }
  if (req.action == "monitor") {
    auto r = service.monitor(ctx.deadline);
    if (!r) return soft(r.error());
    if (!*r) return {Status::not_running, {}};
    ctx.log.debug("{} = {} ({})", params->attribute, (*r)->summary.score, prober.socket_kinds());
    return to_outcome((*r)->assessment);
  }
  if (req.action == "reload-agent") {
    // Only an active instance is reloaded; a stopped one has nothing to apply.
    if (!store.exists()) return {};
    auto r = service.reload(ctx.deadline);
    return r ? Outcome{} : soft(r.error());
  }
  if (req.action == "validate-all") {
    auto r = service.check(ctx.deadline);
    return r ? Outcome{} : Outcome::from(r.error());
  }
  return {Status::err_unimplemented, "action " + req.action + " is not implemented"};
}

}  // namespace

int main(int argc, char** argv) { return evos::ocf::run(argc, argv, net::ping_agent_info(), handle); }
