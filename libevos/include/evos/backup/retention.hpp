// evos::backup::plan_prune: which backups of one VM a retention policy keeps, as Proxmox Backup
// Server decides it (docs/maintenance.rst "Prune"): keep-last, then hourly, daily, weekly,
// monthly, yearly in that order, each keeping the newest backup of each of its N most recent
// periods among backups no earlier option kept. Periods are UTC; weeks are ISO weeks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace evos::backup {

struct RetentionPolicy {
  unsigned last = 0, hourly = 0, daily = 0, weekly = 0, monthly = 0, yearly = 0;
  [[nodiscard]] bool keeps_nothing() const { return last + hourly + daily + weekly + monthly + yearly == 0; }
};

struct PruneCandidate {
  std::string id;
  std::int64_t unix_ms = 0;
};

struct PruneDecision {
  std::string id;
  bool keep = false;
  std::string reason;  // "keep-last", "keep-daily 2026-12-06", "" for a removal
};

// Newest first. A policy that keeps nothing keeps everything (a prune with no option is refused
// by the caller; this is the safe reading if one slips through).
std::vector<PruneDecision> plan_prune(std::vector<PruneCandidate> backups, const RetentionPolicy& policy);

}  // namespace evos::backup
