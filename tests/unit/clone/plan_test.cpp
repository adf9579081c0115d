#include <evos/clone/plan.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::clone;

namespace {

constexpr char web1[] = R"(<domain type='kvm'>
  <name>web1</name>
  <uuid>4b5c0b0e-1111-2222-3333-444455556666</uuid>
  <memory unit='MiB'>512</memory>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/srv/vms/web1/web1-vda.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='/srv/vms/web1/web1-vdb.img'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='/srv/iso/debian.iso'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>
    <interface type='network'><mac address='52:54:00:12:34:56'/><source network='default'/></interface>
    <serial type='file'><source path='/srv/vms/web1/web1.serial.log' append='on'/><target port='0'/></serial>
  </devices>
</domain>)";

vm::VmLayout at(const char* name) { return *vm::layout("/srv/vms", name); }

BackingChain standalone(const std::string& file, const std::string& format) {
  return {ImageInfo{.filename = file, .format = format, .virtual_size = 1 << 30, .backing = {}, .backing_format = {}}};
}

SourceFacts facts_of(const std::string& xml) {
  SourceFacts f{.definition = xml, .chains = {}};
  f.chains["/srv/vms/web1/web1-vda.qcow2"] = standalone("/srv/vms/web1/web1-vda.qcow2", "qcow2");
  f.chains["/srv/vms/web1/web1-vdb.img"] = standalone("/srv/vms/web1/web1-vdb.img", "raw");
  return f;
}

}  // namespace

TEST_CASE("a definition's disks are its file disks, not its CD-ROMs", "[clone]") {
  auto disks = domain_disks(web1);
  REQUIRE(disks);
  REQUIRE(disks->size() == 2);
  CHECK((*disks)[0].target == "vda");
  CHECK((*disks)[0].file == "/srv/vms/web1/web1-vda.qcow2");
  CHECK((*disks)[0].format == "qcow2");
  CHECK((*disks)[1].format == "raw");
}

TEST_CASE("disks evos cannot copy are named", "[clone]") {
  auto problem = [](const std::string& disk) {
    auto r = domain_disks("<domain><name>x</name><devices>" + disk + "</devices></domain>");
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::invalid_config);
    return r.error().message();
  };
  CHECK_THAT(problem("<disk type='block' device='disk'><driver type='raw'/><source dev='/dev/drbd0'/><target dev='vda'/></disk>"),
             Catch::Contains("disk vda is not a file (type='block')"));
  CHECK_THAT(problem("<disk type='file' device='disk'><driver type='qcow2'/><source file='rel.qcow2'/><target dev='vda'/></disk>"),
             Catch::Contains("no absolute <source file>"));
  CHECK_THAT(problem("<disk type='file' device='disk'><driver type='vmdk'/><source file='/a.vmdk'/><target dev='vda'/></disk>"),
             Catch::Contains("format 'vmdk'"));
  CHECK_THAT(problem("<disk type='file' device='disk'><driver type='raw'/><source file='/a'/></disk>"), Catch::Contains("no <target dev>"));
  CHECK_THAT(problem("<disk type='file'><driver type='raw'/><source file='/a'/><target dev='vda'/></disk>"
                     "<disk type='file'><driver type='raw'/><source file='/b'/><target dev='vda'/></disk>"),
             Catch::Contains("two disks vda"));
  CHECK(domain_disks("<notadomain/>").error().code() == Errc::invalid_config);
  CHECK(domain_disks("<domain").error().code() == Errc::invalid_config);
}

TEST_CASE("a full clone reflinks each standalone disk into the new VM's directory", "[clone]") {
  auto plan = plan_clone(at("web1"), at("web2"), Kind::full, facts_of(web1));
  REQUIRE(plan);
  REQUIRE(plan->disks.size() == 2);
  CHECK(plan->disks[0].method == Method::reflink);
  CHECK(plan->disks[0].source == "/srv/vms/web1/web1-vda.qcow2");
  CHECK(plan->disks[0].file == "/srv/vms/web2/web2-vda.qcow2");
  CHECK(plan->disks[0].format == "qcow2");
  CHECK(plan->disks[1].file == "/srv/vms/web2/web2-vdb.img");
  CHECK(plan->disks[1].format == "raw");
  const auto& x = plan->definition;
  CHECK_THAT(x, Catch::Contains("<name>web2</name>"));
  CHECK_THAT(x, !Catch::Contains("<uuid>"));
  CHECK_THAT(x, !Catch::Contains("52:54:00:12:34:56"));
  CHECK_THAT(x, Catch::Contains("/srv/vms/web2/web2-vda.qcow2"));
  CHECK_THAT(x, Catch::Contains("/srv/vms/web2/web2-vdb.img"));
  CHECK_THAT(x, !Catch::Contains("/srv/vms/web1/"));       // no disk or log of the original
  CHECK_THAT(x, Catch::Contains("/srv/iso/debian.iso"));   // the CD-ROM stays
  CHECK_THAT(x, Catch::Contains("/srv/vms/web2/web2.serial-0.log"));
}

TEST_CASE("a full clone of an overlay is a copy of its whole chain, not a reflink that still needs the base", "[clone]") {
  auto f = facts_of(web1);
  f.chains["/srv/vms/web1/web1-vda.qcow2"] = {
      ImageInfo{.filename = "/srv/vms/web1/web1-vda.qcow2", .format = "qcow2", .virtual_size = 1,
                .backing = "/srv/vms/tpl/tpl-vda.qcow2", .backing_format = "qcow2"},
      ImageInfo{.filename = "/srv/vms/tpl/tpl-vda.qcow2", .format = "qcow2", .virtual_size = 1, .backing = {}, .backing_format = {}}};
  auto plan = plan_clone(at("web1"), at("web2"), Kind::full, f);
  REQUIRE(plan);
  CHECK(plan->disks[0].method == Method::copy);
  CHECK_THAT(plan->disks[0].why, Catch::Contains("overlay on /srv/vms/tpl/tpl-vda.qcow2"));
  CHECK(plan->disks[1].method == Method::reflink);
}

TEST_CASE("linked clones are made only from a template, as overlays on its disks", "[clone]") {
  auto refused = plan_clone(at("web1"), at("web2"), Kind::linked, facts_of(web1));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == Errc::invalid_argument);
  CHECK_THAT(refused.error().message(), Catch::Contains("web1 is not a template"));
  CHECK_THAT(refused.error().message(), Catch::Contains("evosctl vm template web1"));

  auto marked = mark_template(web1);
  REQUIRE(marked);
  auto plan = plan_clone(at("web1"), at("c1"), Kind::linked, facts_of(*marked));
  REQUIRE(plan);
  for (const auto& d : plan->disks) {
    CHECK(d.method == Method::overlay);
    CHECK(d.format == "qcow2");
  }
  CHECK(plan->disks[1].source == "/srv/vms/web1/web1-vdb.img");
  CHECK(plan->disks[1].source_format == "raw");
  CHECK(plan->disks[1].file == "/srv/vms/c1/c1-vdb.qcow2");  // an overlay on a raw disk is qcow2
  CHECK_THAT(plan->definition, Catch::Contains("<source file=\"/srv/vms/c1/c1-vdb.qcow2\""));
  auto clone_is_template = is_template(plan->definition);
  REQUIRE(clone_is_template);
  CHECK_FALSE(*clone_is_template);  // a clone of a template is an ordinary VM
}

TEST_CASE("the template mark is in the definition's metadata, once", "[clone]") {
  CHECK_FALSE(*is_template(web1));
  auto once = mark_template(web1);
  REQUIRE(once);
  CHECK(*is_template(*once));
  CHECK_THAT(*once, Catch::Contains(template_namespace));
  auto twice = mark_template(*once);
  REQUIRE(twice);
  CHECK(*twice == *once);
  // libvirt may give the element another prefix: the namespace is what counts.
  CHECK(*is_template(std::string("<domain><name>a</name><metadata><t:x xmlns:t='") + template_namespace +
                     "'/></metadata></domain>"));
  CHECK_FALSE(*is_template("<domain><name>a</name><metadata><t:template xmlns:t='https://example.org/other'/></metadata></domain>"));
  CHECK(is_template("<x/>").error().code() == Errc::invalid_config);
}

TEST_CASE("a clone plan refuses what it cannot do truthfully", "[clone]") {
  auto same = plan_clone(at("web1"), at("web1"), Kind::full, facts_of(web1));
  REQUIRE_FALSE(same);
  CHECK(same.error().code() == Errc::invalid_argument);

  auto f = facts_of(web1);
  f.chains.erase("/srv/vms/web1/web1-vdb.img");
  auto missing = plan_clone(at("web1"), at("web2"), Kind::full, f);
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message(), Catch::Contains("no image information for disk vdb"));

  f = facts_of(web1);
  f.chains["/srv/vms/web1/web1-vdb.img"] = standalone("/srv/vms/web1/web1-vdb.img", "qcow2");
  auto other = plan_clone(at("web1"), at("web2"), Kind::full, f);
  REQUIRE_FALSE(other);
  CHECK_THAT(other.error().message(), Catch::Contains("is a qcow2 image, but the definition opens it as raw"));

  auto none = plan_clone(at("web1"), at("web2"), Kind::full, SourceFacts{.definition = "<domain><name>web1</name></domain>", .chains = {}});
  REQUIRE_FALSE(none);
  CHECK_THAT(none.error().message(), Catch::Contains("no disk to clone"));
}

namespace {

// web1 with snapshot s1 (taken on its first images) and s2 (on s1's overlays); it writes s2's
// overlays now.
snapshot::Catalogue with_snapshots() {
  snapshot::Catalogue c;
  c.vm = "web1";
  c.images["/srv/vms/web1/web1-vda.qcow2"] = {.file = "/srv/vms/web1/web1-vda.qcow2", .format = "qcow2", .backing = {}, .owned = false};
  c.images["/srv/vms/web1/web1-vdb.img"] = {.file = "/srv/vms/web1/web1-vdb.img", .format = "raw", .backing = {}, .owned = false};
  c.images["/srv/vms/web1/snapshots/s1-vda.qcow2"] = {
      .file = "/srv/vms/web1/snapshots/s1-vda.qcow2", .format = "qcow2", .backing = "/srv/vms/web1/web1-vda.qcow2", .owned = true};
  c.images["/srv/vms/web1/snapshots/s1-vdb.qcow2"] = {
      .file = "/srv/vms/web1/snapshots/s1-vdb.qcow2", .format = "qcow2", .backing = "/srv/vms/web1/web1-vdb.img", .owned = true};
  snapshot::Snapshot s1{.name = "s1", .parent = {}, .created = "2026-12-07T01:54:42Z", .node = "n1",
                        .consistency = snapshot::Consistency::crash_consistent, .was_running = true,
                        .disks = {{"vda", "/srv/vms/web1/web1-vda.qcow2"}, {"vdb", "/srv/vms/web1/web1-vdb.img"}},
                        .domain_xml = web1};
  snapshot::Snapshot s2 = s1;
  s2.name = "s2";
  s2.parent = "s1";
  s2.disks = {{"vda", "/srv/vms/web1/snapshots/s1-vda.qcow2"}, {"vdb", "/srv/vms/web1/snapshots/s1-vdb.qcow2"}};
  c.snapshots = {s1, s2};
  return c;
}

}  // namespace

TEST_CASE("a clone of a snapshot starts from its definition on its frozen images", "[clone]") {
  auto xml = snapshot_source(at("web1"), with_snapshots(), "s2", Kind::full);
  REQUIRE(xml);
  auto disks = domain_disks(*xml);
  REQUIRE(disks);
  REQUIRE(disks->size() == 2);
  CHECK((*disks)[0].file == "/srv/vms/web1/snapshots/s1-vda.qcow2");
  CHECK((*disks)[0].format == "qcow2");
  CHECK((*disks)[1].file == "/srv/vms/web1/snapshots/s1-vdb.qcow2");
  CHECK((*disks)[1].format == "qcow2");  // the raw disk's snapshot image is a qcow2 overlay

  // Planned as any full clone: s2's images are overlays, so they are copied whole.
  SourceFacts f{.definition = *xml, .chains = {}};
  f.chains["/srv/vms/web1/snapshots/s1-vda.qcow2"] = {
      ImageInfo{.filename = "/srv/vms/web1/snapshots/s1-vda.qcow2", .format = "qcow2", .virtual_size = 1 << 30,
                .backing = "/srv/vms/web1/web1-vda.qcow2", .backing_format = "qcow2"},
      ImageInfo{.filename = "/srv/vms/web1/web1-vda.qcow2", .format = "qcow2", .virtual_size = 1 << 30, .backing = {}, .backing_format = {}}};
  f.chains["/srv/vms/web1/snapshots/s1-vdb.qcow2"] = {
      ImageInfo{.filename = "/srv/vms/web1/snapshots/s1-vdb.qcow2", .format = "qcow2", .virtual_size = 1 << 30,
                .backing = "/srv/vms/web1/web1-vdb.img", .backing_format = "raw"},
      ImageInfo{.filename = "/srv/vms/web1/web1-vdb.img", .format = "raw", .virtual_size = 1 << 30, .backing = {}, .backing_format = {}}};
  auto plan = plan_clone(at("web1"), at("old1"), Kind::full, f);
  REQUIRE(plan);
  REQUIRE(plan->disks.size() == 2);
  CHECK(plan->disks[0].method == Method::copy);
  CHECK(plan->disks[0].file == "/srv/vms/old1/old1-vda.qcow2");
  CHECK(plan->definition.find("<name>old1</name>") != std::string::npos);
  CHECK(plan->definition.find("52:54:00:12:34:56") == std::string::npos);

  // s1 froze the VM's first images, which stand alone: a reflink each.
  auto first = snapshot_source(at("web1"), with_snapshots(), "s1", Kind::full);
  REQUIRE(first);
  auto p1 = plan_clone(at("web1"), at("old1"), Kind::full, facts_of(*first));
  REQUIRE(p1);
  CHECK(p1->disks[0].method == Method::reflink);
  CHECK(p1->disks[1].source == "/srv/vms/web1/web1-vdb.img");
}

TEST_CASE("a clone of a snapshot: unknown snapshots, linked clones and broken catalogues are refused", "[clone]") {
  auto none = snapshot_source(at("web1"), with_snapshots(), "s9", Kind::full);
  REQUIRE_FALSE(none);
  CHECK(none.error().code() == Errc::not_found);
  CHECK(none.error().message().find("no snapshot 's9'") != std::string::npos);

  auto linked = snapshot_source(at("web1"), with_snapshots(), "s1", Kind::linked);
  REQUIRE_FALSE(linked);
  CHECK(linked.error().code() == Errc::invalid_argument);
  CHECK(linked.error().message().find("vm snapshot boot web1 s1") != std::string::npos);

  auto broken = with_snapshots();
  broken.images.erase("/srv/vms/web1/snapshots/s1-vdb.qcow2");
  auto b = snapshot_source(at("web1"), broken, "s2", Kind::full);
  REQUIRE_FALSE(b);
  CHECK(b.error().code() == Errc::invalid_config);
  CHECK(b.error().message().find("vdb") != std::string::npos);
}
