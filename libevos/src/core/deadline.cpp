#include <evos/deadline.hpp>

#include <thread>

namespace evos {
namespace {

Millis left_until(Clock::time_point at, Clock::time_point now) {
  auto left = std::chrono::duration_cast<Millis>(at - now);
  return left.count() > 0 ? left : Millis(0);
}

class SteadyTime final : public TimeSource {
 public:
  Clock::time_point now() override { return Clock::now(); }
  void sleep_for(Millis duration) override { std::this_thread::sleep_for(duration); }
};

}  // namespace

Millis Deadline::remaining() const { return left_until(at_, Clock::now()); }

Millis TimeSource::remaining(Deadline deadline) { return left_until(deadline.when(), now()); }

TimeSource& steady_time() {
  static SteadyTime time;
  return time;
}

}  // namespace evos
