#include <evos/cluster/duration.hpp>
#include <evos/text_checks.hpp>

namespace evos::cluster {

Result<Millis> parse_duration(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const std::string_view unit = text.substr(digits);
  long long n = 0;
  for (std::size_t i = 0; i < digits; ++i) n = n * 10 + (text[i] - '0');
  long long scale = 0;
  if (unit.empty() || unit == "s") scale = 1000;
  else if (unit == "ms") scale = 1;
  else if (unit == "m") scale = 60'000;
  else if (unit == "h") scale = 3'600'000;
  if (digits == 0 || digits > 9 || scale == 0)
    return make_error(Errc::invalid_argument, "{} is not a duration such as 5s or 100ms", text::quote_for_message(text));
  return Millis(n * scale);
}

bool is_duration(std::string_view text) { return parse_duration(text).has_value(); }

}  // namespace evos::cluster
