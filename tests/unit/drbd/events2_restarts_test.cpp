#include "fake_time.hpp"

#include <evos/drbd/events2_restarts.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::drbd;
using namespace std::chrono_literals;

TEST_CASE("events2 restarts: the delay doubles from 1 s to 30 s while streams die young", "[drbd][events2_restarts]") {
  test::FakeTime time;
  StreamRestarts r;
  std::vector<long long> delays;
  for (int i = 0; i < 8; ++i) {
    time.sleep_for(500ms);  // each stream ran half a second, never reaching its initial state
    delays.push_back(r.next_delay(std::nullopt, time.now()).count());
  }
  CHECK(delays == std::vector<long long>{1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000});
}

TEST_CASE("events2 restarts: a stream healthy for 30 s resets the backoff", "[drbd][events2_restarts]") {
  test::FakeTime time;
  StreamRestarts r;
  CHECK(r.next_delay(std::nullopt, time.now()) == 1000ms);
  CHECK(r.next_delay(std::nullopt, time.now()) == 2000ms);
  CHECK(r.next_delay(std::nullopt, time.now()) == 4000ms);
  const auto synced = time.now();
  time.sleep_for(29s);
  // Synced, but not long enough: still backing off.
  CHECK(r.next_delay(synced, time.now()) == 8000ms);
  const auto synced2 = time.now();
  time.sleep_for(30s);
  CHECK(r.next_delay(synced2, time.now()) == 1000ms);
}

TEST_CASE("events2 restarts: garbage beyond the limit ends the stream", "[drbd][events2_restarts]") {
  StreamRestarts r(RestartPolicy{.min = 1000ms, .max = 30000ms, .healthy_after = 30000ms, .max_garbage = 3});
  CHECK_FALSE(r.too_much_garbage(0));
  CHECK_FALSE(r.too_much_garbage(3));
  CHECK(r.too_much_garbage(4));
  CHECK_FALSE(StreamRestarts().too_much_garbage(20));
  CHECK(StreamRestarts().too_much_garbage(21));
}

TEST_CASE("events2 restarts: a stream without its initial state after 30 s is hung", "[drbd][events2_restarts]") {
  test::FakeTime time;
  StreamRestarts r;
  const auto started = time.now();
  time.sleep_for(29999ms);
  CHECK_FALSE(r.initial_state_overdue(started, time.now()));
  time.sleep_for(1ms);
  CHECK(r.initial_state_overdue(started, time.now()));
}
