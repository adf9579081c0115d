// evos::stats::Sampler: every 10 s, the families a collect function returns (the exporter's
// scrape), filtered to those the history keeps (stats::recorded), written to a SampleSink (the
// SQLite history, stats/history_db.hpp). The daemon runs run() on its own thread; a failed round
// (a damaged database, a full disk) is reported to on_error and the next round tries again: the
// sampler never throws and never stops the daemon.
#pragma once

#include <evos/metrics/exposition.hpp>
#include <evos/stats/history.hpp>

#include <condition_variable>
#include <functional>
#include <mutex>

namespace evos::stats {

class SampleSink {
 public:
  virtual ~SampleSink() = default;
  // One round at `unix_s`, all or nothing.
  virtual Result<void> record(std::int64_t unix_s, const std::vector<metrics::Family>& families) = 0;
};

class Sampler {
 public:
  using Collect = std::function<std::vector<metrics::Family>()>;
  using OnError = std::function<void(const Error&)>;

  Sampler(Collect collect, SampleSink& sink, OnError on_error, std::int64_t period_s = default_period_s);

  // One round: collect, keep the recorded families, write them stamped `unix_s`.
  Result<void> sample_once(std::int64_t unix_s);
  // Rounds every period on the wall clock's multiples of it, until stop().
  void run();
  void stop();
  [[nodiscard]] std::uint64_t rounds() const;
  [[nodiscard]] std::uint64_t failures() const;

 private:
  Collect collect_;
  SampleSink& sink_;
  OnError on_error_;
  std::int64_t period_s_;
  mutable std::mutex m_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::uint64_t rounds_ = 0, failures_ = 0;
};

}  // namespace evos::stats
