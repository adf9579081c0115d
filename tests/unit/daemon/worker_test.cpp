#include <evos/daemon/worker.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <deque>
#include <vector>

using namespace evos::daemon;
using namespace std::chrono_literals;

TEST_CASE("worker: stop wakes a long sleep at once and joins", "[daemon]") {
  Worker w;
  std::atomic<int> woke{-1};
  std::atomic<bool> asleep{false};
  w.start([&] {
    asleep = true;
    woke = w.sleep_for(std::chrono::hours(1)) ? 1 : 0;  // without the wake-up this test hangs
  });
  while (!asleep) std::this_thread::yield();
  CHECK_FALSE(w.stopping());
  w.stop();
  CHECK(woke == 1);  // joined: the thread's result is there
  CHECK(w.stopping());
  w.stop();  // again: nothing
}

TEST_CASE("worker: a sleep that runs out says not stopping", "[daemon]") {
  Worker w;
  std::atomic<int> result{-1};
  w.start([&] { result = w.sleep_for(1ms) ? 1 : 0; });
  while (result == -1) std::this_thread::yield();
  CHECK(result == 0);
}

TEST_CASE("worker: posted work is taken in order under the lock; stop ends the wait", "[daemon]") {
  Worker w;
  std::deque<int> queue;
  std::vector<int> done;
  std::atomic<bool> ended{false};
  w.start([&] {
    for (;;) {
      int item = 0;
      if (w.wait_for_work([&] { return !queue.empty(); },
                          [&] {
                            item = queue.front();
                            queue.pop_front();
                          }))
        break;
      done.push_back(item);
    }
    ended = true;
  });
  for (int i = 1; i <= 3; ++i) w.post([&, i] { queue.push_back(i); });
  for (;;) {
    bool empty = false;
    w.post([&] { empty = queue.empty(); });
    if (empty) break;
    std::this_thread::yield();
  }
  w.stop();
  CHECK(ended);
  CHECK(done == std::vector<int>{1, 2, 3});
}

TEST_CASE("worker: stop before start does nothing", "[daemon]") {
  Worker w;
  w.stop();
  CHECK(w.stopping());
}
