#include <evos/metrics/scraper.hpp>

#include <evos/metrics/collectors.hpp>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

namespace evos::metrics {

struct Scraper::Slot {
  Source source;
  std::mutex m;
  std::condition_variable cv;
  bool running = false;
  std::uint64_t generation = 0;  // answers received so far
  std::optional<std::vector<Family>> answer;  // the last answer, nullopt after an error
  Clock::time_point answered_at{};
};

Source daemon_source(std::string name, std::function<std::vector<Family>()> families) {
  Source s;
  s.name = std::move(name);
  s.read = [f = std::move(families)](Deadline) -> Result<std::vector<Family>> { return f(); };
  return s;
}

Scraper::Scraper(std::vector<Source> sources, Millis budget) : budget_(budget) {
  for (auto& s : sources) {
    auto slot = std::make_shared<Slot>();
    slot->source = std::move(s);
    slots_.push_back(std::move(slot));
  }
}

Scraper::~Scraper() = default;

std::vector<Family> Scraper::scrape() {
  const Deadline deadline = Deadline::after(budget_);
  std::vector<std::optional<std::uint64_t>> waiting(slots_.size());
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    auto& slot = slots_[i];
    std::lock_guard lock(slot->m);
    const bool fresh = slot->answer && slot->source.ttl.count() > 0 && Clock::now() - slot->answered_at < slot->source.ttl;
    if (fresh) continue;
    waiting[i] = slot->generation;
    if (slot->running) continue;  // a read a previous scrape started: wait for it, start none
    slot->running = true;
    std::thread([slot, deadline] {
      Result<std::vector<Family>> r = [&]() -> Result<std::vector<Family>> {
        try {
          return slot->source.read(deadline);
        } catch (const std::exception& e) {
          return make_error(Errc::backend, "{}", e.what());
        }
      }();
      std::lock_guard inner(slot->m);
      slot->running = false;
      if (r) {
        slot->answer = std::move(*r);
        slot->answered_at = Clock::now();
      } else {
        slot->answer.reset();
      }
      ++slot->generation;
      slot->cv.notify_all();
    }).detach();
  }
  std::vector<Family> out;
  std::vector<SourceOutcome> outcomes;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    auto& slot = slots_[i];
    std::unique_lock lock(slot->m);
    if (waiting[i]) {
      const auto started = *waiting[i];
      slot->cv.wait_until(lock, deadline.when(), [&] { return slot->generation != started; });
      if (slot->generation == started) {
        outcomes.push_back({slot->source.name, false});
        continue;
      }
    }
    if (!slot->answer) {
      outcomes.push_back({slot->source.name, false});
      continue;
    }
    outcomes.push_back({slot->source.name, true});
    out.insert(out.end(), slot->answer->begin(), slot->answer->end());
  }
  out.push_back(scrape_families(outcomes));
  Family build;
  build.name = "evos_build_info";
  build.help = "1, labelled with the evos version that serves the metrics";
  build.add({{"version", EVOS_VERSION}}, 1);
  out.push_back(std::move(build));
  return out;
}

Result<std::string> Scraper::scrape_text() { return write_text(scrape()); }

}  // namespace evos::metrics
