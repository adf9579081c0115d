#include <evos/vm/domain_state.hpp>

#include <catch2/catch.hpp>

using namespace evos::vm;

TEST_CASE("what a domain state means for the resource") {
  struct Row {
    Power power;
    Reason reason;
    Health expected;
  };
  const std::vector<Row> table = {
      {Power::absent, Reason::unknown, Health::stopped},
      {Power::shut_off, Reason::destroyed, Health::stopped},
      {Power::shut_off, Reason::crashed, Health::stopped},
      {Power::running, Reason::booted, Health::running},
      {Power::running, Reason::migration, Health::running},
      {Power::blocked, Reason::unknown, Health::running},
      {Power::shutting_down, Reason::user, Health::running},
      {Power::paused, Reason::io_error, Health::failed},  // VirtualDomain says "running"
      {Power::paused, Reason::watchdog, Health::failed},
      {Power::paused, Reason::crashed, Health::failed},
      {Power::paused, Reason::postcopy_failed, Health::failed},
      {Power::paused, Reason::user, Health::degraded},
      {Power::paused, Reason::migration, Health::running},
      {Power::paused, Reason::snapshot, Health::running},
      {Power::paused, Reason::postcopy, Health::running},
      {Power::pm_suspended, Reason::unknown, Health::degraded},
      {Power::crashed, Reason::crashed, Health::failed},
      {Power::no_state, Reason::unknown, Health::failed},
  };
  for (const auto& row : table) {
    const DomainState st{row.power, row.reason};
    INFO(describe(st));
    CHECK(assess(st).health == row.expected);
  }
  CHECK(describe({Power::paused, Reason::io_error}) == "paused (I/O error)");
}

TEST_CASE("a deep check fails a running domain whose control channel broke - degrades on disk errors") {
  const Assessment running{Health::running, "running"};
  CHECK(assess_deep(running, {}).health == Health::running);
  CHECK(assess_deep(running, {.control_ok = false, .control_state = "error (monitor)"}).health == Health::failed);
  auto disk = assess_deep(running, {.control_ok = true, .control_state = "ok", .disk_errors = {"vda: no space left"}});
  CHECK(disk.health == Health::degraded);
  CHECK(disk.why.find("vda: no space left") != std::string::npos);
  const Assessment stopped{Health::stopped, "shut off"};
  CHECK(assess_deep(stopped, {.control_ok = false}).health == Health::stopped);
}
