#include <evos/deadline.hpp>
#include <evos/text_checks.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <thread>

namespace evos {
namespace {

Millis left_until(Clock::time_point at, Clock::time_point now) {
  auto left = std::chrono::duration_cast<Millis>(at - now);
  return left.count() > 0 ? left : Millis(0);
}

class SteadyTime final : public TimeSource {
 public:
  Clock::time_point now() override { return Clock::now(); }
  void sleep_for(Millis duration) override { std::this_thread::sleep_for(duration); }
};

}  // namespace

Millis Deadline::remaining() const { return left_until(at_, Clock::now()); }

Millis TimeSource::remaining(Deadline deadline) { return left_until(deadline.when(), now()); }

TimeSource& steady_time() {
  static SteadyTime time;
  return time;
}

Result<Millis> read_duration(std::string_view text, std::string_view what) {
  auto fail = [&] {
    return make_error(Errc::invalid_argument, "{} must be a duration such as 5s, 500ms or 2m, not {}", what,
                      text::quote_for_message(text));
  };
  std::int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr == text.data() || value < 0 || value > 86400000) return fail();
  const std::string_view unit(ptr, static_cast<std::size_t>(text.data() + text.size() - ptr));
  if (unit.empty() || unit == "s" || unit == "sec") return Millis(value * 1000);
  if (unit == "ms" || unit == "msec") return Millis(value);
  if (unit == "m" || unit == "min") return Millis(value * 60000);
  return fail();
}

std::string format_duration(Millis d) {
  const auto ms = d.count();
  if (ms != 0 && ms % 60000 == 0) return fmt::format("{} min", ms / 60000);
  if (ms % 1000 == 0) return fmt::format("{} s", ms / 1000);
  return fmt::format("{} ms", ms);
}

Millis guard_time(Millis budget) { return std::clamp(budget / 10, Millis(200), Millis(2000)); }

Millis command_budget(std::optional<Millis> global, std::optional<Millis> own, Millis fallback) {
  if (global) return *global;
  if (own) return *own + guard_time(*own);
  return fallback;
}

}  // namespace evos
