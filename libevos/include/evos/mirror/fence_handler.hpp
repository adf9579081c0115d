// The DRBD fence handler's run (evos-drbd-fence; the policy is fence.hpp's): its command line, the
// fence constraint placed with bounded retries, the bounded wait for Pacemaker's decision about the
// peer, and the unfence. Pure over the FenceCluster port (cibadmin and crm_mon in evos_io,
// fence_io.hpp), so every path is unit-tested; the agent only reads argv and the environment,
// calls these and exits with the code they return.
#pragma once

#include <evos/cluster/status.hpp>
#include <evos/deadline.hpp>
#include <evos/error.hpp>
#include <evos/log.hpp>
#include <evos/mirror/fence.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace evos::mirror {

enum class FenceAction { fence, unfence };

struct FenceInvocation {
  FenceAction action = FenceAction::fence;
  std::chrono::seconds timeout{60};  // bounds the whole run (the wait for a DC and for the fencing)
  bool verbose = false;              // debug lines in the log
  std::string resource;              // a resource name after the options ("" if none)
};

// argv[1..]: `fence|fence-peer|unfence|unfence-peer|after-resync-target [--timeout S] [--verbose]
// [RESOURCE]`, S in 1..3600. Errc::invalid_argument naming the mistake.
Result<FenceInvocation> parse_fence_args(const std::vector<std::string>& args);

// parse_fence_env, with the resource named on the command line (some handler setups append it)
// used when DRBD_RESOURCE is missing; DRBD_RESOURCE is authoritative, and a differing name is a
// configuration mistake (Errc::invalid_argument naming both).
Result<FenceRequest> parse_fence_invocation(std::map<std::string, std::string> env, const std::string& resource);

// Whether a CIB write found the object it wanted to replace or create (cibadmin's exit codes
// CRM_EX_NOSUCH 105 and CRM_EX_EXISTS 108 become these; other failures are errors).
enum class CibWrite { done, no_such_object, already_exists };

// What the handler needs from Pacemaker.
class FenceCluster {
 public:
  virtual ~FenceCluster() = default;
  // `cibadmin --query --scope resources`: the resources section as XML.
  virtual Result<std::string> resources(Deadline deadline) = 0;
  // `cibadmin --replace|--create --scope constraints --xml-text XML`.
  virtual Result<CibWrite> replace_constraint(const std::string& xml, Deadline deadline) = 0;
  virtual Result<CibWrite> create_constraint(const std::string& xml, Deadline deadline) = 0;
  // `cibadmin --delete` of the rsc_location with this id.
  virtual Result<void> delete_constraint(const std::string& id, Deadline deadline) = 0;
  // crm_mon's XML status.
  virtual Result<cluster::PacemakerStatus> status(Deadline deadline) = 0;
};

// Replaces the constraint, or creates it when there is none; when another handler created it
// meanwhile (already_exists), replaces it again. At most `fence_place_attempts` rounds.
inline constexpr int fence_place_attempts = 3;
Result<void> place_fence_constraint(FenceCluster& cluster, const std::string& xml, Deadline deadline);

// DRBD's fence-peer: finds the clone, places the constraint, then asks Pacemaker every `poll` until
// decide_fence stops waiting or less than `poll` is left before `timeout`. Returns the handler's
// exit code (fence_exit_peer_fenced or fence_exit_frozen), logging each new reason once.
int fence_peer(const FenceRequest& request, FenceCluster& cluster, Log& log, std::chrono::seconds timeout,
               const std::function<void(Millis)>& sleep, Millis poll = Millis(1000));

// DRBD's unfence-peer / after-resync-target: removes the constraint. 0, or 1 with the reason logged.
int unfence_peer(const FenceRequest& request, FenceCluster& cluster, Log& log, std::chrono::seconds timeout);

}  // namespace evos::mirror
