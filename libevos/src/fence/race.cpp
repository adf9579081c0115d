#include <evos/fence/race.hpp>
#include <evos/net/ping_params.hpp>
#include <evos/text_checks.hpp>

#include <algorithm>
#include <cctype>

namespace evos::fence {
namespace {

constexpr std::size_t max_param_bytes = 4096;
constexpr Millis max_delay{120000};
constexpr Millis min_timeout{100}, max_timeout{5000};
constexpr Millis min_power_timeout{1000}, max_power_timeout{600000};

std::string seconds_text(Millis m) {
  return m.count() % 1000 == 0 ? fmt::format("{}s", m.count() / 1000) : fmt::format("{}ms", m.count());
}

const std::string* find(const Options& options, const char* key) {
  auto it = options.find(key);
  return it == options.end() ? nullptr : &it->second;
}

Result<Millis> duration(const Options& options, const char* key, Millis fallback, Millis min, Millis max) {
  const std::string* text = find(options, key);
  if (!text || text->empty()) return fallback;
  auto d = net::parse_duration(*text, key);
  if (!d) return std::move(d).error();
  if (*d < min || *d > max)
    return make_error(Errc::invalid_config, "parameter '{}' must be between {} and {}, not {}", key, seconds_text(min),
                      seconds_text(max), text::quote_for_message(*text));
  return *d;
}

// The agents the VM count is about: evos's own and resource-agents' VirtualDomain. crm_mon 2.x
// writes "ocf:evos:vm"; older releases wrote "ocf::heartbeat:VirtualDomain" (empty provider slot).
bool is_vm_agent(std::string_view agent) {
  std::string a(agent);
  if (auto p = a.find("::"); p != std::string::npos) a.erase(p, 1);
  return a == "ocf:evos:vm" || a == "ocf:heartbeat:VirtualDomain";
}

}  // namespace

Result<std::map<std::string, std::vector<net::HostSpec>>> parse_peer_addresses(std::string_view text) {
  if (auto p = text::text_problem(text, max_param_bytes)) return make_error(Errc::invalid_config, "{}", *p);
  std::map<std::string, std::vector<net::HostSpec>> peers;
  std::size_t count = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] == ' ') {
      ++pos;
      continue;
    }
    const auto end = std::min(text.find(' ', pos), text.size());
    const std::string_view entry = text.substr(pos, end - pos);
    pos = end;
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos)
      return make_error(Errc::invalid_config, "entry {} is not NODE=ADDRESS[,ADDRESS...]", text::quote_for_message(entry));
    const std::string_view node = entry.substr(0, eq);
    if (node.empty()) return make_error(Errc::invalid_config, "entry {} has no node name", text::quote_for_message(entry));
    if (auto p = text::syntax_problem(node, text::Syntax::token))
      return make_error(Errc::invalid_config, "node name {}: {}", text::quote_for_message(node), *p);
    std::string_view rest = entry.substr(eq + 1);
    if (rest.empty()) return make_error(Errc::invalid_config, "entry {} has no address", text::quote_for_message(entry));
    while (true) {
      const auto comma = rest.find(',');
      const std::string_view address = rest.substr(0, comma);
      // '=' would be read as a weight by the host-list parser; there are none here.
      if (address.empty() || address.find('=') != std::string_view::npos)
        return make_error(Errc::invalid_config, "node {}: {} is not an address", text::quote_for_message(node),
                          text::quote_for_message(address));
      auto specs = net::parse_host_list(address);
      if (!specs) return std::move(specs).error().context(fmt::format("node {}", text::quote_for_message(node)));
      if (specs->size() != 1 || specs->front().is_name())
        return make_error(Errc::invalid_config, "node {}: {} is not an IPv4 or IPv6 address (no names: fencing must not wait for DNS)",
                          text::quote_for_message(node), text::quote_for_message(address));
      auto& list = peers[std::string(node)];
      if (std::find(list.begin(), list.end(), specs->front()) == list.end()) list.push_back(specs->front());
      if (++count > net::max_hosts) return make_error(Errc::invalid_config, "more than {} addresses", net::max_hosts);
      if (comma == std::string_view::npos) break;
      rest = rest.substr(comma + 1);
    }
  }
  if (peers.empty()) return make_error(Errc::invalid_config, "no NODE=ADDRESS entry");
  return peers;
}

Result<RaceParams> RaceParams::from(const Options& options) {
  RaceParams p;
  const std::string* peers = find(options, "peer_addresses");
  if (!peers || peers->empty()) return make_error(Errc::invalid_config, "parameter 'peer_addresses' is required");
  auto parsed = parse_peer_addresses(*peers);
  if (!parsed) return std::move(parsed).error().context("parameter 'peer_addresses'");
  p.peer_addresses = std::move(*parsed);

  const std::string* tests = find(options, "test_ips");
  if (!tests || tests->empty()) return make_error(Errc::invalid_config, "parameter 'test_ips' is required");
  auto hosts = net::parse_host_list(*tests);
  if (!hosts) return std::move(hosts).error().context("parameter 'test_ips'");
  if (hosts->empty()) return make_error(Errc::invalid_config, "parameter 'test_ips' is required");
  p.test_ips = std::move(*hosts);

  auto delay = duration(options, "delay", p.delay, Millis(0), max_delay);
  if (!delay) return std::move(delay).error();
  p.delay = *delay;
  auto timeout = duration(options, "timeout", p.timeout, min_timeout, max_timeout);
  if (!timeout) return std::move(timeout).error();
  p.timeout = *timeout;
  auto power = duration(options, "power_timeout", p.power_timeout, min_power_timeout, max_power_timeout);
  if (!power) return std::move(power).error();
  p.power_timeout = *power;
  if (p.delay + p.timeout + race_status_budget + race_margin > p.power_timeout)
    return make_error(Errc::invalid_config,
                      "parameter 'delay' ({}) plus 'timeout' ({}) and {} for the cluster status must stay below "
                      "'power_timeout' ({}); raise power_timeout (and the device's pcmk_off_timeout above it)",
                      seconds_text(p.delay), seconds_text(p.timeout), seconds_text(race_status_budget + race_margin),
                      seconds_text(p.power_timeout));

  if (const std::string* v = find(options, "verbose")) {
    std::string s = *v;
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    p.verbose = s == "1" || s == "yes" || s == "on" || s == "true";
  }
  return p;
}

Millis fallback_delay(const Options& options) {
  auto d = duration(options, "delay", RaceParams{}.delay, Millis(0), max_delay);
  return d ? *d : RaceParams{}.delay;
}

Millis fallback_power_timeout(const Options& options) {
  auto d = duration(options, "power_timeout", RaceParams{}.power_timeout, min_power_timeout, max_power_timeout);
  return d ? *d : RaceParams{}.power_timeout;
}

VmCounts count_vms(const cluster::PacemakerStatus& status, std::string_view target) {
  VmCounts c;
  for (const auto& r : status.resources) {
    if (!r.active || !is_vm_agent(r.agent)) continue;
    const bool on_target = std::find(r.nodes.begin(), r.nodes.end(), target) != r.nodes.end();
    const bool elsewhere = std::any_of(r.nodes.begin(), r.nodes.end(), [&](const std::string& n) { return n != target; });
    if (on_target) ++c.target;
    if (elsewhere) ++c.local;
  }
  return c;
}

std::string_view to_string(Verdict verdict) noexcept {
  if (verdict == Verdict::isolated) return "isolated";
  if (verdict == Verdict::target_dead) return "target-dead";
  if (verdict == Verdict::target_busier) return "target-busier";
  if (verdict == Verdict::local_busier) return "local-busier";
  return "counts-unknown";
}

bool counts_matter(const RaceFacts& facts) {
  const bool isolated = facts.test_ips > 0 && facts.test_ips_reached == 0;
  const bool dead = facts.target_known && !facts.target_answered;
  return !isolated && !dead;
}

RaceDecision decide_race(const RaceFacts& facts, Millis delay) {
  const std::string t = facts.target.empty() ? std::string("the target") : facts.target;
  const std::string reach = fmt::format("this node reaches {} of {} test IPs", facts.test_ips_reached, facts.test_ips);
  const std::string d = seconds_text(delay);
  // 1. Isolated: whatever the peer's state, this node is the one that should lose the race.
  if (facts.test_ips > 0 && facts.test_ips_reached == 0)
    return {Verdict::isolated, delay, fmt::format("{}: this node is the isolated one, delaying {} so that a healthy peer wins", reach, d)};
  // 2. The target does not answer on the other network: dead (or cut off from everything, which
  // for its VMs is the same). Nobody races this node, so a delay only lengthens the failover.
  if (facts.target_known && !facts.target_answered)
    return {Verdict::target_dead, Millis(0),
            fmt::format("{} does not answer on any of its addresses ({}): dead or cut off, no delay", t, reach)};
  const std::string alive = facts.target_known
                                ? fmt::format("{} answers ({}): a split, both nodes may be fencing", t, reach)
                                : fmt::format("{} has no address in peer_addresses, so it may be alive ({})", t, reach);
  // 3. A split: the node running more VMs must win, so this node holds back only if T runs more.
  // Unknown counts (crm_mon failed or was too slow) delay: the status is read locally, so a node
  // that cannot read it is the one in trouble, and backing off is what the old fixed delay did.
  // If the peer is the one that runs the VMs and reads its status, it fires at once and wins;
  // if this node runs the VMs, both nodes wait and the race is as open as without the device,
  // which costs `delay` but nothing else. Not delaying would instead let a node with a broken
  // view of the cluster shoot a healthy peer that runs the VMs.
  if (!facts.vms) return {Verdict::counts_unknown, delay, fmt::format("{}; the VM counts are unknown: delaying {}", alive, d)};
  const auto& v = *facts.vms;
  if (v.target > v.local)
    return {Verdict::target_busier, delay,
            fmt::format("{}; {} runs {} VMs, this node {}: delaying {} so that it wins", alive, t, v.target, v.local, d)};
  return {Verdict::local_busier, Millis(0),
          fmt::format("{}; {} runs {} VMs, this node {}: no delay", alive, t, v.target, v.local)};
}

Millis bounded_delay(Millis wanted, Millis elapsed, Millis power_timeout) {
  const Millis budget = power_timeout - race_margin - elapsed;
  if (budget <= Millis(0)) return Millis(0);
  return std::min(wanted, budget);
}

std::string race_metadata_xml() {
  // fence-agents' lib/metadata.rng (installed as /usr/share/cluster/relaxng/metadata.rng).
  return R"(<?xml version="1.0" ?>
<resource-agent name="fence_evos_race" shortdesc="Fence race arbiter for two-node evos clusters: delays fencing only when a delay can matter">
<longdesc>fence_evos_race is placed first in a fencing topology level, before the real fence device of the same node (as fence_heuristics_ping is). It never powers anything off itself and never fails. For off and reboot it sends one ICMP round to the target's addresses on a network other than the cluster link and to the test IPs, then waits 'delay' only when this node reaches no test IP (it is the isolated one), or when the target answers (a split) and runs more VMs (ocf:evos:vm, ocf:heartbeat:VirtualDomain) than this node, or when the VM counts cannot be read. A target that does not answer is dead: no delay, so a real failover does not pay the delay that priority-fencing-delay would add. Use it instead of priority-fencing-delay (set that to 0). The delay is slept after the ICMP round and the action never takes longer than power_timeout; set the device's pcmk_off_timeout and pcmk_reboot_timeout above it.</longdesc>
<vendor-url>https://github.com/evos</vendor-url>
<parameters>
	<parameter name="action" unique="0" required="0">
		<getopt mixed="-o, --action=[action]" />
		<content type="string" default="reboot" />
		<shortdesc lang="en">Fencing action</shortdesc>
	</parameter>
	<parameter name="plug" unique="0" required="0" obsoletes="port">
		<getopt mixed="-n, --plug=[node]" />
		<content type="string" />
		<shortdesc lang="en">The node being fenced (Pacemaker passes it; nodename otherwise)</shortdesc>
	</parameter>
	<parameter name="port" unique="0" required="0" deprecated="1">
		<getopt mixed="-n, --plug=[node]" />
		<content type="string" />
		<shortdesc lang="en">The node being fenced</shortdesc>
	</parameter>
	<parameter name="peer_addresses" unique="0" required="1">
		<getopt mixed="--peer-addresses=[node=address[,address] ...]" />
		<content type="string" />
		<shortdesc lang="en">Each node's addresses on a network other than the cluster link, e.g. "node1=198.18.1.1 node2=198.18.1.2,fd00::2" (address literals only)</shortdesc>
	</parameter>
	<parameter name="test_ips" unique="0" required="1">
		<getopt mixed="--test-ips=[host[=weight] ...]" />
		<content type="string" />
		<shortdesc lang="en">The test IPs, as ocf:evos:ping's host_list; a node that reaches none of them is the isolated one</shortdesc>
	</parameter>
	<parameter name="delay" unique="0" required="0">
		<getopt mixed="--delay=[duration]" />
		<content type="string" default="5s" />
		<shortdesc lang="en">How long this node holds back when it should lose the race (5s, 500ms); more than the peer's detection skew plus the real device's power-off time</shortdesc>
	</parameter>
	<parameter name="timeout" unique="0" required="0">
		<getopt mixed="--timeout=[duration]" />
		<content type="string" default="500ms" />
		<shortdesc lang="en">The ICMP round's window (two echo requests per address), 100ms to 5s</shortdesc>
	</parameter>
	<parameter name="power_timeout" unique="0" required="0">
		<getopt mixed="--power-timeout=[seconds]" />
		<content type="second" default="20" />
		<shortdesc lang="en">The action never takes longer; must exceed delay + timeout + 2.5s</shortdesc>
	</parameter>
	<parameter name="verbose" unique="0" required="0">
		<getopt mixed="-v, --verbose" />
		<content type="boolean" />
		<shortdesc lang="en">Log every probed address</shortdesc>
	</parameter>
</parameters>
<actions>
	<action name="on" automatic="0" />
	<action name="off" />
	<action name="reboot" />
	<action name="status" />
	<action name="list" />
	<action name="monitor" />
	<action name="metadata" />
	<action name="validate-all" />
</actions>
</resource-agent>
)";
}

}  // namespace evos::fence
