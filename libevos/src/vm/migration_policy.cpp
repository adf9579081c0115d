#include <evos/vm/migration_policy.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace evos::vm {

namespace {
std::string mib(unsigned long long bytes) { return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / 1048576.0); }
std::string mib_s(unsigned long long bytes_s) {
  return fmt::format("{:.0f} MiB/s", static_cast<double>(bytes_s) / 1048576.0);
}
}  // namespace

MigrationPolicy::MigrationPolicy(const MigrationSettings& s) {
  plan_.max_downtime = s.max_downtime;
  plan_.bandwidth_mib_s = s.bandwidth_mib_s;
  plan_.auto_converge = s.auto_converge;
  plan_.postcopy = s.postcopy;
  downtime_ = s.max_downtime;
  // 0 keeps QEMU's own limit, which evos does not know: nothing to raise then.
  cap_ = s.max_downtime.count() == 0 ? Millis(0) : std::max(s.max_downtime, s.max_downtime_cap);
}

MigrationStep MigrationPolicy::next(const MigrationProgress& p) {
  MigrationStep step;
  if (postcopy_started_ || p.memory_iteration == 0 || p.memory_iteration <= pass_) return step;
  // A new pass began: judge the one that just ended (from the second pass on; the first copies
  // all of memory and says nothing about convergence).
  const unsigned long long before = pass_start_remaining_;
  const bool judged = pass_ >= 1 && p.memory_iteration >= 3;
  pass_ = p.memory_iteration;
  pass_start_remaining_ = p.memory_remaining;
  if (!judged && p.memory_iteration != 2) return step;
  const bool shrinking = p.memory_iteration == 2 || p.memory_remaining < before;
  const bool outpaced = p.dirty_rate > 0 && p.transfer_rate > 0 && p.dirty_rate >= p.transfer_rate;
  if (shrinking && !outpaced) return step;
  const std::string seen =
      outpaced ? fmt::format("the guest dirties {} while the link carries {}", mib_s(p.dirty_rate), mib_s(p.transfer_rate))
               : fmt::format("pass {} left {} to send, pass {} began with {}", p.memory_iteration - 1, mib(before),
                             p.memory_iteration, mib(p.memory_remaining));
  if (plan_.postcopy) {
    postcopy_started_ = true;
    step.start_postcopy = true;
    step.why = fmt::format("not converging ({}): switching to post-copy", seen);
    return step;
  }
  if (downtime_ < cap_) {
    downtime_ = std::min(downtime_ * 2, cap_);
    step.max_downtime = downtime_;
    step.why = fmt::format("not converging ({}): downtime limit raised to {} ms{}", seen, downtime_.count(),
                           plan_.auto_converge ? ", auto-converge throttles the guest" : "");
  }
  return step;
}

}  // namespace evos::vm
