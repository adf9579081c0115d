#include <evos/cluster/cib_plan.hpp>

#include <catch2/catch.hpp>

#include <algorithm>

using namespace evos;
using namespace evos::cluster;

namespace {

// A configuration as `cibadmin --query --scope configuration` prints it after cluster init,
// vm ha enable web1 and web2, testip enable --vm web1 --mirror m-clone and a vm migrate
// (whose move was not cleared).
const std::string config = R"(<configuration>
  <crm_config><cluster_property_set id="cib-bootstrap-options">
    <nvpair id="o1" name="priority-fencing-delay" value="5s"/></cluster_property_set></crm_config>
  <nodes/>
  <resources>
    <primitive id="vm-web1" class="ocf" provider="evos" type="vm"/>
    <primitive id="vm-web2" class="ocf" provider="evos" type="vm"/>
    <clone id="testip-clone"><primitive id="testip" class="ocf" provider="evos" type="ping">
      <instance_attributes id="testip-ia"><nvpair id="testip-name" name="name" value="evos-testip"/></instance_attributes>
    </primitive></clone>
    <clone id="m-clone"><primitive id="m" class="ocf" provider="evos" type="mirror"/></clone>
    <group id="g"><primitive id="vm-grouped" class="ocf" provider="evos" type="vm"/></group>
  </resources>
  <constraints>
    <rsc_location id="vm-web1-testip-none" rsc="vm-web1"><rule id="r1" score="-INFINITY" boolean-op="or">
      <expression id="e1" attribute="evos-testip" operation="not_defined"/>
      <expression id="e2" attribute="evos-testip" operation="lte" value="0"/></rule></rsc_location>
    <rsc_location id="vm-web1-testip-more" rsc="vm-web1"><rule id="r2" score-attribute="evos-testip">
      <expression id="e3" attribute="evos-testip" operation="defined"/></rule></rsc_location>
    <rsc_location id="vm-web1-testip-evosd" rsc="vm-web1"><rule id="r4" score="-INFINITY" boolean-op="and">
      <expression id="e5" attribute="evos-testip-evosd" operation="defined"/>
      <expression id="e6" attribute="evos-testip-evosd" operation="lte" value="0"/></rule></rsc_location>
    <rsc_location id="m-clone-testip-none" rsc="m-clone"><rule id="r3" role="Promoted" score="-INFINITY">
      <expression id="e4" attribute="evos-testip" operation="not_defined"/></rule></rsc_location>
    <rsc_location id="cli-prefer-vm-web1" rsc="vm-web1" node="n2" score="INFINITY"/>
    <rsc_colocation id="vm-web1-with-mirror" rsc="vm-web1" with-rsc="m-clone" score="INFINITY" with-rsc-role="Promoted"/>
    <rsc_order id="vm-web1-after-mirror" first="m-clone" then="vm-web1" kind="Mandatory"/>
    <rsc_location id="vm-web2-pref" rsc="vm-web2" node="n1" score="50"/>
    <rsc_location id="vm-web10-pref" rsc="vm-web10" node="n1" score="50"/>
  </constraints>
</configuration>)";

bool has(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

}  // namespace

TEST_CASE("a VM's removal: the primitive and every constraint naming it, nothing else") {
  auto p = plan_vm_removal(config, "vm-web1");
  REQUIRE(p);
  CHECK(p->ids == std::vector<std::string>{"vm-web1", "vm-web1-testip-none", "vm-web1-testip-more", "vm-web1-testip-evosd",
                                           "cli-prefer-vm-web1", "vm-web1-with-mirror", "vm-web1-after-mirror"});
  CHECK(p->xpath.find("/cib/configuration/resources/primitive[@id='vm-web1']") == 0);
  CHECK(p->xpath.find("/cib/configuration/constraints/*[@id='vm-web1-after-mirror']") != std::string::npos);
  CHECK(p->xpath.find("vm-web2") == std::string::npos);
  CHECK(p->xpath.find("vm-web10") == std::string::npos);  // a name that starts the same is another VM
  CHECK(p->xpath.find("m-clone-testip-none") == std::string::npos);
}

TEST_CASE("a VM's removal: leftover constraints alone; absent; inside a group; in a resource set") {
  const std::string leftovers = R"(<configuration><resources/><constraints>
    <rsc_location id="vm-old-testip-more" rsc="vm-old"><rule id="r" score-attribute="evos-testip">
    <expression id="e" attribute="evos-testip" operation="defined"/></rule></rsc_location></constraints></configuration>)";
  auto p = plan_vm_removal(leftovers, "vm-old");
  REQUIRE(p);
  CHECK(p->ids == std::vector<std::string>{"vm-old-testip-more"});

  auto absent = plan_vm_removal(config, "vm-none");
  REQUIRE_FALSE(absent);
  CHECK(absent.error().code() == Errc::not_found);

  auto grouped = plan_vm_removal(config, "vm-grouped");
  REQUIRE_FALSE(grouped);
  CHECK(grouped.error().code() == Errc::invalid_config);
  CHECK(grouped.error().message().find("group") != std::string::npos);

  const std::string sets = R"(<configuration><resources><primitive id="vm-a" class="ocf" type="x"/></resources><constraints>
    <rsc_order id="o-set"><resource_set id="s"><resource_ref id="vm-a"/><resource_ref id="vm-b"/></resource_set></rsc_order>
    </constraints></configuration>)";
  auto in_set = plan_vm_removal(sets, "vm-a");
  REQUIRE_FALSE(in_set);
  CHECK(in_set.error().message().find("o-set") != std::string::npos);

  CHECK(plan_vm_removal("<not-xml", "vm-a").error().code() == Errc::invalid_argument);
  CHECK(plan_vm_removal("<status/>", "vm-a").error().code() == Errc::invalid_argument);
}

TEST_CASE("a full CIB document is read as its configuration") {
  auto p = plan_vm_removal("<cib>" + config + "<status/></cib>", "vm-web2");
  REQUIRE(p);
  CHECK(p->ids == std::vector<std::string>{"vm-web2", "vm-web2-pref"});
}

TEST_CASE("the test IPs' removal: the clone and every rule on its attribute and on evosd's") {
  auto p = plan_testip_removal(config);
  REQUIRE(p);
  CHECK(p->ids == std::vector<std::string>{"testip-clone", "vm-web1-testip-none", "vm-web1-testip-more", "vm-web1-testip-evosd",
                                           "m-clone-testip-none"});
  CHECK(p->xpath.find("/cib/configuration/resources/clone[@id='testip-clone']") == 0);
  CHECK_FALSE(has(p->ids, "vm-web1"));
  CHECK_FALSE(has(p->ids, "cli-prefer-vm-web1"));

  auto none = plan_testip_removal(R"(<configuration><resources/><constraints/></configuration>)");
  REQUIRE_FALSE(none);
  CHECK(none.error().code() == Errc::not_found);
}

TEST_CASE("the test IPs' removal follows the clone's attribute name") {
  const std::string renamed = R"(<configuration><resources><clone id="testip-clone"><primitive id="testip" class="ocf" type="ping">
    <instance_attributes id="i"><nvpair id="n" name="name" value="corp"/></instance_attributes></primitive></clone></resources>
    <constraints><rsc_location id="a" rsc="vm-x"><rule id="r" score="-INFINITY"><expression id="e" attribute="corp" operation="not_defined"/></rule></rsc_location>
    <rsc_location id="b" rsc="vm-x"><rule id="r2" score="-INFINITY"><expression id="e2" attribute="evos-testip" operation="not_defined"/></rule></rsc_location>
    <rsc_location id="d" rsc="vm-x"><rule id="r3" score="-INFINITY"><expression id="e3" attribute="corp-evosd" operation="defined"/></rule></rsc_location>
    <rsc_colocation id="c" rsc="vm-x" with-rsc="testip-clone" score="100"/></constraints></configuration>)";
  auto p = plan_testip_removal(renamed);
  REQUIRE(p);
  CHECK(p->ids == std::vector<std::string>{"testip-clone", "c", "a", "d"});
}

namespace {
const std::string before_race = R"(<configuration><crm_config>
  <cluster_property_set id="cib-bootstrap-options"><nvpair id="o1" name="priority-fencing-delay" value="5s"/></cluster_property_set>
  </crm_config><resources/><constraints/>
  <fencing-topology><fencing-level id="l1" target="n1" index="1" devices="fence-n1"/>
  <fencing-level id="l2" target="n1" index="2" devices="fence-a,fence-b"/></fencing-topology></configuration>)";
}  // namespace

TEST_CASE("fencing before the race: read, saved as crmsh, read back") {
  auto b = read_fencing(before_race);
  REQUIRE(b);
  CHECK(b->priority_fencing_delay == std::optional<std::string>("5s"));
  REQUIRE(b->topology.size() == 2);
  CHECK(b->topology[1] == FencingLevel{"l2", "n1", 2, {"fence-a", "fence-b"}});
  CHECK(fencing_before_crm(*b) ==
        "property evos-fence-race-before: evos-fencing-topology=\"l1/n1/1/fence-n1 l2/n1/2/fence-a,fence-b\" evos-priority-fencing-delay=\"5s\"\n");
  CHECK(fencing_before_crm(FencingBefore{}) == "property evos-fence-race-before: evos-fencing-topology=\"none\"\n");

  // what crmsh makes of that line, read back
  const std::string saved = R"(<configuration><crm_config><cluster_property_set id="evos-fence-race-before">
    <nvpair id="s1" name="evos-fencing-topology" value="l1/n1/1/fence-n1 l2/n1/2/fence-a,fence-b"/>
    <nvpair id="s2" name="evos-priority-fencing-delay" value="5s"/></cluster_property_set></crm_config></configuration>)";
  auto back = read_fencing_before(saved);
  REQUIRE(back);
  REQUIRE(*back);
  CHECK(**back == *b);
  auto nothing = read_fencing_before(before_race);
  REQUIRE(nothing);
  CHECK_FALSE(*nothing);

  const std::string pattern = R"(<configuration><fencing-topology><fencing-level id="l" target-pattern="n.*" index="1" devices="f"/></fencing-topology></configuration>)";
  CHECK(read_fencing(pattern).error().code() == Errc::invalid_config);
  const std::string damaged = R"(<configuration><crm_config><cluster_property_set id="evos-fence-race-before">
    <nvpair id="s1" name="evos-fencing-topology" value="l1/n1/x/fence-n1"/></cluster_property_set></crm_config></configuration>)";
  CHECK(read_fencing_before(damaged).error().code() == Errc::invalid_config);
}

TEST_CASE("the race's removal: the saved topology and delay back, the device and the saved set gone") {
  const std::string enabled = R"(<configuration><crm_config>
    <cluster_property_set id="cib-bootstrap-options"><nvpair id="o1" name="priority-fencing-delay" value="0"/></cluster_property_set>
    <cluster_property_set id="evos-fence-race-before"><nvpair id="s1" name="evos-fencing-topology" value="fl-n1/n1/1/fence-n1 fl-n2/n2/1/fence-n2"/>
    <nvpair id="s2" name="evos-priority-fencing-delay" value="5s"/></cluster_property_set></crm_config>
    <resources><primitive id="fence-race" class="stonith" type="fence_evos_race"/></resources><constraints/>
    <fencing-topology><fencing-level id="a" target="n1" index="1" devices="fence-race,fence-n1"/>
    <fencing-level id="b" target="n2" index="1" devices="fence-race,fence-n2"/></fencing-topology></configuration>)";
  auto p = plan_fence_race_removal(enabled);
  REQUIRE(p);
  CHECK(p->removal.ids == std::vector<std::string>{"fence-race", "evos-fence-race-before"});
  CHECK(p->restore_delay);
  CHECK(p->priority_fencing_delay == std::optional<std::string>("5s"));
  CHECK(p->topology_xml ==
        R"(<fencing-topology><fencing-level id="fl-n1" target="n1" index="1" devices="fence-n1"/><fencing-level id="fl-n2" target="n2" index="1" devices="fence-n2"/></fencing-topology>)");

  // before enable: no topology, no delay
  const std::string from_nothing = R"(<configuration><crm_config><cluster_property_set id="evos-fence-race-before">
    <nvpair id="s1" name="evos-fencing-topology" value="none"/></cluster_property_set></crm_config>
    <resources><primitive id="fence-race" class="stonith" type="fence_evos_race"/></resources>
    <fencing-topology><fencing-level id="a" target="n1" index="1" devices="fence-race,fence-n1"/></fencing-topology></configuration>)";
  auto q = plan_fence_race_removal(from_nothing);
  REQUIRE(q);
  CHECK(q->topology_xml.empty());  // the section goes with the device, in the same change
  CHECK(q->removal.ids == std::vector<std::string>{"fence-race", "evos-fence-race-before", "fencing-topology"});
  CHECK(q->removal.xpath.find(" | /cib/configuration/fencing-topology") != std::string::npos);
  CHECK(q->restore_delay);
  CHECK_FALSE(q->priority_fencing_delay);
}

TEST_CASE("the race's removal without saved state: fence-race out of each level, the delay alone") {
  const std::string by_hand = R"(<configuration><resources><primitive id="fence-race" class="stonith" type="fence_evos_race"/></resources>
    <constraints><rsc_location id="fence-race-not-n1" rsc="fence-race" node="n1" score="-INFINITY"/></constraints>
    <fencing-topology><fencing-level id="a" target="n1" index="1" devices="fence-race,fence-n1"/>
    <fencing-level id="b" target="n2" index="1" devices="fence-race"/></fencing-topology></configuration>)";
  auto p = plan_fence_race_removal(by_hand);
  REQUIRE(p);
  CHECK(p->removal.ids == std::vector<std::string>{"fence-race", "fence-race-not-n1"});
  CHECK_FALSE(p->restore_delay);
  CHECK(p->topology_xml == R"(<fencing-topology><fencing-level id="a" target="n1" index="1" devices="fence-n1"/></fencing-topology>)");

  auto none = plan_fence_race_removal(R"(<configuration><resources/></configuration>)");
  REQUIRE_FALSE(none);
  CHECK(none.error().code() == Errc::not_found);
}

TEST_CASE("a primitive is found with its agent and target-role") {
  auto web1 = find_primitive(config, "vm-web1");
  REQUIRE(web1);
  REQUIRE(*web1);
  CHECK((*web1)->agent == "ocf:evos:vm");
  CHECK((*web1)->target_role.empty());
  auto grouped = find_primitive(config, "vm-grouped");
  REQUIRE(grouped);
  CHECK(*grouped);
  auto none = find_primitive(config, "vm-web10");
  REQUIRE(none);
  CHECK_FALSE(*none);
  const std::string stopped = R"(<configuration><resources><primitive id="vm-x" class="ocf" provider="evos" type="vm">
    <meta_attributes id="vm-x-meta"><nvpair id="vm-x-tr" name="target-role" value="Stopped"/></meta_attributes>
    </primitive><primitive id="st" class="stonith" type="fence_x"/></resources></configuration>)";
  CHECK((*find_primitive(stopped, "vm-x"))->target_role == "Stopped");
  CHECK((*find_primitive(stopped, "st"))->agent == "stonith:fence_x");
  CHECK_FALSE(find_primitive("<nodes/>", "vm-x"));
}
