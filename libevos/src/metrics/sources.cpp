#include <evos/metrics/sources.hpp>

#include <evos/activity.hpp>
#include <evos/backup/operations.hpp>
#include <evos/backup/schedule_io.hpp>
#include <evos/backup/store.hpp>
#include <evos/backup/verify.hpp>
#include <evos/cluster/corosync_membership.hpp>
#include <evos/cluster/pacemaker_tools.hpp>
#include <evos/drbd/drbdsetup_control.hpp>
#include <evos/net/state_file.hpp>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <thread>
#include <map>

namespace evos::metrics {

void SharedFacts::set_ha_vms(std::set<std::string> v) {
  std::lock_guard l(m_);
  ha_vms_ = std::move(v);
}
std::set<std::string> SharedFacts::ha_vms() const {
  std::lock_guard l(m_);
  return ha_vms_;
}
void SharedFacts::set_vms(std::set<std::string> v) {
  std::lock_guard l(m_);
  vms_ = std::move(v);
  vms_known_ = true;
  cv_.notify_all();
}
std::set<std::string> SharedFacts::vms(Deadline until) const {
  std::unique_lock l(m_);
  cv_.wait_until(l, until.when(), [&] { return vms_known_; });
  return vms_;
}
std::set<std::string> SharedFacts::vms() const {
  std::lock_guard l(m_);
  return vms_;
}

struct LibvirtStatsReader::Connection {
  virConnectPtr conn = nullptr;
  ~Connection() {
    if (conn) virConnectClose(conn);
  }
};

LibvirtStatsReader::LibvirtStatsReader(std::string uri) : uri_(std::move(uri)) {}
LibvirtStatsReader::~LibvirtStatsReader() = default;

namespace {

std::string libvirt_message() {
  const virError* e = virGetLastError();
  return e && e->message ? e->message : "unknown libvirt error";
}

// The records of virConnectGetAllDomainStats, owned until freed.
struct StatsRecords {
  virDomainStatsRecordPtr* records = nullptr;
  ~StatsRecords() {
    if (records) virDomainStatsRecordListFree(records);
  }
};

}  // namespace

namespace {

DomainStats to_domain_stats(const virDomainStatsRecordPtr r) {
  const char* name = virDomainGetName(r->dom);
  std::vector<StatParam> params;
  params.reserve(static_cast<std::size_t>(r->nparams));
  for (int j = 0; j < r->nparams; ++j) {
    const virTypedParameter& p = r->params[j];
    StatParam sp;
    sp.field = p.field;
    switch (p.type) {
      case VIR_TYPED_PARAM_INT: sp.number = p.value.i; break;
      case VIR_TYPED_PARAM_UINT: sp.number = p.value.ui; break;
      case VIR_TYPED_PARAM_LLONG: sp.number = static_cast<double>(p.value.l); break;
      case VIR_TYPED_PARAM_ULLONG: sp.number = static_cast<double>(p.value.ul); break;
      case VIR_TYPED_PARAM_DOUBLE: sp.number = p.value.d; break;
      case VIR_TYPED_PARAM_BOOLEAN: sp.number = p.value.b ? 1 : 0; break;
      case VIR_TYPED_PARAM_STRING: sp.text = p.value.s ? p.value.s : ""; break;
      default: break;
    }
    params.push_back(std::move(sp));
  }
  return domain_stats_from_params(name ? name : "", params);
}

// The domains of virConnectListAllDomains, owned until freed.
struct DomainList {
  virDomainPtr* doms = nullptr;
  int n = 0;
  ~DomainList() {
    for (int i = 0; i < n; ++i) virDomainFree(doms[i]);
    free(doms);  // NOLINT: allocated by libvirt with malloc
  }
};

// What one scrape asks for (virConnectGetAllDomainStats(3) "stats" groups). Not
// VIR_DOMAIN_STATS_VCPU: per-vCPU times cost a QEMU monitor round trip per domain, and the
// vCPU count is configuration, not a measurement.
constexpr unsigned int stats_groups = VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL | VIR_DOMAIN_STATS_BALLOON |
                                      VIR_DOMAIN_STATS_INTERFACE | VIR_DOMAIN_STATS_BLOCK;
// libvirtd serves 5 calls of one client at once (libvirtd.conf max_client_requests): the
// domains are split into at most 4 bulk calls running side by side, so their QEMU monitor round
// trips overlap instead of queueing one domain after the other.
constexpr int max_parallel_calls = 4;

}  // namespace

Result<std::vector<DomainStats>> LibvirtStatsReader::read() {
  std::lock_guard lock(m_);
  Activity activity(fmt::format("libvirt bulk domain stats ({})", uri_));
  if (!conn_) {
    auto c = std::make_unique<Connection>();
    // Read-only: the exporter never changes a domain, and libvirtd's read-only socket suffices.
    c->conn = virConnectOpenReadOnly(uri_.c_str());
    if (!c->conn) return make_error(Errc::backend, "connect to {}: {}", uri_, libvirt_message());
    conn_ = std::move(c);
  }
  auto broken = [&](std::string_view what) {
    auto e = make_error(Errc::backend, "{} from {}: {}", what, uri_, libvirt_message());
    conn_.reset();  // libvirtd restarted or the connection broke: open a new one next time
    return e;
  };
  DomainList list;
  list.n = virConnectListAllDomains(conn_->conn, &list.doms, 0);
  if (list.n < 0) {
    list.n = 0;
    return broken("list domains");
  }
  const int calls = std::min(max_parallel_calls, list.n);
  std::vector<std::vector<DomainStats>> parts(static_cast<std::size_t>(calls));
  std::vector<std::string> errors(static_cast<std::size_t>(calls));
  auto part = [&](int k) {
    // Domains k, k+calls, ...: virDomainListGetStats takes a NULL-terminated array.
    std::vector<virDomainPtr> doms;
    for (int i = k; i < list.n; i += calls) doms.push_back(list.doms[i]);
    doms.push_back(nullptr);
    StatsRecords recs;
    // A domain that went away meanwhile is skipped, not an error (VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT
    // is not used: a domain in a long job would then report nothing).
    const int n = virDomainListGetStats(doms.data(), stats_groups, &recs.records, 0);
    if (n < 0) {
      errors[static_cast<std::size_t>(k)] = libvirt_message();
      return;
    }
    for (int i = 0; i < n; ++i) parts[static_cast<std::size_t>(k)].push_back(to_domain_stats(recs.records[i]));
  };
  {
    std::vector<std::thread> threads;
    for (int k = 1; k < calls; ++k) threads.emplace_back(part, k);
    if (calls > 0) part(0);
    for (auto& t : threads) t.join();
  }
  for (const auto& e : errors)
    if (!e.empty()) {
      conn_.reset();
      return make_error(Errc::backend, "bulk domain stats from {}: {}", uri_, e);
    }
  std::vector<DomainStats> out;
  for (auto& p : parts)
    for (auto& d : p) out.push_back(std::move(d));
  std::sort(out.begin(), out.end(), [](const DomainStats& a, const DomainStats& b) { return a.name < b.name; });
  return out;
}

Source libvirt_source(std::shared_ptr<LibvirtStatsReader> reader, std::string node, std::shared_ptr<SharedFacts> facts) {
  Source s;
  s.name = "libvirt";
  s.read = [reader, node, facts](Deadline) -> Result<std::vector<Family>> {
    auto stats = reader->read();
    if (!stats) return std::move(stats).error();
    std::set<std::string> names;
    for (const auto& d : *stats) names.insert(d.name);
    facts->set_vms(names);
    return vm_families(*stats, node, facts->ha_vms());
  };
  return s;
}

Source corosync_source(Millis ttl, std::function<std::optional<cluster::Membership>()> followed) {
  Source s;
  s.name = "corosync";
  if (!followed) {
    s.ttl = ttl;
    s.read = [](Deadline deadline) -> Result<std::vector<Family>> {
      auto m = cluster::read_membership(deadline);
      if (!m) return std::move(m).error();
      return corosync_families(*m);
    };
    return s;
  }
  // Followed: every scrape takes the followed view (no Corosync call, no TTL: it is current).
  // Not connected: asked once per `ttl` at most, the answer kept here (the Scraper's TTL would
  // also hold back the followed view once the follower is connected again).
  struct Fallback {
    std::mutex m;
    std::optional<Clock::time_point> at;
    std::optional<Result<std::vector<Family>>> answer;
  };
  auto fallback = std::make_shared<Fallback>();
  s.read = [followed, fallback, ttl](Deadline deadline) -> Result<std::vector<Family>> {
    if (auto m = followed()) return corosync_families(*m);
    {
      std::lock_guard lock(fallback->m);
      if (fallback->at && Clock::now() - *fallback->at < ttl && fallback->answer) return *fallback->answer;
    }
    auto m = cluster::read_membership(deadline);
    Result<std::vector<Family>> answer = m ? Result<std::vector<Family>>(corosync_families(*m)) : Result<std::vector<Family>>(std::move(m).error());
    std::lock_guard lock(fallback->m);
    fallback->at = Clock::now();
    fallback->answer = answer;
    return answer;
  };
  return s;
}

Source pacemaker_source(Millis ttl, std::shared_ptr<SharedFacts> facts) {
  Source s;
  s.name = "pacemaker";
  s.ttl = ttl;
  s.read = [facts](Deadline deadline) -> Result<std::vector<Family>> {
    auto st = cluster::read_pacemaker_status(deadline);
    if (!st) return std::move(st).error();
    facts->set_ha_vms(ha_vm_names(*st));
    return pacemaker_families(*st);
  };
  return s;
}

Source mirror_source(std::string drbdsetup, std::function<std::optional<std::vector<drbd::ResourceState>>()> followed) {
  Source s;
  s.name = "drbd";
  s.read = [drbdsetup, followed](Deadline deadline) -> Result<std::vector<Family>> {
    // Followed and current: no drbdsetup per scrape. Except while a resync or verify runs: DRBD
    // notifies no change of progress or out-of-sync alone, so the stream would show them old.
    if (followed)
      if (auto current = followed()) {
        const bool moving = std::any_of(current->begin(), current->end(), [](const drbd::ResourceState& r) {
          return drbd::is_sync_source(r) || drbd::is_sync_target(r) || drbd::is_verifying(r);
        });
        if (!moving) return mirror_families(*current);
      }
    drbd::DrbdsetupControl control({.drbdsetup = drbdsetup});
    auto st = control.status("all", deadline);
    if (!st) return std::move(st).error();
    return mirror_families(*st);
  };
  return s;
}

Source backup_source(std::string unit_dir, Millis ttl, std::shared_ptr<SharedFacts> facts) {
  Source s;
  s.name = "backup";
  s.ttl = ttl;
  s.read = [unit_dir, facts](Deadline deadline) -> Result<std::vector<Family>> {
    std::map<std::string, VmBackupFacts> vms;
    // Leave a tenth of the scrape for the stores; without libvirt's answer by then, the VMs
    // with schedules are still reported.
    for (const auto& name : facts->vms(deadline.minus(guard_time(deadline.remaining())))) vms[name].vm = name;
    auto schedules = backup::list_schedules(unit_dir);
    if (!schedules) {
      // No unit directory: no schedules (a node without systemd units yet).
      if (schedules.error().code() != Errc::not_found) return std::move(schedules).error();
      schedules = std::vector<backup::Schedule>{};
    }
    for (const auto& sch : *schedules) {
      auto& f = vms[sch.vm];
      f.vm = sch.vm;
      f.scheduled = true;
      std::optional<backup::Key> key;
      if (!sch.key_file.empty()) {
        auto k = backup::load_key_file(sch.key_file);
        if (!k) {
          f.store_error = k.error().message();
          continue;
        }
        key = std::move(*k);
      }
      auto store = backup::Store::open(sch.store, std::move(key));
      if (!store) {
        f.store_error = store.error().message();
        continue;
      }
      // The last `evosctl backup verify` of the VM's backups in this store, if one ran; a damaged
      // record says nothing (no sample), and is not an error of the store.
      if (auto rec = backup::read_verify_record(*store, sch.vm); rec && *rec) f.last_verify_ok = (*rec)->ok;
      auto latest = backup::latest_backup(*store, sch.vm);
      if (!latest) {
        f.store_error = latest.error().message();
        continue;
      }
      if (!*latest) continue;
      const backup::Manifest& m = **latest;
      if (auto t = backup::parse_backup_time(m.time)) f.last_backup_unix_ms = *t;
      f.last_duration_ms = m.duration_ms;
      std::uint64_t read = 0, stored = 0;
      for (const auto& d : m.disks) {
        read += d.bytes_read;
        stored += d.bytes_stored;
      }
      f.last_bytes_read = read;
      f.last_bytes_stored = stored;
    }
    std::vector<VmBackupFacts> list;
    for (auto& [n, f] : vms) list.push_back(std::move(f));
    return backup_families(list, backup::wall_clock_ms());
  };
  return s;
}

Source testip_source(std::string state_dir, std::string node) {
  Source s;
  s.name = "testip";
  s.read = [state_dir, node](Deadline) -> Result<std::vector<Family>> {
    std::vector<PingInstance> instances;
    std::error_code ec;
    // ocf:evos:ping's state files (net/state_file.hpp): evos-ping-<instance>.state.
    for (const auto& entry : std::filesystem::directory_iterator(state_dir, ec)) {
      const std::string file = entry.path().filename().string();
      constexpr std::string_view prefix = "evos-ping-", suffix = ".state";
      if (file.size() <= prefix.size() + suffix.size() || file.substr(0, prefix.size()) != prefix ||
          file.substr(file.size() - suffix.size()) != suffix)
        continue;
      auto st = net::StateFile(entry.path().string()).load();
      if (!st || st->detail.empty()) continue;  // damaged or before the first round: nothing to say
      auto detail = net::parse_detail(st->detail);
      if (!detail) continue;
      instances.push_back({file.substr(prefix.size(), file.size() - prefix.size() - suffix.size()), std::move(*detail)});
    }
    return testip_families(instances, node);
  };
  return s;
}

std::vector<Source> standard_sources(const SourceOptions& o, std::vector<Source> extra) {
  auto facts = std::make_shared<SharedFacts>();
  std::vector<Source> out;
  // Pacemaker first: its HA list labels the VMs of the same scrape once its answer is cached.
  out.push_back(pacemaker_source(o.cluster_ttl, facts));
  out.push_back(corosync_source(o.cluster_ttl, o.followed_membership));
  out.push_back(libvirt_source(std::make_shared<LibvirtStatsReader>(o.libvirt_uri), o.node, facts));
  out.push_back(mirror_source(o.drbdsetup, o.followed_mirrors));
  out.push_back(backup_source(o.unit_dir, o.backup_ttl, facts));
  out.push_back(testip_source(o.ping_state_dir, o.node));
  for (auto& s : extra) out.push_back(std::move(s));
  return out;
}

}  // namespace evos::metrics
