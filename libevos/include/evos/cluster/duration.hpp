// Pacemaker durations as evos's commands accept them for cluster options and agent parameters:
// digits (at most 9) and an optional unit ms, s, m or h; no unit is seconds (Pacemaker's
// crm_get_msec() default). A deliberately narrow subset of what Pacemaker reads (no "min",
// "sec", ISO 8601), so a value evos writes is read back the same by every Pacemaker release.
#pragma once

#include <evos/deadline.hpp>
#include <evos/error.hpp>

#include <string_view>

namespace evos::cluster {

[[nodiscard]] bool is_duration(std::string_view text);

// The duration in milliseconds, or Errc::invalid_argument quoting the text.
Result<Millis> parse_duration(std::string_view text);

}  // namespace evos::cluster
