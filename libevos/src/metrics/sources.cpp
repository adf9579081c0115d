#include <evos/metrics/sources.hpp>

#include <evos/activity.hpp>
#include <evos/backup/operations.hpp>
#include <evos/backup/schedule_io.hpp>
#include <evos/backup/store.hpp>
#include <evos/backup/verify.hpp>
#include <evos/cluster/corosync_membership.hpp>
#include <evos/cluster/pacemaker_tools.hpp>
#include <evos/drbd/drbdsetup_control.hpp>
#include <evos/file/fd.hpp>
#include <evos/net/state_file.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <algorithm>
#include <condition_variable>
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

std::string local_qemu_pid_dir(std::string_view uri) {
  // libvirtd's QEMU driver keeps its state in /run/libvirt/qemu (libvirtd(8), "Files"); an
  // explicit ?socket= may be a libvirtd in another mount namespace whose state is elsewhere.
  return uri == "qemu:///system" ? "/run/libvirt/qemu" : "";
}

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

// A small file of /proc or libvirtd's state directory, whole; nullopt if it cannot be read (the
// domain stopped and its pid file or process went away meanwhile). These never block.
std::optional<std::string> read_small_file(const std::string& path) {
  file::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return std::nullopt;
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > 1 << 20) return std::nullopt;  // no pid file or stat line is that long
  }
  return out;
}

// The RSS of domain `name`'s QEMU process, from its pid file and /proc/PID/stat; nullopt if the
// process is not there or is not that domain's QEMU.
std::optional<std::uint64_t> qemu_rss_kib(const LibvirtReadOptions& o, const std::string& name) {
  auto pidfile = read_small_file(o.qemu_pid_dir + "/" + name + ".pid");
  if (!pidfile) return std::nullopt;
  auto pid = parse_pid_file(*pidfile);
  if (!pid) return std::nullopt;
  const std::string dir = fmt::format("{}/{}", o.proc_dir, *pid);
  auto cmdline = read_small_file(dir + "/cmdline");
  if (!cmdline || !is_qemu_of_domain(*cmdline, name)) return std::nullopt;
  auto stat = read_small_file(dir + "/stat");
  if (!stat) return std::nullopt;
  static const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  return rss_kib_from_proc_stat(*stat, page);
}

// What the bulk call asks for (virConnectGetAllDomainStats(3) "stats" groups): only groups the
// QEMU driver answers without the QEMU monitor except block, which only QEMU knows. cpu-total and
// balloon's sizes come from virDomainGetInfo instead (measured on 20 domains in 4 calls: cpu-total
// 6.9 ms, balloon 11.3 ms, 20 virDomainGetInfo 2.3 ms; docs/measurements.md), balloon's RSS from
// /proc (a domain name holds no '/': libvirt refuses one). Not VIR_DOMAIN_STATS_VCPU: per-vCPU times cost a QEMU monitor round trip per domain.
constexpr unsigned int stats_groups = VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_INTERFACE | VIR_DOMAIN_STATS_BLOCK;
// libvirtd serves 5 calls of one client at once (libvirtd.conf max_client_requests): the
// domains are split into at most 4 bulk calls running side by side, so their QEMU monitor round
// trips overlap instead of queueing one domain after the other, and the fifth is the
// virDomainGetInfo calls'.
constexpr int max_parallel_calls = 4;

}  // namespace

struct LibvirtStatsReader::Impl {
  explicit Impl(LibvirtReadOptions options) : o(std::move(options)) {}
  ~Impl() {
    if (conn) virConnectClose(conn);
  }
  const LibvirtReadOptions o;
  std::mutex m;  // one read at a time on the connection; guards conn and sample
  virConnectPtr conn = nullptr;
  struct Sample {
    Clock::time_point at;
    BlockSample blocks;
  };
  std::optional<Sample> sample;
  // The background reader's stop (max_age): set by the reader's destructor.
  std::mutex stop_m;
  std::condition_variable stop_cv;
  bool stopping = false;

  Result<void> connect();
  Result<void> list(DomainList& out);
  Result<std::vector<DomainStats>> bulk(const DomainList& list, unsigned int groups, bool with_info);
  Result<void> refresh_sample(const DomainList& list);
  Result<DomainReading> read();
  Result<void> refresh();
};

Result<void> LibvirtStatsReader::Impl::connect() {
  if (conn) return {};
  // Read-only: the exporter never changes a domain, and libvirtd's read-only socket suffices.
  conn = virConnectOpenReadOnly(o.uri.c_str());
  if (!conn) return make_error(Errc::backend, "connect to {}: {}", o.uri, libvirt_message());
  return {};
}

Result<void> LibvirtStatsReader::Impl::list(DomainList& out) {
  if (auto c = connect(); !c) return c;
  out.n = virConnectListAllDomains(conn, &out.doms, 0);
  if (out.n < 0) {
    out.n = 0;
    auto e = make_error(Errc::backend, "list domains from {}: {}", o.uri, libvirt_message());
    virConnectClose(conn);  // libvirtd restarted or the connection broke: open a new one next time
    conn = nullptr;
    return e;
  }
  return {};
}

Result<std::vector<DomainStats>> LibvirtStatsReader::Impl::bulk(const DomainList& list, unsigned int groups, bool with_info) {
  const bool rss_from_proc = !o.qemu_pid_dir.empty();
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
    const int n = virDomainListGetStats(doms.data(), groups, &recs.records, 0);
    if (n < 0) {
      errors[static_cast<std::size_t>(k)] = libvirt_message();
      return;
    }
    for (int i = 0; i < n; ++i) parts[static_cast<std::size_t>(k)].push_back(to_domain_stats(recs.records[i]));
  };
  // virDomainGetInfo of every domain, and the RSS of those that run, on a fifth call of the
  // connection while the bulk calls wait for QEMU's monitors.
  struct Info {
    std::string name;
    DomainInfo info;
    std::optional<std::uint64_t> rss_kib;
  };
  std::vector<std::optional<Info>> infos(static_cast<std::size_t>(list.n));
  auto info_part = [&] {
    for (int i = 0; i < list.n; ++i) {
      virDomainInfo vi{};
      const char* name = virDomainGetName(list.doms[i]);
      if (!name || virDomainGetInfo(list.doms[i], &vi) != 0) continue;  // gone meanwhile
      Info in{name, {.state = vi.state, .max_mem_kib = vi.maxMem, .memory_kib = vi.memory, .cpu_time_ns = vi.cpuTime,
                     .vcpus = vi.nrVirtCpu}, std::nullopt};
      if (rss_from_proc && vi.state != VIR_DOMAIN_SHUTOFF) in.rss_kib = qemu_rss_kib(o, in.name);
      infos[static_cast<std::size_t>(i)] = std::move(in);
    }
  };
  {
    std::vector<std::thread> threads;
    for (int k = 1; k < calls; ++k) threads.emplace_back(part, k);
    if (with_info) threads.emplace_back(info_part);
    if (calls > 0) part(0);
    for (auto& t : threads) t.join();
  }
  for (const auto& e : errors)
    if (!e.empty()) {
      virConnectClose(conn);
      conn = nullptr;
      return make_error(Errc::backend, "bulk domain stats from {}: {}", o.uri, e);
    }
  std::map<std::string_view, const Info*> by_name;
  for (const auto& in : infos)
    if (in) by_name[in->name] = &*in;
  std::vector<DomainStats> out;
  for (auto& p : parts)
    for (auto& d : p) {
      // The info may be a moment older or newer than the bulk record's state: a domain shut off
      // by either gets no figures of a process (apply_domain_info), nor its RSS.
      if (auto it = by_name.find(d.name); it != by_name.end()) {
        apply_domain_info(d, it->second->info);
        if (d.cpu_time_ns && it->second->rss_kib) d.rss_kib = it->second->rss_kib;
      }
      out.push_back(std::move(d));
    }
  std::sort(out.begin(), out.end(), [](const DomainStats& a, const DomainStats& b) { return a.name < b.name; });
  return out;
}

Result<void> LibvirtStatsReader::Impl::refresh_sample(const DomainList& list) {
  // The block group carries the state too: a domain that is not running has no counters to keep.
  auto b = bulk(list, VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_BLOCK, false);
  if (!b) return std::move(b).error();
  sample = Sample{Clock::now(), block_sample(*b)};
  return {};
}

Result<DomainReading> LibvirtStatsReader::Impl::read() {
  std::lock_guard lock(m);
  Activity activity(fmt::format("libvirt bulk domain stats ({})", o.uri));
  DomainList domains;
  if (auto l = list(domains); !l) return std::move(l).error();
  const bool live = o.max_age.count() == 0;
  const unsigned int groups = (stats_groups & ~(live ? 0u : static_cast<unsigned>(VIR_DOMAIN_STATS_BLOCK))) |
                              (o.qemu_pid_dir.empty() ? static_cast<unsigned>(VIR_DOMAIN_STATS_BALLOON) : 0u);
  auto out = bulk(domains, groups, true);
  if (!out) return std::move(out).error();
  DomainReading r;
  r.domains = std::move(*out);
  if (live) return r;
  // Sampled block counters: the background read's if young enough and complete, else read now.
  const bool usable = sample && Clock::now() - sample->at < o.max_age && block_sample_covers(r.domains, sample->blocks);
  if (!usable)
    if (auto s = refresh_sample(domains); !s) return std::move(s).error();
  merge_block_sample(r.domains, sample->blocks);
  r.block_sample_age = std::chrono::duration_cast<Millis>(Clock::now() - sample->at);
  return r;
}

Result<void> LibvirtStatsReader::Impl::refresh() {
  std::lock_guard lock(m);
  Activity activity(fmt::format("libvirt block stats in the background ({})", o.uri));
  DomainList domains;
  if (auto l = list(domains); !l) return l;
  return refresh_sample(domains);
}

LibvirtStatsReader::LibvirtStatsReader(std::string uri)
    : LibvirtStatsReader(LibvirtReadOptions{.uri = uri, .qemu_pid_dir = local_qemu_pid_dir(uri)}) {}

LibvirtStatsReader::LibvirtStatsReader(LibvirtReadOptions options) : impl_(std::make_shared<Impl>(std::move(options))) {
  if (impl_->o.max_age.count() == 0) return;
  // Detached and owning the Impl, like the Scraper's reads: a read that hangs in a hung libvirtd
  // leaves this thread behind rather than blocking the reader's destruction (evosd's stop).
  const Millis period = std::max(Millis(500), impl_->o.max_age / 2);
  std::thread([impl = impl_, period] {
    for (;;) {
      {
        std::unique_lock l(impl->stop_m);
        if (impl->stop_cv.wait_for(l, period, [&] { return impl->stopping; })) return;
      }
      (void)impl->refresh();  // a failure: the next scrape reads the counters itself
    }
  }).detach();
}

LibvirtStatsReader::~LibvirtStatsReader() {
  {
    std::lock_guard l(impl_->stop_m);
    impl_->stopping = true;
  }
  impl_->stop_cv.notify_all();
}

Result<DomainReading> LibvirtStatsReader::read() { return impl_->read(); }

Source libvirt_source(std::shared_ptr<LibvirtStatsReader> reader, std::string node, std::shared_ptr<SharedFacts> facts) {
  Source s;
  s.name = "libvirt";
  s.read = [reader, node, facts](Deadline) -> Result<std::vector<Family>> {
    auto stats = reader->read();
    if (!stats) return std::move(stats).error();
    std::set<std::string> names;
    for (const auto& d : stats->domains) names.insert(d.name);
    facts->set_vms(names);
    auto fs = vm_families(stats->domains, node, facts->ha_vms());
    if (stats->block_sample_age)
      fs.push_back(block_sample_age_family(static_cast<double>(stats->block_sample_age->count()) / 1000.0, node));
    return fs;
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
  out.push_back(libvirt_source(std::make_shared<LibvirtStatsReader>(LibvirtReadOptions{
                                   .uri = o.libvirt_uri, .qemu_pid_dir = local_qemu_pid_dir(o.libvirt_uri), .max_age = o.libvirt_max_age}),
                               o.node, facts));
  out.push_back(mirror_source(o.drbdsetup, o.followed_mirrors));
  out.push_back(backup_source(o.unit_dir, o.backup_ttl, facts));
  out.push_back(testip_source(o.ping_state_dir, o.node));
  for (auto& s : extra) out.push_back(std::move(s));
  return out;
}

}  // namespace evos::metrics
