#include <evos/daemon/lifecycle.hpp>

#include <catch2/catch.hpp>

using namespace evos::daemon;
using evos::vm::Power;
using evos::vm::Reason;

TEST_CASE("lifecycle events give the state after them") {
  struct Row {
    int type, detail;
    Power power;
    Reason reason;
  };
  const std::vector<Row> rows = {
      {2, 0, Power::running, Reason::booted},       {2, 1, Power::running, Reason::migration},
      {3, 2, Power::paused, Reason::io_error},      {3, 0, Power::paused, Reason::user},
      {4, 0, Power::running, Reason::user},         {5, 0, Power::shut_off, Reason::shutdown},
      {5, 1, Power::shut_off, Reason::destroyed},   {5, 2, Power::shut_off, Reason::crashed},
      {5, 3, Power::shut_off, Reason::migration},   {5, 5, Power::shut_off, Reason::failed},
      {6, 1, Power::shutting_down, Reason::shutdown}, {8, 0, Power::crashed, Reason::crashed},
      {5, 99, Power::shut_off, Reason::unknown},    {7, 0, Power::pm_suspended, Reason::unknown},
  };
  for (const auto& r : rows) {
    INFO("type " << r.type << " detail " << r.detail);
    const auto c = lifecycle_change(r.type, r.detail);
    REQUIRE(c.state);
    CHECK(c.state->power == r.power);
    CHECK(c.state->reason == r.reason);
    CHECK_FALSE(c.undefined);
  }
}

TEST_CASE("defined undefined and unknown events change no power state") {
  CHECK_FALSE(lifecycle_change(0, 0).state);
  CHECK_FALSE(lifecycle_change(0, 0).undefined);
  CHECK(lifecycle_change(1, 0).undefined);
  CHECK_FALSE(lifecycle_change(1, 0).state);
  CHECK_FALSE(lifecycle_change(42, 0).state);
  CHECK_FALSE(lifecycle_change(-1, 0).state);
}

TEST_CASE("lifecycle events are described for logs") {
  CHECK(describe_lifecycle(5, 2) == "stopped (crashed)");
  CHECK(describe_lifecycle(2, 1) == "started (migration)");
  CHECK(describe_lifecycle(0, 0) == "defined");
  CHECK(describe_lifecycle(42, 7) == "type 42 detail 7");
}
