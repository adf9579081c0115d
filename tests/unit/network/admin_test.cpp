#include <evos/network/admin.hpp>

#include "fake_network_host.hpp"

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::network;
using evos::test::FakeNetworkHost;

namespace {

NetworkSpec lan(std::optional<std::string> range = "198.18.60.100-198.18.60.150") {
  auto s = nat_spec({"lan", "198.18.60.1/24", std::move(range), {"52:54:00:00:00:01=198.18.60.10"}});
  REQUIRE(s);
  return *s;
}

std::string guest_xml(const std::string& name, const std::string& type, const std::string& source) {
  return "<domain type='qemu'><name>" + name + "</name><devices><interface type='" + type + "'><mac address='52:54:00:00:00:01'/><source " +
         type + "='" + source + "'/><model type='virtio'/></interface><interface type='user'/></devices></domain>";
}

}  // namespace

TEST_CASE("network: create defines, starts and autostarts on every node - again is 'already exists'", "[network]") {
  FakeNetworkHost h1, h2;
  const std::vector<Node> nodes{{"h1", &h1}, {"h2", &h2}};
  auto r = create_network(lan(), nodes);
  REQUIRE(r);
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].action == CreateAction::created);
  CHECK(h1.calls == std::vector<std::string>{"define", "start lan", "autostart lan"});
  CHECK(h2.nets.at("lan").active);
  CHECK(h2.nets.at("lan").autostart);

  h1.calls.clear();
  h2.nets.at("lan").active = false;  // e.g. stopped by hand
  auto again = create_network(lan(), nodes);
  REQUIRE(again);
  CHECK((*again)[0].action == CreateAction::already_exists);
  CHECK((*again)[1].action == CreateAction::started);
  CHECK(h1.calls.empty());
  CHECK(h2.nets.at("lan").active);
}

TEST_CASE("network: a different definition on one node is named and nothing is created anywhere", "[network]") {
  FakeNetworkHost h1, h2;
  h2.add(lan("198.18.60.100-198.18.60.200"));
  auto r = create_network(lan(), {{"h1", &h1}, {"h2", &h2}});
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::invalid_argument);
  CHECK(r.error().message() ==
        "network 'lan' exists on h2 with a different definition: DHCP range: 198.18.60.100-198.18.60.150 on the request, "
        "198.18.60.100-198.18.60.200 on h2");
  CHECK(h1.calls.empty());
  CHECK(h1.nets.empty());
}

TEST_CASE("network: an overlapping subnet on a node is refused", "[network]") {
  FakeNetworkHost h1;
  auto other = nat_spec({"old", "198.18.0.1/16", "none", {}});
  REQUIRE(other);
  h1.add(*other);
  auto r = create_network(lan(), {{"h1", &h1}});
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("overlaps network 'old' (198.18.0.1/16) on h1") != std::string::npos);
}

TEST_CASE("network: a network that cannot start is not left defined - on any node", "[network]") {
  FakeNetworkHost h1, h2;
  h2.start_error = Error(Errc::backend, "dnsmasq failed");
  auto r = create_network(lan(), {{"h1", &h1}, {"h2", &h2}});
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::backend);
  CHECK(r.error().message() == "start network 'lan' on h2: dnsmasq failed (undone on h1, h2)");
  CHECK(h1.nets.empty());
  CHECK(h2.nets.empty());
  // one that was there before stays
  FakeNetworkHost h3;
  h3.add(lan(), false);
  h3.start_error = Error(Errc::backend, "dnsmasq failed");
  REQUIRE_FALSE(create_network(lan(), {{"h3", &h3}}));
  CHECK(h3.nets.count("lan") == 1);
}

TEST_CASE("network: delete is refused while a domain uses the network, anywhere", "[network]") {
  FakeNetworkHost h1, h2;
  h1.add(lan());
  h2.add(lan());
  h2.domains.push_back({"web1", false, {guest_xml("web1", "network", "lan")}});
  h1.domains.push_back({"db", true, {guest_xml("db", "network", "other")}});
  auto r = delete_network("lan", {{"h1", &h1}, {"h2", &h2}});
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::invalid_argument);
  CHECK(r.error().message().find("in use by web1 (defined) on h2") != std::string::npos);
  CHECK(h1.nets.count("lan") == 1);

  h2.domains.clear();
  h1.nets.erase("lan");  // defined on one node only
  auto ok = delete_network("lan", {{"h1", &h1}, {"h2", &h2}});
  REQUIRE(ok);
  CHECK_FALSE((*ok)[0].existed);
  CHECK((*ok)[1].existed);
  CHECK(h2.calls == std::vector<std::string>{"stop lan", "undefine lan"});
  auto gone = delete_network("lan", {{"h1", &h1}, {"h2", &h2}});
  REQUIRE_FALSE(gone);
  CHECK(gone.error().code() == Errc::not_found);
}

TEST_CASE("network: a domain's interfaces", "[network]") {
  auto i = domain_interfaces(guest_xml("web1", "bridge", "br0"));
  REQUIRE(i);
  REQUIRE(i->size() == 1);  // the user-mode interface has no network to look for
  CHECK((*i)[0] == InterfaceUse{InterfaceUse::Type::bridge, "br0", "52:54:00:00:00:01"});
  CHECK_FALSE(domain_interfaces("<domain><devices><interface type='network'/></devices></domain>"));
  CHECK_FALSE(domain_interfaces("not xml"));
  CHECK(domain_name(guest_xml("web1", "bridge", "br0")) == "web1");
  CHECK(bridge_of_interface("<interface type='bridge' name='br0'><bridge/></interface>") == "br0");
  CHECK_FALSE(bridge_of_interface("<interface type='ethernet' name='eth0'/>"));
}

TEST_CASE("network: list across nodes says what is identical and what is not", "[network]") {
  const auto a = lan();
  auto b = lan();
  b.hosts.clear();
  NodeListing n1{"h1", {{"lan", true, true, true, to_xml(a)}, {"only1", true, true, true, to_xml(*bridge_spec("only1", "br0"))}}};
  NodeListing n2{"h2", {{"lan", false, true, true, to_xml(b)}}};
  auto all = list_across({n1, n2});
  REQUIRE(all.size() == 2);
  CHECK(all[0].name == "lan");
  CHECK_FALSE(all[0].identical);
  CHECK(all[0].problems ==
        std::vector<std::string>{"inactive on h2", "differs on h2: static host 52:54:00:00:00:01: 198.18.60.10 on h1, none on h2"});
  CHECK(all[1].problems == std::vector<std::string>{"missing on h2"});
  NodeListing n3{"h2", {{"lan", true, true, true, to_xml(a)}}};
  auto same = list_across({n1, n3});
  CHECK(same[0].identical);
}

TEST_CASE("network: a bridge network needs its host bridge on every node that can list bridges", "[network]") {
  FakeNetworkHost h1, h2;
  h1.bridges = std::set<std::string>{"br0"};
  h2.bridges = std::set<std::string>{"br1"};
  const auto spec = *bridge_spec("public", "br0");
  auto r = create_network(spec, {{"h1", &h1}, {"h2", &h2}});
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("host bridge br0 does not exist on h2") != std::string::npos);
  CHECK(h1.nets.empty());
  h2.bridges.reset();  // unknown: not refused
  REQUIRE(create_network(spec, {{"h1", &h1}, {"h2", &h2}}));
  CHECK(h2.nets.count("public") == 1);
}
