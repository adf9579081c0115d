// The one decision evosd makes on its own: a domain that stopped behind Pacemaker's back is
// reported to Pacemaker at once (`crm_resource --fail`), so recovery starts without waiting for
// the next monitor. Pacemaker stays the only one who decides what happens next; evosd never
// starts or stops a domain. Pure; the daemon gathers the inputs (docs/evosd.md, "Detection").
//
// Reported only when every one of these holds, so a stop Pacemaker ordered is never a failure:
//   1. the domain is now shut off, gone or crashed, and not because it migrated away;
//   2. no failure was reported for it since it last ran;
//   3. the VM agent's operation record for it on this node says "active": no start, stop or
//      migration is in progress or just ended (vm/operation_record.hpp);
//   4. Pacemaker's status (crm_mon) has that resource, an ocf:evos:vm, managed, not blocked, active
//      on this node, and the node is not in maintenance.
// Before it reports, the daemon confirms with libvirt itself (not the event stream) that the
// domain is not running, and that the operation record is unchanged since step 3: a report that
// lags behind an ordered stop and a new start is dropped.
// When in doubt (no record, a damaged one, two records for one domain, no status), nothing is
// reported: the recurring monitor still finds the domain stopped, only later.
#pragma once

#include <evos/cluster/status.hpp>
#include <evos/vm/domain_state.hpp>
#include <evos/vm/operation_record.hpp>

#include <optional>
#include <string>
#include <vector>

namespace evos::daemon {

struct LocalVerdict {
  bool candidate = false;     // steps 1-3 hold: ask Pacemaker (step 4)
  std::string resource;       // the resource instance, when candidate
  std::string why;            // for the log, either way
};

// Steps 1-3. `records` are the operation records on this node (damaged ones already left out and
// logged by the caller; `damaged` says whether there were any).
LocalVerdict decide_local(const std::string& domain, const std::optional<vm::DomainState>& before,
                          const vm::DomainState& now, bool already_reported,
                          const std::vector<vm::OperationRecord>& records, bool damaged);

struct Report {
  bool report = false;
  std::string why;
};

// Step 4, on Pacemaker's status as crm_mon reports it.
Report decide_report(const LocalVerdict& local, const cluster::PacemakerStatus& status, const std::string& node);

}  // namespace evos::daemon
