// evosd's socket server waits for events, not a tick (docs/evosd.md, "Socket protocol"): its
// poll timeout is the earliest client deadline, or none at all.
#include <evos/daemon/socket.hpp>

#include <catch2/catch.hpp>

#include <limits>

using evos::Clock;
using evos::daemon::poll_timeout_ms;
using namespace std::chrono_literals;

TEST_CASE("an idle socket server without clients never wakes by itself", "[daemon]") {
  CHECK(poll_timeout_ms(std::nullopt, Clock::now()) == -1);
}

TEST_CASE("the poll timeout is the earliest client deadline, rounded up", "[daemon]") {
  const auto now = Clock::now();
  CHECK(poll_timeout_ms(now + 30s, now) == 30000);
  CHECK(poll_timeout_ms(now + 1500us, now) == 2);  // never wakes just before the deadline
  CHECK(poll_timeout_ms(now + 1ms, now) == 1);
  CHECK(poll_timeout_ms(now + 1ns, now) == 1);
}

TEST_CASE("a deadline already past is polled without waiting", "[daemon]") {
  const auto now = Clock::now();
  CHECK(poll_timeout_ms(now, now) == 0);
  CHECK(poll_timeout_ms(now - 5s, now) == 0);
}

TEST_CASE("a very distant deadline is capped at what poll takes", "[daemon]") {
  const auto now = Clock::now();
  CHECK(poll_timeout_ms(now + std::chrono::hours(24 * 365 * 100), now) == std::numeric_limits<int>::max());
}
