// libFuzzer target for the drbd parsers (ctest fuzz/drbd-parsers, built and run by
// drbd_parsers_fuzz.sh with clang -fsanitize=fuzzer,address,undefined). Every input goes to both
// parsers; whatever they accept must also go through the state model and every decision. A crash,
// a sanitizer report, a leak or an error other than invalid_argument is a finding.
#include <evos/drbd/events2_parser.hpp>
#include <evos/drbd/state.hpp>
#include <evos/drbd/status_json_parser.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

void exercise(const evos::drbd::ResourceState& s) {
  (void)evos::drbd::promotion_score(s);
  (void)evos::drbd::may_promote(s, false);
  (void)evos::drbd::may_promote(s, true);
  (void)evos::drbd::is_degraded(s);
  (void)evos::drbd::is_sync_source(s);
  (void)evos::drbd::sync_progress(s);
  (void)evos::drbd::out_of_sync_kib(s);
  (void)evos::drbd::describe(s);
}

void require_clean(const evos::Error& error) {
  if (error.code() != evos::Errc::invalid_argument || error.message().empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  auto events = evos::drbd::parse_events2(input);
  if (events) {
    for (const auto& [name, state] : evos::drbd::states_from_events(*events)) exercise(state);
    exercise(evos::drbd::state_from_events("r0", *events));
  } else {
    require_clean(events.error());
  }
  // Line by line too, so one bad line does not hide the others.
  std::vector<evos::drbd::Event> accepted;
  std::size_t start = 0;
  while (start <= input.size()) {
    const auto nl = input.find('\n', start);
    auto e = evos::drbd::parse_events2_line(input.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start));
    if (e) accepted.push_back(std::move(*e));
    else require_clean(e.error());
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  exercise(evos::drbd::state_from_events("r0", accepted));

  auto states = evos::drbd::parse_status_json(input);
  if (states) {
    for (const auto& s : *states) exercise(s);
  } else {
    require_clean(states.error());
  }
  return 0;
}
