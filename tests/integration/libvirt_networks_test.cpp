// LibvirtHypervisor's network port (network::NetworkHost, Hypervisor::network_presence) against
// libvirt's test:///default driver: the real libvirt client calls, no daemon.
#include <evos/network/admin.hpp>
#include <evos/virt/libvirt_hypervisor.hpp>

#include <catch2/catch.hpp>
#include <libvirt/libvirt.h>

#include <algorithm>

using namespace evos;

namespace {

std::unique_ptr<virt::LibvirtHypervisor> connect() {
  auto hv = virt::connect_libvirt("test:///default");
  REQUIRE(hv);
  return std::move(*hv);
}

const network::NetworkInfo* find(const std::vector<network::NetworkInfo>& nets, const std::string& name) {
  auto it = std::find_if(nets.begin(), nets.end(), [&](const auto& n) { return n.name == name; });
  return it == nets.end() ? nullptr : &*it;
}

}  // namespace

TEST_CASE("networks through the adapter: define, start, autostart, read back, stop, undefine") {
  auto hv = connect();
  auto spec = network::nat_spec({"evos-td-nat", "198.18.90.1/24", "198.18.90.100-198.18.90.150", {"52:54:00:00:90:01=198.18.90.10"}});
  REQUIRE(spec);
  CHECK(*hv->network_presence("evos-td-nat") == vm::NetworkPresence::missing);
  REQUIRE(hv->define_network(network::to_xml(*spec)));
  CHECK(*hv->network_presence("evos-td-nat") == vm::NetworkPresence::inactive);
  REQUIRE(hv->start_network("evos-td-nat"));
  REQUIRE(hv->set_network_autostart("evos-td-nat", true));
  CHECK(*hv->network_presence("evos-td-nat") == vm::NetworkPresence::active);

  auto nets = hv->networks();
  if (!nets) FAIL(nets.error().message());
  const auto* n = find(*nets, "evos-td-nat");
  REQUIRE(n);
  CHECK(n->active);
  CHECK(n->persistent);
  CHECK(n->autostart);
  // What libvirt gives back (with its UUID and bridge name) is the definition evos wrote.
  auto back = network::parse_xml(n->xml);
  REQUIRE(back);
  CHECK(network::compare(*spec, *back).empty());
  CHECK(find(*nets, "default"));  // the test driver's own

  REQUIRE(hv->stop_network("evos-td-nat"));
  REQUIRE(hv->stop_network("evos-td-nat"));  // not running: nothing to do
  REQUIRE(hv->undefine_network("evos-td-nat"));
  CHECK(*hv->network_presence("evos-td-nat") == vm::NetworkPresence::missing);
  auto gone = hv->start_network("evos-td-nat");
  REQUIRE_FALSE(gone);
  CHECK(gone.error().code() == Errc::not_found);
}

TEST_CASE("network create and delete through the adapter: refused while a domain uses the network") {
  auto hv = connect();
  auto spec = network::nat_spec({"evos-td-used", "198.18.91.1/24", std::nullopt, {}});
  REQUIRE(spec);
  const std::vector<network::Node> nodes{{"test:///default", hv.get()}};
  auto made = network::create_network(*spec, nodes);
  if (!made) FAIL(made.error().message());
  CHECK((*made)[0].action == network::CreateAction::created);
  auto again = network::create_network(*spec, nodes);
  REQUIRE(again);
  CHECK((*again)[0].action == network::CreateAction::already_exists);

  REQUIRE(hv->define("<domain type='test'><name>evos-td-guest</name><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os>"
                     "<devices><interface type='network'><source network='evos-td-used'/></interface></devices></domain>"));
  auto refused = network::delete_network("evos-td-used", nodes);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message().find("in use by evos-td-guest (defined) on test:///default") != std::string::npos);
  {
    // test:///default is one state for every connection in the process; the adapter has no undefine.
    virConnectPtr raw = virConnectOpen("test:///default");
    REQUIRE(raw);
    virDomainPtr dom = virDomainLookupByName(raw, "evos-td-guest");
    REQUIRE(dom);
    CHECK(virDomainUndefine(dom) == 0);
    virDomainFree(dom);
    virConnectClose(raw);
  }
  auto deleted = network::delete_network("evos-td-used", nodes);
  if (!deleted) FAIL(deleted.error().message());
  CHECK((*deleted)[0].existed);

  auto bridges = hv->host_bridges();
  REQUIRE(bridges);  // the test driver lists its own fake interfaces, or none
}
