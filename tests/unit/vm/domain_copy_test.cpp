#include <evos/vm/domain_copy.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::vm;

namespace {

const char* domain = R"(<domain type='kvm'>
  <name>web1</name>
  <uuid>11111111-2222-3333-4444-555555555555</uuid>
  <metadata><evos:x xmlns:evos='urn:x'/></metadata>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/srv/web1.img'/>
      <backingStore/><target dev='vda'/></disk>
    <disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='/dev/drbd0'/><target dev='vdb'/></disk>
    <disk type='file' device='cdrom'><source file='/srv/install.iso'/><target dev='sda'/></disk>
    <interface type='network'><mac address='52:54:00:aa:bb:cc'/><source network='nat0'/></interface>
    <serial type='file'><source path='/srv/web1.serial.log'/><target port='0'/></serial>
    <console type='file'><source path='/srv/web1.serial.log'/><target type='serial'/></console>
  </devices>
</domain>)";

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("VM names are checked before they become file and directory names") {
  CHECK_FALSE(name_problem("web-1.example_2+x"));
  for (std::string bad : {std::string(), std::string(".hidden"), std::string("-x"), std::string("a/b"), std::string("a b"),
                          std::string("x\n"), std::string(129, 'a')})
    CHECK(name_problem(bad));
}

TEST_CASE("a copy of every disk gets the new name and sources without the original's identity") {
  DomainCopy c{.new_name = "web2",
               .disks = {{"vda", {"/srv/web2-vda.qcow2", "qcow2"}}, {"vdb", {"/srv/web2-vdb.img", "raw"}}},
               .file_dir = "/srv"};
  auto xml = copy_domain(domain, c);
  REQUIRE(xml);
  CHECK(has(*xml, "<name>web2</name>"));
  CHECK_FALSE(has(*xml, "<uuid>"));
  CHECK_FALSE(has(*xml, "<metadata>"));
  CHECK_FALSE(has(*xml, "52:54:00:aa:bb:cc"));
  CHECK(has(*xml, "network=\"nat0\""));  // the interface stays, only its MAC goes
  CHECK(has(*xml, "file=\"/srv/web2-vda.qcow2\""));
  CHECK(has(*xml, "type=\"qcow2\""));
  CHECK_FALSE(has(*xml, "<backingStore"));
  CHECK(has(*xml, "file=\"/srv/web2-vdb.img\""));  // the block device became a file
  CHECK_FALSE(has(*xml, "/dev/drbd0"));
  CHECK(has(*xml, "/srv/install.iso"));
  CHECK(has(*xml, "/srv/web2.serial-0.log"));
  CHECK_FALSE(has(*xml, "/srv/web1.serial.log"));
}

TEST_CASE("a copy refuses disks it does not copy unless told to drop them") {
  DomainCopy c{.new_name = "web2", .disks = {{"vda", {"/srv/web2-vda.qcow2", "qcow2"}}}, .file_dir = "/srv"};
  auto refused = copy_domain(domain, c);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code() == Errc::invalid_config);
  CHECK(has(refused.error().message(), "vdb"));
  c.drop_other_disks = true;
  auto xml = copy_domain(domain, c);
  REQUIRE(xml);
  CHECK_FALSE(has(*xml, "vdb"));
}

TEST_CASE("a copy names a bad new name, a target the domain lacks and a document that is no domain") {
  CHECK(copy_domain(domain, {.new_name = "../x"}).error().code() == Errc::invalid_argument);
  auto missing = copy_domain(domain, {.new_name = "c", .disks = {{"vdz", {"/r/c.img", "raw"}}}, .drop_other_disks = true});
  REQUIRE_FALSE(missing);
  CHECK(has(missing.error().message(), "vdz"));
  CHECK(copy_domain("<domain", {.new_name = "c"}).error().code() == Errc::invalid_config);
  CHECK(copy_domain("<network/>", {.new_name = "c"}).error().code() == Errc::invalid_config);
}
