// evos::Watchdog: guarantees that no bounded job (an OCF action, an evosctl command) outlives its
// deadline. If the job is still running at the deadline, `on_expiry` runs on the watchdog thread
// (it must end the process, e.g. with _exit: the job's thread may be blocked inside a library
// call that no deadline reaches, such as a libvirt RPC to a hung libvirtd).
#pragma once

#include <evos/deadline.hpp>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace evos {

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

}  // namespace evos
