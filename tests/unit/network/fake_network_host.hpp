// An in-memory network::NetworkHost: networks and domains of one node, with calls recorded.
#pragma once

#include <evos/network/host.hpp>
#include <evos/network/spec.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace evos::test {

class FakeNetworkHost final : public network::NetworkHost {
 public:
  std::map<std::string, network::NetworkInfo> nets;
  std::vector<network::DomainDefinitions> domains;
  std::vector<std::string> calls;
  std::optional<Error> start_error;

  void add(const network::NetworkSpec& s, bool active = true) {
    nets[s.name] = {s.name, active, true, active, network::to_xml(s)};
  }
  Result<std::vector<network::NetworkInfo>> networks() override {
    std::vector<network::NetworkInfo> out;
    for (const auto& [n, i] : nets) out.push_back(i);
    return out;
  }
  Result<void> define_network(const std::string& xml) override {
    calls.push_back("define");
    auto s = network::parse_xml(xml);
    if (!s) return std::move(s).error();
    nets[s->name] = {s->name, false, true, false, xml};
    return {};
  }
  Result<void> start_network(const std::string& name) override {
    calls.push_back("start " + name);
    if (start_error) return *start_error;
    nets.at(name).active = true;
    return {};
  }
  Result<void> set_network_autostart(const std::string& name, bool on) override {
    calls.push_back("autostart " + name);
    nets.at(name).autostart = on;
    return {};
  }
  Result<void> stop_network(const std::string& name) override {
    calls.push_back("stop " + name);
    nets.at(name).active = false;
    return {};
  }
  Result<void> undefine_network(const std::string& name) override {
    calls.push_back("undefine " + name);
    if (!nets.erase(name)) return Error(Errc::not_found, "no network " + name);
    return {};
  }
  Result<std::vector<network::DomainDefinitions>> domain_definitions() override { return domains; }
  std::optional<std::set<std::string>> bridges;  // nullopt: this host cannot list them
  Result<std::optional<std::set<std::string>>> host_bridges() override { return bridges; }
};

}  // namespace evos::test
