// evos::drbd::StreamRestarts: when to start `drbdsetup events2` again after it ended (exited,
// killed for printing garbage, or for losing notifications). Pure, on the caller's clock: the
// delay doubles from `min` up to `max` while streams keep ending soon after they started, and
// falls back to `min` after a stream that ran `healthy_after` past its initial state.
#pragma once

#include <evos/deadline.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace evos::drbd {

struct RestartPolicy {
  Millis min{1000};
  Millis max{30000};
  Millis healthy_after{30000};
  // A stream that printed more unreadable lines than this is ended and started again: the
  // parser keeps unknown keys, so so much garbage means a broken stream, not a newer DRBD.
  std::uint64_t max_garbage = 20;
  // A stream that has not printed its initial state ("exists -") this long after it started is
  // hung (the dump takes milliseconds): it is ended and started again.
  Millis initial_state_within{30000};
};

class StreamRestarts {
 public:
  explicit StreamRestarts(RestartPolicy policy = {}) : policy_(policy) {}

  // A stream (its initial state read at `synced`, if ever) ended at `ended`: how long to wait
  // before the next start.
  Millis next_delay(std::optional<Clock::time_point> synced, Clock::time_point ended);

  // Whether a running stream must be ended for its garbage (then restarted by next_delay).
  [[nodiscard]] bool too_much_garbage(std::uint64_t stream_garbage) const { return stream_garbage > policy_.max_garbage; }

  // Whether a stream started at `started` and not synced yet must be ended at `now`.
  [[nodiscard]] bool initial_state_overdue(Clock::time_point started, Clock::time_point now) const {
    return now - started >= policy_.initial_state_within;
  }

  [[nodiscard]] const RestartPolicy& policy() const { return policy_; }

 private:
  RestartPolicy policy_;
  std::optional<Millis> last_;
};

}  // namespace evos::drbd
