#include <evos/vm/service.hpp>

#include <evos/network/admin.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace evos::vm {
namespace {

using namespace std::chrono_literals;

constexpr auto poll_interval = 100ms;

bool is_active(Power p) {
  return p == Power::running || p == Power::blocked || p == Power::paused || p == Power::shutting_down ||
         p == Power::pm_suspended || p == Power::crashed || p == Power::no_state;
}

std::string mib(unsigned long long bytes) { return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / 1048576.0); }

}  // namespace

Service::Service(Hypervisor& hypervisor, Log& log, Params params, DomainIdentity identity, TimeSource& time)
    : hv_(hypervisor), log_(log), params_(std::move(params)), id_(std::move(identity)), time_(time) {}

Result<DomainState> Service::wait_for(Deadline deadline, const std::function<bool(const DomainState&)>& done) {
  for (;;) {
    auto st = hv_.state(id_.name);
    if (!st) return st;
    if (done(*st)) return st;
    if (time_.expired(deadline))
      return make_error(Errc::timeout, "domain '{}' is still {} at the deadline", id_.name, describe(*st));
    time_.sleep_for(std::min<Millis>(poll_interval, time_.remaining(deadline) + 1ms));
  }
}

Result<Assessment> Service::monitor(int check_level) {
  auto st = hv_.state(id_.name);
  if (!st) return std::move(st).error().context(fmt::format("monitor domain '{}'", id_.name));
  Assessment a = assess(*st);
  if (check_level >= 10 && (a.health == Health::running || a.health == Health::degraded)) {
    auto deep = hv_.deep_check(id_.name);
    if (!deep) return std::move(deep).error().context(fmt::format("deep check of domain '{}'", id_.name));
    a = assess_deep(a, *deep);
  }
  return a;
}

Result<void> Service::start(const std::string& domain_xml, Deadline deadline) {
  const std::string doing = fmt::format("start domain '{}'", id_.name);
  auto st = hv_.state(id_.name);
  if (!st) return std::move(st).error().context(doing);

  switch (st->power) {
    case Power::running:
    case Power::blocked:
      log_.info("domain '{}' is already running", id_.name);
      return {};
    case Power::paused:
      if (assess(*st).health == Health::failed)
        return make_error(Errc::backend, "{}: domain is {}; it must be stopped first", doing, describe(*st));
      log_.info("domain '{}' is {}; resuming it", id_.name, describe(*st));
      if (auto r = hv_.resume(id_.name); !r) return std::move(r).error().context(doing);
      break;
    case Power::pm_suspended:
      return make_error(Errc::backend, "{}: domain is {}; it must be woken or stopped first", doing, describe(*st));
    case Power::shutting_down: {
      log_.info("domain '{}' is shutting down; waiting for it before starting again", id_.name);
      auto off = wait_for(deadline, [](const DomainState& s) { return !is_active(s.power); });
      if (!off) return std::move(off).error().context(doing);
      [[fallthrough]];
    }
    case Power::crashed:
    case Power::no_state:
      if (st->power != Power::shutting_down) {
        log_.warning("domain '{}' is {}; destroying it before the start", id_.name, describe(*st));
        if (auto r = hv_.destroy(id_.name, false); !r) return std::move(r).error().context(doing);
      }
      [[fallthrough]];
    case Power::absent:
    case Power::shut_off:
      if (auto r = check_networks(domain_xml); !r) return std::move(r).error().context(doing);
      // Redefine from the config every time, so the file is the one source of truth.
      if (auto r = hv_.define(domain_xml); !r) return std::move(r).error().context(doing);
      if (auto r = hv_.start(id_.name); !r) return std::move(r).error().context(doing);
      break;
  }

  auto running = wait_for(deadline, [](const DomainState& s) { return assess(s).health != Health::stopped || s.power == Power::shut_off; });
  if (!running) return std::move(running).error().context(doing);
  const Assessment a = assess(*running);
  if (a.health != Health::running)
    return make_error(Errc::backend, "{}: domain is {} right after the start", doing, a.why);
  log_.info("started domain '{}'", id_.name);
  return {};
}

Result<void> Service::check_networks(const std::string& domain_xml) {
  auto ifs = network::domain_interfaces(domain_xml);
  if (!ifs) return std::move(ifs).error();
  std::vector<std::string> missing;
  std::vector<std::string> seen;
  for (const auto& i : *ifs) {
    if (i.type != network::InterfaceUse::Type::network) continue;
    if (std::find(seen.begin(), seen.end(), i.source) != seen.end()) continue;
    seen.push_back(i.source);
    auto p = hv_.network_presence(i.source);
    if (!p) return std::move(p).error().context(fmt::format("check network '{}'", i.source));
    if (*p == NetworkPresence::missing) missing.push_back(fmt::format("'{}' (not defined)", i.source));
    if (*p == NetworkPresence::inactive) missing.push_back(fmt::format("'{}' (defined, not active)", i.source));
  }
  if (missing.empty()) return {};
  // Short: Pacemaker keeps 128 characters of an exit reason, and this is the one that says why
  // the VM is kept off this node (docs/vm-agent.md, "Networks").
  return make_error(Errc::not_installed, "domain '{}' lacks libvirt network{} here: {}", id_.name, missing.size() == 1 ? "" : "s",
                    fmt::join(missing, ", "));
}

Result<void> Service::stop(Deadline deadline) {
  const std::string doing = fmt::format("stop domain '{}'", id_.name);
  auto st = hv_.state(id_.name);
  if (!st) return std::move(st).error().context(doing);
  if (!is_active(st->power)) {
    log_.info("domain '{}' is {}; nothing to stop", id_.name, describe(*st));
    return {};
  }

  const bool can_shut_down = st->power == Power::running || st->power == Power::blocked;
  if (!params_.force_stop && can_shut_down) {
    const Millis budget = graceful_stop_budget(params_.shutdown_timeout, time_.remaining(deadline));
    if (budget.count() > 0) {
      log_.info("shutting down domain '{}' (waiting up to {} ms)", id_.name, budget.count());
      if (auto r = hv_.request_shutdown(id_.name, params_.shutdown_mode); !r) {
        log_.warning("{}; destroying it instead", r.error().message());
      } else {
        auto off = wait_for(time_.after(budget).earliest(deadline),
                            [](const DomainState& s) { return !is_active(s.power); });
        if (off) {
          log_.info("domain '{}' shut down", id_.name);
          return {};
        }
        if (off.error().code() != Errc::timeout) return std::move(off).error().context(doing);
        log_.warning("domain '{}' did not shut down within {} ms; destroying it", id_.name, budget.count());
      }
    }
  }

  if (auto r = hv_.destroy(id_.name, false); !r) {
    // The domain may have gone away by itself between the state check and destroy.
    auto now = hv_.state(id_.name);
    if (!now || is_active(now->power)) return std::move(r).error().context(doing);
  }
  auto off = wait_for(deadline, [](const DomainState& s) { return !is_active(s.power); });
  if (!off) return std::move(off).error().context(doing);
  log_.info("destroyed domain '{}'", id_.name);
  return {};
}

void Service::restore_snapshots(Hypervisor& where, const std::vector<SnapshotMetadata>& snapshots,
                                std::string_view host) {
  for (const auto& snap : snapshots) {
    if (auto r = where.redefine_snapshot(id_.name, snap); !r) {
      // The metadata must not be lost: log the XML so it can be redefined by hand.
      log_.error("could not redefine snapshot '{}' of domain '{}' on {}: {}; its metadata was:\n{}", snap.name,
                 id_.name, host, r.error().message(), snap.xml);
    }
  }
}

Result<MigrationStats> Service::migrate_to(const std::string& node, const HypervisorConnector& connect,
                                           Deadline deadline) {
  const std::string doing = fmt::format("migrate domain '{}' to {}", id_.name, node);
  auto target = migration_target(params_.migration, node);
  if (!target) return std::move(target).error().context(doing);

  auto st = hv_.state(id_.name);
  if (!st) return std::move(st).error().context(doing);
  if (assess(*st).health != Health::running)
    return make_error(Errc::backend, "{}: domain is {} here; only a running domain migrates", doing, describe(*st));

  if (auto b = wait_for_backup(deadline); !b) return std::move(b).error().context(doing);

  // libvirt refuses to migrate a domain with snapshot metadata ("cannot migrate domain with N
  // snapshots"): move the metadata along (virt-notes.md, feature matrix).
  auto snapshots = hv_.snapshots(id_.name);
  if (!snapshots) return std::move(snapshots).error().context(doing);
  for (auto it = snapshots->rbegin(); it != snapshots->rend(); ++it) {  // children first
    if (auto r = hv_.drop_snapshot_metadata(id_.name, it->name); !r) {
      restore_snapshots(hv_, std::vector<SnapshotMetadata>(it.base(), snapshots->end()), "the source");
      return std::move(r).error().context(doing);
    }
  }
  if (!snapshots->empty()) log_.info("carrying {} snapshot(s) of domain '{}' across the migration", snapshots->size(), id_.name);

  log_.info("migrating domain '{}' to {} ({}{})", id_.name, node, target->dest_uri,
            target->migration_uri.empty() ? "" : ", data over " + target->migration_uri);
  MigrationPolicy policy(params_.migration);
  const auto& plan = policy.plan();
  log_.info("migration of '{}': downtime limit {}, bandwidth {}, auto-converge {}, post-copy {}", id_.name,
            plan.max_downtime.count() == 0 ? std::string("QEMU's default") : fmt::format("{} ms", plan.max_downtime.count()),
            plan.bandwidth_mib_s == 0 ? std::string("unlimited") : fmt::format("{} MiB/s", plan.bandwidth_mib_s),
            plan.auto_converge ? "on" : "off", plan.postcopy ? "allowed" : "off");
  auto last_log = time_.now();
  const MigrationRequest request{*target, plan, params_.migration.tls, params_.migration.unsafe};
  auto stats = hv_.migrate(id_.name, request, deadline, [&](const MigrationProgress& p) {
    auto step = policy.next(p);
    if (step) log_.info("migration of '{}', pass {}: {}", id_.name, p.memory_iteration, step.why);
    if (time_.now() - last_log >= 2s) {
      last_log = time_.now();
      log_.info("migration of '{}': {} ms, {} of {} sent, {} remaining, pass {}", id_.name, p.elapsed.count(),
                mib(p.data_processed), mib(p.data_total), mib(p.data_remaining), p.memory_iteration);
    }
    return step;
  });
  if (!stats) {
    restore_snapshots(hv_, *snapshots, "the source");
    return std::move(stats).error().context(doing);
  }

  if (!snapshots->empty()) {
    auto dest = connect(target->dest_uri);
    if (!dest) {
      log_.error("cannot reach {} to redefine snapshots: {}", target->dest_uri, dest.error().message());
      for (const auto& s : *snapshots)
        log_.error("snapshot '{}' of domain '{}' must be redefined on {}:\n{}", s.name, id_.name, node, s.xml);
    } else {
      restore_snapshots(**dest, *snapshots, node);
    }
  }
  log_.info("migrated domain '{}' to {} in {} ms; downtime {} ms; {} transferred{}{}", id_.name, node,
            stats->total.count(), stats->downtime.count(), mib(stats->bytes), stats->postcopy ? " (post-copy)" : "",
            stats->max_downtime > plan.max_downtime
                ? fmt::format(" (downtime limit raised to {} ms)", stats->max_downtime.count())
                : std::string());
  return stats;
}

// A Pacemaker migration usually means a node must be emptied (standby, maintenance): the backup
// gets the first half of the migration's time, then gives way. KubeVirt decided the same way
// (a backup blocks a migration, except one that must happen). The ended backup leaves no
// manifest; the next one reads from the last good backup's checkpoint.
Result<void> Service::wait_for_backup(Deadline deadline) {
  auto running = hv_.backup_running(id_.name);
  if (!running) return std::move(running).error();
  if (!*running) return {};
  const auto give_up = time_.now() + (deadline.when() - time_.now()) / 2;
  log_.info("a backup of '{}' is running: waiting up to {} ms for it before migrating", id_.name,
            std::chrono::duration_cast<Millis>(give_up - time_.now()).count());
  while (time_.now() < give_up) {
    time_.sleep_for(500ms);
    running = hv_.backup_running(id_.name);
    if (!running) return std::move(running).error();
    if (!*running) {
      log_.info("the backup of '{}' finished; migrating", id_.name);
      return {};
    }
  }
  log_.warning("the backup of '{}' is still running: ending it so the migration can go ahead (the backup fails; "
               "the next one starts from the last good backup)", id_.name);
  if (auto a = hv_.abort_job(id_.name); !a) return std::move(a).error().context("end the running backup");
  for (int i = 0; i < 20; ++i) {  // the job ends within moments of virDomainAbortJob
    running = hv_.backup_running(id_.name);
    if (!running) return std::move(running).error();
    if (!*running) return {};
    time_.sleep_for(250ms);
  }
  return make_error(Errc::backend, "the backup job of '{}' did not end after virDomainAbortJob", id_.name);
}

Result<Assessment> Service::migrate_from(Deadline deadline) {
  const std::string doing = fmt::format("receive domain '{}'", id_.name);
  // migrate_to returns only once the destination runs (peer-to-peer), so here the domain is
  // running, or still finishing a post-copy; absent or shut off means it never arrived.
  auto st = wait_for(deadline, [](const DomainState& s) {
    return !(s.power == Power::paused && (s.reason == Reason::migration || s.reason == Reason::postcopy));
  });
  if (!st) return std::move(st).error().context(doing);
  if (!is_active(st->power))
    return make_error(Errc::backend, "{}: domain is {} here; the migration did not bring it", doing, describe(*st));
  Assessment a = assess(*st);
  if (a.health != Health::running)
    return make_error(Errc::backend, "{}: domain is {} after the migration", doing, a.why);
  if (auto stats = hv_.completed_migration(id_.name); stats && *stats) {
    const MigrationStats& s = **stats;
    log_.info("domain '{}' arrived: migration took {} ms, downtime {} ms, {} transferred", id_.name, s.total.count(),
              s.downtime.count(), mib(s.bytes));
  } else {
    log_.info("domain '{}' arrived and runs", id_.name);
  }
  return a;
}

}  // namespace evos::vm
