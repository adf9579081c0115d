#include <evos/watchdog.hpp>

namespace evos {

Watchdog::Watchdog(Deadline deadline, std::function<void()> on_expiry) {
  thread_ = std::thread([this, deadline, fire = std::move(on_expiry)] {
    std::unique_lock lock(mutex_);
    if (!wake_.wait_until(lock, deadline.when(), [this] { return disarmed_; })) fire();
  });
}

Watchdog::~Watchdog() {
  {
    std::lock_guard lock(mutex_);
    disarmed_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

}  // namespace evos
