// evos-drbd-fence: DRBD's fence-peer and unfence-peer (after-resync-target) handler for evos
// mirrors. Everything it decides lives in evos::mirror (fence.hpp: the policy; fence_handler.hpp:
// the command line, the retries and the bounded wait; fence_io.hpp: cibadmin and crm_mon); this
// file reads argv and DRBD's environment, calls them and exits with DRBD's handler code.
//
//   evos-drbd-fence fence   [--timeout S] [--verbose]   (fence-peer; S bounds the wait for a DC
//                                                        and for the peer's fencing, default 60)
//   evos-drbd-fence unfence [--timeout S] [--verbose]   (unfence-peer, after-resync-target)
//
// --verbose adds a debug line per status round. It is an option, not an environment variable: the
// kernel runs handlers through its usermode helper (drbdadm) with a fixed environment (HOME, TERM,
// PATH and DRBD's own DRBD_* variables; drbd.conf(5) "handlers"), so nobody can set a variable for
// the handler, and a root tool must not obey one anyway; the handler line in the .res file is
// where a person turns it on.
//
// Exit: 7 the peer was fenced by Pacemaker (I/O resumes); 1 I/O stays frozen (the peer is online
// and only the replication link broke, no quorum, or no answer in time); 0 unfenced.
#include <evos/log.hpp>
#include <evos/mirror/fence_handler.hpp>
#include <evos/mirror/fence_io.hpp>
#include <evos/proc/environment.hpp>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace mirror = evos::mirror;

int main(int argc, char** argv) {
  auto inv = mirror::parse_fence_args(std::vector<std::string>(argv + 1, argv + argc));
  if (!inv) {
    std::fprintf(stderr, "evos-drbd-fence: %s\nusage: evos-drbd-fence fence|unfence [--timeout S] [--verbose] [RESOURCE]\n",
                 inv.error().message().c_str());
    return 1;
  }
  auto req = mirror::parse_fence_invocation(evos::proc::environment(), inv->resource);
  evos::StderrLog log("evos-drbd-fence", req ? req->resource : "", inv->verbose);
  if (!req) {
    log.error("{}", req.error().message());
    return 1;
  }
  mirror::CibadminFenceCluster cluster;
  if (inv->action == mirror::FenceAction::unfence) return mirror::unfence_peer(*req, cluster, log, inv->timeout);
  return mirror::fence_peer(*req, cluster, log, inv->timeout, [](evos::Millis d) { std::this_thread::sleep_for(d); });
}
