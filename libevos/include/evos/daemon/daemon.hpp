// evosd's parts (docs/evosd.md): the node state behind one lock, fed by the libvirt event source
// and read by the socket; the failure reporter, which turns a domain stopped behind Pacemaker's
// back into `crm_resource --fail` (evos/daemon/detection.hpp decides); and the services evosd
// starts and stops together (evosd's main lists them).
#pragma once

#include <evos/daemon/config.hpp>
#include <evos/daemon/node_state.hpp>
#include <evos/daemon/socket.hpp>
#include <evos/log.hpp>
#include <evos/virt/libvirt_events.hpp>

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace evos::daemon {

// One of the things evosd runs. Started in list order, stopped in reverse.
class Service {
 public:
  virtual ~Service() = default;
  [[nodiscard]] virtual std::string name() const = 0;
  virtual Result<void> start() = 0;
  virtual void stop() = 0;
};

// A domain whose change may be a failure to report; checked off the event thread.
struct ReportJob {
  std::string domain;
  std::optional<vm::DomainState> before;
  vm::DomainState now;
};

// Turns ReportJobs into reports, one at a time on its own thread: reads the VM agent's operation
// records, asks crm_mon, runs crm_resource --fail; each bounded by the configured timeout.
class FailureReporter;

// The node state and what changes it. Thread-safe: the event source calls it from libvirt's event
// loop and from its own thread, the socket server from its thread, readers (the metrics) anywhere.
class Core final : public virt::EventSink, public Responder {
 public:
  Core(Config config, Log& log, std::string version);
  ~Core() override;

  // A copy of everything, for readers (the socket, the metrics).
  [[nodiscard]] NodeState snapshot() const;
  [[nodiscard]] Counters counters() const;
  [[nodiscard]] const Config& config() const { return config_; }

  // virt::EventSink
  void connected(bool reconnect) override;
  void disconnected(const std::string& problem) override;
  void event(virt::DomainEvent event) override;
  void listing(virt::DomainListing listing) override;
  void heartbeat() override;

  // Responder
  std::string answer(std::string_view line) override;
  void client_dropped(std::string_view why) override;

  // For the test-IP prober: a round's results; true when a host's reachability changed.
  bool testip_round(const std::vector<TestIpRecord>& hosts);
  void testip_problem(const std::string& problem);

  // For the DRBD follower: a stream of drbdsetup events2 started (`restart`: not the first), one
  // of its lines, its end; `followed(false)` when evosd does not follow DRBD.
  void drbd_followed(bool followed);
  void drbd_stream_started(bool restart);
  drbd::LineOutcome drbd_line(std::string_view line);
  void drbd_stream_ended(std::string why);
  // The followed mirrors when they are current, else nullopt (then a reader polls drbdsetup).
  [[nodiscard]] std::optional<std::vector<drbd::ResourceState>> drbd_current() const;

  // For the Corosync follower: `followed(false)` when evosd does not follow Corosync; a libquorum
  // connection opened (`reconnect`: not the first); a notification with the nodelist read after it
  // (the change is applied, counted and logged here); the connection lost or refused (true when
  // the problem is new: logged once per change of problem by the caller).
  void corosync_followed(bool followed);
  void corosync_connected(bool reconnect);
  cluster::MembershipChange corosync_view(bool quorate, std::uint64_t ring_seq, std::vector<std::uint32_t> members,
                                          std::optional<cluster::Nodelist> nodelist);
  bool corosync_disconnected(std::string problem);
  // The followed membership when it is current (connected, a notification since), else nullopt
  // (then a reader asks Corosync itself, cluster::read_membership).
  [[nodiscard]] std::optional<cluster::Membership> corosync_current() const;

  // For the reporter.
  bool reported(const std::string& domain) const;
  void mark_reported(const std::string& domain);
  void count_report(bool ok);

  // Where possible failures go (the reporter's queue); unset: nowhere.
  void on_possible_failure(std::function<void(ReportJob)> sink);

 private:
  void consider(const DomainChange& change);

  Config config_;
  Log& log_;
  std::string version_;
  mutable std::mutex mutex_;
  NodeState state_;
  std::function<void(ReportJob)> failures_;
};

// The services evosd's main starts: the reporter, the libvirt follower, the socket.
std::unique_ptr<Service> make_failure_reporter(Core& core, Log& log);
std::unique_ptr<Service> make_libvirt_follower(Core& core, Log& log);
std::unique_ptr<Service> make_socket_service(Core& core, Log& log);
// Probes the configured test IPs every testip_interval and writes the score attribute at once when
// it changes; nullptr when no test IPs are configured.
std::unique_ptr<Service> make_testip_prober(Core& core, Log& log);
// The metrics exporter (HTTP, config.metrics_listen) and the history sampler (config.history)
// over the node's sources and evosd's own counters (evos/metrics, evos/stats). A port in use or a
// history file that cannot be opened is logged and that part stays off: the rest of evosd runs.
// A metrics_listen that is no address is an error at start. nullptr when both are off.
std::unique_ptr<Service> make_metrics_service(Core& core, Log& log);
// Follows `drbdsetup events2 --statistics all` (config.drbdsetup), restarted with backoff when it
// ends or prints garbage beyond the limit; nullptr (and the core told so) when drbd_events is off
// or no drbdsetup is installed.
std::unique_ptr<Service> make_drbd_follower(Core& core, Log& log);
// Follows Corosync's membership and quorum (libquorum notifications, names from libcmap), connected
// again with backoff while corosync is not running; nullptr (and the core told so) when
// corosync_events is off.
std::unique_ptr<Service> make_corosync_follower(Core& core, Log& log);
// The drbdsetup evosd runs: config.drbdsetup, else the first in default_drbdsetup_dirs; "" when
// none is installed there.
std::string drbdsetup_path(const Config& config);

// Reads the configuration file: `path` as given (a missing file is an error when `explicit_path`,
// else the defaults apply). Errc::invalid_config naming the file and line.
Result<Config> load_config(const std::string& path, bool explicit_path);

// Starts `services` in order (stopping those already started if one fails), waits for SIGTERM or
// SIGINT, stops them in reverse. The caller blocks those signals in every thread first
// (block_termination_signals, before any thread starts).
Result<void> run_services(std::vector<std::unique_ptr<Service>>& services, Log& log);
void block_termination_signals();

}  // namespace evos::daemon
