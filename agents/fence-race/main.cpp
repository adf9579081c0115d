// fence_evos_race: the fence "race" device (evos::fence; docs/fence-race.md). The decision, the
// look, the fallbacks and every action's answer live in libevos (race.hpp, race_agent.hpp, unit-
// tested); this file reads the fence-agent calling convention (fence-agents' FenceAgentAPI:
// key=value lines on stdin, or argv), wires in evos::net's ICMP prober and resolver, crm_mon
// (found through PATH, run by argv with a deadline) and the clock, prints and exits.
//
// Exit codes (FenceAgentAPI): 0 success, 1 failure. off and reboot always succeed.
#include <evos/cluster/pacemaker_tools.hpp>
#include <evos/fence/race_agent.hpp>
#include <evos/log.hpp>
#include <evos/net/icmp_prober.hpp>
#include <evos/net/system_resolver.hpp>
#include <evos/text_checks.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

using evos::Clock;
using evos::Millis;
namespace fence = evos::fence;

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
  const std::string target = fence::target_of(options);
  const auto params = fence::RaceParams::from(options);
  evos::StderrLog log(std::string(fence::race_agent_name), target.empty() ? "-" : evos::text::quote_for_message(target),
                      (params && params->verbose) || std::getenv("HA_debug") != nullptr);
  evos::net::SystemResolver resolver;
  evos::net::IcmpProber prober;
  fence::RacePorts ports{.resolver = resolver,
                         .prober = prober,
                         .status = evos::cluster::read_pacemaker_status,
                         .sleep = [](Millis d) { std::this_thread::sleep_for(d); },
                         .elapsed = [start] { return std::chrono::duration_cast<Millis>(Clock::now() - start); }};
  const auto result = fence::run_action(options, params, ports, log);
  std::fputs(result.out.c_str(), stdout);
  return result.exit_code;
}
