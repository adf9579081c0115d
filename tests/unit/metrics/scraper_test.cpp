#include <evos/metrics/scraper.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <future>

using namespace evos::metrics;
using evos::Millis;

namespace {

std::optional<double> up(const std::vector<Family>& fs, const std::string& source) {
  for (const auto& f : fs)
    if (f.name == "evos_scrape_source_up")
      for (const auto& s : f.samples)
        if (s.labels == Labels{{"source", source}}) return s.value;
  return std::nullopt;
}

bool has(const std::vector<Family>& fs, const std::string& name) {
  for (const auto& f : fs)
    if (f.name == name) return true;
  return false;
}

Family one(const std::string& name, double v) {
  Family f{name, "test", Type::gauge, {}};
  f.add({}, v);
  return f;
}

}  // namespace

TEST_CASE("scraper: a source that has not answered by the deadline is down and does not block") {
  std::promise<void> release;
  auto released = release.get_future().share();
  auto reads = std::make_shared<std::atomic<int>>(0);
  Source slow{"slow", Millis(0), [released, reads](evos::Deadline) -> evos::Result<std::vector<Family>> {
                ++*reads;
                released.wait();  // answers only once the test lets it: never by the first deadline
                return std::vector<Family>{one("evos_slow_value", 2)};
              }};
  Source fast{"fast", Millis(0), [](evos::Deadline) -> evos::Result<std::vector<Family>> {
                return std::vector<Family>{one("evos_fast_value", 1)};
              }};
  Scraper scraper({slow, fast}, Millis(100));
  auto first = scraper.scrape();
  CHECK(up(first, "slow") == 0);
  CHECK(up(first, "fast") == 1);
  CHECK(has(first, "evos_fast_value"));
  CHECK_FALSE(has(first, "evos_slow_value"));
  // A second scrape while the read still hangs starts no second read.
  auto second = scraper.scrape();
  CHECK(up(second, "slow") == 0);
  CHECK(*reads == 1);

  release.set_value();
  // The next scrape gets the hung read's answer or a fresh one, within its deadline.
  std::vector<Family> third;
  for (int i = 0; i < 50 && !up(third, "slow").value_or(0); ++i) third = scraper.scrape();
  CHECK(up(third, "slow") == 1);
  CHECK(has(third, "evos_slow_value"));
  CHECK(write_text(third));
}

TEST_CASE("scraper: a failed source is down, its old answer is not served") {
  auto fail = std::make_shared<std::atomic<bool>>(false);
  Source flaky{"flaky", Millis(0), [fail](evos::Deadline) -> evos::Result<std::vector<Family>> {
                 if (*fail) return evos::Error(evos::Errc::backend, "libvirtd is gone");
                 return std::vector<Family>{one("evos_flaky_value", 1)};
               }};
  Scraper scraper({flaky}, Millis(5000));
  CHECK(up(scraper.scrape(), "flaky") == 1);
  *fail = true;
  auto after = scraper.scrape();
  CHECK(up(after, "flaky") == 0);
  CHECK_FALSE(has(after, "evos_flaky_value"));
}

TEST_CASE("scraper: an exception in a source is a down source") {
  Source bad{"bad", Millis(0), [](evos::Deadline) -> evos::Result<std::vector<Family>> { throw std::runtime_error("boom"); }};
  Scraper scraper({bad}, Millis(5000));
  CHECK(up(scraper.scrape(), "bad") == 0);
}

TEST_CASE("scraper: an answer is served again within its TTL") {
  auto reads = std::make_shared<std::atomic<int>>(0);
  Source cached{"cached", Millis(3600000), [reads](evos::Deadline) -> evos::Result<std::vector<Family>> {
                  ++*reads;
                  return std::vector<Family>{one("evos_cached_value", 1)};
                }};
  Scraper scraper({cached}, Millis(5000));
  CHECK(up(scraper.scrape(), "cached") == 1);
  auto again = scraper.scrape();
  CHECK(up(again, "cached") == 1);
  CHECK(has(again, "evos_cached_value"));
  CHECK(*reads == 1);
}

TEST_CASE("scraper: the daemon's own counters are a source") {
  Scraper scraper({daemon_source("evosd", [] { return std::vector<Family>{one("evos_daemon_reconnects", 3)}; })}, Millis(5000));
  auto fs = scraper.scrape();
  CHECK(up(fs, "evosd") == 1);
  CHECK(has(fs, "evos_daemon_reconnects"));
  CHECK(has(fs, "evos_build_info"));
}
