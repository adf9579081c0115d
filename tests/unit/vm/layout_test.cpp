#include <evos/vm/layout.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::vm;

TEST_CASE("a VM's files live in one directory named after it on its storage") {
  auto l = layout("/srv/vms/", "web1");
  REQUIRE(l);
  CHECK(l->dir() == "/srv/vms/web1");
  CHECK(l->definition() == "/srv/vms/web1/web1.xml");
  CHECK(l->disk("vda", "qcow2") == "/srv/vms/web1/web1-vda.qcow2");
  CHECK(l->disk("vdb", "raw") == "/srv/vms/web1/web1-vdb.img");
  CHECK(l->serial_log() == "/srv/vms/web1/web1.serial.log");
  CHECK(l->snapshots_dir() == "/srv/vms/web1/snapshots");
}

TEST_CASE("a VM layout refuses bad names and storage paths") {
  CHECK(layout("/srv", "../x").error().code() == Errc::invalid_argument);
  CHECK(layout("srv", "web1").error().code() == Errc::invalid_argument);
  CHECK(layout("", "web1").error().code() == Errc::invalid_argument);
  CHECK(layout("/srv/../etc", "web1").error().code() == Errc::invalid_argument);
  CHECK(layout("/srv/a..b", "web1"));  // '..' inside a name is not a parent reference
  CHECK(layout("/srv\n", "web1").error().code() == Errc::invalid_argument);
}
