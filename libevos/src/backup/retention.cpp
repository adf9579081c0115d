#include <evos/backup/retention.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <ctime>
#include <functional>
#include <map>
#include <set>

namespace evos::backup {
namespace {

std::tm utc(std::int64_t unix_ms) {
  const std::time_t s = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  return tm;
}

// ISO 8601 week-numbering year and week.
std::string iso_week(const std::tm& tm) {
  const int wday = (tm.tm_wday + 6) % 7;  // Monday 0
  // The Thursday of this week decides the year.
  std::tm thursday = tm;
  thursday.tm_mday += 3 - wday;
  thursday.tm_hour = 12;
  const std::time_t t = timegm(&thursday);
  std::tm th{};
  gmtime_r(&t, &th);
  return fmt::format("{:04}-W{:02}", th.tm_year + 1900, th.tm_yday / 7 + 1);
}

}  // namespace

std::vector<PruneDecision> plan_prune(std::vector<PruneCandidate> backups, const RetentionPolicy& policy) {
  std::stable_sort(backups.begin(), backups.end(), [](const auto& a, const auto& b) { return a.unix_ms > b.unix_ms; });
  std::map<std::string, std::string> kept;  // id -> reason
  std::set<std::string> removed;
  if (policy.keeps_nothing()) {
    std::vector<PruneDecision> all;
    for (const auto& b : backups) all.push_back({b.id, true, "no retention option"});
    return all;
  }
  using Key = std::function<std::string(const std::tm&)>;
  // Each option, in the order Proxmox applies them (see the header).
  const std::vector<std::tuple<const char*, unsigned, Key>> options = {
      {"keep-last", policy.last, nullptr},
      {"keep-hourly", policy.hourly, [](const std::tm& t) { return fmt::format("{:04}-{:02}-{:02} {:02}h", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour); }},
      {"keep-daily", policy.daily, [](const std::tm& t) { return fmt::format("{:04}-{:02}-{:02}", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday); }},
      {"keep-weekly", policy.weekly, [](const std::tm& t) { return iso_week(t); }},
      {"keep-monthly", policy.monthly, [](const std::tm& t) { return fmt::format("{:04}-{:02}", t.tm_year + 1900, t.tm_mon + 1); }},
      {"keep-yearly", policy.yearly, [](const std::tm& t) { return fmt::format("{:04}", t.tm_year + 1900); }},
  };
  for (const auto& [name, count, key] : options) {
    if (count == 0) continue;
    if (!key) {
      for (std::size_t i = 0; i < backups.size() && i < count; ++i) kept.emplace(backups[i].id, name);
      continue;
    }
    std::set<std::string> already;  // periods an earlier option already holds a backup of
    for (const auto& b : backups)
      if (kept.count(b.id)) already.insert(key(utc(b.unix_ms)));
    std::set<std::string> chosen;
    for (const auto& b : backups) {
      if (kept.count(b.id) || removed.count(b.id)) continue;
      const std::string period = key(utc(b.unix_ms));
      if (already.count(period)) continue;
      if (!chosen.count(period)) {
        if (chosen.size() >= count) break;
        chosen.insert(period);
        kept.emplace(b.id, fmt::format("{} {}", name, period));
      } else {
        removed.insert(b.id);  // an older backup of a period already kept
      }
    }
  }
  std::vector<PruneDecision> out;
  for (const auto& b : backups) {
    auto k = kept.find(b.id);
    out.push_back(k != kept.end() ? PruneDecision{b.id, true, k->second} : PruneDecision{b.id, false, ""});
  }
  return out;
}

}  // namespace evos::backup
