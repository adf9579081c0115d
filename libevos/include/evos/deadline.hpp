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

}  // namespace evos
