// evos::cluster::CorosyncFollow: Corosync's membership and quorum as a follower of libquorum's
// notifications holds them (evosd, docs/evosd.md "Corosync"). Pure, on the caller's clock: the
// follower thread (evos_io) feeds it what libquorum's callback and libcmap said, and readers take
// the membership only while it is current. Also the change between two views (for the log and a
// counter) and the reconnect backoff.
#pragma once

#include <evos/cluster/status.hpp>
#include <evos/deadline.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace evos::cluster {

// What one notification changed against the view before it.
struct MembershipChange {
  bool first = false;           // the first view of a connection (nothing to compare with)
  bool quorum_changed = false;  // quorate flipped (never on `first`)
  bool quorate = false;
  std::vector<std::uint32_t> joined, left;  // node ids, ascending
  [[nodiscard]] bool changed() const { return quorum_changed || !joined.empty() || !left.empty(); }
};

// The nodelist as libcmap has it (nodelist.node.X.nodeid / .name, corosync.conf(5)).
struct Nodelist {
  std::string cluster_name;
  std::uint32_t local_nodeid = 0;
  std::vector<Member> nodes;  // `online` is ignored: the notification says who is a member
};

// The membership from the nodelist and libquorum's member list: the configured nodes with their
// names (nodeN where the nodelist has none), online when members; members missing from the
// nodelist (auto-joined) as nodeN. One assembly for evosd's follower and evosctl's one-shot read.
Membership membership_of(const Nodelist& list, bool quorate, const std::vector<std::uint32_t>& members);

class CorosyncFollow {
 public:
  // A connection opened and its tracking started (CS_TRACK_CURRENT | CS_TRACK_CHANGES); not
  // synced until its first notification arrives.
  void connected(Clock::time_point now, std::chrono::system_clock::time_point wall);
  // libquorum's quorum notification: the whole member list and whether this partition is quorate.
  MembershipChange notification(bool quorate, std::uint64_t ring_seq, std::vector<std::uint32_t> members,
                                Clock::time_point now, std::chrono::system_clock::time_point wall);
  // The nodelist read after a notification (names of the members and of the configured nodes).
  void nodelist(Nodelist list);
  // The connection is gone or could not be opened. True when `problem` differs from the last one
  // (or the connection was up): to log once per change of problem, not at every retry.
  bool disconnected(std::string problem, Clock::time_point now);

  [[nodiscard]] bool connected() const { return connected_; }
  // Connected and a notification received since: the view is Corosync's current one. libquorum
  // notifies only on change, so there is no silence bound (a SIGSTOPped corosync is not seen).
  [[nodiscard]] bool synced() const { return connected_ && synced_; }
  // The membership as last notified (configured nodes with names, online from the member list;
  // members not in the nodelist as nodeN); nullopt when not synced.
  [[nodiscard]] std::optional<Membership> current() const;
  // As last known, synced or not (for the status answer, next to `synced`).
  [[nodiscard]] Membership last_known() const;
  [[nodiscard]] const std::vector<std::uint32_t>& members() const { return members_; }
  [[nodiscard]] std::uint64_t ring_seq() const { return ring_seq_; }
  [[nodiscard]] const std::string& problem() const { return problem_; }
  [[nodiscard]] Clock::time_point since() const { return since_; }            // last connect or disconnect
  [[nodiscard]] Clock::time_point changed() const { return changed_; }        // last view that changed something
  [[nodiscard]] std::optional<std::chrono::system_clock::time_point> changed_wall() const { return changed_wall_; }
  [[nodiscard]] std::optional<std::chrono::system_clock::time_point> connected_wall() const { return connected_wall_; }

 private:
  bool connected_ = false;
  bool synced_ = false;
  bool quorate_ = false;
  std::uint64_t ring_seq_ = 0;
  std::vector<std::uint32_t> members_;
  Nodelist nodelist_;
  std::string problem_;
  Clock::time_point since_{}, changed_{};
  std::optional<std::chrono::system_clock::time_point> changed_wall_, connected_wall_;
};

// "node beta (2) left; quorum lost" for the log; names from `names` where it has them.
std::string describe(const MembershipChange& change, const Membership& names);

// When to connect again after a connection failed or was lost: doubles from `min` to `max` while
// connections keep failing, and is `min` again after one that stayed up `healthy_after`.
struct ReconnectPolicy {
  Millis min{500};
  Millis max{10000};
  Millis healthy_after{30000};
};

class ReconnectBackoff {
 public:
  explicit ReconnectBackoff(ReconnectPolicy policy = {}) : policy_(policy) {}
  // A connection (opened at `opened`, if it opened at all) ended at `ended`.
  Millis next_delay(std::optional<Clock::time_point> opened, Clock::time_point ended);
  [[nodiscard]] const ReconnectPolicy& policy() const { return policy_; }

 private:
  ReconnectPolicy policy_;
  std::optional<Millis> last_;
};

}  // namespace evos::cluster
