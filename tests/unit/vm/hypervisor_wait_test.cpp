#include <evos/vm/hypervisor_wait.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::vm;
using namespace std::chrono_literals;

TEST_CASE("a probe waits for a starting libvirtd for half of its timeout") {
  CHECK(hypervisor_wait("monitor", true, 20000ms) == 10000ms);
  CHECK(hypervisor_wait("monitor", true, 60000ms) == 30000ms);
  CHECK(hypervisor_wait("monitor", true, 0ms) == 0ms);
}

TEST_CASE("other actions wait at most five seconds and half of what is left") {
  CHECK(hypervisor_wait("monitor", false, 30000ms) == 5000ms);
  CHECK(hypervisor_wait("stop", false, 120000ms) == 5000ms);
  CHECK(hypervisor_wait("start", false, 6000ms) == 3000ms);
  CHECK(hypervisor_wait("migrate_to", false, 1000ms) == 500ms);
  CHECK(hypervisor_wait("stop", false, -5ms) == 0ms);
}

TEST_CASE("validation never waits") {
  CHECK(hypervisor_wait("validate-all", false, 30000ms) == 0ms);
}
