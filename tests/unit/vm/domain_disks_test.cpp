#include <evos/vm/domain_disks.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::vm;

TEST_CASE("a domain's disks are read once with their type source and format") {
  auto disks = domain_disks(R"(<domain><devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/srv/a.qcow2'/><target dev='vda'/></disk>
    <disk type='block' device='disk'><source dev='/dev/drbd0'/><target dev='vdb'/></disk>
    <disk type='network' device='disk'><source protocol='nbd' name='x'/><target dev='vdc'/></disk>
    <disk type='file' device='cdrom'><source file='/srv/i.iso'/><target dev='sda'/></disk>
    <disk device='disk'><source file='/srv/d.img'/><target dev='vdd'/></disk>
  </devices></domain>)");
  REQUIRE(disks);
  REQUIRE(disks->size() == 4);
  CHECK((*disks)[0].source == "/srv/a.qcow2");
  CHECK((*disks)[0].format == "qcow2");
  CHECK((*disks)[1].type == "block");
  CHECK((*disks)[1].source == "/dev/drbd0");
  CHECK((*disks)[1].format.empty());  // as written: each module has its own default
  CHECK((*disks)[2].type == "network");
  CHECK((*disks)[2].source.empty());
  CHECK((*disks)[3].type == "file");  // libvirt's default type
}

TEST_CASE("a domain's disks name a missing or repeated target and a document that is no domain") {
  CHECK(domain_disks("<domain><devices><disk><source file='/a'/></disk></devices></domain>").error().code() == Errc::invalid_config);
  auto twice = domain_disks("<domain><devices><disk><target dev='vda'/></disk><disk><target dev='vda'/></disk></devices></domain>");
  REQUIRE_FALSE(twice);
  CHECK(twice.error().message().find("two disks vda") != std::string::npos);
  CHECK_FALSE(domain_disks("<network/>"));
  CHECK_FALSE(domain_disks("<domain"));
  CHECK(domain_disks("<domain/>")->empty());
}
