#include <evos/backup/vm_plan.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::backup;

namespace {

const char* domain = R"(<domain type='kvm'>
  <name>web1</name>
  <uuid>11111111-2222-3333-4444-555555555555</uuid>
  <metadata><evos:x xmlns:evos='urn:x'/></metadata>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/srv/web1.qcow2'/><target dev='vda'/></disk>
    <disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='/dev/drbd0'/><target dev='vdb'/></disk>
    <disk type='file' device='cdrom'><source file='/srv/install.iso'/><target dev='sda'/></disk>
    <interface type='bridge'><mac address='52:54:00:aa:bb:cc'/><source bridge='br0'/></interface>
    <serial type='file'><source path='/srv/web1.serial.log'/><target port='0'/></serial>
    <console type='file'><source path='/srv/web1.serial.log'/><target type='serial'/></console>
  </devices>
</domain>)";

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

Manifest base_backup() {
  Manifest m;
  m.vm = "web1";
  m.time = "20261206T221005.123Z";
  m.mode = Mode::snapshot;
  m.checkpoint = "evos-20261206T221005.123Z";
  m.run_token = "abcd";
  DiskRecord a;
  a.target = "vda";
  a.size = 1000;
  DiskRecord b;
  b.target = "vdb";
  b.size = 2000;
  m.disks = {a, b};
  return m;
}

}  // namespace

TEST_CASE("the disks of a domain: file and block disks, not cdroms, with their formats") {
  auto disks = backup_disks(domain);
  REQUIRE(disks);
  REQUIRE(disks->size() == 2);
  CHECK((*disks)[0].target == "vda");
  CHECK((*disks)[0].source == "/srv/web1.qcow2");
  CHECK((*disks)[0].bitmap_capable());
  CHECK((*disks)[1].block);
  CHECK((*disks)[1].source == "/dev/drbd0");
  CHECK_FALSE((*disks)[1].bitmap_capable());
}

TEST_CASE("domains whose disks cannot be backed up are refused with the disk named") {
  CHECK_FALSE(backup_disks("not xml"));
  CHECK_FALSE(backup_disks("<domain><devices/></domain>"));
  auto net = backup_disks("<domain><devices><disk type='network' device='disk'><target dev='vda'/></disk></devices></domain>");
  REQUIRE_FALSE(net);
  CHECK(net.error().code() == Errc::unimplemented);
  CHECK(has(net.error().message(), "vda"));
  auto twice = backup_disks("<domain><devices><disk type='file'><source file='/a'/><target dev='vda'/></disk>"
                            "<disk type='file'><source file='/b'/><target dev='vda'/></disk></devices></domain>");
  REQUIRE_FALSE(twice);
  CHECK(has(twice.error().message(), "two disks vda"));
}

TEST_CASE("incremental only while the VM has run without a stop since a checkpointed live backup") {
  auto disks = *backup_disks(domain);
  const Manifest base = base_backup();
  const std::map<std::string, std::uint64_t> sizes = {{"vda", 1000}, {"vdb", 2000}};
  auto yes = plan_incremental({&base, std::string("abcd"), disks, sizes});
  CHECK(yes.incremental);
  CHECK(has(yes.reason, "evos-20261206T221005.123Z"));

  CHECK_FALSE(plan_incremental({nullptr, std::string("abcd"), disks, sizes}).incremental);
  auto restarted = plan_incremental({&base, std::string("ffff"), disks, sizes});
  CHECK_FALSE(restarted.incremental);
  CHECK(has(restarted.reason, "stopped or restarted"));
  auto started = plan_incremental({&base, std::nullopt, disks, sizes});
  CHECK_FALSE(started.incremental);
  CHECK(has(started.reason, "started since"));
  auto resized = plan_incremental({&base, std::string("abcd"), disks, {{"vda", 1000}, {"vdb", 4000}}});
  CHECK_FALSE(resized.incremental);
  CHECK(has(resized.reason, "vdb changed size"));
  Manifest offline = base;
  offline.mode = Mode::stop;
  CHECK_FALSE(plan_incremental({&offline, std::string("abcd"), disks, sizes}).incremental);
  Manifest no_cp = base;
  no_cp.checkpoint.reset();
  CHECK_FALSE(plan_incremental({&no_cp, std::string("abcd"), disks, sizes}).incremental);
  auto raw_only = disks;
  raw_only.erase(raw_only.begin());
  auto raw = plan_incremental({&base, std::string("abcd"), raw_only, sizes});
  CHECK_FALSE(raw.incremental);
  CHECK(has(raw.reason, "only qcow2"));
}

TEST_CASE("checkpoint and pull-backup XML name every disk; raw disks get no bitmap") {
  auto disks = *backup_disks(domain);
  const std::string cp = checkpoint_xml("evos-20261206T221005.123Z", disks);
  CHECK(has(cp, "<name>evos-20261206T221005.123Z</name>"));
  CHECK(has(cp, "name=\"vda\" checkpoint=\"bitmap\""));
  CHECK(has(cp, "name=\"vdb\" checkpoint=\"no\""));
  const std::string full = pull_backup_xml(disks, "/run/x/nbd.sock", "/run/x", std::nullopt);
  CHECK(has(full, "mode=\"pull\""));
  CHECK(has(full, "socket=\"/run/x/nbd.sock\""));
  CHECK(has(full, "/run/x/vdb.scratch.qcow2"));
  CHECK_FALSE(has(full, "incremental"));
  CHECK(has(pull_backup_xml(disks, "/s", "/d", std::string("evos-1")), "<incremental>evos-1</incremental>"));
}

TEST_CASE("a checkpoint is redefined without its parent") {
  auto x = checkpoint_for_redefine("<domaincheckpoint><name>evos-b</name><parent><name>evos-a</name></parent>"
                                   "<disks><disk name='vda' checkpoint='bitmap' bitmap='evos-b'/></disks></domaincheckpoint>");
  REQUIRE(x);
  CHECK_FALSE(has(*x, "parent"));
  CHECK(has(*x, "evos-b"));
  CHECK_FALSE(checkpoint_for_redefine("<domain/>"));
}

TEST_CASE("run tokens: hex only, anything else is no token") {
  CHECK(parse_run_token(run_token_xml("00ff")) == std::optional<std::string>("00ff"));
  CHECK_FALSE(parse_run_token("<run token=\"x y\"/>"));
  CHECK_FALSE(parse_run_token("<run/>"));
  CHECK_FALSE(parse_run_token("garbage"));
}

TEST_CASE("a VM restored under a new name gets new identity, its restored disks and its own log files") {
  auto xml = domain_for_restore(domain, "web1-copy", {{"vda", "/restore/web1-copy-vda.img"}}, "/restore");
  REQUIRE(xml);
  CHECK(has(*xml, "<name>web1-copy</name>"));
  CHECK_FALSE(has(*xml, "<uuid>"));
  CHECK_FALSE(has(*xml, "52:54:00:aa:bb:cc"));
  CHECK_FALSE(has(*xml, "<metadata>"));
  CHECK(has(*xml, "file=\"/restore/web1-copy-vda.img\""));
  CHECK(has(*xml, "type=\"raw\""));
  CHECK_FALSE(has(*xml, "/dev/drbd0"));  // not restored: left out
  CHECK(has(*xml, "/srv/install.iso"));  // the cdrom stays
  CHECK_FALSE(has(*xml, "/srv/web1.serial.log"));
  CHECK(has(*xml, "/restore/web1-copy.serial-0.log"));
  CHECK_FALSE(has(*xml, "console-0"));  // the console shared the serial file: it still does
  CHECK_FALSE(domain_for_restore(domain, "../x", {}, "/r"));
  auto missing = domain_for_restore(domain, "c", {{"vdz", "/r/c-vdz.img"}}, "/r");
  REQUIRE_FALSE(missing);
  CHECK(has(missing.error().message(), "vdz"));
}
