// What the VM agent last did for one resource instance on this node, recorded before and after
// each action Pacemaker orders (start, stop, migrate_to, migrate_from) and when a monitor finds
// the record out of date. evosd reads it to tell a stop Pacemaker ordered (never a failure) from
// a domain that stopped behind Pacemaker's back (docs/evosd.md, "Detection"). Pacemaker's
// executor runs one action per resource at a time, so the record is Pacemaker's own view of the
// resource on this node: "active" only between a successful start/migrate_from and the next
// stop/migrate_to.
#pragma once

#include <evos/error.hpp>
#include <evos/log.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evos::vm {

enum class Phase {
  starting,   // start in progress
  active,     // started (or found running by a monitor): Pacemaker holds it active here
  stopping,   // stop in progress
  stopped,    // stopped, or found not running
  migrating,  // migrate_to in progress, or migrated away
  arriving,   // migrate_from in progress
  failed,     // the last action failed: Pacemaker is recovering it
};

std::string_view to_string(Phase phase) noexcept;
std::optional<Phase> parse_phase(std::string_view text) noexcept;

struct OperationRecord {
  std::string instance;  // OCF_RESOURCE_INSTANCE: the resource's id in the CIB
  std::string domain;    // libvirt domain name
  std::string uuid;      // "" when unknown
  Phase phase = Phase::stopped;
  std::int64_t since = 0;  // Unix time of the change, seconds
  bool operator==(const OperationRecord&) const = default;
};

// "instance=web1\ndomain=web1\nuuid=...\nphase=active\nsince=1700000000\n".
std::string render(const OperationRecord& record);
// Errc::invalid_argument naming the problem (unknown key, bad phase, a value that is not a
// token); a damaged record must never be read as "active".
Result<OperationRecord> parse_operation_record(std::string_view text);

// The phase an action moves the record to before it runs and after it ends (nullopt: unchanged).
// A monitor moves it only when what it found differs from what the record says: running while
// the record says stopped (a probe found an active resource), not running while it says active.
struct PhaseChange {
  std::optional<Phase> before;
  std::optional<Phase> after_success;
  std::optional<Phase> after_failure;
};
PhaseChange phase_change(std::string_view action);
std::optional<Phase> monitor_phase(std::optional<Phase> recorded, bool running);

// The records of every instance, kept in one directory (one file per instance, named after it).
class OperationRecords {
 public:
  explicit OperationRecords(std::string directory) : directory_(std::move(directory)) {}
  // $HA_RSCTMP/evos-vm-ops, or /run/resource-agents/evos-vm-ops (agent_state::directory()).
  static std::string default_directory();

  [[nodiscard]] const std::string& directory() const { return directory_; }
  // nullopt: no record (or a damaged one, which is logged by the reader that cares).
  [[nodiscard]] Result<std::optional<OperationRecord>> load(const std::string& instance) const;
  // Written atomically; only when it changed.
  Result<void> save(const OperationRecord& record) const;
  // Records `phase` for `instance` now. A record that cannot be written is removed, so that it
  // never stays "active" across a stop; the problem is logged, the action goes on. Nothing is
  // recorded without an instance (a manual run).
  void note(const std::string& instance, const std::string& domain, const std::string& uuid, Phase phase,
            Log& log) const;
  // What a monitor that found the domain running (or not) records: monitor_phase() against the
  // record of this instance when it names the same domain. Nothing without an instance. The VM
  // agent and its front end (docs/vm-agent.md, "Two binaries") both record through this.
  void note_monitor(const std::string& instance, const std::string& domain, const std::string& uuid, bool running,
                    Log& log) const;
  // Every readable record; damaged ones are returned as errors beside them.
  [[nodiscard]] std::vector<Result<OperationRecord>> load_all() const;

 private:
  std::string directory_;
};

}  // namespace evos::vm
