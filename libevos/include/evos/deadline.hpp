// evos::Deadline: one point in time every bounded operation is measured against.
#pragma once

#include <evos/error.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

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

// A duration as an operator or Pacemaker writes it: "5" (seconds), "5s", "500ms", "2m" (also
// "sec", "msec", "min"), at most 86400000 of its unit. Errc::invalid_argument naming `what`
// ("--timeout", "parameter 'dampen'") otherwise.
Result<Millis> read_duration(std::string_view text, std::string_view what);

// "5 s", "1500 ms", "2 min": for messages.
std::string format_duration(Millis d);

// The time kept between a bounded job's own deadline (its waits return typed timeouts there) and
// the watchdog that ends its process: a tenth of the budget, 200 ms to 2 s. Enough to report, and
// small against any budget worth setting.
Millis guard_time(Millis budget);

// The budget of one evosctl command, which a watchdog enforces (docs/evosctl.md, "Deadlines"):
// an explicit global --timeout bounds the whole command, whatever else it says; otherwise a
// command that takes its own --timeout (it waits for the cluster by design) is bounded by that
// plus the guard time, so its own typed timeout comes first; otherwise `fallback` (30 s).
Millis command_budget(std::optional<Millis> global, std::optional<Millis> own, Millis fallback);

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
