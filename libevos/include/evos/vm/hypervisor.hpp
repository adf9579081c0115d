// evos::vm::Hypervisor: what VM logic needs from a hypervisor. The libvirt adapter implements
// it (evos/virt/libvirt_hypervisor.hpp); tests use fakes. Every call is bounded: waits take a
// Deadline, and single RPCs are bounded by the agent's watchdog.
#pragma once

#include <evos/deadline.hpp>
#include <evos/error.hpp>
#include <evos/vm/domain_state.hpp>
#include <evos/vm/migration_policy.hpp>
#include <evos/vm/params.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace evos::vm {

struct MigrationStats {
  std::chrono::milliseconds total{0};     // job time on the source
  std::chrono::milliseconds downtime{0};  // guest paused at the switch-over
  unsigned long long bytes = 0;           // data transferred
  unsigned long long memory_iterations = 0;
  bool postcopy = false;
  std::chrono::milliseconds max_downtime{0};  // the limit in force at the end (0: QEMU's own)
};

struct MigrationRequest {
  MigrationTarget target;
  MigrationPlan plan;
  bool tls = false;
  bool unsafe = false;
};

// Called with each reading of a running migration job's statistics; what it returns is applied
// to the job at once.
using MigrationSupervisor = std::function<MigrationStep(const MigrationProgress&)>;

// A snapshot's metadata, as virDomainSnapshotGetXMLDesc gives it.
struct SnapshotMetadata {
  std::string name;
  std::string xml;
  bool current = false;
};

// A libvirt network on this host, as a domain's <interface type='network'> needs it.
enum class NetworkPresence { missing, inactive, active };

struct DomainSummary {
  std::string name;
  std::string uuid;
  DomainState state;
  bool persistent = false;
  bool autostart = false;
  unsigned vcpus = 0;
  unsigned long long memory_kib = 0;
};

class Hypervisor {
 public:
  virtual ~Hypervisor() = default;

  virtual Result<DomainState> state(const std::string& domain) = 0;
  virtual Result<DeepCheck> deep_check(const std::string& domain) = 0;
  virtual Result<DomainSummary> summary(const std::string& domain) = 0;
  virtual Result<std::vector<DomainSummary>> list() = 0;

  // Defines (or redefines) a persistent domain from XML, with autostart off: the cluster, not
  // libvirt, decides where a domain runs.
  virtual Result<void> define(const std::string& xml) = 0;
  virtual Result<void> start(const std::string& domain) = 0;
  virtual Result<void> resume(const std::string& domain) = 0;
  virtual Result<void> request_shutdown(const std::string& domain, ShutdownMode mode) = 0;
  // graceful: SIGTERM only (VIR_DOMAIN_DESTROY_GRACEFUL); otherwise SIGTERM then SIGKILL.
  virtual Result<void> destroy(const std::string& domain, bool graceful) = 0;

  // Live-migrates peer-to-peer and returns the completed job's statistics. Aborts the job if it
  // has not finished shortly before the deadline, and returns by the deadline (Errc::timeout)
  // even if the hypervisor does not end the call after the abort. `supervise` is called with
  // each reading of the job's statistics (about every 200 ms) and its steps are applied.
  virtual Result<MigrationStats> migrate(const std::string& domain, const MigrationRequest& request, Deadline deadline,
                                         const MigrationSupervisor& supervise) = 0;
  // The statistics of the last completed migration job of the domain, if libvirt kept them.
  virtual Result<std::optional<MigrationStats>> completed_migration(const std::string& domain) = 0;

  // Snapshot metadata, parents before children (a domain with snapshot metadata cannot migrate).
  virtual Result<std::vector<SnapshotMetadata>> snapshots(const std::string& domain) = 0;
  virtual Result<void> drop_snapshot_metadata(const std::string& domain, const std::string& snapshot) = 0;
  virtual Result<void> redefine_snapshot(const std::string& domain, const SnapshotMetadata& snapshot) = 0;
  // Whether a backup job (virDomainBackupBegin: evosctl backup) runs on the domain now; libvirt
  // lets no migration start while one does (it waits 30 s for the job lock, then fails).
  virtual Result<bool> backup_running(const std::string& domain) = 0;
  // Ends the domain's current job (virDomainAbortJob): a backup then fails cleanly.
  virtual Result<void> abort_job(const std::string& domain) = 0;
  // Whether this host defines the libvirt network `name` and runs it (virNetworkLookupByName,
  // virNetworkIsActive): a domain with an interface on it cannot start here otherwise.
  virtual Result<NetworkPresence> network_presence(const std::string& name) = 0;
};

// Opens a hypervisor connection by URI (how the service reaches a migration's destination).
using HypervisorConnector = std::function<Result<std::unique_ptr<Hypervisor>>(const std::string& uri)>;

}  // namespace evos::vm
