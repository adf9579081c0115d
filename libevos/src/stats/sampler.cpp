#include <evos/stats/sampler.hpp>

#include <chrono>

namespace evos::stats {

Sampler::Sampler(Collect collect, SampleSink& sink, OnError on_error, std::int64_t period_s)
    : collect_(std::move(collect)), sink_(sink), on_error_(std::move(on_error)), period_s_(period_s > 0 ? period_s : default_period_s) {}

Result<void> Sampler::sample_once(std::int64_t unix_s) {
  Result<void> r = [&]() -> Result<void> {
    try {
      std::vector<metrics::Family> kept;
      for (auto& f : collect_())
        if (recorded(f)) kept.push_back(std::move(f));
      return sink_.record(unix_s, kept);
    } catch (const std::exception& e) {
      return make_error(Errc::backend, "history sample: {}", e.what());
    }
  }();
  std::lock_guard lock(m_);
  ++rounds_;
  if (!r) ++failures_;
  return r;
}

void Sampler::run() {
  using namespace std::chrono;
  for (;;) {
    const auto now = system_clock::now();
    const std::int64_t s = duration_cast<seconds>(now.time_since_epoch()).count();
    const std::int64_t next = bucket_start(s, period_s_) + period_s_;
    {
      std::unique_lock lock(m_);
      if (cv_.wait_until(lock, system_clock::time_point(seconds(next)), [&] { return stop_; })) return;
    }
    if (auto r = sample_once(next); !r && on_error_) on_error_(r.error());
  }
}

void Sampler::stop() {
  std::lock_guard lock(m_);
  stop_ = true;
  cv_.notify_all();
}

std::uint64_t Sampler::rounds() const {
  std::lock_guard lock(m_);
  return rounds_;
}
std::uint64_t Sampler::failures() const {
  std::lock_guard lock(m_);
  return failures_;
}

}  // namespace evos::stats
