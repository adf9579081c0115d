// How a live migration is run: the QEMU migration controls it starts with (downtime limit,
// bandwidth, auto-converge, post-copy allowed) and how it reacts to the job's statistics while it
// runs (raise the downtime limit, switch to post-copy). Pure: the virt adapter reads the
// statistics (virDomainGetJobStats) and applies the steps; docs/vm-agent.md, "Migration policy",
// has the evidence behind the defaults.
#pragma once

#include <evos/deadline.hpp>
#include <evos/vm/params.hpp>

#include <optional>
#include <string>

namespace evos::vm {

// What a running migration job reports, as virDomainGetJobStats gives it (bytes, bytes/s).
struct MigrationProgress {
  std::chrono::milliseconds elapsed{0};
  unsigned long long data_total = 0;
  unsigned long long data_processed = 0;
  unsigned long long data_remaining = 0;
  // QEMU's pass over guest memory: 1 during the first full copy, +1 after each dirty sync
  // (VIR_DOMAIN_JOB_MEMORY_ITERATION; 0 = not reported yet)
  unsigned long long memory_iteration = 0;
  unsigned long long memory_remaining = 0;  // VIR_DOMAIN_JOB_MEMORY_REMAINING
  // VIR_DOMAIN_JOB_MEMORY_DIRTY_RATE (pages/s) times VIR_DOMAIN_JOB_MEMORY_PAGE_SIZE; 0 = unknown
  unsigned long long dirty_rate = 0;
  unsigned long long transfer_rate = 0;  // VIR_DOMAIN_JOB_MEMORY_BPS; 0 = unknown
};

// What the job starts with (migration flags and parameters).
struct MigrationPlan {
  Millis max_downtime{0};  // virDomainMigrateSetMaxDowntime before the job; 0: QEMU's own (300 ms)
  unsigned long long bandwidth_mib_s = 0;  // VIR_MIGRATE_PARAM_BANDWIDTH; 0: unlimited
  bool auto_converge = false;              // VIR_MIGRATE_AUTO_CONVERGE
  bool postcopy = false;                   // VIR_MIGRATE_POSTCOPY: a switch to post-copy is possible
};

// What to do now, after one reading of the job's statistics. Empty: nothing.
struct MigrationStep {
  std::optional<Millis> max_downtime;  // set this limit (virDomainMigrateSetMaxDowntime)
  bool start_postcopy = false;         // virDomainMigrateStartPostCopy
  std::string why;                     // for the log
  explicit operator bool() const { return max_downtime.has_value() || start_postcopy; }
};

class MigrationPolicy {
 public:
  explicit MigrationPolicy(const MigrationSettings& settings);

  const MigrationPlan& plan() const { return plan_; }
  // The limit in force now.
  Millis max_downtime() const { return downtime_; }
  bool postcopy_started() const { return postcopy_started_; }

  // Called with each reading of the job's statistics (the adapter polls about every 200 ms).
  // Judges each finished pass over memory once, when the next one begins: a pass after the first
  // converges when the memory left to send shrank since the previous pass began and the guest
  // dirties slower than the link carries. When one does not, it switches to post-copy if that is
  // allowed, else doubles the downtime limit (up to the cap); with auto-converge QEMU throttles
  // the guest's vCPUs meanwhile. So a guest that dirties faster than the link still finishes:
  // post-copy always, or QEMU at the capped limit with its vCPUs throttled up to 99 %.
  MigrationStep next(const MigrationProgress& p);

 private:
  MigrationPlan plan_;
  Millis downtime_{0};
  Millis cap_{0};
  unsigned long long pass_ = 0;
  unsigned long long pass_start_remaining_ = 0;
  bool postcopy_started_ = false;
};

}  // namespace evos::vm
