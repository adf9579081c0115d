#include <evos/vm/domain_copy.hpp>
#include <evos/vm/spec.hpp>

#include <catch2/catch.hpp>
#include <pugixml.hpp>

#include <string>

using namespace evos;
using namespace evos::vm;

namespace {

VmRequest kernel_request() {
  VmRequest q;
  q.name = "web1";
  q.storage = "/srv/vms";
  q.vcpus = 2;
  q.memory = "512M";
  q.disks = {"2G", "10G"};
  q.kernel = "/boot/vmlinuz";
  q.initrd = "/boot/initrd.gz";
  q.cmdline = "console=ttyS0 quiet";
  q.network = "evos-nat";
  q.virt_type = "qemu";
  return q;
}

const VmIdentity id{.uuid = "0d6b8e4a-3c1f-4a2b-9c8d-112233445566", .mac = "52:54:00:aa:bb:cc"};

std::string problem(const VmRequest& q) {
  auto s = plan_vm(q);
  REQUIRE_FALSE(s);
  CHECK(s.error().code() == Errc::invalid_argument);
  return s.error().message();
}

}  // namespace

TEST_CASE("sizes take a unit and come out in bytes") {
  CHECK(*parse_size("20G", "--disk") == 20ull << 30);
  CHECK(*parse_size("512M", "--memory") == 512ull << 20);
  CHECK(*parse_size("1T", "--disk") == 1ull << 40);
  CHECK(*parse_size("64K", "--disk") == 64ull << 10);
  CHECK(*parse_size("2GiB", "--disk") == 2ull << 30);
  CHECK(*parse_size("2GB", "--disk") == 2ull << 30);
  CHECK(*parse_size("3g", "--disk") == 3ull << 30);
  CHECK(*parse_size("8P", "--disk") == 8ull << 50);
}

TEST_CASE("sizes refuse zero, negatives, fractions, bare numbers, garbage and overflow, naming the option") {
  for (const char* bad : {"0G", "0", "-1G", "1.5G", "1,5G", "512", "", "G", "20X", "20GX", "20 G", " 20G", "abc", "20Gi",
                          "99999999999999999999999G", "8192P", "16777216T", "18446744073709551616K"}) {
    INFO(bad);
    auto r = parse_size(bad, "--disk");
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::invalid_argument);
    CHECK(r.error().message().find("--disk") != std::string::npos);
  }
  CHECK(parse_size("0M", "--memory").error().message().find("zero") != std::string::npos);
  CHECK(parse_size("-5G", "--memory").error().message().find("negative") != std::string::npos);
  CHECK(parse_size("512", "--memory").error().message().find("no unit") != std::string::npos);
  CHECK(parse_size("1.5G", "--memory").error().message().find("whole number") != std::string::npos);
  CHECK(parse_size("99999999999999999999999G", "--memory").error().message().find("too large") != std::string::npos);
  CHECK(parse_size("8192P", "--memory").error().message().find("too large") != std::string::npos);
}

TEST_CASE("sizes are shown in the largest exact unit") {
  CHECK(format_size(2ull << 30) == "2 GiB");
  CHECK(format_size(1536ull << 20) == "1536 MiB");
  CHECK(format_size(1000) == "1000 B");
  CHECK(format_size(0) == "0 B");
}

TEST_CASE("a new identity is a version 4 UUID and a QEMU-prefixed MAC from the bytes given") {
  std::array<std::uint8_t, 19> r{};
  for (std::size_t i = 0; i < r.size(); ++i) r[i] = static_cast<std::uint8_t>(0xf0 + i);
  auto v = make_identity(r);
  CHECK(v.uuid == "f0f1f2f3-f4f5-46f7-b8f9-fafbfcfdfeff");
  CHECK(v.mac == "52:54:00:00:01:02");
  r.fill(0);
  CHECK(make_identity(r).uuid == "00000000-0000-4000-8000-000000000000");
}

TEST_CASE("a kernel-boot request becomes a spec of files in the VM's directory") {
  auto s = plan_vm(kernel_request());
  REQUIRE(s);
  CHECK(s->layout.dir() == "/srv/vms/web1");
  CHECK(s->vcpus == 2);
  CHECK(s->memory_bytes == 512ull << 20);
  REQUIRE(s->disks.size() == 2);
  CHECK(s->disks[0].target == "vda");
  CHECK(s->disks[0].file == "/srv/vms/web1/web1-vda.qcow2");
  CHECK(s->disks[0].bytes == 2ull << 30);
  CHECK(s->disks[1].target == "vdb");
  CHECK(s->disks[1].bytes == 10ull << 30);
  CHECK(s->boot == BootKind::kernel);
  CHECK(s->kernel == "/srv/vms/web1/web1.kernel");
  CHECK(s->initrd == "/srv/vms/web1/web1.initrd");
  CHECK(s->kernel_source == "/boot/vmlinuz");
  CHECK(s->net == NetKind::network);
  CHECK(s->net_source == "evos-nat");
}

TEST_CASE("an imported image is the first disk; --disk adds more after it") {
  auto q = kernel_request();
  q.kernel = q.initrd = q.cmdline = "";
  q.import_image = "/srv/images/debian.qcow2";
  q.disks = {"1G"};
  q.format = "raw";
  auto s = plan_vm(q);
  REQUIRE(s);
  REQUIRE(s->disks.size() == 2);
  CHECK(s->disks[0].import_from == "/srv/images/debian.qcow2");
  CHECK(s->disks[0].file == "/srv/vms/web1/web1-vda.img");
  CHECK(s->disks[1].target == "vdb");
  CHECK(s->boot == BootKind::import_image);
  q.disks.clear();
  CHECK(plan_vm(q));  // the import alone is a disk
}

TEST_CASE("bad requests are refused before anything is made, naming the option") {
  auto q = kernel_request();
  q.name = "../etc";
  CHECK_FALSE(plan_vm(q));
  q = kernel_request();
  q.name = "";
  CHECK_FALSE(plan_vm(q));
  q = kernel_request();
  q.storage = "relative/dir";
  CHECK(problem(q).find("absolute") != std::string::npos);
  q = kernel_request();
  q.storage = "/srv/$(reboot)";
  CHECK(problem(q).find("--storage") != std::string::npos);
  q = kernel_request();
  q.vcpus = 0;
  CHECK(problem(q).find("--vcpus 0") != std::string::npos);
  q.vcpus = 257;
  CHECK(problem(q).find("--vcpus 257") != std::string::npos);
  q = kernel_request();
  q.memory = "";
  CHECK(problem(q).find("--memory is required") != std::string::npos);
  q.memory = "8M";
  CHECK(problem(q).find("outside") != std::string::npos);
  q.memory = "32T";
  CHECK(problem(q).find("outside") != std::string::npos);
  q.memory = "lots";
  CHECK(problem(q).find("--memory") != std::string::npos);
  q = kernel_request();
  q.disks = {"2G", "0G"};
  CHECK(problem(q).find("--disk") != std::string::npos);
  q.disks = {"512K"};
  CHECK(problem(q).find("outside") != std::string::npos);
  q.disks = {"65T"};
  CHECK(problem(q).find("outside") != std::string::npos);
  q.disks = {};
  CHECK(problem(q).find("no disk") != std::string::npos);
  q.disks = std::vector<std::string>(17, "1G");
  CHECK(problem(q).find("at most 16") != std::string::npos);
  q = kernel_request();
  q.format = "vmdk";
  CHECK(problem(q).find("--format") != std::string::npos);
  q = kernel_request();
  q.virt_type = "xen";
  CHECK(problem(q).find("--virt-type") != std::string::npos);
}

TEST_CASE("exactly one boot source, and --initrd/--cmdline only with --kernel") {
  auto q = kernel_request();
  q.kernel = q.initrd = q.cmdline = "";
  CHECK(problem(q).find("no boot source") != std::string::npos);
  q.initrd = "/boot/initrd.gz";
  CHECK(problem(q).find("need --kernel") != std::string::npos);
  q = kernel_request();
  q.cdrom = "/srv/iso/debian.iso";
  CHECK(problem(q).find("only one boot source") != std::string::npos);
  q = kernel_request();
  q.import_image = "/srv/images/a.qcow2";
  CHECK(problem(q).find("only one boot source") != std::string::npos);
  q = kernel_request();
  q.initrd = "";
  CHECK(problem(q).find("--kernel needs --initrd") != std::string::npos);
  q = kernel_request();
  q.kernel = "vmlinuz";
  CHECK(problem(q).find("--kernel") != std::string::npos);
  q = kernel_request();
  q.cmdline = "console=ttyS0\nroot=/dev/evil";
  CHECK(problem(q).find("--cmdline") != std::string::npos);
  q = kernel_request();
  q.kernel = q.initrd = q.cmdline = "";
  q.cdrom = "/srv/iso/x'y.iso";
  CHECK(problem(q).find("--cdrom") != std::string::npos);
}

TEST_CASE("a network or a bridge, not both, with names that are safe tokens") {
  auto q = kernel_request();
  q.bridge = "br0";
  CHECK(problem(q).find("only one of --network and --bridge") != std::string::npos);
  q.network = "";
  auto s = plan_vm(q);
  REQUIRE(s);
  CHECK(s->net == NetKind::bridge);
  q.bridge = "br-with-a-very-long-name";
  CHECK(problem(q).find("longer than 15") != std::string::npos);
  q.bridge = "br0;reboot";
  CHECK(problem(q).find("--bridge") != std::string::npos);
  q = kernel_request();
  q.network = "nat net";
  CHECK(problem(q).find("--network") != std::string::npos);
  q.network = "";
  s = plan_vm(q);
  REQUIRE(s);
  CHECK(s->net == NetKind::none);
}

TEST_CASE("the domain XML names only the VM's own files and keeps its identity") {
  auto s = plan_vm(kernel_request());
  REQUIRE(s);
  const std::string xml = domain_xml(*s, id);
  pugi::xml_document doc;
  REQUIRE(doc.load_string(xml.c_str()));
  auto d = doc.child("domain");
  CHECK(std::string(d.attribute("type").as_string()) == "qemu");
  CHECK(std::string(d.child("name").text().as_string()) == "web1");
  CHECK(std::string(d.child("uuid").text().as_string()) == id.uuid);
  CHECK(std::string(d.child("memory").attribute("unit").as_string()) == "KiB");
  CHECK(d.child("memory").text().as_ullong() == 512ull * 1024);
  CHECK(d.child("vcpu").text().as_uint() == 2);
  CHECK(std::string(d.child("os").child("kernel").text().as_string()) == "/srv/vms/web1/web1.kernel");
  CHECK(std::string(d.child("os").child("initrd").text().as_string()) == "/srv/vms/web1/web1.initrd");
  CHECK(std::string(d.child("os").child("cmdline").text().as_string()) == "console=ttyS0 quiet");
  auto dev = d.child("devices");
  CHECK_FALSE(dev.child("emulator"));  // each node's libvirt picks its own
  int disks = 0;
  for (auto disk : dev.children("disk")) {
    ++disks;
    CHECK(std::string(disk.child("driver").attribute("cache").as_string()) == "none");
    CHECK(std::string(disk.child("target").attribute("bus").as_string()) == "virtio");
    CHECK(std::string(disk.child("source").attribute("file").as_string()).rfind("/srv/vms/web1/", 0) == 0);
  }
  CHECK(disks == 2);
  auto iface = dev.child("interface");
  CHECK(std::string(iface.attribute("type").as_string()) == "network");
  CHECK(std::string(iface.child("source").attribute("network").as_string()) == "evos-nat");
  CHECK(std::string(iface.child("mac").attribute("address").as_string()) == id.mac);
  auto serial = dev.child("serial");
  CHECK(std::string(serial.attribute("type").as_string()) == "pty");
  CHECK(std::string(serial.child("log").attribute("file").as_string()) == "/srv/vms/web1/web1.serial.log");
  CHECK(std::string(serial.child("log").attribute("append").as_string()) == "on");
  CHECK(std::string(dev.child("console").child("target").attribute("type").as_string()) == "serial");
  auto channel = dev.child("channel");
  CHECK(std::string(channel.child("target").attribute("name").as_string()) == "org.qemu.guest_agent.0");
  CHECK_FALSE(channel.child("source"));  // a per-host socket path would tie the file to one node
  // Every absolute path libvirt reads is in the VM's directory (the <metadata> only records
  // where the kernel was copied from, for a repeated create's comparison).
  for (auto n : doc.select_nodes("//*[not(ancestor-or-self::metadata)]/@*|//*[not(ancestor-or-self::metadata)]/text()")) {
    const std::string v = n.attribute() ? n.attribute().value() : n.node().value();
    INFO(v);
    if (!v.empty() && v.front() == '/') CHECK(v.rfind("/srv/vms/web1/", 0) == 0);
  }
  CHECK(domain_xml(*s, id) == xml);  // deterministic: a repeated create can compare
}

TEST_CASE("kvm, a bridge, a cdrom and an import render as libvirt expects") {
  auto q = kernel_request();
  q.kernel = q.initrd = q.cmdline = "";
  q.cdrom = "/srv/iso/debian.iso";
  q.virt_type = "kvm";
  q.network = "";
  q.bridge = "br0";
  auto s = plan_vm(q);
  REQUIRE(s);
  pugi::xml_document doc;
  REQUIRE(doc.load_string(domain_xml(*s, id).c_str()));
  auto d = doc.child("domain");
  CHECK(std::string(d.attribute("type").as_string()) == "kvm");
  auto boots = d.child("os").children("boot");
  std::vector<std::string> order;
  for (auto b : boots) order.push_back(b.attribute("dev").as_string());
  CHECK(order == std::vector<std::string>{"cdrom", "hd"});
  auto cd = d.child("devices").find_child_by_attribute("disk", "device", "cdrom");
  REQUIRE(cd);
  CHECK(std::string(cd.child("source").attribute("file").as_string()) == "/srv/iso/debian.iso");
  CHECK(cd.child("readonly"));
  auto iface = d.child("devices").child("interface");
  CHECK(std::string(iface.attribute("type").as_string()) == "bridge");
  CHECK(std::string(iface.child("source").attribute("bridge").as_string()) == "br0");
  CHECK_FALSE(d.child("os").child("kernel"));
}

TEST_CASE("a repeated create can be told from a different one by the XML it would write") {
  auto s = plan_vm(kernel_request());
  REQUIRE(s);
  const std::string xml = domain_xml(*s, id);
  auto back = read_identity(xml);
  REQUIRE(back);
  CHECK(back->uuid == id.uuid);
  CHECK(back->mac == id.mac);
  CHECK(domain_xml(*s, *back) == xml);
  auto q = kernel_request();
  q.disks = {"2G", "20G"};  // only the size differs: it is in the metadata
  auto other = plan_vm(q);
  REQUIRE(other);
  CHECK(domain_xml(*other, *back) != xml);
  CHECK_FALSE(read_identity("<network/>"));
  CHECK(read_identity("not xml").error().code() == Errc::invalid_config);
}

TEST_CASE("the file disks of a definition, CD-ROMs left out") {
  auto q = kernel_request();
  q.kernel = q.initrd = q.cmdline = "";
  q.cdrom = "/srv/iso/debian.iso";
  auto s = plan_vm(q);
  REQUIRE(s);
  auto disks = defined_disks(domain_xml(*s, id));
  REQUIRE(disks);
  REQUIRE(disks->size() == 2);
  CHECK((*disks)[0].target == "vda");
  CHECK((*disks)[0].file == "/srv/vms/web1/web1-vda.qcow2");
  CHECK((*disks)[0].format == "qcow2");
  CHECK(defined_disks("<domain><devices><disk type='block' device='disk'><source dev='/dev/sdb'/></disk></devices></domain>")->empty());
  CHECK(defined_disks("<pool/>").error().code() == Errc::invalid_config);
}

TEST_CASE("a copy of a created VM (clone, snapshot boot) logs its pty serial to a file of its own") {
  auto s = plan_vm(kernel_request());
  REQUIRE(s);
  auto copy = copy_domain(domain_xml(*s, id),
                          {.new_name = "web2",
                           .disks = {{"vda", {"/srv/vms/web2/web2-vda.qcow2", "qcow2"}}, {"vdb", {"/srv/vms/web2/web2-vdb.qcow2", "qcow2"}}},
                           .file_dir = "/srv/vms/web2"});
  REQUIRE(copy);
  CHECK(copy->find("/srv/vms/web1/web1.serial.log") == std::string::npos);
  CHECK(copy->find("file=\"/srv/vms/web2/web2.serial-0.log\"") != std::string::npos);
  CHECK(copy->find(id.uuid) == std::string::npos);
  CHECK(copy->find(id.mac) == std::string::npos);
}
