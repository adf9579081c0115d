// evos::Deadline: one point in time every bounded operation is measured against.
#pragma once

#include <chrono>

namespace evos {

using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

class Deadline {
 public:
  static Deadline after(Millis budget) { return Deadline(Clock::now() + budget); }
  static Deadline at(Clock::time_point when) { return Deadline(when); }

  [[nodiscard]] Clock::time_point when() const noexcept { return at_; }
  // Time left, never negative.
  [[nodiscard]] Millis remaining() const;
  [[nodiscard]] bool expired() const { return Clock::now() >= at_; }
  // A deadline `margin` earlier, for steps that must leave time for a later one.
  [[nodiscard]] Deadline minus(Millis margin) const { return Deadline(at_ - margin); }
  [[nodiscard]] Deadline earliest(Deadline other) const { return other.at_ < at_ ? other : *this; }

 private:
  explicit Deadline(Clock::time_point at) : at_(at) {}
  Clock::time_point at_;
};

// The clock a service reads and waits on, a port like Log: steady_time() in production (the
// steady clock and std::this_thread::sleep_for); unit tests pass a fake that advances only when
// slept on (tests/support/fake_time.hpp), so a wait of seconds costs them no real time.
class TimeSource {
 public:
  virtual ~TimeSource() = default;
  [[nodiscard]] virtual Clock::time_point now() = 0;
  virtual void sleep_for(Millis duration) = 0;

  [[nodiscard]] Deadline after(Millis budget) { return Deadline::at(now() + budget); }
  // Time left until `deadline` on this clock, never negative.
  [[nodiscard]] Millis remaining(Deadline deadline);
  [[nodiscard]] bool expired(Deadline deadline) { return now() >= deadline.when(); }
};

TimeSource& steady_time();

}  // namespace evos
