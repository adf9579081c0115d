// evos::metrics collectors, the pure half: facts read by the adapters (metrics/sources.hpp) mapped
// to metric families. Every family and its labels are listed in docs/metrics.md.
#pragma once

#include <evos/cluster/status.hpp>
#include <evos/drbd/state.hpp>
#include <evos/metrics/exposition.hpp>
#include <evos/net/detail.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace evos::metrics {

// ---- VMs: one domain's record of virConnectGetAllDomainStats (libvirt's "Domain stats" keys:
// state.state, cpu.time, balloon.current, balloon.maximum, balloon.rss, block.N.*, net.N.*). Absent keys are
// nullopt: a stopped domain has no block or net records.
struct BlockStats {
  std::string name;  // "vda"
  std::optional<std::uint64_t> read_bytes, write_bytes, read_requests, write_requests;
};
struct InterfaceStats {
  std::string name;  // "vnet0"
  std::optional<std::uint64_t> rx_bytes, tx_bytes, rx_packets, tx_packets, rx_errors, tx_errors, rx_drops, tx_drops;
};
struct DomainStats {
  std::string name;
  int state = 0;  // virDomainState: 1 running, 3 paused, 5 shutoff, 6 crashed, ...
  std::optional<std::uint64_t> cpu_time_ns;
  std::optional<std::uint64_t> balloon_current_kib, balloon_maximum_kib, rss_kib;
  std::optional<unsigned> vcpus;
  std::vector<BlockStats> blocks;
  std::vector<InterfaceStats> interfaces;
};

// One typed parameter of a domain's stats record, as libvirt names it ("block.0.rd.bytes").
struct StatParam {
  std::string field;
  std::optional<double> number;  // numeric types
  std::string text;              // VIR_TYPED_PARAM_STRING
};
// The record mapped to DomainStats; unknown fields are ignored, an index beyond block.count /
// net.count too (libvirt documents the counts first).
DomainStats domain_stats_from_params(const std::string& name, const std::vector<StatParam>& params);

// What virDomainGetInfo(3) reports. The QEMU driver answers it from its own domain object and the
// QEMU process's /proc/PID/stat, without a QEMU monitor round trip (its balloon size is kept
// current by QEMU's BALLOON_CHANGE events), unlike the bulk stats' cpu-total and balloon groups.
struct DomainInfo {
  int state = 0;
  std::uint64_t max_mem_kib = 0, memory_kib = 0, cpu_time_ns = 0;
  unsigned vcpus = 0;
};
// Fills cpu time, memory now / maximum and vCPUs of a domain that runs; a shut-off domain (by the
// bulk record's state or by the info's, if it stopped in between) gets none of them.
void apply_domain_info(DomainStats& d, const DomainInfo& info);

// ---- the QEMU process of a local libvirtd's domain, read from /proc instead of asking QEMU.
// libvirtd's pid file (<qemu state dir>/<domain>.pid): the PID, or nullopt.
std::optional<int> parse_pid_file(std::string_view text);
// True if `cmdline` (/proc/PID/cmdline, NUL-separated) is the QEMU process of domain `name`:
// libvirt starts it with `-name guest=NAME,...` (a ',' in NAME doubled, QEMU's option escaping).
// Guards against a recycled PID or a pid file from another PID namespace.
bool is_qemu_of_domain(std::string_view cmdline, std::string_view name);
// Resident set size in KiB from /proc/PID/stat (proc(5): field 24, rss, in pages), as libvirt's
// balloon.rss computes it; nullopt if malformed.
std::optional<std::uint64_t> rss_kib_from_proc_stat(std::string_view stat, std::uint64_t page_size);

// ---- the block counters kept between scrapes (LibvirtReadOptions::max_age): per domain that
// ran when they were read, its disks. Only a domain that runs now gets them: state is always the
// scrape's own.
using BlockSample = std::map<std::string, std::vector<BlockStats>>;
BlockSample block_sample(const std::vector<DomainStats>& domains);
// True if every domain that runs in `live` has an entry in `sample` (a VM started since the
// sample was read makes it unusable: its disks would be missing).
bool block_sample_covers(const std::vector<DomainStats>& live, const BlockSample& sample);
// The running domains of `live` get their disks from `sample`; shut-off ones get none.
void merge_block_sample(std::vector<DomainStats>& live, const BlockSample& sample);
// evos_vm_block_sample_age_seconds{node}: how old the block counters of this scrape are.
Family block_sample_age_family(double age_seconds, const std::string& node);

// libvirt's name for a virDomainState ("running", "shutoff", ...); "unknown" beyond them.
std::string_view domain_state_name(int state) noexcept;

// evos_vm_* families. `ha_vms`: the domains that are ocf:evos:vm resources (resource id
// "vm-NAME", cluster::vm_resource_id); `node`: this node's name, a label on every VM series.
std::vector<Family> vm_families(const std::vector<DomainStats>& domains, const std::string& node,
                                const std::set<std::string>& ha_vms);

// The HA VMs in a Pacemaker status: resources of agent ocf:evos:vm named vm-NAME.
std::set<std::string> ha_vm_names(const cluster::PacemakerStatus& status);

// ---- cluster: Corosync's membership and Pacemaker's status are separate sources, so the
// Corosync families stay when Pacemaker is down (ha_cluster_exporter #177).
std::vector<Family> corosync_families(const cluster::Membership& membership);
std::vector<Family> pacemaker_families(const cluster::PacemakerStatus& status);

// ---- mirrors: the DRBD resources as `drbdsetup status --json` or events2 report them.
std::vector<Family> mirror_families(const std::vector<drbd::ResourceState>& resources);

// ---- backups: per VM, the newest backup in its schedule's store; the VMs on this node with no
// schedule; the verify results recorded so far (none: the family is absent).
struct VmBackupFacts {
  std::string vm;
  bool scheduled = false;
  std::optional<std::int64_t> last_backup_unix_ms;  // the newest committed backup of the VM
  std::optional<std::uint64_t> last_duration_ms;
  std::optional<std::uint64_t> last_bytes_read, last_bytes_stored;
  std::optional<bool> last_verify_ok;
  std::string store_error;  // why the store could not be read, "" if it could
};
// `now_unix_ms` makes "seconds since the last backup" (Datadog and others cannot compute
// time() - timestamp; cloudnative-pg #3660), next to the timestamp itself.
std::vector<Family> backup_families(const std::vector<VmBackupFacts>& vms, std::int64_t now_unix_ms);

// ---- test IPs: the last round of each ocf:evos:ping instance (its state file's detail line).
struct PingInstance {
  std::string instance;
  net::Detail detail;
};
std::vector<Family> testip_families(const std::vector<PingInstance>& instances, const std::string& node);

// ---- the scrape itself: evos_scrape_source_up{source} 1 when the source answered in time.
struct SourceOutcome {
  std::string source;
  bool up = false;
};
Family scrape_families(const std::vector<SourceOutcome>& outcomes);

}  // namespace evos::metrics
