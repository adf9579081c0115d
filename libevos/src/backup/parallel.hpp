// Internal: the worker pool of backup, restore and verify.
#pragma once

#include <evos/error.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace evos::backup::detail {

// Runs work(i, worker) for every i in [0, count) on `workers` threads; after the first error no new
// item starts and that error is returned. tick() runs on the calling thread about every 250 ms.
inline Result<void> parallel_for(std::uint64_t count, unsigned workers,
                                 const std::function<Result<void>(std::uint64_t, unsigned)>& work,
                                 const std::function<void()>& tick) {
  std::atomic<std::uint64_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;
  std::condition_variable done_cv;
  std::optional<Error> first_error;
  unsigned running = workers;
  std::vector<std::thread> threads;
  threads.reserve(workers);
  for (unsigned w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      for (;;) {
        if (failed.load()) break;
        const std::uint64_t i = next.fetch_add(1);
        if (i >= count) break;
        auto r = work(i, w);
        if (!r) {
          std::lock_guard lock(mutex);
          if (!first_error) first_error = std::move(r).error();
          failed = true;
          break;
        }
      }
      std::lock_guard lock(mutex);
      if (--running == 0) done_cv.notify_all();
    });
  }
  {
    std::unique_lock lock(mutex);
    while (running > 0) {
      done_cv.wait_for(lock, std::chrono::milliseconds(250));
      if (running > 0 && tick) {
        lock.unlock();
        tick();
        lock.lock();
      }
    }
  }
  for (auto& t : threads) t.join();
  if (first_error) return std::move(*first_error);
  return {};
}

}  // namespace evos::backup::detail
