// libquorum and libcmap for evosd's Corosync follower (evos/cluster/corosync_tracker.hpp).
#include <evos/activity.hpp>
#include <evos/cluster/corosync_tracker.hpp>

#include <corosync/cmap.h>
#include <corosync/corotypes.h>
#include <corosync/quorum.h>

#include <fmt/core.h>

#include <cstdlib>

namespace evos::cluster {

std::string corosync_error_text(int code) {
  // Corosync's cs_error_t has ~30 values; only these are worth words (-Wswitch-enum: no switch).
  const auto e = static_cast<cs_error_t>(code);
  if (e == CS_ERR_LIBRARY) return "cannot connect to corosync (is it running?)";
  if (e == CS_ERR_ACCESS) return "access to corosync denied";
  if (e == CS_ERR_TRY_AGAIN) return "corosync is busy";
  if (e == CS_ERR_TIMEOUT) return "corosync timed out";
  if (e == CS_ERR_BAD_HANDLE) return "the connection to corosync is closed";
  return fmt::format("corosync error {}", code);
}

struct QuorumTracker::Impl {
  quorum_handle_t handle = 0;
  bool open = false;
  std::vector<QuorumNotification> pending;  // filled by the callback during one dispatch
  // No quorum_trackstop: it is a request that waits for corosync's answer (a stopped corosync
  // would hold evosd's stop); quorum_finalize only disconnects, and corosync drops the tracking
  // of a connection that is gone.
  ~Impl() {
    if (open) quorum_finalize(handle);
  }
};

namespace {

// Called by quorum_dispatch (on the dispatching thread) with the whole member list. C callback:
// it only copies, nothing in it can throw past libquorum (but a failed allocation would end
// evosd, as anywhere else).
void on_quorum(quorum_handle_t handle, std::uint32_t quorate, std::uint64_t ring_seq, std::uint32_t count,
               std::uint32_t* list) noexcept {
  void* context = nullptr;
  if (quorum_context_get(handle, const_cast<const void**>(&context)) != CS_OK || !context) return;
  auto* impl = static_cast<QuorumTracker::Impl*>(context);
  impl->pending.push_back({quorate != 0, ring_seq, std::vector<std::uint32_t>(list, list + count)});
}

}  // namespace

Result<std::unique_ptr<QuorumTracker>> QuorumTracker::open() {
  Activity activity("corosync: quorum_initialize, quorum_trackstart");
  std::unique_ptr<QuorumTracker> t(new QuorumTracker());
  t->impl_ = std::make_unique<Impl>();
  auto& impl = *t->impl_;
  quorum_callbacks_t callbacks{};
  callbacks.quorum_notify_fn = on_quorum;
  std::uint32_t quorum_type = 0;
  if (auto e = quorum_initialize(&impl.handle, &callbacks, &quorum_type); e != CS_OK)
    return make_error(Errc::backend, "quorum_initialize: {}", corosync_error_text(e));
  impl.open = true;
  if (quorum_type != QUORUM_SET)
    return make_error(Errc::backend, "corosync has no quorum provider (quorum.provider in corosync.conf)");
  quorum_context_set(impl.handle, &impl);
  // CURRENT: the membership now, as the first notification; CHANGES: every change after it.
  if (auto e = quorum_trackstart(impl.handle, CS_TRACK_CURRENT | CS_TRACK_CHANGES); e != CS_OK)
    return make_error(Errc::backend, "quorum_trackstart: {}", corosync_error_text(e));
  if (auto e = quorum_fd_get(impl.handle, &t->fd_); e != CS_OK)
    return make_error(Errc::backend, "quorum_fd_get: {}", corosync_error_text(e));
  return t;
}

QuorumTracker::~QuorumTracker() = default;

Result<std::vector<QuorumNotification>> QuorumTracker::dispatch() {
  impl_->pending.clear();
  // CS_DISPATCH_ALL reads with a timeout of 0 and returns once nothing is left (corosync's
  // lib/quorum.c), so it never waits for corosync.
  const auto e = quorum_dispatch(impl_->handle, CS_DISPATCH_ALL);
  std::vector<QuorumNotification> out = std::move(impl_->pending);
  impl_->pending.clear();
  // CS_ERR_LIBRARY here is the IPC connection gone, not a connect that failed.
  if (e == CS_ERR_LIBRARY) return make_error(Errc::backend, "quorum_dispatch: corosync closed the connection (it stopped or restarted)");
  if (e != CS_OK && e != CS_ERR_TRY_AGAIN) return make_error(Errc::backend, "quorum_dispatch: {}", corosync_error_text(e));
  return out;
}

namespace {
class CmapHandle {
 public:
  ~CmapHandle() {
    if (open_) cmap_finalize(h_);
  }
  cmap_handle_t h_ = 0;
  bool open_ = false;
};
}  // namespace

Result<Nodelist> read_nodelist() {
  Activity activity("corosync: cmap_get (totem.cluster_name, runtime.votequorum.this_node_id, nodelist)");
  CmapHandle c;
  if (auto e = cmap_initialize(&c.h_); e != CS_OK)
    return make_error(Errc::backend, "read the nodelist: cmap_initialize: {}", corosync_error_text(e));
  c.open_ = true;
  Nodelist out;
  char* name = nullptr;
  if (cmap_get_string(c.h_, "totem.cluster_name", &name) == CS_OK && name) {
    out.cluster_name = name;
    std::free(name);
  }
  std::uint32_t local = 0;
  if (cmap_get_uint32(c.h_, "runtime.votequorum.this_node_id", &local) == CS_OK) out.local_nodeid = local;
  for (unsigned i = 0; i < 64; ++i) {  // nodelist.node.<i>.nodeid / .name (corosync.conf(5))
    std::uint32_t id = 0;
    const auto e = cmap_get_uint32(c.h_, fmt::format("nodelist.node.{}.nodeid", i).c_str(), &id);
    if (e == CS_ERR_NOT_EXIST) break;
    if (e != CS_OK) return make_error(Errc::backend, "read the nodelist: {}", corosync_error_text(e));
    Member m{id, {}, false};
    char* node_name = nullptr;
    if (cmap_get_string(c.h_, fmt::format("nodelist.node.{}.name", i).c_str(), &node_name) == CS_OK && node_name) {
      m.name = node_name;
      std::free(node_name);
    }
    out.nodes.push_back(std::move(m));
  }
  return out;
}

}  // namespace evos::cluster
