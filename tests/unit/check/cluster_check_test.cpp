#include <evos/check/cluster_check.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::check;

TEST_CASE("cluster check: both parts' findings in one list, the storage part's unreachable nodes named once") {
  const std::vector<network::Finding> nets{
      {"vm-a", "n2", network::Problem::node_unreachable, "", "n2 cannot be asked"},
      {"vm-a", "n1", network::Problem::dynamic_address, "lan", "no static DHCP entry"}};
  const std::vector<vm::StorageFinding> storage{
      {"vm-a", "n2", vm::StorageProblem::node_unreachable, "", "n2 cannot be asked"},
      {"vm-b", "n1", vm::StorageProblem::file_missing, "/s/b.qcow2", "b.qcow2 is missing on n1"},
      {"vm-c", "n1", vm::StorageProblem::device_unchecked, "/dev/drbd1", "not looked for"}};
  const auto f = merge_findings(nets, storage);
  REQUIRE(f.size() == 4);
  CHECK(f[0] == Finding{"vm-a", "n2", "node-unreachable", "", "n2 cannot be asked", true});
  CHECK(f[1].problem == "dynamic-address");
  CHECK_FALSE(f[1].blocking);
  CHECK(f[2] == Finding{"vm-b", "n1", "file-missing", "/s/b.qcow2", "b.qcow2 is missing on n1", true});
  CHECK(f[3].problem == "device-unchecked");
  CHECK_FALSE(f[3].blocking);
  Report r{{}, {}, f};
  CHECK(r.blocking() == 2);
  CHECK(Report{}.blocking() == 0);
}
