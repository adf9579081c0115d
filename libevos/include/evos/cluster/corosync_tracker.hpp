// evos::cluster::QuorumTracker: one libquorum connection that follows Corosync's membership and
// quorum (quorum_trackstart with CS_TRACK_CURRENT | CS_TRACK_CHANGES), for a thread that polls its
// fd and dispatches what arrived (evosd's Corosync follower, docs/evosd.md "Corosync"). And the
// nodelist read through libcmap. The calls that talk to corosync wait for it without a timeout of
// their own (libqb IPC, CS_IPC_TIMEOUT_MS -1): only the follower's own thread makes them.
#pragma once

#include <evos/cluster/corosync_follow.hpp>
#include <evos/error.hpp>

#include <cstdint>
#include <memory>
#include <vector>

namespace evos::cluster {

// One quorum notification as libquorum's callback gave it.
struct QuorumNotification {
  bool quorate = false;
  std::uint64_t ring_seq = 0;
  std::vector<std::uint32_t> members;
};

class QuorumTracker {
 public:
  // Connects and starts tracking; Errc::backend with Corosync's error (not running, access).
  static Result<std::unique_ptr<QuorumTracker>> open();
  ~QuorumTracker();  // quorum_finalize (local: it never waits for corosync)
  QuorumTracker(const QuorumTracker&) = delete;
  QuorumTracker& operator=(const QuorumTracker&) = delete;

  // The fd to poll for POLLIN (quorum_fd_get).
  [[nodiscard]] int fd() const { return fd_; }
  // Everything that arrived, without waiting (CS_DISPATCH_ALL returns when nothing is left).
  // Errc::backend when the connection is gone (corosync exited or restarted).
  Result<std::vector<QuorumNotification>> dispatch();

  struct Impl;

 private:
  QuorumTracker() = default;
  std::unique_ptr<Impl> impl_;
  int fd_ = -1;
};

// totem.cluster_name, runtime.votequorum.this_node_id and nodelist.node.X.nodeid / .name from
// libcmap (one connection, closed before it returns). Errc::backend when corosync does not answer.
Result<Nodelist> read_nodelist();

// Corosync's cs_error_t in words.
std::string corosync_error_text(int cs_error);

}  // namespace evos::cluster
