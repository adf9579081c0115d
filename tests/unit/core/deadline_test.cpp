// Durations and deadline arithmetic: the --timeout grammar, the guard time kept for reporting,
// and which budget bounds an evosctl command.
#include <evos/deadline.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace std::chrono_literals;

TEST_CASE("read_duration reads seconds, milliseconds and minutes") {
  CHECK(*read_duration("30", "--timeout") == 30000ms);  // a bare number is seconds
  CHECK(*read_duration("2s", "--timeout") == 2000ms);
  CHECK(*read_duration("2sec", "--timeout") == 2000ms);
  CHECK(*read_duration("1500ms", "--timeout") == 1500ms);
  CHECK(*read_duration("1500msec", "--timeout") == 1500ms);
  CHECK(*read_duration("2m", "--timeout") == 120000ms);
  CHECK(*read_duration("2min", "--timeout") == 120000ms);
  CHECK(*read_duration("0", "--timeout") == 0ms);
}

TEST_CASE("read_duration refuses anything else, naming the option") {
  for (const char* bad : {"", "s", "-1", "+1", "1.5s", "2 s", " 2s", "2h", "1e3", "2s;x", "86400001", "99999999999999999999"}) {
    INFO(bad);
    auto d = read_duration(bad, "--timeout");
    REQUIRE_FALSE(d);
    CHECK(d.error().code() == Errc::invalid_argument);
    CHECK(d.error().message().rfind("--timeout must be a duration such as 5s", 0) == 0);
  }
}

TEST_CASE("format_duration picks the unit that reads exactly") {
  CHECK(format_duration(30000ms) == "30 s");
  CHECK(format_duration(1500ms) == "1500 ms");
  CHECK(format_duration(120000ms) == "2 min");
  CHECK(format_duration(0ms) == "0 s");
}

TEST_CASE("guard_time is a tenth of the budget, kept between 200 ms and 2 s") {
  CHECK(guard_time(5000ms) == 500ms);
  CHECK(guard_time(1000ms) == 200ms);
  CHECK(guard_time(0ms) == 200ms);
  CHECK(guard_time(600000ms) == 2000ms);
}

TEST_CASE("command_budget: an explicit global timeout wins, then the command's own plus guard, then the default") {
  CHECK(command_budget(5000ms, 120000ms, 30000ms) == 5000ms);
  CHECK(command_budget(5000ms, std::nullopt, 30000ms) == 5000ms);
  CHECK(command_budget(std::nullopt, 120000ms, 30000ms) == 122000ms);
  CHECK(command_budget(std::nullopt, 15000ms, 30000ms) == 16500ms);
  CHECK(command_budget(std::nullopt, std::nullopt, 30000ms) == 30000ms);
}

TEST_CASE("Deadline arithmetic") {
  const auto now = Clock::now();
  const auto d = Deadline::at(now + 10s);
  CHECK(d.minus(3s).when() == now + 7s);
  CHECK(d.earliest(Deadline::at(now + 5s)).when() == now + 5s);
  CHECK(d.earliest(Deadline::at(now + 20s)).when() == now + 10s);
  CHECK(Deadline::at(now - 1s).remaining() == 0ms);  // never negative
  CHECK(Deadline::at(now - 1s).expired());
}
