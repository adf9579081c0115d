// FakeTime: a TimeSource for service tests. Time stands still until the code under test sleeps;
// a sleep advances it at once and records the duration, and `on_sleep` lets a test script what
// happens meanwhile (a guest that shuts down after 3 s), so no test waits on the real clock.
#pragma once

#include <evos/deadline.hpp>

#include <functional>
#include <vector>

namespace evos::test {

class FakeTime final : public TimeSource {
 public:
  Clock::time_point t = Clock::now();
  std::vector<Millis> sleeps;
  std::function<void(Millis slept_so_far)> on_sleep;

  Clock::time_point now() override { return t; }
  void sleep_for(Millis duration) override {
    sleeps.push_back(duration);
    t += duration;
    if (on_sleep) on_sleep(slept());
  }
  [[nodiscard]] Millis slept() const {
    Millis total{0};
    for (auto d : sleeps) total += d;
    return total;
  }
};

}  // namespace evos::test
