#include <evos/vm/storage_check.hpp>

#include <catch2/catch.hpp>

#include <algorithm>

using namespace evos;
using namespace evos::vm;

namespace {

const char* const web1 = R"(<domain type='kvm'><name>web1</name>
  <os><type>hvm</type><kernel>/srv/vms/web1/vmlinuz</kernel><initrd>/srv/vms/web1/initrd.img</initrd></os>
  <devices>
    <disk type='file' device='disk'><source file='/srv/vms/web1/web1-vda.qcow2'/><target dev='vda'/></disk>
    <disk type='file' device='cdrom'><target dev='sda'/></disk>
    <disk type='file' device='cdrom'><source file='/srv/iso/debian.iso'/><target dev='sdb'/></disk>
    <disk type='block' device='disk'><source dev='/dev/drbd1'/><target dev='vdb'/></disk>
    <disk type='network' device='disk'><source protocol='nbd' name='x'/><target dev='vdc'/></disk>
  </devices></domain>)";

StorageNeeds needs_of_web1() {
  auto n = storage_needs("/srv/vms/web1/web1.xml", web1);
  REQUIRE(n);
  return *n;
}

NodeFiles node_with(std::string name, std::map<std::string, Listing> dirs) { return {std::move(name), std::nullopt, std::move(dirs)}; }

Listing files(std::set<std::string> names) { return {std::nullopt, std::move(names)}; }

const std::set<std::string> web1_files{"web1.xml", "web1-vda.qcow2", "vmlinuz", "initrd.img"};

}  // namespace

TEST_CASE("a VM needs its definition, its image files, kernel and initrd; block devices apart; empty drives and network disks not") {
  const auto n = needs_of_web1();
  std::vector<std::string> paths;
  for (const auto& f : n.files) paths.push_back(f.path);
  CHECK(paths == std::vector<std::string>{"/srv/vms/web1/web1.xml", "/srv/vms/web1/web1-vda.qcow2", "/srv/iso/debian.iso",
                                          "/srv/vms/web1/vmlinuz", "/srv/vms/web1/initrd.img"});
  CHECK(n.files[0].kind == NeedKind::definition);
  CHECK(n.files[1].kind == NeedKind::disk);
  CHECK(n.files[1].target == "vda");
  CHECK(n.files[2].kind == NeedKind::cdrom);
  REQUIRE(n.devices.size() == 1);
  CHECK(n.devices[0] == NeededDevice{"/dev/drbd1", "vdb"});
}

TEST_CASE("relative paths and documents that are not a domain are refused by name") {
  CHECK(storage_needs("web1.xml", web1).error().code() == Errc::invalid_config);
  auto rel = storage_needs("/srv/a.xml", "<domain><devices><disk><source file='a.qcow2'/><target dev='vda'/></disk></devices></domain>");
  REQUIRE_FALSE(rel);
  CHECK(rel.error().message().find("'a.qcow2'") != std::string::npos);
  CHECK(rel.error().message().find("vda") != std::string::npos);
  CHECK_FALSE(storage_needs("/srv/a.xml", "<network/>"));
  CHECK_FALSE(storage_needs("/srv/a.xml", "<domain"));
  CHECK_FALSE(storage_needs("/srv/a.xml", "<domain><os><kernel>boot/vmlinuz</kernel></os></domain>"));
}

TEST_CASE("each directory is asked for once") {
  std::vector<VmStorage> vms{{"vm-web1", needs_of_web1(), false, ""}, {"vm-web2", std::nullopt, false, ""}};
  CHECK(directories_needed(vms) == std::set<std::string>{"/srv/iso", "/srv/vms/web1"});
}

TEST_CASE("a node with every file has nothing to report when the block device is tied to a promoted mirror") {
  std::vector<VmStorage> vms{{"vm-web1", needs_of_web1(), true, ""}};
  const auto f = check_vm_storage(vms, {node_with("n1", {{"/srv/vms/web1", files(web1_files)}, {"/srv/iso", files({"debian.iso"})}}),
                                        node_with("n2", {{"/srv/vms/web1", files(web1_files)}, {"/srv/iso", files({"debian.iso", "x"})}})});
  CHECK(f.empty());
}

TEST_CASE("a missing file, an unreadable directory and an unreachable node are named per node and block") {
  std::vector<VmStorage> vms{{"vm-web1", needs_of_web1(), true, ""}};
  auto without_disk = web1_files;
  without_disk.erase("web1-vda.qcow2");
  const auto f = check_vm_storage(
      vms, {node_with("n1", {{"/srv/vms/web1", files(web1_files)}, {"/srv/iso", files({"debian.iso"})}}),
            node_with("n2", {{"/srv/vms/web1", files(without_disk)}, {"/srv/iso", {"cannot open directory '/srv/iso': No such file or directory", {}}}}),
            NodeFiles{"n3", "connection refused", {}}});
  REQUIRE(f.size() == 3);
  CHECK(f[0].node == "n2");
  CHECK(f[0].problem == StorageProblem::file_missing);
  CHECK(f[0].path == "/srv/vms/web1/web1-vda.qcow2");
  CHECK(f[0].detail == "vm-web1: disk vda (/srv/vms/web1/web1-vda.qcow2) is missing on n2");
  CHECK(f[1].problem == StorageProblem::directory_unavailable);
  CHECK(f[1].path == "/srv/iso");
  CHECK(f[1].detail.find("No such file") != std::string::npos);
  CHECK(f[2].node == "n3");
  CHECK(f[2].problem == StorageProblem::node_unreachable);
  CHECK(std::all_of(f.begin(), f.end(), [](const auto& x) { return x.blocking(); }));
}

TEST_CASE("a directory that holds several needed files is reported once when the node cannot read it") {
  std::vector<VmStorage> vms{{"vm-web1", needs_of_web1(), true, ""}};
  const auto f = check_vm_storage(vms, {node_with("n2", {{"/srv/vms/web1", {"Permission denied", {}}}, {"/srv/iso", files({"debian.iso"})}})});
  REQUIRE(f.size() == 1);
  CHECK(f[0].problem == StorageProblem::directory_unavailable);
}

TEST_CASE("the definition missing on a node is named as the definition") {
  std::vector<VmStorage> vms{{"vm-web1", needs_of_web1(), true, ""}};
  auto without = web1_files;
  without.erase("web1.xml");
  const auto f = check_vm_storage(vms, {node_with("n2", {{"/srv/vms/web1", files(without)}, {"/srv/iso", files({"debian.iso"})}})});
  REQUIRE(f.size() == 1);
  CHECK(f[0].detail == "vm-web1: its definition /srv/vms/web1/web1.xml is missing on n2");
}

TEST_CASE("a block device without a promoted-mirror colocation only warns, and a directory never listed is said") {
  std::vector<VmStorage> vms{{"vm-web1", needs_of_web1(), false, ""}};
  const auto f = check_vm_storage(vms, {node_with("n2", {{"/srv/vms/web1", files(web1_files)}})});
  REQUIRE(f.size() == 2);
  CHECK(f[0].problem == StorageProblem::directory_unlisted);
  CHECK(f[0].blocking());
  CHECK(f[1].problem == StorageProblem::device_unchecked);
  CHECK(f[1].path == "/dev/drbd1");
  CHECK_FALSE(f[1].blocking());
}

TEST_CASE("a VM whose definition could not be read here is left to the network part; one storage_needs refused is said once") {
  CHECK(check_vm_storage({{"vm-web1", std::nullopt, false, ""}}, {node_with("n1", {})}).empty());
  const auto f = check_vm_storage({{"vm-web1", std::nullopt, false, "the file of disk 'vda' 'a.qcow2' is not an absolute path"}},
                                  {node_with("n1", {}), node_with("n2", {})});
  REQUIRE(f.size() == 1);
  CHECK(f[0].problem == StorageProblem::definition_invalid);
  CHECK(f[0].node.empty());
  CHECK(f[0].blocking());
}
