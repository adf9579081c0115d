#include <evos/activity.hpp>
#include <evos/cluster/corosync_membership.hpp>
#include <evos/cluster/corosync_tracker.hpp>

#include <corosync/corotypes.h>
#include <corosync/quorum.h>

#include <fmt/core.h>
#include <poll.h>

#include <cerrno>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace evos::cluster {
namespace {

// RAII over the quorum handle: finalized however the function leaves.
class QuorumHandle {
 public:
  ~QuorumHandle() {
    if (open_) quorum_finalize(h_);
  }
  quorum_handle_t h_ = 0;
  bool open_ = false;
};
struct Tracked {
  bool received = false;
  bool quorate = false;
  std::vector<std::uint32_t> members;
};

// Called by quorum_dispatch with the current membership (CS_TRACK_CURRENT). C callback: it
// only copies data, nothing in it can throw past libquorum.
void on_quorum(quorum_handle_t handle, std::uint32_t quorate, std::uint64_t, std::uint32_t count, std::uint32_t* list) noexcept {
  void* context = nullptr;
  if (quorum_context_get(handle, const_cast<const void**>(&context)) != CS_OK || !context) return;
  auto* t = static_cast<Tracked*>(context);
  t->received = true;
  t->quorate = quorate != 0;
  t->members.assign(list, list + count);
}

// One read, shared between the caller and the worker that does it: the caller can give up on
// the worker at the deadline and still name the Corosync call it was blocked in.
struct Reading {
  std::mutex mutex;
  std::condition_variable finished;
  bool done = false;
  std::optional<Result<Membership>> result;
  std::string call = "quorum_initialize";
};

// Names the Corosync call about to be made, for the caller and for a watchdog (Activity).
class Step {
 public:
  Step(Reading& r, std::string call) : activity_(fmt::format("corosync: {}", call)) {
    std::lock_guard lock(r.mutex);
    r.call = std::move(call);
  }

 private:
  Activity activity_;
};

Result<Membership> read_blocking(Deadline deadline, Reading& reading) {
  Tracked tracked;

  QuorumHandle q;
  quorum_callbacks_t callbacks{};
  callbacks.quorum_notify_fn = on_quorum;
  std::uint32_t quorum_type = 0;
  std::optional<Step> step;
  step.emplace(reading, "quorum_initialize");
  if (auto e = quorum_initialize(&q.h_, &callbacks, &quorum_type); e != CS_OK)
    return make_error(Errc::backend, "read quorum: {}", corosync_error_text(e));
  q.open_ = true;
  quorum_context_set(q.h_, &tracked);
  step.emplace(reading, "quorum_trackstart");
  if (auto e = quorum_trackstart(q.h_, CS_TRACK_CURRENT); e != CS_OK)
    return make_error(Errc::backend, "read membership: {}", corosync_error_text(e));
  int fd = -1;
  if (auto e = quorum_fd_get(q.h_, &fd); e != CS_OK) return make_error(Errc::backend, "read membership: {}", corosync_error_text(e));
  // Wait for the one notification with a deadline instead of a blocking dispatch; dispatch only
  // what is there (CS_DISPATCH_ONE_NONBLOCKING), so the dispatch itself never waits.
  step.emplace(reading, "quorum_dispatch");
  while (!tracked.received) {
    pollfd p{fd, POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(deadline.remaining().count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_error(Errc::timeout, "read membership: corosync sent no membership (quorum_dispatch) before the deadline");
    if (auto e = quorum_dispatch(q.h_, CS_DISPATCH_ONE_NONBLOCKING); e != CS_OK && e != CS_ERR_TRY_AGAIN)
      return make_error(Errc::backend, "read membership: {}", corosync_error_text(e));
  }
  step.emplace(reading, "quorum_trackstop");
  quorum_trackstop(q.h_);
  // The names from libcmap (its own connection, closed again), online from the member list.
  step.emplace(reading, "cmap_get (totem.cluster_name, runtime.votequorum.this_node_id, nodelist)");
  auto nodelist = read_nodelist();
  if (!nodelist) return std::move(nodelist).error();
  step.emplace(reading, "quorum_finalize");
  return membership_of(*nodelist, tracked.quorate, tracked.members);
}

}  // namespace

Result<Membership> read_membership(Deadline deadline) {
  Activity activity("corosync: read membership and quorum");
  // libquorum's and libcmap's calls wait for corosync without a timeout of their own (their
  // libqb IPC is called with CS_IPC_TIMEOUT_MS, -1): a hung corosync would hold this thread for
  // good. So the read runs on a worker, and the caller stops waiting for it at the deadline.
  const Millis left = deadline.remaining();
  const Millis budget((left.count() + 99) / 100 * 100);  // for the message: "3 s", not "2999 ms"
  auto reading = std::make_shared<Reading>();
  std::thread worker([reading, deadline] {
    auto r = read_blocking(deadline, *reading);
    std::lock_guard lock(reading->mutex);
    reading->result = std::move(r);
    reading->done = true;
    reading->finished.notify_one();
  });
  std::unique_lock lock(reading->mutex);
  if (!reading->finished.wait_until(lock, deadline.when(), [&] { return reading->done; })) {
    const std::string call = reading->call;
    lock.unlock();
    // Blocked in libqb: abandon it (it only touches `reading` and its own handles); the caller's
    // process ends soon after (evosctl reports and exits).
    worker.detach();
    return make_error(Errc::timeout, "corosync did not answer {} within {} (is corosync hung?)", call,
                      format_duration(budget));
  }
  lock.unlock();
  worker.join();
  return std::move(*reading->result);
}

}  // namespace evos::cluster
