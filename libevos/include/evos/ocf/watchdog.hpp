// evos::ocf::Watchdog: guarantees that no action outlives its operation timeout. If the action
// is still running at the deadline, `on_expiry` runs on the watchdog thread (it must end the
// process, e.g. with _exit).
#pragma once

#include <evos/deadline.hpp>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace evos::ocf {

class Watchdog {
 public:
  Watchdog(Deadline deadline, std::function<void()> on_expiry);
  ~Watchdog();  // disarms
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool disarmed_ = false;
  std::thread thread_;
};

}  // namespace evos::ocf
