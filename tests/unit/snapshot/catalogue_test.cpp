#include <evos/snapshot/catalogue.hpp>
#include <evos/snapshot/plan.hpp>

#include <catch2/catch.hpp>

#include <string>

using namespace evos;
using namespace evos::snapshot;

namespace {

const char* domain = R"(<domain type='kvm'>
  <name>web1</name>
  <uuid>11111111-2222-3333-4444-555555555555</uuid>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/srv/web1/web1-vda.qcow2'/>
      <backingStore/><target dev='vda'/></disk>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/srv/web1/web1-vdb.img'/><target dev='vdb'/></disk>
    <disk type='file' device='cdrom'><source file='/srv/install.iso'/><target dev='sda'/></disk>
  </devices>
</domain>)";

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A catalogue with two snapshots, as the plans make it.
Catalogue two_snapshots() {
  auto l = vm::layout("/srv", "web1");
  auto c = initial_catalogue("web1", domain);
  REQUIRE(c);
  auto p1 = plan_create(*c, *l, domain, {.name = "s1", .created = "2026-12-07T01:00:00Z", .node = "a", .running = true,
                                         .consistency = Consistency::crash_consistent}, {});
  REQUIRE(p1);
  auto p2 = plan_create(p1->after, *l, p1->definition_xml, {.name = "s2", .created = "2026-12-07T02:00:00Z", .node = "b"}, {});
  REQUIRE(p2);
  return p2->after;
}

std::string errors_of(const std::string& json) {
  auto c = parse_catalogue(json, "web1");
  REQUIRE_FALSE(c);
  CHECK(c.error().code() == Errc::invalid_config);
  return c.error().message();
}

}  // namespace

TEST_CASE("a snapshot catalogue survives rendering and parsing unchanged") {
  const auto c = two_snapshots();
  const std::string text = render_catalogue(c);
  auto back = parse_catalogue(text, "web1");
  REQUIRE(back);
  CHECK(render_catalogue(*back) == text);
  REQUIRE(back->snapshots.size() == 2);
  CHECK(back->snapshots[0].name == "s1");
  CHECK(back->snapshots[0].consistency == Consistency::crash_consistent);
  CHECK(back->snapshots[0].was_running);
  CHECK(back->snapshots[1].parent == std::optional<std::string>("s1"));
  CHECK(back->current_parent == std::optional<std::string>("s2"));
  CHECK(back->next_serial == 3);
  CHECK(has(text, "\"format\": \"evos-vm-snapshots\""));
  CHECK(has(text, "\"version\": 1"));
}

TEST_CASE("a damaged or foreign snapshot catalogue is refused with what is wrong") {
  const std::string good = render_catalogue(two_snapshots());
  auto edit = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
  };
  CHECK(has(errors_of(""), "not JSON"));
  CHECK(has(errors_of("{\"format\": "), "not JSON"));
  CHECK(has(errors_of("[1, 2]"), "not a JSON object"));
  CHECK(has(errors_of(good.substr(0, good.size() / 2)), "not JSON"));
  CHECK(has(errors_of(edit("evos-vm-snapshots", "something-else")), "format is 'something-else'"));
  CHECK(has(errors_of(edit("\"version\": 1", "\"version\": 2")), "written by a newer evos"));
  CHECK(has(errors_of(edit("\"version\": 1", "\"version\": \"1\"")), "no integer \"version\""));
  CHECK(has(errors_of(edit("\"kind\": \"external\"", "\"kind\": \"internal\"")), "external qcow2 overlays only"));
  CHECK(has(errors_of(edit("\"vm\": \"web1\"", "\"vm\": \"web2\"")), "catalogue of VM 'web2', not of 'web1'"));
  CHECK(has(errors_of(edit("\"parent\": \"s1\"", "\"parent\": \"s9\"")), "parent 's9' is not listed before it"));
  CHECK(has(errors_of(edit("\"name\": \"s2\"", "\"name\": \"s1\"")), "listed twice"));
  CHECK(has(errors_of(edit("\"name\": \"s2\"", "\"name\": \"../x\"")), "snapshot name"));
  CHECK(has(errors_of(edit("\"consistency\": \"offline\"", "\"consistency\": \"maybe\"")), "consistency 'maybe'"));
  CHECK(has(errors_of(edit("\"was_running\": false", "\"was_running\": 0")), "was_running"));
  CHECK(has(errors_of(edit("\"owned\": false", "\"owned\": \"no\"")), "owned"));
  CHECK(has(errors_of(edit("\"format\": \"raw\"", "\"format\": \"vmdk\"")), "format 'vmdk'"));
  CHECK(has(errors_of(edit("\"next_serial\": 3", "\"next_serial\": -3")), "next_serial"));
  CHECK(has(errors_of(edit("\"file\": \"/srv/web1/web1-vda.qcow2\"", "\"file\": \"srv/x\"")), "not an absolute path"));
  // A snapshot disk naming an image the catalogue does not list.
  CHECK(has(errors_of(edit("\"vda\": \"/srv/web1/web1-vda.qcow2\"", "\"vda\": \"/srv/other.qcow2\"")), "does not list"));
  CHECK(has(errors_of(edit("\"copies\": []", "\"copies\": {}")), "no \"copies\" list"));
}

TEST_CASE("a catalogue whose backing files loop is refused") {
  auto c = two_snapshots();
  // s1's image (the VM's first one) made an overlay on the newest: a loop.
  c.images.at("/srv/web1/web1-vda.qcow2").backing = c.current.at("vda");
  auto back = parse_catalogue(render_catalogue(c), "web1");
  REQUIRE_FALSE(back);
  CHECK(has(back.error().message(), "form a loop"));
}

TEST_CASE("snapshot names use the characters of VM names, at most 64") {
  CHECK_FALSE(snapshot_name_problem("before-upgrade_2.1+x"));
  CHECK(has(*snapshot_name_problem(""), "a snapshot name is empty"));
  CHECK(has(*snapshot_name_problem("a/b"), "snapshot name 'a/b'"));
  CHECK(snapshot_name_problem("-x"));
  CHECK(snapshot_name_problem(std::string(65, 'a')));
  CHECK_FALSE(snapshot_name_problem(std::string(64, 'a')));
}

TEST_CASE("the disks of a definition, and only those evos can snapshot") {
  auto disks = domain_disks(domain);
  REQUIRE(disks);
  REQUIRE(disks->size() == 2);  // the CD-ROM is not one
  CHECK((*disks)[0].target == "vda");
  CHECK((*disks)[0].format == "qcow2");
  CHECK((*disks)[1].source == "/srv/web1/web1-vdb.img");
  CHECK((*disks)[1].format == "raw");
  CHECK(has(domain_disks("<domain><devices><disk type='network' device='disk'><target dev='vda'/></disk></devices></domain>")
                .error().message(), "type 'network'"));
  CHECK(has(domain_disks("<domain><devices><disk type='file' device='disk'><source file='x'/><target dev='vda'/></disk></devices></domain>")
                .error().message(), "no absolute source"));
  CHECK(has(domain_disks("<domain><devices/></domain>").error().message(), "no disk to snapshot"));
  CHECK(has(domain_disks("<domain").error().message(), "not XML"));
  CHECK(has(domain_disks("<pool/>").error().message(), "no <domain>"));
}

TEST_CASE("the definition must use the images the catalogue calls current") {
  auto c = initial_catalogue("web1", domain);
  REQUIRE(c);
  CHECK(check_definition(*c, domain));
  std::string moved = domain;
  moved.replace(moved.find("/srv/web1/web1-vda.qcow2"), 24, "/srv/web1/other.qcow2");
  auto r = check_definition(*c, moved);
  REQUIRE_FALSE(r);
  CHECK(has(r.error().message(), "disk vda on /srv/web1/other.qcow2, its snapshot catalogue on /srv/web1/web1-vda.qcow2"));
  auto added = with_disk_sources(domain, {{"vdb", {"/srv/x.img", "raw"}}});
  REQUIRE(added);
  CHECK_FALSE(with_disk_sources(domain, {{"vdz", {"/srv/x.img", "raw"}}}));
}
