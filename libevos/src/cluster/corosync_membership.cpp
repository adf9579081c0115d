#include <evos/activity.hpp>
#include <evos/cluster/corosync_membership.hpp>

#include <corosync/cmap.h>
#include <corosync/corotypes.h>
#include <corosync/quorum.h>

#include <fmt/core.h>
#include <poll.h>

#include <algorithm>
#include <cstdlib>
#include <set>

namespace evos::cluster {
namespace {

// Corosync's cs_error_t has ~30 values; only these are worth words (-Wswitch-enum: no switch).
std::string cs_text(cs_error_t e) {
  if (e == CS_ERR_LIBRARY) return "cannot connect to corosync (is it running?)";
  if (e == CS_ERR_ACCESS) return "access to corosync denied";
  if (e == CS_ERR_TRY_AGAIN) return "corosync is busy";
  if (e == CS_ERR_TIMEOUT) return "corosync timed out";
  return fmt::format("corosync error {}", static_cast<int>(e));
}

// RAII over the two handles: finalized however the function leaves.
class QuorumHandle {
 public:
  ~QuorumHandle() {
    if (open_) quorum_finalize(h_);
  }
  quorum_handle_t h_ = 0;
  bool open_ = false;
};
class CmapHandle {
 public:
  ~CmapHandle() {
    if (open_) cmap_finalize(h_);
  }
  cmap_handle_t h_ = 0;
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

}  // namespace

Result<Membership> read_membership(Deadline deadline) {
  Activity activity("corosync: read membership and quorum");
  Membership m;
  Tracked tracked;

  QuorumHandle q;
  quorum_callbacks_t callbacks{};
  callbacks.quorum_notify_fn = on_quorum;
  std::uint32_t quorum_type = 0;
  if (auto e = quorum_initialize(&q.h_, &callbacks, &quorum_type); e != CS_OK)
    return make_error(Errc::backend, "read quorum: {}", cs_text(e));
  q.open_ = true;
  quorum_context_set(q.h_, &tracked);
  if (auto e = quorum_trackstart(q.h_, CS_TRACK_CURRENT); e != CS_OK)
    return make_error(Errc::backend, "read membership: {}", cs_text(e));
  int fd = -1;
  if (auto e = quorum_fd_get(q.h_, &fd); e != CS_OK) return make_error(Errc::backend, "read membership: {}", cs_text(e));
  // Wait for the one notification with a deadline instead of a blocking dispatch.
  while (!tracked.received) {
    pollfd p{fd, POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(deadline.remaining().count()));
    if (n <= 0) return make_error(Errc::timeout, "read membership: corosync sent no membership before the deadline");
    if (auto e = quorum_dispatch(q.h_, CS_DISPATCH_ALL); e != CS_OK)
      return make_error(Errc::backend, "read membership: {}", cs_text(e));
  }
  quorum_trackstop(q.h_);
  m.quorate = tracked.quorate;

  CmapHandle c;
  if (auto e = cmap_initialize(&c.h_); e != CS_OK) return make_error(Errc::backend, "read the nodelist: {}", cs_text(e));
  c.open_ = true;
  char* name = nullptr;
  if (cmap_get_string(c.h_, "totem.cluster_name", &name) == CS_OK && name) {
    m.cluster_name = name;
    std::free(name);
  }
  std::uint32_t local = 0;
  if (cmap_get_uint32(c.h_, "runtime.votequorum.this_node_id", &local) == CS_OK) m.local_nodeid = local;
  const std::set<std::uint32_t> online(tracked.members.begin(), tracked.members.end());
  for (unsigned i = 0; i < 64; ++i) {  // nodelist.node.<i>.nodeid / .name (corosync.conf(5))
    std::uint32_t id = 0;
    if (cmap_get_uint32(c.h_, fmt::format("nodelist.node.{}.nodeid", i).c_str(), &id) != CS_OK) break;
    Member member{id, {}, online.contains(id)};
    char* node_name = nullptr;
    if (cmap_get_string(c.h_, fmt::format("nodelist.node.{}.name", i).c_str(), &node_name) == CS_OK && node_name) {
      member.name = node_name;
      std::free(node_name);
    } else {
      member.name = fmt::format("node{}", id);
    }
    m.nodes.push_back(std::move(member));
  }
  // Members missing from the nodelist (auto-joined) still count.
  for (auto id : tracked.members)
    if (std::none_of(m.nodes.begin(), m.nodes.end(), [&](const Member& x) { return x.nodeid == id; }))
      m.nodes.push_back({id, fmt::format("node{}", id), true});
  return m;
}

}  // namespace evos::cluster
