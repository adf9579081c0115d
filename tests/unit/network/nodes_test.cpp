#include <evos/network/nodes.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::network;

TEST_CASE("network: the hypervisors of the cluster's nodes", "[network]") {
  CHECK(*node_uri("qemu+tcp://%n/system", "node2") == "qemu+tcp://node2/system");
  CHECK(*node_uri("qemu+unix:///system?socket=/run/%n/sock", "h1") == "qemu+unix:///system?socket=/run/h1/sock");
  for (const char* bad : {"", "a/b", "n2?socket=/x", "a b", "x@y"}) CHECK_FALSE(node_uri("qemu+tcp://%n/system", bad));

  CHECK(*default_hypervisors("qemu:///system", nullptr) == std::vector<std::string>{"qemu:///system"});
  cluster::Membership m;
  m.local_nodeid = 2;
  m.nodes = {{1, "node1", true}, {2, "node2", true}, {3, "node3", false}};
  CHECK(*default_hypervisors("qemu:///system", &m) ==
        std::vector<std::string>{"qemu:///system", "qemu+tcp://node1/system", "qemu+tcp://node3/system"});
  m.nodes.push_back({4, "bad/name", true});
  CHECK_FALSE(default_hypervisors("qemu:///system", &m));
}
