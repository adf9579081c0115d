#include <evos/daemon/worker.hpp>

namespace evos::daemon {

void Worker::start(std::function<void()> body) {
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
  }
  thread_ = std::thread(std::move(body));
}

void Worker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

bool Worker::stopping() const {
  std::lock_guard lock(mutex_);
  return stopping_;
}

bool Worker::sleep_until(Clock::time_point t) {
  std::unique_lock lock(mutex_);
  wake_.wait_until(lock, t, [&] { return stopping_; });
  return stopping_;
}

void Worker::post(const std::function<void()>& change) {
  {
    std::lock_guard lock(mutex_);
    change();
  }
  wake_.notify_all();
}

bool Worker::wait_for_work(const std::function<bool()>& ready, const std::function<void()>& take) {
  std::unique_lock lock(mutex_);
  wake_.wait(lock, [&] { return stopping_ || ready(); });
  if (stopping_) return true;
  take();
  return false;
}

}  // namespace evos::daemon
