#include <evos/vm/operation_record.hpp>

#include <catch2/catch.hpp>

using namespace evos::vm;

TEST_CASE("operation records round-trip and damaged ones are refused") {
  const OperationRecord r{"vm-web1", "web1", "0f6c-1", Phase::active, 1700000000};
  auto back = parse_operation_record(render(r));
  REQUIRE(back);
  CHECK(*back == r);
  for (const char* bad : {"", "instance=a\ndomain=b\n", "instance=a\ndomain=b\nphase=running\n",
                          "instance=a\ndomain=b c\nphase=active\n", "instance=a\ndomain=b\nphase=active\ncolour=red\n",
                          "instance=a\ndomain=b\nphase=active\nsince=12x\n", "garbage"}) {
    INFO(bad);
    CHECK_FALSE(parse_operation_record(bad));
  }
}

TEST_CASE("each action moves the record so only a finished start reads active") {
  CHECK(phase_change("start").before == Phase::starting);
  CHECK(phase_change("start").after_success == Phase::active);
  CHECK(phase_change("start").after_failure == Phase::failed);
  CHECK(phase_change("stop").before == Phase::stopping);
  CHECK(phase_change("stop").after_success == Phase::stopped);
  CHECK(phase_change("migrate_to").before == Phase::migrating);
  CHECK(phase_change("migrate_to").after_success == Phase::migrating);
  CHECK(phase_change("migrate_from").after_success == Phase::active);
  CHECK_FALSE(phase_change("monitor").before);
  CHECK_FALSE(phase_change("validate-all").after_success);
}

TEST_CASE("a monitor corrects the record only when it differs") {
  CHECK(monitor_phase(std::nullopt, true) == Phase::active);  // a probe found it running
  CHECK(monitor_phase(Phase::stopped, true) == Phase::active);
  CHECK_FALSE(monitor_phase(Phase::active, true));
  CHECK(monitor_phase(Phase::active, false) == Phase::stopped);
  CHECK(monitor_phase(std::nullopt, false) == Phase::stopped);
  CHECK_FALSE(monitor_phase(Phase::stopping, false));  // that stop died; leave it
  CHECK_FALSE(monitor_phase(Phase::stopped, false));
}
