#include <evos/cluster/admin.hpp>
#include <evos/cluster/vm_ha.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

using namespace evos;
using namespace evos::cluster;

namespace {

constexpr char config[] = R"(<configuration><resources>
  <primitive id="vm-web1" class="ocf" provider="evos" type="vm">
    <instance_attributes id="vm-web1-instance_attributes">
      <nvpair id="a" name="config" value="/srv/vms/web1/web1.xml"/>
    </instance_attributes>
  </primitive>
  <primitive id="other" class="ocf" provider="heartbeat" type="VirtualDomain">
    <instance_attributes id="o"><nvpair id="b" name="config" value="/srv/vms/db/db.xml"/></instance_attributes>
  </primitive>
  <group id="g"><primitive id="vm-db2" class="ocf" provider="evos" type="vm">
    <instance_attributes id="c"><nvpair id="d" name="config" value="/srv/vms/db2/db2.xml"/></instance_attributes>
  </primitive></group>
</resources></configuration>)";

std::string vm_shared_template() {
  std::ifstream in(std::string(EVOS_TEST_DATA_DIR) + "/../../crm-templates/vm-shared.crm");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("a VM is HA-managed when an ocf:evos:vm primitive has its definition as config") {
  CHECK(*find_vm_resource(config, "/srv/vms/web1/web1.xml") == std::optional<std::string>("vm-web1"));
  CHECK(*find_vm_resource(config, "/srv/vms/db2/db2.xml") == std::optional<std::string>("vm-db2"));
  CHECK_FALSE(find_vm_resource(config, "/srv/vms/db/db.xml")->has_value());  // not evos's agent
  CHECK_FALSE(find_vm_resource(config, "/srv/vms/web2/web2.xml")->has_value());
  CHECK(find_vm_resource("<cib><configuration/></cib>", "/x")->has_value() == false);
  CHECK(find_vm_resource("<status/>", "/x").error().code() == Errc::invalid_config);
  CHECK(find_vm_resource("<<", "/x").error().code() == Errc::invalid_config);
}

TEST_CASE("the ocf:evos:vm primitives of a CIB: config, target-role, promoted-mirror colocation") {
  const std::string cib = R"(<cib><configuration><crm_config/><nodes/><resources>
    <primitive id="vm-web1" class="ocf" provider="evos" type="vm">
      <instance_attributes id="vm-web1-ia"><nvpair id="a" name="config" value="/shared/web1/web1.xml"/></instance_attributes>
      <meta_attributes id="vm-web1-ma"><nvpair id="m" name="target-role" value="Stopped"/></meta_attributes>
    </primitive>
    <primitive id="vd" class="ocf" provider="heartbeat" type="VirtualDomain">
      <instance_attributes id="vd-ia"><nvpair id="b" name="config" value="/x.xml"/></instance_attributes>
    </primitive>
    <group id="g"><primitive id="vm-db" class="ocf" provider="evos" type="vm">
      <instance_attributes id="vm-db-ia"><nvpair id="c" name="config" value="/shared/db/db.xml"/></instance_attributes>
    </primitive></group>
    <primitive id="vm-web2" class="ocf" provider="evos" type="vm"/>
    <primitive id="vm-web3" class="ocf" provider="evos" type="vm"/>
  </resources><constraints>
    <rsc_colocation id="c1" score="INFINITY" rsc="vm-db" with-rsc="mirror-db-clone" with-rsc-role="Promoted"/>
    <rsc_colocation id="c2" score="INFINITY" rsc="vm-web2" with-rsc="ms-web2" with-rsc-role="Master"/>
    <rsc_colocation id="c3" score="100" rsc="vm-web1" with-rsc="mirror-web1-clone" with-rsc-role="Promoted"/>
    <rsc_colocation id="c4" score="INFINITY" rsc="vm-web3" with-rsc="ip"/>
  </constraints></configuration></cib>)";
  auto r = vm_resources(cib);
  REQUIRE(r);
  CHECK(*r == std::vector<VmResource>{{"vm-web1", "/shared/web1/web1.xml", "Stopped", false},
                                      {"vm-db", "/shared/db/db.xml", std::nullopt, true},
                                      {"vm-web2", "", std::nullopt, true},
                                      {"vm-web3", "", std::nullopt, false}});
  CHECK(vm_resources("<configuration/>").value().empty());
  CHECK(vm_resources("<status/>").error().code() == Errc::invalid_config);
  CHECK(vm_resources("<cib/>").error().code() == Errc::invalid_config);
  CHECK(vm_resources("<<").error().code() == Errc::invalid_config);
}

TEST_CASE("an id in use anywhere in the configuration is found") {
  CHECK(*has_id(config, "vm-web1"));
  CHECK(*has_id(config, "d"));  // an nvpair: ids are unique across the CIB
  CHECK_FALSE(*has_id(config, "vm-web"));
  CHECK(has_id("<<", "x").error().code() == Errc::invalid_argument);
}

TEST_CASE("vm-shared.crm rendered stopped gets target-role=Stopped in its meta part") {
  const auto tpl = vm_shared_template();
  REQUIRE_FALSE(tpl.empty());
  auto rendered = render_vm_shared(tpl, {.name = "web1", .config = "/srv/vms/web1/web1.xml"});
  REQUIRE(rendered);
  auto stopped = vm_shared_stopped(*rendered);
  REQUIRE(stopped);
  CHECK(stopped->find("meta target-role=Stopped allow-migrate=true") != std::string::npos);
  CHECK(stopped->size() == rendered->size() + std::string("target-role=Stopped ").size());
  CHECK(vm_shared_stopped("primitive x ocf:evos:vm params config=/a").error().code() == Errc::invalid_config);
  CHECK(vm_shared_stopped("primitive x meta a=1\nprimitive y meta b=2").error().code() == Errc::invalid_config);
}

TEST_CASE("the cluster reports a VM started on exactly one node, stopped nowhere") {
  ResourceStatus r{.id = "vm-web1", .role = "Started", .active = true, .nodes = {"n1"}};
  CHECK(vm_resource_reached(&r, true));
  CHECK_FALSE(vm_resource_reached(&r, false));
  r.nodes = {"n1", "n2"};
  CHECK_FALSE(vm_resource_reached(&r, true));
  // crm_mon 2.1 while an action is in flight: role Starting/Stopping, active="true"
  r = ResourceStatus{.id = "vm-web1", .role = "Starting", .active = true, .nodes = {"n1"}};
  CHECK_FALSE(vm_resource_reached(&r, true));
  CHECK_FALSE(vm_resource_reached(&r, false));
  r.role = "Stopping";
  CHECK_FALSE(vm_resource_reached(&r, true));
  CHECK_FALSE(vm_resource_reached(&r, false));
  r.active = false;
  CHECK_FALSE(vm_resource_reached(&r, false));
  r.role = "Stopped";
  r.nodes.clear();
  CHECK(vm_resource_reached(&r, false));
  CHECK_FALSE(vm_resource_reached(&r, true));
  CHECK(vm_resource_reached(nullptr, false));
  CHECK_FALSE(vm_resource_reached(nullptr, true));
}
