#include <evos/fence/race_agent.hpp>
#include <evos/net/probe_plan.hpp>
#include <evos/text_checks.hpp>

#include <fmt/core.h>

namespace evos::fence {
namespace {

std::string seconds_text(Millis m) { return fmt::format("{:.3f}s", static_cast<double>(m.count()) / 1000.0); }

Millis sleep_bounded(Millis wanted, Millis power_timeout, RacePorts& ports, Log& log) {
  const Millis d = bounded_delay(wanted, ports.elapsed(), power_timeout);
  if (d < wanted) log.warning("delay cut to {} by power_timeout", seconds_text(d));
  if (d > Millis(0)) ports.sleep(d);
  return d;
}

}  // namespace

RaceFacts assemble_facts(const std::string& target, bool target_known, std::size_t peer_count, unsigned test_ips,
                         const std::vector<net::HostResult>& results) {
  RaceFacts facts;
  facts.target = target;
  facts.target_known = target_known;
  facts.test_ips = test_ips;
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (i < peer_count) facts.target_answered = facts.target_answered || results[i].reachable();
    else if (results[i].reachable()) ++facts.test_ips_reached;
  }
  return facts;
}

Result<RaceDecision> look(const RaceParams& p, const std::string& target, RacePorts& ports, Log& log) {
  std::vector<net::Target> targets;
  auto peer = p.peer_addresses.find(target);
  const bool known = peer != p.peer_addresses.end();
  if (known)
    for (const auto& spec : peer->second) targets.push_back({spec, spec.host, spec.literal});
  else
    log.warning("{} has no address in peer_addresses: it may be alive", target);
  const std::size_t peer_count = targets.size();

  // Test IPs: literals as they are; names through the resolver, bounded (a name that does not
  // resolve now counts as a test IP this node cannot reach).
  std::vector<net::HostSpec> names;
  for (const auto& spec : p.test_ips) {
    if (spec.is_name()) names.push_back(spec);
    else targets.push_back({spec, spec.host, spec.literal});
  }
  if (!names.empty()) {
    auto resolved = ports.resolver.resolve(names, Deadline::after(race_resolve_budget));
    if (resolved) targets.insert(targets.end(), resolved->begin(), resolved->end());
    else log.warning("test IP names not probed: {}", resolved.error().message());
  }

  const net::ProbeOptions options{net::plan_probes(p.timeout, race_probe_attempts), ""};
  auto results = ports.prober.probe(targets, options, Deadline::after(p.timeout + Millis(500)));
  if (!results) return std::move(results).error().context("ICMP round");
  for (std::size_t i = 0; i < results->size(); ++i) {
    const auto& r = (*results)[i];
    log.debug("{} {} ({}): {} of {} replies{}", i < peer_count ? target : std::string("test IP"), r.host, r.address,
              r.received, r.sent, r.error.empty() ? "" : ", " + r.error);
  }
  RaceFacts facts = assemble_facts(target, known, peer_count, static_cast<unsigned>(p.test_ips.size()), *results);

  if (counts_matter(facts)) {
    auto status = ports.status(Deadline::after(race_status_budget));
    if (status) facts.vms = count_vms(*status, target);
    else log.warning("cannot read the cluster status: {}", status.error().message());
  }
  return decide_race(facts, p.delay);
}

RaceOutcome race(const Options& options, const Result<RaceParams>& params, const std::string& target, RacePorts& ports,
                 Log& log) {
  const Millis power_timeout = params ? params->power_timeout : fallback_power_timeout(options);
  auto fixed = [&](const std::string& why) {
    const Millis d = params ? params->delay : fallback_delay(options);
    log.error("{}: falling back to the fixed delay of {}", why, seconds_text(d));
    RaceOutcome o{.fell_back = true, .verdict = std::nullopt, .slept = sleep_bounded(d, power_timeout, ports, log)};
    log.info("fencing of {} may proceed after {}", target.empty() ? "the target" : target, seconds_text(ports.elapsed()));
    return o;
  };
  if (!params) return fixed(params.error().message());
  if (target.empty()) return fixed("no target node (plug, port or nodename)");
  if (auto problem = text::syntax_problem(target, text::Syntax::token))
    return fixed(fmt::format("target node {}: {}", text::quote_for_message(target), *problem));
  auto decision = look(*params, target, ports, log);
  if (!decision) return fixed(decision.error().message());
  log.info("{}: {}", to_string(decision->verdict), decision->why);
  RaceOutcome o{.fell_back = false, .verdict = decision->verdict,
                .slept = sleep_bounded(decision->delay, power_timeout, ports, log)};
  log.info("fencing of {} may proceed after {}", target, seconds_text(ports.elapsed()));
  return o;
}

ActionResult run_action(const Options& options, const Result<RaceParams>& params, RacePorts& ports, Log& log) {
  const std::string action = action_of(options);
  if (action == "metadata") return {0, race_metadata_xml()};
  if (action == "off" || action == "reboot") {
    race(options, params, target_of(options), ports, log);
    return {0, ""};
  }
  if (action == "validate-all") {
    if (!params) {
      log.error("{}", params.error().message());
      return {1, ""};
    }
    return {0, ""};
  }
  // Unfencing always succeeds (as fence_heuristics_ping's): there is nothing to turn on.
  if (action == "on") return {0, ""};
  // The device has no power state and no connection; a parameter problem is reported but does
  // not fail the monitor, which would ban the device and fail the fencing level with it (off and
  // reboot fall back to a fixed delay instead). validate-all reports it as a failure.
  if (action == "monitor" || action == "status") {
    if (!params) log.warning("{}", params.error().message());
    return {0, action == "status" ? "Status: ON\n" : ""};
  }
  if (action == "list") {
    if (!params) {
      log.error("{}", params.error().message());
      return {1, ""};
    }
    std::string out;
    for (const auto& [node, addresses] : params->peer_addresses) out += node + "\n";
    return {0, out};
  }
  log.error("unsupported action {}", text::quote_for_message(action));
  return {1, ""};
}

}  // namespace evos::fence
