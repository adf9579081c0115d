// fence_evos_race: the fence "race" device (evos::fence, race.hpp; docs/fence-race.md). The
// decision is pure and lives in libevos; this file reads the fence-agent calling convention
// (fence-agents' FenceAgentAPI: key=value lines on stdin, or argv), probes with evos::net's ICMP
// prober, reads Pacemaker's status through crm_mon (argv, deadline) and sleeps.
//
// Exit codes (FenceAgentAPI): 0 success, 1 failure. off and reboot always succeed (see race()).
//
// Test hook: EVOS_RACE_STATUS_XML=FILE makes the agent read crm_mon's XML from FILE instead of
// running crm_mon (tests/integration/fence_race.sh). Only the fencer's own environment can set it.
#include <evos/cluster/pacemaker_tools.hpp>
#include <evos/fence/race.hpp>
#include <evos/log.hpp>
#include <evos/net/icmp_prober.hpp>
#include <evos/net/probe_plan.hpp>
#include <evos/net/system_resolver.hpp>
#include <evos/text_checks.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using evos::Clock;
using evos::Deadline;
using evos::Millis;
namespace fence = evos::fence;
namespace net = evos::net;

constexpr Millis resolve_budget{1000};

std::string read_stdin() {
  std::string text;
  char buf[4096];
  while (text.size() < fence::max_input_bytes) {
    const std::size_t n = std::fread(buf, 1, sizeof buf, stdin);
    if (n == 0) break;
    text.append(buf, n);
  }
  return text;
}

Millis since(Clock::time_point start) { return std::chrono::duration_cast<Millis>(Clock::now() - start); }

std::string ms_text(Millis m) { return fmt::format("{:.3f}s", static_cast<double>(m.count()) / 1000.0); }

evos::Result<evos::cluster::PacemakerStatus> read_status(Deadline deadline) {
  if (const char* file = std::getenv("EVOS_RACE_STATUS_XML")) {  // the test hook (above)
    std::ifstream in(file);
    if (!in) return evos::make_error(evos::Errc::not_found, "cannot read {} (EVOS_RACE_STATUS_XML)", file);
    std::ostringstream xml;
    xml << in.rdbuf();
    return evos::cluster::parse_crm_mon_xml(xml.str());
  }
  return evos::cluster::read_pacemaker_status(deadline);
}

// One ICMP round to the target's addresses and the test IPs, then (only if it can matter) the
// VM counts. An error means this node could not look at all.
evos::Result<fence::RaceDecision> look(const fence::RaceParams& p, const std::string& target, evos::Log& log) {
  fence::RaceFacts facts;
  facts.target = target;
  std::vector<net::Target> targets;
  auto peer = p.peer_addresses.find(target);
  facts.target_known = peer != p.peer_addresses.end();
  if (facts.target_known)
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
    net::SystemResolver resolver;
    auto resolved = resolver.resolve(names, Deadline::after(resolve_budget));
    if (resolved) targets.insert(targets.end(), resolved->begin(), resolved->end());
    else log.warning("test IP names not probed: {}", resolved.error().message());
  }
  facts.test_ips = static_cast<unsigned>(p.test_ips.size());

  net::IcmpProber prober;
  const net::ProbeOptions options{net::plan_probes(p.timeout, fence::race_probe_attempts), ""};
  auto results = prober.probe(targets, options, Deadline::after(p.timeout + Millis(500)));
  if (!results) return std::move(results).error().context("ICMP round");
  for (std::size_t i = 0; i < results->size(); ++i) {
    const auto& r = (*results)[i];
    if (i < peer_count) facts.target_answered = facts.target_answered || r.reachable();
    else if (r.reachable()) ++facts.test_ips_reached;
    log.debug("{} {} ({}): {} of {} replies{}", i < peer_count ? target : std::string("test IP"), r.host, r.address,
              r.received, r.sent, r.error.empty() ? "" : ", " + r.error);
  }

  if (fence::counts_matter(facts)) {
    auto status = read_status(Deadline::after(fence::race_status_budget));
    if (status) facts.vms = fence::count_vms(*status, target);
    else log.warning("cannot read the cluster status: {}", status.error().message());
  }
  return fence::decide_race(facts, p.delay);
}

void sleep_for(Millis wanted, Millis power_timeout, Clock::time_point start, evos::Log& log) {
  const Millis d = fence::bounded_delay(wanted, since(start), power_timeout);
  if (d < wanted) log.warning("delay cut to {} by power_timeout", ms_text(d));
  if (d > Millis(0)) std::this_thread::sleep_for(d);
}

// off / reboot. Never fails: this device is first on the fencing level, and a failing device
// fails the whole level, so a node that could not look (bad parameters, no ICMP socket, no
// target) would block the real fence device and with it every recovery. It behaves like a fixed
// delay instead (what pcmk_delay_base would do) and lets the real device fence.
int race(const fence::Options& options, const evos::Result<fence::RaceParams>& params, const std::string& target,
         evos::Log& log, Clock::time_point start) {
  const Millis power_timeout = params ? params->power_timeout : fence::fallback_power_timeout(options);
  auto fixed = [&](const std::string& why) {
    const Millis d = params ? params->delay : fence::fallback_delay(options);
    log.error("{}: falling back to the fixed delay of {}", why, ms_text(d));
    sleep_for(d, power_timeout, start, log);
    log.info("fencing of {} may proceed after {}", target.empty() ? "the target" : target, ms_text(since(start)));
    return 0;
  };
  if (!params) return fixed(params.error().message());
  if (target.empty()) return fixed("no target node (plug, port or nodename)");
  if (auto problem = evos::text::syntax_problem(target, evos::text::Syntax::token))
    return fixed(fmt::format("target node {}: {}", evos::text::quote_for_message(target), *problem));
  auto decision = look(*params, target, log);
  if (!decision) return fixed(decision.error().message());
  log.info("{}: {}", fence::to_string(decision->verdict), decision->why);
  sleep_for(decision->delay, power_timeout, start, log);
  log.info("fencing of {} may proceed after {}", target, ms_text(since(start)));
  return 0;
}

int usage(const std::string& why) {
  std::fprintf(stderr,
               "fence_evos_race: %s\nusage: fence_evos_race -o ACTION [-n NODE] --peer-addresses 'N=ADDR ...' "
               "--test-ips 'HOST ...' [--delay 5s] [--timeout 500ms] [--power-timeout 20]\n"
               "       (or key=value lines on stdin, as Pacemaker's fencer writes them)\n",
               why.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const auto start = Clock::now();
  fence::Options options;
  if (argc > 1) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    static constexpr std::string_view flags[] = {"verbose", "quiet", "help"};
    auto parsed = fence::parse_argv_options(args, flags);
    if (!parsed) return usage(parsed.error().message());
    options = std::move(*parsed);
    if (options.contains("help")) return usage("help");
  } else {
    options = fence::parse_stdin_options(read_stdin());
  }
  const std::string action = fence::action_of(options);
  if (action == "metadata") {
    std::fputs(fence::race_metadata_xml().c_str(), stdout);
    return 0;
  }
  const std::string target = fence::target_of(options);
  const auto params = fence::RaceParams::from(options);
  evos::StderrLog log(std::string(fence::race_agent_name), target.empty() ? "-" : evos::text::quote_for_message(target),
                      (params && params->verbose) || std::getenv("HA_debug") != nullptr);

  if (action == "off" || action == "reboot") return race(options, params, target, log, start);
  if (action == "validate-all") {
    if (!params) {
      log.error("{}", params.error().message());
      return 1;
    }
    return 0;
  }
  // Unfencing always succeeds (as fence_heuristics_ping's): there is nothing to turn on.
  if (action == "on") return 0;
  // The device has no power state and no connection; a parameter problem is reported but does
  // not fail the monitor, which would ban the device and fail the fencing level with it (off and
  // reboot fall back to a fixed delay instead). validate-all reports it as a failure.
  if (action == "monitor" || action == "status") {
    if (!params) log.warning("{}", params.error().message());
    if (action == "status") std::puts("Status: ON");
    return 0;
  }
  if (action == "list") {
    if (!params) {
      log.error("{}", params.error().message());
      return 1;
    }
    for (const auto& [node, addresses] : params->peer_addresses) std::printf("%s\n", node.c_str());
    return 0;
  }
  log.error("unsupported action {}", evos::text::quote_for_message(action));
  return 1;
}
