// evos::clone's I/O with the real qemu-img in a temporary directory (no root, no libvirt): a full
// clone by whatever the file system allows (reflink or, where it has none, a copy that says why),
// linked clones of a template, and vms_using_backing_file, the question vm delete asks.
#include <evos/clone/operations.hpp>
#include <evos/proc/run.hpp>

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "temp_dir.hpp"

using namespace evos;
namespace fs = std::filesystem;

namespace {

using evos::test::TempDir;

void run_ok(const std::vector<std::string>& argv) {
  auto r = proc::run(argv, Deadline::after(Millis(30000)));
  REQUIRE(r);
  INFO(proc::describe(argv) << ": " << r->err);
  REQUIRE(r->ok());
}

// A VM directory of vm::layout with one qcow2 disk holding 1 MiB of data.
void make_vm(const std::string& storage, const std::string& name) {
  const std::string dir = storage + "/" + name, disk = dir + "/" + name + "-vda.qcow2";
  fs::create_directories(dir);
  run_ok({"qemu-img", "create", "-q", "-f", "qcow2", disk, "16M"});
  run_ok({"qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 1M", disk});
  std::ofstream(dir + "/" + name + ".xml")
      << "<domain type='qemu'><name>" << name << "</name><uuid>11111111-2222-3333-4444-555555555555</uuid><devices>"
      << "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='" << disk
      << "'/><target dev='vda'/></disk><interface type='network'><mac address='52:54:00:00:00:01'/>"
      << "<source network='default'/></interface></devices></domain>";
}

}  // namespace

TEST_CASE("a full clone is reflinked or, where the file system cannot, copied, and says which", "[clone]") {
  TempDir t("evos-clone-io");
  make_vm(t.str(), "web1");
  auto r = clone::clone_vm({.storage = t.str(), .source = "web1", .name = "web2", .kind = clone::Kind::full,
                            .deadline = Deadline::after(Millis(60000))});
  REQUIRE(r);
  REQUIRE(r->disks.size() == 1);
  const auto& d = r->disks[0];
  CHECK(d.file == t.str() + "/web2/web2-vda.qcow2");
  if (d.method == clone::Method::copy) CHECK_THAT(d.why, Catch::Contains("FICLONE"));
  else CHECK(d.method == clone::Method::reflink);
  run_ok({"qemu-img", "compare", "-f", "qcow2", "-F", "qcow2", t.str() + "/web1/web1-vda.qcow2", d.file});
  std::ifstream in(r->definition);
  std::string xml((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK_THAT(xml, Catch::Contains("<name>web2</name>"));
  CHECK_THAT(xml, !Catch::Contains("52:54:00:00:00:01"));
  CHECK_THAT(xml, !Catch::Contains("11111111-2222"));

  auto again = clone::clone_vm({.storage = t.str(), .source = "web1", .name = "web2", .kind = clone::Kind::full,
                                .deadline = Deadline::after(Millis(60000))});
  REQUIRE_FALSE(again);
  CHECK(again.error().code() == Errc::invalid_argument);
  CHECK_THAT(again.error().message(), Catch::Contains("already exists"));
}

TEST_CASE("the VMs whose disks use a template's disk as backing file are found", "[clone]") {
  TempDir t("evos-clone-io");
  make_vm(t.str(), "tpl");
  make_vm(t.str(), "other");
  const std::string base = t.str() + "/tpl/tpl-vda.qcow2";
  auto none = clone::vms_using_backing_file(t.str(), base, Deadline::after(Millis(30000)));
  REQUIRE(none);
  CHECK(none->empty());

  auto tp = clone::make_template(t.str(), "tpl", Deadline::after(Millis(30000)));
  REQUIRE(tp);
  CHECK_FALSE(tp->already);
  CHECK((fs::status(base).permissions() & fs::perms::owner_write) == fs::perms::none);
  for (const char* name : {"c1", "c2"}) {
    auto c = clone::clone_vm({.storage = t.str(), .source = "tpl", .name = name, .kind = clone::Kind::linked,
                              .deadline = Deadline::after(Millis(30000))});
    REQUIRE(c);
    CHECK(c->disks[0].method == clone::Method::overlay);
  }
  // A full clone of a linked clone is a whole copy: it does not use the template.
  auto flat = clone::clone_vm({.storage = t.str(), .source = "c1", .name = "flat", .kind = clone::Kind::full,
                               .deadline = Deadline::after(Millis(60000))});
  REQUIRE(flat);
  CHECK(flat->disks[0].method == clone::Method::copy);

  auto users = clone::vms_using_backing_file(t.str(), base, Deadline::after(Millis(30000)));
  REQUIRE(users);
  REQUIRE(users->size() == 2);
  CHECK((*users)[0].vm == "c1");
  CHECK((*users)[1].vm == "c2");
  CHECK((*users)[0].target == "vda");
  // Through a symlink to the storage the answer is the same (paths are compared canonical).
  fs::create_directory_symlink(t.str(), t.str() + "-link");
  auto via_link = clone::vms_using_backing_file(t.str(), t.str() + "-link/tpl/tpl-vda.qcow2", Deadline::after(Millis(30000)));
  fs::remove(t.str() + "-link");
  REQUIRE(via_link);
  CHECK(via_link->size() == 2);

  // A definition that cannot be read is an error, never "no users".
  std::ofstream(t.str() + "/c2/c2.xml") << "<domain><devices><disk type='block' device='disk'>";
  auto broken = clone::vms_using_backing_file(t.str(), base, Deadline::after(Millis(30000)));
  REQUIRE_FALSE(broken);
  CHECK_THAT(broken.error().message(), Catch::Contains("c2"));
}
