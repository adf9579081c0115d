#include <evos/net/ping_params.hpp>

#include <algorithm>
#include <charconv>

namespace evos::net {

using ocf::ParamSpec;
using ocf::ParamType;
using text::Syntax;

const std::vector<ParamSpec>& ping_param_specs() {
  static const std::vector<ParamSpec> specs = [] {
    std::vector<ParamSpec> s;
    auto add = [&](ParamSpec spec) { s.push_back(std::move(spec)); };
    add({.name = "host_list", .required = true,
         .shortdesc = "Test IPs",
         .longdesc = "The hosts to probe, separated by spaces: IPv4 and IPv6 addresses and DNS names, mixed freely. "
                     "An optional weight follows '=' (default 1): \"198.18.1.254=2 fd00::1 [fd00::2]=3 gw.example\". "
                     "IPv6 addresses may be written in brackets and with a %zone. Names are resolved at start and "
                     "reload; a name that does not exist makes start fail with OCF_ERR_CONFIGURED naming it (never a "
                     "silent 'down'). At most 64 hosts. All hosts are probed at the same time."});
    add({.name = "name", .default_value = std::string(default_attribute),
         .shortdesc = "Attribute name",
         .longdesc = "The node attribute that carries the score, for location rules. The per-host detail (reachability, "
                     "loss and round-trip times) is published as the private attribute <name>-detail. Two ping "
                     "resources must not share a name.",
         .syntax = Syntax::token});
    add({.name = "multiplier", .type = ParamType::integer, .default_value = "1000", .reloadable = true,
         .shortdesc = "Score per weight",
         .longdesc = "score = multiplier x (sum of the weights of the reachable hosts). Keep multiplier x (sum of all "
                     "weights) below 1000000 (Pacemaker's INFINITY), and one host's share above resource-stickiness "
                     "so that score-attribute rules move resources to the better connected node.",
         .min = 1, .max = 1000000});
    add({.name = "attempts", .type = ParamType::integer, .default_value = "3", .reloadable = true,
         .shortdesc = "Echo requests per host",
         .longdesc = "How many echo requests a silent host gets per monitor, spaced evenly over the timeout. A host "
                     "counts as reachable with one reply, so a single lost reply changes nothing.",
         .min = 1, .max = 10});
    add({.name = "timeout", .default_value = "1s", .reloadable = true,
         .shortdesc = "Probe timeout",
         .longdesc = "How long one monitor probes: all hosts at once, so the monitor takes at most this long whatever "
                     "the number of hosts and however many of them are down (it ends earlier once every host has "
                     "answered). A host without a reply within it is unreachable. \"1s\", \"500ms\"; a bare number is "
                     "seconds, as with ocf:pacemaker:ping. 100ms to 30s.",
         .syntax = Syntax::any_text});
    add({.name = "dampen", .default_value = "5s", .reloadable = true,
         .shortdesc = "Dampening",
         .longdesc = "How long pacemaker-attrd waits after a change before writing the attribute to the CIB "
                     "(attrd_updater -d). A value that changes back within it moves nothing; keep it longer than the "
                     "monitor interval. \"5s\", \"0\" for none, at most 1h.",
         .syntax = Syntax::any_text});
    add({.name = "failure_score", .type = ParamType::integer, .reloadable = true,
         .shortdesc = "Fail below this score",
         .longdesc = "If set, monitor fails (OCF_ERR_GENERIC, which Pacemaker recovers) when the score is below it. "
                     "Unset: the monitor reports OCF_DEGRADED while any host is unreachable and leaves decisions to "
                     "the location rules.",
         .min = 0, .max = 1000000});
    add({.name = "interface", .reloadable = true,
         .shortdesc = "Probe interface",
         .longdesc = "Send the probes out of this network interface only (SO_BINDTODEVICE), e.g. the public uplink. "
                     "Empty: as routed.",
         .syntax = Syntax::token});
    add({.name = "publish_detail", .type = ParamType::boolean, .default_value = "true", .reloadable = true,
         .shortdesc = "Publish per-host detail",
         .longdesc = "Publish each host's reachability, loss and round-trip time as the private node attribute "
                     "<name>-detail (never written to the CIB), for evosctl cluster status."});
    return s;
  }();
  return specs;
}

Result<Millis> parse_duration(std::string_view text, std::string_view param) {
  auto d = evos::read_duration(text, fmt::format("parameter '{}'", param));
  if (!d) return Error(Errc::invalid_config, d.error().message());
  return d;
}

std::string format_dampen(Millis dampen) {
  return dampen.count() % 1000 == 0 ? fmt::format("{}s", dampen.count() / 1000) : fmt::format("{}ms", dampen.count());
}

Result<PingParams> PingParams::from(const ocf::ParamValues& v) {
  PingParams p;
  auto hosts = parse_host_list(v.text("host_list"));
  if (!hosts) return std::move(hosts).error().context("parameter 'host_list'");
  p.hosts = std::move(*hosts);

  p.attribute = v.text("name");
  // attrd and the CIB take XML attribute values; keep to what a rule expression can name.
  if (p.attribute.empty() || !std::all_of(p.attribute.begin(), p.attribute.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
               c == '.';
      }) || p.attribute.size() > 100)
    return make_error(Errc::invalid_config, "parameter 'name' must be letters, digits, '_', '-' and '.' (up to 100), not {}",
                      text::quote_for_message(p.attribute));
  if (p.attribute.front() == '-')
    return make_error(Errc::invalid_config, "parameter 'name' must not start with '-'");

  p.multiplier = static_cast<std::uint32_t>(v.integer("multiplier"));
  p.attempts = static_cast<unsigned>(v.integer("attempts"));
  auto timeout = parse_duration(v.text("timeout"), "timeout");
  if (!timeout) return std::move(timeout).error();
  if (*timeout < Millis(100) || *timeout > Millis(30000))
    return make_error(Errc::invalid_config, "parameter 'timeout' must be between 100ms and 30s, not {} ms", timeout->count());
  p.timeout = *timeout;
  if (p.timeout / p.attempts < Millis(10))
    return make_error(Errc::invalid_config,
                      "parameter 'attempts' leaves less than 10 ms per attempt within the {} ms timeout", p.timeout.count());
  auto dampen = parse_duration(v.text("dampen"), "dampen");
  if (!dampen) return std::move(dampen).error();
  if (*dampen > Millis(3600000))
    return make_error(Errc::invalid_config, "parameter 'dampen' must be at most 1h, not {} ms", dampen->count());
  p.dampen = *dampen;
  if (v.is_set("failure_score")) p.failure_score = static_cast<std::uint64_t>(v.integer("failure_score"));

  p.interface = v.text("interface");
  if (!p.interface.empty() &&
      (p.interface.size() > 15 || !std::all_of(p.interface.begin(), p.interface.end(), [](char c) {
         return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                c == '.';
       })))
    return make_error(Errc::invalid_config, "parameter 'interface' must be an interface name (up to 15 of [A-Za-z0-9_.-]), not {}",
                      text::quote_for_message(p.interface));
  p.detail = v.boolean("publish_detail");

  std::uint64_t total = 0;
  for (const auto& h : p.hosts) total += h.weight;
  if (total * p.multiplier >= pacemaker_infinity)
    return make_error(Errc::invalid_config,
                      "parameter 'multiplier' times the sum of the weights ({} x {}) reaches Pacemaker's INFINITY "
                      "(1000000): nodes with different connectivity could not be told apart",
                      p.multiplier, total);
  return p;
}

}  // namespace evos::net
