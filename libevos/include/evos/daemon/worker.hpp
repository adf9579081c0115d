// The one thread of an evosd service (test-IP prober, DRBD events follower, failure reporter)
// and how it stops: stop() wakes every wait at once and joins, so evosd's shutdown never waits
// for a probe interval or a backoff delay to run out.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace evos::daemon {

class Worker {
 public:
  using Clock = std::chrono::steady_clock;

  Worker() = default;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker() { stop(); }

  // Runs `body` on the thread; it should return soon after stopping() turns true.
  void start(std::function<void()> body);
  // Asks the thread to end, wakes it and joins it; again (or before start) it does nothing.
  void stop();
  [[nodiscard]] bool stopping() const;

  // Sleeps until `t` or until stop(); true when stopping.
  bool sleep_until(Clock::time_point t);
  bool sleep_for(std::chrono::milliseconds d) { return sleep_until(Clock::now() + d); }

  // For a queue the thread serves: `change` runs under the worker's lock, then the thread wakes.
  void post(const std::function<void()>& change);
  // Waits until `ready()` (called under the lock) or stop(); true when stopping. `take` then runs
  // under the same lock, so what ready() saw is still there.
  bool wait_for_work(const std::function<bool()>& ready, const std::function<void()>& take);

 private:
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace evos::daemon
