// FakeHypervisor: an in-memory Hypervisor for service tests. It records calls, and lets a test
// script how domains react (ignore shutdown requests, fail a migration, hold snapshots).
#pragma once

#include <evos/vm/hypervisor.hpp>

#include <map>
#include <string>
#include <vector>

namespace evos::test {

class FakeHypervisor final : public vm::Hypervisor {
 public:
  struct Domain {
    vm::DomainState state{vm::Power::shut_off, vm::Reason::unknown};
    bool defined = true;
    std::vector<vm::SnapshotMetadata> snapshots;
  };

  std::map<std::string, Domain> domains;
  std::vector<std::string> calls;
  bool guest_ignores_shutdown = false;
  std::optional<Error> migrate_error;
  std::optional<Error> state_error;
  vm::DeepCheck deep;
  FakeHypervisor* migration_destination = nullptr;
  std::vector<vm::MigrationProgress> migration_progress;  // what the job reports, in order
  std::optional<vm::MigrationRequest> last_migration;
  // backup_running answers true this many more times (-1: until abort_job).
  int backup_polls = 0;
  // libvirt networks of this host: name -> active (absent: not defined).
  std::map<std::string, bool> networks;

  Result<vm::DomainState> state(const std::string& d) override {
    if (state_error) return *state_error;
    auto it = domains.find(d);
    if (it == domains.end()) return vm::DomainState{vm::Power::absent, vm::Reason::unknown};
    return it->second.state;
  }
  Result<vm::DeepCheck> deep_check(const std::string&) override { return deep; }
  Result<bool> backup_running(const std::string&) override {
    if (backup_polls == 0) return false;
    if (backup_polls > 0) --backup_polls;
    return true;
  }
  Result<void> abort_job(const std::string& d) override {
    calls.push_back("abort_job " + d);
    backup_polls = 0;
    return {};
  }
  Result<vm::DomainSummary> summary(const std::string& d) override {
    return vm::DomainSummary{.name = d, .state = domains.at(d).state};
  }
  Result<std::vector<vm::DomainSummary>> list() override { return std::vector<vm::DomainSummary>{}; }
  Result<void> define(const std::string& xml) override {
    calls.push_back("define");
    const auto start = xml.find("<name>") + 6;
    const std::string name = xml.substr(start, xml.find("</name>") - start);
    domains.try_emplace(name);
    return {};
  }
  Result<void> start(const std::string& d) override {
    calls.push_back("start " + d);
    domains.at(d).state = {vm::Power::running, vm::Reason::booted};
    return {};
  }
  Result<void> resume(const std::string& d) override {
    calls.push_back("resume " + d);
    domains.at(d).state = {vm::Power::running, vm::Reason::user};
    return {};
  }
  Result<void> request_shutdown(const std::string& d, vm::ShutdownMode) override {
    calls.push_back("shutdown " + d);
    if (!guest_ignores_shutdown) domains.at(d).state = {vm::Power::shut_off, vm::Reason::shutdown};
    return {};
  }
  Result<void> destroy(const std::string& d, bool) override {
    calls.push_back("destroy " + d);
    domains.at(d).state = {vm::Power::shut_off, vm::Reason::destroyed};
    return {};
  }
  Result<vm::MigrationStats> migrate(const std::string& d, const vm::MigrationRequest& r, Deadline,
                                     const vm::MigrationSupervisor& supervise) override {
    calls.push_back("migrate " + d + " " + r.target.dest_uri);
    if (!domains.at(d).snapshots.empty())
      return make_error(Errc::backend, "Requested operation is not valid: cannot migrate domain with snapshots");
    if (migrate_error) return *migrate_error;
    last_migration = r;
    vm::MigrationStats out{.total = Millis(800), .downtime = Millis(40), .bytes = 90u << 20};
    out.max_downtime = r.plan.max_downtime;
    // the scripted readings of the job, each step applied as the adapter applies it
    for (const auto& p : migration_progress) {
      if (!supervise) break;
      auto step = supervise(p);
      if (step.max_downtime) {
        calls.push_back("set-max-downtime " + std::to_string(step.max_downtime->count()));
        out.max_downtime = *step.max_downtime;
      }
      if (step.start_postcopy) {
        calls.push_back("start-postcopy");
        out.postcopy = true;
      }
    }
    domains.at(d).state = {vm::Power::shut_off, vm::Reason::migration};
    if (migration_destination) migration_destination->domains[d].state = {vm::Power::running, vm::Reason::migration};
    return out;
  }
  Result<std::optional<vm::MigrationStats>> completed_migration(const std::string&) override {
    return std::optional<vm::MigrationStats>(vm::MigrationStats{.total = Millis(800), .downtime = Millis(40)});
  }
  Result<std::vector<vm::SnapshotMetadata>> snapshots(const std::string& d) override { return domains.at(d).snapshots; }
  Result<void> drop_snapshot_metadata(const std::string& d, const std::string& snap) override {
    calls.push_back("drop-snapshot " + snap);
    auto& s = domains.at(d).snapshots;
    std::erase_if(s, [&](const auto& m) { return m.name == snap; });
    return {};
  }
  Result<vm::NetworkPresence> network_presence(const std::string& name) override {
    calls.push_back("network_presence " + name);
    auto it = networks.find(name);
    if (it == networks.end()) return vm::NetworkPresence::missing;
    return it->second ? vm::NetworkPresence::active : vm::NetworkPresence::inactive;
  }
  Result<void> redefine_snapshot(const std::string& d, const vm::SnapshotMetadata& snap) override {
    calls.push_back("redefine-snapshot " + snap.name);
    domains[d].snapshots.push_back(snap);
    return {};
  }
};

// Collects log lines for assertions.
class MemoryLog final : public Log {
 public:
  std::vector<std::string> lines;
  void write(Level, std::string_view message) override { lines.emplace_back(message); }
  [[nodiscard]] bool contains(std::string_view text) const {
    for (const auto& l : lines)
      if (l.find(text) != std::string::npos) return true;
    return false;
  }
};

}  // namespace evos::test
