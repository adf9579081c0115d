#include <evos/cluster/admin.hpp>
#include <evos/cluster/crm_template.hpp>
#include <evos/cluster/duration.hpp>
#include <evos/fence/race.hpp>
#include <evos/net/host_list.hpp>
#include <evos/text_checks.hpp>

#include <fmt/core.h>

#include <iterator>
#include <utility>

namespace evos::cluster {
namespace {

using text::quote_for_message;

Result<void> check_token(std::string_view value, std::string_view option) {
  if (auto p = text::syntax_problem(value, text::Syntax::token))
    return make_error(Errc::invalid_argument, "{} {} {}", option, quote_for_message(value), *p);
  return {};
}

Result<void> check_duration(std::string_view value, std::string_view option) {
  if (!is_duration(value))
    return make_error(Errc::invalid_argument, "{} {} is not a duration such as 5s or 100ms", option, quote_for_message(value));
  return {};
}

}  // namespace

Result<void> check_vm_name(std::string_view name) {
  static constexpr std::string_view allowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";
  const bool letter_first = !name.empty() && ((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z'));
  if (!letter_first || name.find_first_not_of(allowed) != std::string_view::npos || name.size() > 64)
    return make_error(Errc::invalid_argument,
                      "VM name {} must start with a letter and hold only letters, digits, '_', '.', '-' (at most 64)",
                      quote_for_message(name));
  return {};
}

std::string vm_resource_id(std::string_view domain) { return "vm-" + std::string(domain); }

Result<void> check_node_name(std::string_view node, std::string_view option) { return check_token(node, option); }

Result<std::string> render_cluster_base(std::string_view tpl, const ClusterDefaults& d) {
  if (auto r = check_duration(d.priority_fencing_delay, "--priority-fencing-delay"); !r) return std::move(r).error();
  if (auto r = check_duration(d.transition_delay, "--transition-delay"); !r) return std::move(r).error();
  auto rendered = render_template(tpl, {{"PRIORITY_FENCING_DELAY", d.priority_fencing_delay}, {"TRANSITION_DELAY", d.transition_delay}});
  if (!rendered) return std::move(rendered).error();
  return without_comments(*rendered);
}

Result<std::string> render_vm_shared(std::string_view tpl, const VmHaSettings& s) {
  if (auto r = check_vm_name(s.name); !r) return std::move(r).error();
  if (auto p = text::syntax_problem(s.config, text::Syntax::path))
    return make_error(Errc::invalid_argument, "--config {} {}", quote_for_message(s.config), *p);
  if (s.shutdown_timeout_s < 0)
    return make_error(Errc::invalid_argument, "--shutdown-timeout {} is negative", s.shutdown_timeout_s);
  auto rendered = render_template(tpl, {{"VM", s.name},
                                        {"CONFIG", s.config},
                                        {"MIGRATION_UNSAFE", s.migration_unsafe ? "true" : "false"},
                                        {"FORCE_STOP", s.force_stop ? "true" : "false"},
                                        {"SHUTDOWN_TIMEOUT", std::to_string(s.shutdown_timeout_s)}});
  if (!rendered) return std::move(rendered).error();
  return without_comments(*rendered);
}

Result<RenderedTestip> render_testip(std::string_view tpl, const TestipSettings& s) {
  auto hosts = net::parse_host_list(s.hosts);
  if (!hosts) return make_error(Errc::invalid_argument, "--hosts: {}", hosts.error().message());
  RenderedTestip out;
  out.host_list = net::to_host_list(*hosts);
  for (const auto& vm : s.vms)
    if (auto r = check_vm_name(vm); !r) return std::move(r).error();
  for (const auto& m : s.mirrors)
    if (auto r = check_token(m, "--mirror"); !r) return std::move(r).error();
  const auto add = [&](std::string_view block, const std::map<std::string, std::string>& values) -> Result<void> {
    auto section = template_section(tpl, block, "testip.crm");
    if (!section) return std::move(section).error();
    auto rendered = render_template(*section, values);
    if (!rendered) return std::move(rendered).error();
    out.text += without_comments(*rendered);
    return {};
  };
  if (auto r = add("the clone (once)", {{"TEST_IPS", out.host_list}}); !r) return std::move(r).error();
  for (const auto& vm : s.vms)
    if (auto r = add("per VM", {{"VM", vm}}); !r) return std::move(r).error();
  for (const auto& m : s.mirrors)
    if (auto r = add("per mirror", {{"MIRROR_CLONE", m}}); !r) return std::move(r).error();
  return out;
}

Result<std::map<std::string, std::string>> pair_fence_devices(const std::vector<std::string>& node_eq_device,
                                                               const std::set<std::string>& nodes) {
  std::map<std::string, std::string> device_of;
  for (const auto& d : node_eq_device) {
    const auto eq = d.find('=');
    const std::string node = d.substr(0, eq), device = eq == std::string::npos ? "" : d.substr(eq + 1);
    for (const auto& [what, value] : {std::pair{"node", &node}, std::pair{"device", &device}})
      if (auto p = text::syntax_problem(*value, text::Syntax::token))
        return make_error(Errc::invalid_argument, "--device {}: the {} {}; expected NODE=DEVICE", quote_for_message(d), what, *p);
    if (!nodes.contains(node))
      return make_error(Errc::invalid_argument, "--device {}: node '{}' is not in --peers", quote_for_message(d), node);
    if (!device_of.emplace(node, device).second) return make_error(Errc::invalid_argument, "--device: node '{}' given twice", node);
  }
  for (const auto& node : nodes)
    if (!device_of.contains(node))
      return make_error(Errc::invalid_argument, "--device: no fence device for node '{}' (NODE=DEVICE)", node);
  return device_of;
}

Result<RenderedFenceRace> render_fence_race(std::string_view tpl, const FenceRaceSettings& s) {
  // The ICMP timeout the template sets; validated together with the rest.
  const fence::Options agent_params{{"peer_addresses", s.peers}, {"test_ips", s.test_ips}, {"delay", s.delay}, {"timeout", "250ms"}};
  auto params = fence::RaceParams::from(agent_params);
  if (!params) return make_error(Errc::invalid_argument, "{}", params.error().message());
  if (params->peer_addresses.size() != 2)
    return make_error(Errc::invalid_argument, "--peers names {} node(s); a two-node cluster has two", params->peer_addresses.size());
  std::set<std::string> nodes;
  for (const auto& [node, addresses] : params->peer_addresses) nodes.insert(node);
  auto device_of = pair_fence_devices(s.devices, nodes);
  if (!device_of) return std::move(device_of).error();
  const auto& first = *device_of->begin();
  const auto& second = *std::next(device_of->begin());
  auto rendered = render_template(tpl, {{"PEER_ADDRESSES", s.peers},
                                        {"TEST_IPS", net::to_host_list(params->test_ips)},
                                        {"DELAY", s.delay},
                                        {"NODE1", first.first},
                                        {"FENCE_DEVICE1", first.second},
                                        {"NODE2", second.first},
                                        {"FENCE_DEVICE2", second.second}});
  if (!rendered) return std::move(rendered).error();
  return RenderedFenceRace{without_comments(*rendered), std::move(*device_of)};
}

}  // namespace evos::cluster
