// What evosd knows about its node, from the events it follows: each domain's state since when,
// each test IP's reachability, whether each source's connection is alive, and evosd's own
// counters. Pure: the daemon (evos/daemon/daemon.hpp) feeds it on one thread and hands copies to
// readers (the socket, the metrics).
#pragma once

#include <evos/cluster/corosync_follow.hpp>
#include <evos/deadline.hpp>
#include <evos/drbd/events2_state.hpp>
#include <evos/vm/domain_state.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace evos::daemon {

struct LifecycleChange;

struct DomainRecord {
  std::string name;
  std::string uuid;
  vm::DomainState state;
  Clock::time_point since{};  // when evosd saw it enter `state`
  std::uint64_t seq = 0;      // of the event (or resync) that set it
  bool reported = false;      // a failure was reported to Pacemaker since it last started
};

struct TestIpRecord {
  std::string host;
  bool reachable = false;
  std::optional<std::chrono::microseconds> rtt;  // average of the last round's replies
  Clock::time_point since{};                     // when reachability last changed
};

enum class Source { libvirt, testip };
std::string_view to_string(Source source) noexcept;

struct SourceStatus {
  bool connected = false;        // the connection is open and its events registered
  bool synced = false;           // a full listing was applied since it opened
  Clock::time_point since{};     // of the last connect or disconnect
  Clock::time_point heard{};     // last sign of life: an event, a listing or a heartbeat answer
  std::string problem;           // why it is not connected, "" when it is
};

// evosd's own counters, for the metrics (monotonic; never reset while evosd runs).
struct Counters {
  std::uint64_t libvirt_events = 0;
  std::uint64_t libvirt_reconnects = 0;  // connections opened after the first
  std::uint64_t libvirt_resyncs = 0;
  std::uint64_t testip_rounds = 0;
  std::uint64_t testip_changes = 0;
  std::uint64_t failures_reported = 0;   // crm_resource --fail calls that succeeded
  std::uint64_t report_errors = 0;       // ... that failed
  std::uint64_t socket_requests = 0;
  std::uint64_t socket_bad_requests = 0;
  std::uint64_t socket_clients_dropped = 0;  // a client that did not read its answers in time
  std::uint64_t drbd_events2_lines = 0;      // lines read from drbdsetup events2
  std::uint64_t drbd_events2_garbage = 0;    // ... that the parser refused (skipped)
  std::uint64_t drbd_events2_restarts = 0;   // streams started after the first
  std::uint64_t corosync_changes = 0;        // membership or quorum changes notified by libquorum
  std::uint64_t corosync_reconnects = 0;     // libquorum connections opened after the first
  std::optional<std::chrono::system_clock::time_point> last_event;  // wall clock, any source
};

// A domain's state before and after something evosd applied.
struct DomainChange {
  std::string name;
  std::optional<vm::DomainState> before;  // nullopt: evosd did not know it
  vm::DomainState after;
};

class NodeState {
 public:
  // Sources.
  void connected(Source source, Clock::time_point now);
  void disconnected(Source source, Clock::time_point now, std::string problem);
  void heard(Source source, Clock::time_point now);
  [[nodiscard]] const SourceStatus& source(Source source) const;
  // Fresh: connected, synced, and heard from within `max_silence` (docs/evosd.md, "Freshness").
  [[nodiscard]] bool fresh(Source source, Clock::time_point now, Millis max_silence) const;

  // A lifecycle event with sequence number `seq` (increasing in the order events arrive).
  // nullopt when it changed nothing evosd holds.
  std::optional<DomainChange> apply_event(const std::string& name, const std::string& uuid, const LifecycleChange& change,
                                          std::uint64_t seq, Clock::time_point now);
  // A full listing begun when the sequence was at `started_seq`: domains with a later event keep
  // it (the listing may be older than the event); others take the listed state, and domains not
  // listed are gone. Marks the source synced. Returns every change.
  struct Listed {
    std::string name;
    std::string uuid;
    vm::DomainState state;
  };
  std::vector<DomainChange> apply_listing(const std::vector<Listed>& domains, std::uint64_t started_seq,
                                          Clock::time_point now);

  [[nodiscard]] const DomainRecord* domain(const std::string& name) const;
  [[nodiscard]] const std::map<std::string, DomainRecord>& domains() const { return domains_; }
  void mark_reported(const std::string& name);

  // Test IPs: a round's results; returns whether any host's reachability changed.
  bool apply_round(const std::vector<TestIpRecord>& hosts, Clock::time_point now);
  [[nodiscard]] const std::vector<TestIpRecord>& test_ips() const { return test_ips_; }

  // DRBD, followed from drbdsetup events2 (docs/evosd.md, "DRBD events"). `drbd_followed` is false
  // when evosd does not follow DRBD at all (drbd_events = no, no drbdsetup).
  bool drbd_followed = false;
  drbd::Events2State drbd;
  Clock::time_point drbd_since{};  // of the last stream start or end
  // Fresh: followed, and the stream runs and is synced (events2 prints only on change, so there
  // is no silence bound: a live child with a complete state is current).
  [[nodiscard]] bool drbd_fresh() const { return drbd_followed && drbd.synced(); }

  // Corosync, followed through libquorum's notifications (docs/evosd.md, "Corosync").
  // `corosync_followed` is false when evosd does not follow it (corosync_events = no).
  bool corosync_followed = false;
  cluster::CorosyncFollow corosync;

  Counters counters;

 private:
  SourceStatus& mutable_source(Source source);
  std::map<std::string, DomainRecord> domains_;
  std::vector<TestIpRecord> test_ips_;
  SourceStatus libvirt_, testip_;
};

}  // namespace evos::daemon
