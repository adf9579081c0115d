// evos::metrics sources: the adapters that read the facts collectors.hpp maps, each as a
// metrics::Source for the Scraper. Each reads with argv-only tools or C libraries, within the
// scrape's deadline where the tool takes one (a library call that hangs is left behind by the
// Scraper, which then reports the source down).
#pragma once

#include <evos/metrics/collectors.hpp>
#include <evos/metrics/scraper.hpp>

#include <condition_variable>
#include <functional>
#include <optional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

namespace evos::metrics {

// What one source learns that another labels with: the HA VMs (from Pacemaker, for the libvirt
// source's ha label) and the VMs defined here (from libvirt, for the backup source's "VMs
// without a schedule"). Last known values; empty before the first read.
class SharedFacts {
 public:
  void set_ha_vms(std::set<std::string> v);
  std::set<std::string> ha_vms() const;
  void set_vms(std::set<std::string> v);
  std::set<std::string> vms() const;
  // The VMs once libvirt answered the first time, waiting for that until `until` (the sources
  // of one scrape run side by side); the last known (maybe none) after it.
  std::set<std::string> vms(Deadline until) const;

 private:
  mutable std::mutex m_;
  mutable std::condition_variable cv_;
  bool vms_known_ = false;
  std::set<std::string> ha_vms_, vms_;
};

// Where the libvirt source reads what needs no QEMU monitor round trip.
struct LibvirtReadOptions {
  std::string uri = "qemu:///system";
  // libvirtd's QEMU state directory with a <domain>.pid per running domain, and the /proc those
  // PIDs are in: each QEMU process's RSS is read from /proc/PID/stat. Empty: the bulk call asks
  // the balloon group for it instead (a QEMU monitor round trip per domain): a remote or session
  // libvirtd, or a driver without QEMU processes.
  std::string qemu_pid_dir;
  std::string proc_dir = "/proc";
  // 0: every figure is read by the scrape (live). Otherwise the block counters, the only figures
  // that cost each QEMU a monitor round trip, are read by a background thread every max_age / 2
  // and a scrape serves the last ones if younger than max_age and covering every running domain
  // (else it reads them itself); state, CPU, memory and interfaces stay live.
  Millis max_age{0};
};
// The QEMU state directory of a system libvirtd on this host ("/run/libvirt/qemu") for
// qemu:///system, "" for any other URI (remote, session, other drivers, an explicit socket).
std::string local_qemu_pid_dir(std::string_view uri);

// One read-only libvirt connection kept across scrapes (reopened after a failure: libvirtd
// restarted). A read is a bulk virDomainListGetStats (state, interface, block) per part of the
// domains, a virDomainGetInfo per domain, and the RSS from /proc (LibvirtReadOptions). With a
// max_age, the block counters come from a background read instead (below).
struct DomainReading {
  std::vector<DomainStats> domains;
  std::optional<Millis> block_sample_age;  // with max_age: how old the block counters are
};
class LibvirtStatsReader {
 public:
  explicit LibvirtStatsReader(std::string uri);  // qemu_pid_dir = local_qemu_pid_dir(uri)
  explicit LibvirtStatsReader(LibvirtReadOptions options);
  ~LibvirtStatsReader();
  LibvirtStatsReader(const LibvirtStatsReader&) = delete;
  LibvirtStatsReader& operator=(const LibvirtStatsReader&) = delete;
  Result<DomainReading> read();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

struct SourceOptions {
  std::string libvirt_uri = "qemu:///system";
  Millis libvirt_max_age{0};                    // LibvirtReadOptions::max_age
  std::string node;                             // this node's name (labels)
  std::string unit_dir = "/etc/systemd/system";  // backup schedules
  std::string ping_state_dir = "/run/resource-agents";  // ocf:evos:ping state files (HA_RSCTMP)
  Millis cluster_ttl{5000};                     // Corosync and Pacemaker facts are cached this long
  Millis backup_ttl{60000};                     // backup stores are listed at most once a minute
  std::string drbdsetup = "drbdsetup";          // polled for the mirrors when nothing follows them
  // The mirrors as followed from drbdsetup events2 (evosd), or nullopt when not followed or not
  // current: then the source polls `drbdsetup status --json all` as without a follower (also
  // while a resync or verify runs, whose progress DRBD does not notify).
  std::function<std::optional<std::vector<drbd::ResourceState>>()> followed_mirrors;
  // Corosync's membership as followed through libquorum (evosd), or nullopt when not followed
  // or not connected: then the source asks Corosync itself (cluster::read_membership, cached
  // cluster_ttl).
  std::function<std::optional<cluster::Membership>()> followed_membership;
};

Source libvirt_source(std::shared_ptr<LibvirtStatsReader> reader, std::string node, std::shared_ptr<SharedFacts> facts);
Source corosync_source(Millis ttl, std::function<std::optional<cluster::Membership>()> followed = {});
Source pacemaker_source(Millis ttl, std::shared_ptr<SharedFacts> facts);
Source mirror_source(std::string drbdsetup = "drbdsetup",
                     std::function<std::optional<std::vector<drbd::ResourceState>>()> followed = {});
Source backup_source(std::string unit_dir, Millis ttl, std::shared_ptr<SharedFacts> facts);
Source testip_source(std::string state_dir, std::string node);

// Every source above, as evosd serves them; `extra` (the daemon's own counters) is added last.
std::vector<Source> standard_sources(const SourceOptions& options, std::vector<Source> extra = {});

}  // namespace evos::metrics
