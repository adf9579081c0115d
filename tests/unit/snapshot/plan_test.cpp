#include <evos/snapshot/plan.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

using namespace evos;
using namespace evos::snapshot;

namespace {

const char* domain = R"(<domain type='kvm'>
  <name>web1</name>
  <uuid>11111111-2222-3333-4444-555555555555</uuid>
  <memory unit='MiB'>512</memory>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/srv/web1/web1-vda.qcow2'/><target dev='vda'/></disk>
    <interface type='network'><mac address='52:54:00:aa:bb:cc'/><source network='nat0'/></interface>
    <serial type='file'><source path='/srv/web1/web1.serial.log'/><target port='0'/></serial>
  </devices>
</domain>)";

const std::string base = "/srv/web1/web1-vda.qcow2";
const std::string o1 = "/srv/web1/snapshots/web1-vda.1.qcow2";
const std::string o2 = "/srv/web1/snapshots/web1-vda.2.qcow2";
const std::string o3 = "/srv/web1/snapshots/web1-vda.3.qcow2";
const std::string o4 = "/srv/web1/snapshots/web1-vda.4.qcow2";

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
bool contains(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

vm::VmLayout web1() { return *vm::layout("/srv", "web1"); }

SnapshotInfo info(std::string name) { return {.name = std::move(name), .created = "2026-12-07T01:00:00Z", .node = "a"}; }

// Takes snapshot `name` of the catalogue's current state; returns the plan.
CreatePlan take(Catalogue& c, std::string& xml, const std::string& name) {
  auto p = plan_create(c, web1(), xml, info(name), {});
  REQUIRE(p);
  c = p->after;
  xml = p->definition_xml;
  return *p;
}

}  // namespace

TEST_CASE("a snapshot freezes the current image and gives the VM a new overlay on it") {
  auto c = initial_catalogue("web1", domain);
  REQUIRE(c);
  std::string xml = domain;
  auto p = take(*c, xml, "s1");
  CHECK_FALSE(p.already_exists);
  REQUIRE(p.overlays.size() == 1);
  CHECK(p.overlays[0].file == o1);
  CHECK(p.overlays[0].backing == base);
  CHECK(p.overlays[0].backing_format == "qcow2");
  CHECK(c->find("s1")->disks.at("vda") == base);
  CHECK(c->current.at("vda") == o1);
  CHECK(c->current_parent == std::optional<std::string>("s1"));
  CHECK(c->images.at(o1).owned);
  CHECK(c->images.at(o1).backing == std::optional<std::string>(base));
  CHECK_FALSE(c->images.at(base).owned);
  CHECK(has(xml, "source file=\"" + o1 + "\""));
  CHECK(has(c->find("s1")->domain_xml, base));  // the definition as it was

  auto p2 = take(*c, xml, "s2");
  CHECK(p2.overlays[0].file == o2);
  CHECK(p2.overlays[0].backing == o1);
  CHECK(c->find("s2")->parent == std::optional<std::string>("s1"));
}

TEST_CASE("a snapshot that exists is already there, and nothing changes") {
  auto c = initial_catalogue("web1", domain);
  std::string xml = domain;
  take(*c, xml, "s1");
  auto again = plan_create(*c, web1(), xml, info("s1"), {});
  REQUIRE(again);
  CHECK(again->already_exists);
  CHECK(again->overlays.empty());
  CHECK(render_catalogue(again->after) == render_catalogue(*c));
}

TEST_CASE("overlay names skip files an interrupted command left behind") {
  auto c = initial_catalogue("web1", domain);
  auto p = plan_create(*c, web1(), domain, info("s1"), {o1, o2});
  REQUIRE(p);
  CHECK(p->overlays[0].file == o3);
  CHECK(p->after.next_serial == 4);
}

TEST_CASE("a snapshot is refused when the definition is not on the catalogue's current images") {
  auto c = initial_catalogue("web1", domain);
  std::string xml = domain;
  take(*c, xml, "s1");
  // The definition still on the old image: the VM would write into s1's image.
  auto p = plan_create(*c, web1(), domain, info("s2"), {});
  REQUIRE_FALSE(p);
  CHECK(p.error().code() == Errc::invalid_config);
  CHECK(has(p.error().message(), "disk vda on " + base));
  CHECK(plan_create(*c, web1(), xml, info("bad/name"), {}).error().code() == Errc::invalid_argument);
}

TEST_CASE("revert goes back to any snapshot, and frees only what nothing needs") {
  auto c = initial_catalogue("web1", domain);
  std::string xml = domain;
  take(*c, xml, "s1");  // s1 = base, current o1
  take(*c, xml, "s2");  // s2 = o1, current o2

  // Back to the older one, s1: a new overlay on the base; o2 (the current state) goes, o1 stays (s2's).
  auto r = plan_revert(*c, web1(), "s1", {});
  REQUIRE(r);
  REQUIRE(r->overlays.size() == 1);
  CHECK(r->overlays[0].file == o3);
  CHECK(r->overlays[0].backing == base);
  CHECK(r->after.current.at("vda") == o3);
  CHECK(r->after.current_parent == std::optional<std::string>("s1"));
  CHECK(r->remove == std::vector<std::string>{o2});
  CHECK(r->after.images.count(o1));
  CHECK_FALSE(r->after.images.count(o2));
  CHECK(r->after.snapshots.size() == 2);
  CHECK(has(r->definition_xml, "source file=\"" + o3 + "\""));
  CHECK(has(r->definition_xml, "11111111-2222-3333-4444-555555555555"));  // the same VM

  // And forward again to s2 from there: o3 goes.
  auto r2 = plan_revert(r->after, web1(), "s2", {});
  REQUIRE(r2);
  CHECK(r2->overlays[0].backing == o1);
  CHECK(r2->overlays[0].file == o4);
  CHECK(r2->remove == std::vector<std::string>{o3});

  CHECK(plan_revert(*c, web1(), "s9", {}).error().code() == Errc::not_found);
}

TEST_CASE("a revert never removes an image the VM did not get from evos") {
  auto c = initial_catalogue("web1", domain);
  std::string xml = domain;
  take(*c, xml, "s1");
  auto r = plan_revert(*c, web1(), "s1", {});
  REQUIRE(r);
  CHECK(r->remove == std::vector<std::string>{o1});
  CHECK(r->after.images.count(base));
}

TEST_CASE("delete removes a leaf snapshot's image unless the current disk stands on it") {
  auto c = initial_catalogue("web1", domain);
  std::string xml = domain;
  take(*c, xml, "s1");
  take(*c, xml, "s2");  // current o2 on o1 (s2's image)

  // s2 is a leaf and the current state descends from it: its image o1 stays as o2's backing.
  auto d = plan_delete(*c, "s2");
  REQUIRE(d);
  CHECK(d->remove.empty());
  CHECK(d->kept == std::vector<std::string>{o1});
  CHECK_FALSE(d->after.find("s2"));
  CHECK(d->after.current_parent == std::optional<std::string>("s1"));
  CHECK(d->after.images.count(o1));

  // After a revert to s1, s2's image is nothing's backing any more: deleting s2 frees it.
  auto r = plan_revert(*c, web1(), "s1", {});
  REQUIRE(r);
  auto d2 = plan_delete(r->after, "s2");
  REQUIRE(d2);
  CHECK(d2->remove == std::vector<std::string>{o1});
  CHECK(d2->kept.empty());
}

TEST_CASE("delete refuses a snapshot with children, one a booted copy stands on, and an unknown one") {
  auto c = initial_catalogue("web1", domain);
  std::string xml = domain;
  take(*c, xml, "s1");
  take(*c, xml, "s2");
  auto d = plan_delete(*c, "s1");
  REQUIRE_FALSE(d);
  CHECK(d.error().code() == Errc::invalid_argument);
  CHECK(has(d.error().message(), "has child snapshots (s2)"));

  auto b = plan_boot(*c, "/srv", "s2", "web1copy");
  REQUIRE(b);
  auto d2 = plan_delete(b->after, "s2");
  REQUIRE_FALSE(d2);
  CHECK(has(d2.error().message(), "VM 'web1copy' was booted from snapshot 's2'"));
  CHECK(plan_delete(*c, "nope").error().code() == Errc::not_found);
}

TEST_CASE("a snapshot boots as a new VM on a new overlay of the snapshot's image") {
  auto c = initial_catalogue("web1", domain);
  std::string xml = domain;
  take(*c, xml, "s1");
  auto b = plan_boot(*c, "/srv", "s1", "web1copy");
  REQUIRE(b);
  CHECK_FALSE(b->already_exists);
  CHECK(b->copy.dir() == "/srv/web1copy");
  REQUIRE(b->overlays.size() == 1);
  CHECK(b->overlays[0].file == "/srv/web1copy/web1copy-vda.qcow2");
  CHECK(b->overlays[0].backing == base);
  const auto& x = b->definition_xml;
  CHECK(has(x, "<name>web1copy</name>"));
  CHECK_FALSE(has(x, "<uuid>"));
  CHECK_FALSE(has(x, "52:54:00:aa:bb:cc"));
  CHECK(has(x, "/srv/web1copy/web1copy-vda.qcow2"));
  CHECK(has(x, "/srv/web1copy/web1copy.serial-0.log"));
  REQUIRE(b->after.copies.size() == 1);
  CHECK(b->after.copies[0].snapshot == "s1");

  auto again = plan_boot(b->after, "/srv", "s1", "web1copy");
  REQUIRE(again);
  CHECK(again->already_exists);
  take(b->after, xml, "s2");
  CHECK(has(plan_boot(b->after, "/srv", "s2", "web1copy").error().message(), "already booted from snapshot 's1'"));
  CHECK(plan_boot(*c, "/srv", "s1", "web1").error().code() == Errc::invalid_argument);
  CHECK(plan_boot(*c, "/srv", "s1", "a/b").error().code() == Errc::invalid_argument);
  CHECK(plan_boot(*c, "/srv", "s7", "web1copy").error().code() == Errc::not_found);
}

TEST_CASE("the images a booted copy stands on survive reverts and deletes around them") {
  auto c = initial_catalogue("web1", domain);
  std::string xml = domain;
  take(*c, xml, "s1");
  take(*c, xml, "s2");
  auto b = plan_boot(*c, "/srv", "s2", "web1copy");
  REQUIRE(b);
  auto r = plan_revert(b->after, web1(), "s1", {});
  REQUIRE(r);
  CHECK_FALSE(contains(r->remove, o1));  // s2's image, the copy's base
  CHECK(contains(r->remove, o2));
}

TEST_CASE("a live snapshot asks libvirt for one external overlay per disk") {
  const auto x = live_snapshot_xml("s1", {{"vda", o1, base, "qcow2"}, {"vdb", "/srv/a'b<c.qcow2", "/srv/b.img", "raw"}});
  CHECK(has(x, "<name>s1</name>"));
  CHECK(has(x, "<disk name=\"vda\" snapshot=\"external\" type=\"file\">"));
  CHECK(has(x, "<source file=\"" + o1 + "\""));
  CHECK(has(x, "a'b&lt;c.qcow2"));  // escaped, never markup
}

TEST_CASE("the HA resource of a VM is the ocf:evos:vm primitive with its definition as config") {
  const char* cib = R"(<configuration><resources>
    <primitive id="vm-other" class="ocf" provider="evos" type="vm">
      <instance_attributes id="a1"><nvpair id="a1c" name="config" value="/srv/other/other.xml"/></instance_attributes>
    </primitive>
    <primitive id="fake" class="ocf" provider="heartbeat" type="VirtualDomain">
      <instance_attributes id="a2"><nvpair id="a2c" name="config" value="/srv/web1/web1.xml"/></instance_attributes>
    </primitive>
    <group id="g"><primitive id="vm-web1" class="ocf" provider="evos" type="vm">
      <instance_attributes id="a3"><nvpair id="a3c" name="config" value="/srv/web1/web1.xml"/></instance_attributes>
      <meta_attributes id="m3"><nvpair id="m3t" name="target-role" value="Stopped"/></meta_attributes>
    </primitive></group>
  </resources></configuration>)";
  auto r = find_ha_resource(cib, {"/srv/web1/web1.xml"});
  REQUIRE(r);
  REQUIRE(*r);
  CHECK((*r)->id == "vm-web1");
  CHECK((*r)->target_role == std::optional<std::string>("Stopped"));
  auto none = find_ha_resource(cib, {"/srv/web2/web2.xml"});
  REQUIRE(none);
  CHECK_FALSE(*none);
  CHECK(find_ha_resource("<cib", {}).error().code() == Errc::invalid_config);
  CHECK(find_ha_resource("<status/>", {}).error().code() == Errc::invalid_config);
}
