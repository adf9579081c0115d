#include <evos/drbd/events2_restarts.hpp>

#include <algorithm>

namespace evos::drbd {

Millis StreamRestarts::next_delay(std::optional<Clock::time_point> synced, Clock::time_point ended) {
  const bool healthy = synced && ended - *synced >= policy_.healthy_after;
  if (healthy || !last_) {
    last_ = policy_.min;
  } else {
    last_ = std::min(policy_.max, *last_ * 2);
  }
  return *last_;
}

}  // namespace evos::drbd
