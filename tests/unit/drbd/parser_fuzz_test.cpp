// A deterministic mutation fuzzer for the drbd parsers: seeded, bounded, and part of the unit tier,
// so every build checks that mutated tool output yields a value or a clean error, never a crash.
// The coverage-guided libFuzzer run is tests/fuzz/drbd_parsers_fuzz.cpp (ctest fuzz/drbd-parsers).
#include "drbd_data.hpp"

#include <evos/drbd/events2_parser.hpp>
#include <evos/drbd/state.hpp>
#include <evos/drbd/status_json_parser.hpp>

#include <catch2/catch.hpp>

#include <random>

using namespace evos::drbd;

namespace {

const std::vector<std::string> interesting = {
    ":", "->", " ", "-", "exists -", "- skipped ", "nan", "-1", "99999999999999999999999", "4294967296", "\xff",
    "\xc3\xa9", "\"", "\\", "[", "]", "{", "}", ",", "null", "true", "1e308", "-0", "peer-node-id:", "volume:",
    "replication:SyncSource", "disk:UpToDate", "done:", "2024-05-02T10:11:12.000101+02:00 ", "\"out-of-sync\": ",
    "\"peer_devices\": [", "\"connection-state\": \"", "\n", "\r", "\t", std::string(1, '\0')};

std::string mutate(std::string text, std::mt19937_64& rng, const std::vector<std::string>& corpus) {
  auto pick = [&](std::size_t n) { return n == 0 ? std::size_t{0} : static_cast<std::size_t>(rng() % n); };
  const int rounds = 1 + static_cast<int>(rng() % 4);
  for (int r = 0; r < rounds; ++r) {
    switch (rng() % 8) {
      case 0:  // flip a byte
        if (!text.empty()) text[pick(text.size())] = static_cast<char>(rng() & 0xff);
        break;
      case 1:  // delete a range
        if (!text.empty()) {
          const std::size_t at = pick(text.size());
          text.erase(at, pick(64) + 1);
        }
        break;
      case 2:  // duplicate a range
        if (!text.empty()) {
          const std::size_t at = pick(text.size());
          const std::string piece = text.substr(at, pick(128) + 1);
          text.insert(pick(text.size() + 1), piece);
        }
        break;
      case 3:  // insert an interesting token
        text.insert(pick(text.size() + 1), interesting[pick(interesting.size())]);
        break;
      case 4:  // truncate
        text.resize(pick(text.size() + 1));
        break;
      case 5: {  // splice in part of another sample
        const std::string& other = corpus[pick(corpus.size())];
        if (!other.empty()) {
          const std::size_t from = pick(other.size());
          text.insert(pick(text.size() + 1), other.substr(from, pick(256) + 1));
        }
        break;
      }
      case 6:  // replace a digit run with a huge or negative number
        for (std::size_t i = pick(text.size()); i < text.size(); ++i) {
          if (text[i] >= '0' && text[i] <= '9') {
            text.insert(i, (rng() & 1) ? "-" : "184467440737095516159");
            break;
          }
        }
        break;
      default:  // swap two bytes
        if (text.size() > 1) std::swap(text[pick(text.size())], text[pick(text.size())]);
        break;
    }
  }
  return text;
}

// Whatever the parsers accept, the model and every decision must digest.
void exercise(const ResourceState& s) {
  (void)promotion_score(s);
  (void)may_promote(s, false);
  (void)may_promote(s, true);
  (void)is_degraded(s);
  (void)is_sync_source(s);
  (void)sync_progress(s);
  (void)out_of_sync_kib(s);
  (void)describe(s);
}

}  // namespace

TEST_CASE("mutated events2 output parses or fails cleanly") {
  const std::vector<std::string> corpus = {
      test::read_data("events2-9.0-now.txt"), test::read_data("events2-9.0-stream.txt"),
      test::read_data("events2-9.1-now-statistics.txt"), test::read_data("events2-9.2-now-statistics.txt"),
      test::read_data("events2-9.2-split-brain.txt"), test::read_data("events2-9.2-diff.txt")};
  std::mt19937_64 rng(20240502);
  std::size_t accepted = 0;
  std::size_t rejected = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string input = mutate(corpus[static_cast<std::size_t>(i) % corpus.size()], rng, corpus);
    std::vector<Event> events;
    std::size_t start = 0;
    while (start <= input.size()) {
      const auto nl = input.find('\n', start);
      const std::string_view line = std::string_view(input).substr(start, nl == std::string::npos ? std::string::npos : nl - start);
      auto e = parse_events2_line(line);
      if (e) {
        ++accepted;
        events.push_back(std::move(*e));
      } else {
        ++rejected;
        REQUIRE(e.error().code() == evos::Errc::invalid_argument);
        REQUIRE_FALSE(e.error().message().empty());
      }
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
    for (const auto& [name, s] : states_from_events(events)) exercise(s);
    exercise(state_from_events("r0", events));
  }
  CHECK(accepted > 1000);
  CHECK(rejected > 1000);
}

TEST_CASE("mutated status json parses or fails cleanly") {
  const std::vector<std::string> corpus = {test::read_data("status-9.0.json"), test::read_data("status-9.1-syncing.json"),
                                           test::read_data("status-9.2.json")};
  std::mt19937_64 rng(9002);
  std::size_t accepted = 0;
  std::size_t rejected = 0;
  for (int i = 0; i < 6000; ++i) {
    const std::string input = mutate(corpus[static_cast<std::size_t>(i) % corpus.size()], rng, corpus);
    auto states = parse_status_json(input);
    if (states) {
      ++accepted;
      for (const auto& s : *states) exercise(s);
    } else {
      ++rejected;
      REQUIRE(states.error().code() == evos::Errc::invalid_argument);
      REQUIRE_FALSE(states.error().message().empty());
    }
  }
  CHECK(accepted > 100);
  CHECK(rejected > 1000);
}
