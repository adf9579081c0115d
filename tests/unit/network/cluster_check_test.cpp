#include <evos/network/cluster_check.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::network;

namespace {

NetworkSpec lan(std::string range = "198.18.60.100-198.18.60.150") {
  auto s = nat_spec({"lan", "198.18.60.1/24", std::move(range), {"52:54:00:00:00:01=198.18.60.10", "52:54:00:00:00:02=198.18.60.11"}});
  REQUIRE(s);
  return *s;
}

NetworkInfo info(const NetworkSpec& s, bool active = true) { return {s.name, active, true, true, to_xml(s)}; }

const std::string web1 =
    "<domain type='qemu'><name>web1</name><devices>"
    "<interface type='network'><mac address='52:54:00:00:00:01'/><source network='lan'/></interface>"
    "<interface type='network'><mac address='52:54:00:00:00:02'/><source network='lan'/></interface>"
    "<interface type='bridge'><source bridge='br0'/></interface></devices></domain>";

HaVm vm(std::vector<std::string> on = {"n1"}) { return {"vm-web1", "/shared/web1/web1.xml", web1, "", std::move(on)}; }

}  // namespace

TEST_CASE("cluster check: nothing to report when every node has the networks", "[network]") {
  std::vector<NodeFacts> nodes{{"n1", std::nullopt, {info(lan())}, std::set<std::string>{"br0"}},
                               {"n2", std::nullopt, {info(lan())}, std::set<std::string>{"br0", "virbr1"}}};
  CHECK(check_vm_networks({vm()}, nodes).empty());
  // A VM without interfaces needs nothing, even from an unreachable node.
  HaVm bare{"vm-x", "/x.xml", "<domain><name>x</name><devices/></domain>", "", {}};
  nodes[1].error = "connection refused";
  CHECK(check_vm_networks({bare}, nodes).empty());
}

TEST_CASE("cluster check: missing, inactive and different networks, missing bridges", "[network]") {
  std::vector<NodeFacts> nodes{{"n1", std::nullopt, {info(lan())}, std::set<std::string>{"br0"}},
                               {"n2", std::nullopt, {}, std::set<std::string>{}},
                               {"n3", std::nullopt, {info(lan("198.18.60.100-198.18.60.200"), false)}, std::nullopt}};
  const auto f = check_vm_networks({vm()}, nodes);
  REQUIRE(f.size() == 5);
  // in the order of the interfaces (lan twice: reported once), then of the nodes
  CHECK(f[0].problem == Problem::network_missing);
  CHECK(f[0].node == "n2");
  CHECK(f[0].detail == "network 'lan' is not defined on n2");
  CHECK(f[1].problem == Problem::network_inactive);
  CHECK(f[1].node == "n3");
  CHECK(f[2].problem == Problem::network_differs);
  CHECK(f[2].detail ==
        "network 'lan' differs on n3: DHCP range: 198.18.60.100-198.18.60.150 on n1, 198.18.60.100-198.18.60.200 on n3");
  CHECK(f[2].blocking());
  CHECK(f[3].problem == Problem::bridge_missing);
  CHECK(f[3].node == "n2");
  CHECK(f[4].problem == Problem::bridge_unknown);
  CHECK_FALSE(f[4].blocking());
}

TEST_CASE("cluster check: the reference is the node the VM runs on", "[network]") {
  std::vector<NodeFacts> nodes{{"n1", std::nullopt, {info(lan("198.18.60.100-198.18.60.200"))}, std::set<std::string>{"br0"}},
                               {"n2", std::nullopt, {info(lan())}, std::set<std::string>{"br0"}}};
  const auto f = check_vm_networks({vm({"n2"})}, nodes);
  REQUIRE(f.size() == 1);
  CHECK(f[0].node == "n1");
  CHECK(f[0].detail.find("on n2, 198.18.60.100-198.18.60.200 on n1") != std::string::npos);
}

TEST_CASE("cluster check: unreadable configs and unreachable nodes are findings", "[network]") {
  std::vector<NodeFacts> nodes{{"n1", std::nullopt, {info(lan())}, std::set<std::string>{"br0"}},
                               {"n2", std::string("connect to hypervisor: refused"), {}, std::nullopt}};
  HaVm gone{"vm-db", "/shared/db/db.xml", std::nullopt, "No such file or directory", {}};
  const auto f = check_vm_networks({gone, vm()}, nodes);
  REQUIRE(f.size() == 2);
  CHECK(f[0].problem == Problem::config_unreadable);
  CHECK(f[0].detail == "config /shared/db/db.xml is unreadable: No such file or directory");
  CHECK(f[1].problem == Problem::node_unreachable);
  CHECK(f[1].node == "n2");
}

TEST_CASE("cluster check: an interface on a NAT network without a static DHCP entry is a warning", "[network]") {
  std::vector<NodeFacts> nodes{{"n1", std::nullopt, {info(lan())}, std::set<std::string>{}},
                               {"n2", std::nullopt, {info(lan())}, std::set<std::string>{}}};
  const std::string xml =
      "<domain><name>db</name><devices>"
      "<interface type='network'><mac address='52:54:00:00:00:09'/><source network='lan'/></interface>"
      "<interface type='network'><source network='lan'/></interface>"
      "<interface type='network'><mac address='52:54:00:00:00:02'/><source network='lan'/></interface></devices></domain>";
  const auto f = check_vm_networks({{"vm-db", "/db.xml", xml, "", {}}}, nodes);
  REQUIRE(f.size() == 2);
  CHECK(f[0].problem == Problem::dynamic_address);
  CHECK_FALSE(f[0].blocking());
  CHECK(f[0].detail.find("interface 52:54:00:00:00:09 has no static DHCP entry on NAT network 'lan'") != std::string::npos);
  CHECK(f[1].detail.find("has no MAC in /db.xml") != std::string::npos);
}
