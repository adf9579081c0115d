// evosd's Corosync follower (docs/evosd.md, "Corosync"): one libquorum connection tracking
// CS_TRACK_CURRENT | CS_TRACK_CHANGES for the whole run, its fd polled together with an eventfd
// that stop() writes (a prompt stop without a tick: no wake-up while nothing changes; a bounded
// timeout all the same, in case), every notification dispatched (CS_DISPATCH_ALL) and applied to the core with the
// nodelist read again from libcmap (names). Connected again with backoff (cluster::ReconnectBackoff)
// when corosync is not running, restarts or a dispatch fails.
//
// libquorum's and libcmap's calls wait for corosync without a timeout (libqb IPC): a SIGSTOPped
// corosync can hold this thread, and only it, in quorum_initialize or cmap_get. So the thread
// reaches the core and the log only through a Link that stop() cuts: a stop that finds the thread
// blocked leaves it behind (detached) and returns, and the thread touches nothing of evosd's after.
#include <evos/cluster/corosync_tracker.hpp>
#include <evos/daemon/daemon.hpp>

#include <fmt/core.h>

#include <evos/file/fd.hpp>

#include <poll.h>
#include <sys/eventfd.h>

#include <cerrno>
#include <cstring>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace evos::daemon {
namespace {

using namespace std::chrono_literals;

// The poll's bound: the stop's eventfd wakes it at once, this only bounds a missed wake-up.
constexpr Millis stop_poll{60000};
// How long stop() waits for a thread blocked in a corosync call before leaving it behind.
constexpr Millis stop_grace{2000};

struct Link {
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  bool finished = false;
  Core* core = nullptr;  // nullptr once stop() gave up on the thread
  Log* log = nullptr;
  file::Fd stop_fd{::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};  // readable once stopping

  void signal_stop() {  // with `mutex` held
    stopping = true;
    wake.notify_all();
    const std::uint64_t one = 1;
    // A failed write leaves the poll's bound; the reconnect wait uses the condition variable.
    if (stop_fd.ok() && ::write(stop_fd.get(), &one, sizeof one) < 0) return;
  }

  // Runs `f(core, log)` unless the link is cut; false when cut or stopping.
  template <class F>
  bool with(F&& f) {
    std::lock_guard lock(mutex);
    if (!core || stopping) return false;
    f(*core, *log);
    return true;
  }
  bool wait(Millis d) {
    std::unique_lock lock(mutex);
    wake.wait_for(lock, d, [&] { return stopping; });
    return stopping;
  }
  bool should_stop() {
    std::lock_guard lock(mutex);
    return stopping;
  }
};

class CorosyncFollower final : public Service {
 public:
  CorosyncFollower(Core& core, Log& log) : link_(std::make_shared<Link>()) {
    link_->core = &core;
    link_->log = &log;
    policy_ = {core.config().corosync_reconnect_min, core.config().corosync_reconnect_max, 30s};
  }
  ~CorosyncFollower() override { stop(); }

  [[nodiscard]] std::string name() const override { return "Corosync membership and quorum (libquorum)"; }

  Result<void> start() override {
    link_->with([](Core& c, Log&) { c.corosync_followed(true); });
    thread_ = std::thread([link = link_, policy = policy_] { run(*link, policy); });
    return {};
  }

  void stop() override {
    if (!thread_.joinable()) return;
    std::unique_lock lock(link_->mutex);
    link_->signal_stop();
    if (link_->wake.wait_for(lock, stop_grace, [&] { return link_->finished; })) {
      lock.unlock();
      thread_.join();
      return;
    }
    // Blocked in libqb (a stopped corosync): cut it off and leave it to the exit.
    link_->log->warning("Corosync follower: blocked in a corosync call for {}; leaving it behind", format_duration(stop_grace));
    link_->core = nullptr;
    link_->log = nullptr;
    lock.unlock();
    thread_.detach();
  }

 private:
  static void run(Link& link, cluster::ReconnectPolicy policy) {
    cluster::ReconnectBackoff backoff(policy);
    bool first = true;
    while (!link.should_stop()) {
      std::optional<Clock::time_point> opened;
      const std::string why = follow(link, first, opened);
      if (why.empty()) break;  // stopping
      bool news = false;
      link.with([&](Core& c, Log&) { news = c.corosync_disconnected(why); });
      const Millis delay = backoff.next_delay(opened, Clock::now());
      link.with([&](Core&, Log& log) {
        if (news) log.warning("corosync: {}; membership and quorum unknown until connected again (trying again in {}, with backoff)", why, format_duration(delay));
        else log.debug("corosync: {} again; next try in {}", why, format_duration(delay));
      });
      if (link.wait(delay)) break;
    }
    std::lock_guard lock(link.mutex);
    link.finished = true;
    link.wake.notify_all();
  }

  // One connection's life; returns why it ended ("" when evosd stops). `opened` is set once the
  // connection opened.
  static std::string follow(Link& link, bool& first, std::optional<Clock::time_point>& opened) {
    auto tracker = cluster::QuorumTracker::open();
    if (!tracker) return tracker.error().message();
    opened = Clock::now();
    const bool reconnect = !first;
    first = false;
    if (!link.with([&](Core& c, Log& log) {
          c.corosync_connected(reconnect);
          log.info("corosync: {}connected (libquorum, tracking changes)", reconnect ? "re" : "");
        }))
      return {};
    unsigned idle_wakeups = 0;  // readable, yet nothing dispatched: guards against a busy loop
    for (;;) {
      if (link.should_stop()) return {};
      pollfd fds[2] = {{(*tracker)->fd(), POLLIN, 0}, {link.stop_fd.get(), POLLIN, 0}};
      // Without an eventfd (none could be made) the poll falls back to a short timeout.
      const int n = ::poll(fds, link.stop_fd.ok() ? 2 : 1, static_cast<int>((link.stop_fd.ok() ? stop_poll : 300ms).count()));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fmt::format("poll on the quorum fd: {}", std::strerror(errno));
      if (fds[1].revents) return {};  // stopping
      if (n == 0) {
        idle_wakeups = 0;
        continue;
      }
      const pollfd& p = fds[0];
      // POLLHUP/POLLERR too: the dispatch then reports the closed connection.
      auto notes = (*tracker)->dispatch();
      if (!notes) return notes.error().message();
      if (notes->empty() && (p.revents & (POLLHUP | POLLERR)))
        return "corosync closed the connection (it stopped or restarted)";
      if (notes->empty() && ++idle_wakeups > 1000)
        return "the quorum fd stays readable with nothing to dispatch; connecting again";
      if (!notes->empty()) idle_wakeups = 0;
      for (auto& note : *notes) {
        // Names as they are now: a node added to the nodelist (corosync-cfgtool -R) is named.
        std::optional<cluster::Nodelist> nodelist;
        auto list = cluster::read_nodelist();
        if (list) nodelist = std::move(*list);
        else link.with([&](Core&, Log& log) { log.warning("corosync: {}; names as before", list.error().message()); });
        if (!link.with([&](Core& c, Log&) { c.corosync_view(note.quorate, note.ring_seq, std::move(note.members), std::move(nodelist)); }))
          return {};
      }
    }
  }

  std::shared_ptr<Link> link_;
  cluster::ReconnectPolicy policy_;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<Service> make_corosync_follower(Core& core, Log& log) {
  core.corosync_followed(false);
  if (!core.config().corosync_events) return nullptr;
  return std::make_unique<CorosyncFollower>(core, log);
}

}  // namespace evos::daemon
