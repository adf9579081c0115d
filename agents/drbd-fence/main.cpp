// evos-drbd-fence: DRBD's fence-peer and unfence-peer (after-resync-target) handler for evos
// mirrors. The decisions live in evos::mirror (fence.hpp); this file reads DRBD's environment,
// talks to Pacemaker through cibadmin (XML in, XML out) and crm_mon's XML status, run by argv with
// deadlines, and exits with DRBD's handler codes.
//
//   evos-drbd-fence fence   [--timeout S]   (fence-peer; S bounds the wait for a DC and for the
//                                            peer's fencing, default 60)
//   evos-drbd-fence unfence [--timeout S]   (unfence-peer, after-resync-target)
//
// Exit: 7 the peer was fenced by Pacemaker (I/O resumes); 1 I/O stays frozen (the peer is online
// and only the replication link broke, no quorum, or no answer in time); 0 unfenced.
#include <evos/cluster/pacemaker_tools.hpp>
#include <evos/log.hpp>
#include <evos/mirror/fence.hpp>
#include <evos/proc/run.hpp>
#include <evos/text_checks.hpp>

#include <pugixml.hpp>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

using evos::Deadline;
using evos::Errc;
namespace mirror = evos::mirror;

constexpr int cib_not_found = 105;   // CRM_EX_NOSUCH
constexpr int cib_exists = 108;      // CRM_EX_EXISTS

std::map<std::string, std::string> environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq) env.emplace(std::string(static_cast<const char*>(*e), eq), std::string(eq + 1));
  }
  return env;
}

evos::Result<evos::proc::Completed> cibadmin(std::vector<std::string> args, Deadline deadline) {
  args.insert(args.begin(), "cibadmin");
  auto r = evos::proc::run(args, deadline);
  if (!r) return std::move(r).error().context(evos::proc::describe(args));
  return r;
}

evos::Result<void> place(const std::string& xml, Deadline deadline) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto r = cibadmin({"--replace", "--scope", "constraints", "--xml-text", xml}, deadline);
    if (!r) return std::move(r).error();
    if (r->ok()) return {};
    if (r->exit_code != cib_not_found)
      return evos::make_error(Errc::backend, "cibadmin --replace exited with {}: {}", r->exit_code,
                              evos::text::quote_for_message(r->err.substr(0, r->err.find('\n'))));
    auto c = cibadmin({"--create", "--scope", "constraints", "--xml-text", xml}, deadline);
    if (!c) return std::move(c).error();
    if (c->ok()) return {};
    if (c->exit_code != cib_exists)  // another handler created it meanwhile: replace it
      return evos::make_error(Errc::backend, "cibadmin --create exited with {}: {}", c->exit_code,
                              evos::text::quote_for_message(c->err.substr(0, c->err.find('\n'))));
  }
  return evos::make_error(Errc::backend, "the fence constraint kept changing under us");
}

int fence(const mirror::FenceRequest& req, evos::Log& log, std::chrono::seconds timeout) {
  const auto deadline = Deadline::after(timeout);
  auto resources = cibadmin({"--query", "--scope", "resources"}, deadline);
  if (!resources || !resources->ok()) {
    log.error("cannot read the CIB's resources{}; I/O stays frozen", resources ? "" : ": " + resources.error().message());
    return mirror::fence_exit_frozen;
  }
  auto clone = mirror::find_mirror_clone(resources->out, req.resource);
  if (!clone) {
    log.error("{}; I/O stays frozen", clone.error().message());
    return mirror::fence_exit_frozen;
  }
  const auto allowed = req.up_to_date_nodes();
  if (auto r = place(mirror::fence_constraint_xml(req.resource, *clone, allowed), deadline); !r) {
    log.error("cannot place the fence constraint: {}; I/O stays frozen", r.error().message());
    return mirror::fence_exit_frozen;
  }
  std::string allowed_text;
  for (const auto& n : allowed) allowed_text += (allowed_text.empty() ? "" : " ") + n;
  log.info("placed {}: {} may be Promoted only on {}", mirror::fence_constraint_id(req.resource), *clone,
           allowed_text.empty() ? "no node" : allowed_text);
  // Ask Pacemaker until it has decided about the peer, bounded by the timeout.
  std::string last;
  while (true) {
    auto st = evos::cluster::read_pacemaker_status(deadline);
    mirror::FenceDecision d;
    if (st) d = mirror::decide_fence(*st, req.peer());
    else d = {true, mirror::fence_exit_frozen, st.error().message()};
    if (d.why != last) log.info("{}", d.why);
    last = d.why;
    if (!d.wait) {
      if (d.exit_code == mirror::fence_exit_peer_fenced) log.info("peer {} fenced: I/O resumes", req.peer());
      else log.warning("{}", d.why);
      return d.exit_code;
    }
    if (deadline.remaining() < std::chrono::seconds(1)) {
      log.error("no decision about {} within {} s ({}): I/O stays frozen", req.peer(), timeout.count(), d.why);
      return mirror::fence_exit_frozen;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

int unfence(const mirror::FenceRequest& req, evos::Log& log, std::chrono::seconds timeout) {
  const std::string xml = "<rsc_location id=\"" + mirror::fence_constraint_id(req.resource) + "\"/>";
  auto r = cibadmin({"--delete", "--xml-text", xml}, Deadline::after(timeout));
  if (!r || !r->ok()) {
    log.error("cannot remove {}: {}", mirror::fence_constraint_id(req.resource),
              r ? evos::text::quote_for_message(r->err.substr(0, r->err.find('\n'))) : r.error().message());
    return 1;
  }
  log.info("removed {}: the resync is done", mirror::fence_constraint_id(req.resource));
  return 0;
}

int usage() {
  std::fprintf(stderr, "usage: evos-drbd-fence fence|unfence [--timeout S] [RESOURCE]\n");
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string action = argv[1];
  long timeout = 60;
  std::string named;  // a resource name after the options, as some handler setups append it
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--timeout" && i + 1 < argc) {
      char* end = nullptr;
      timeout = std::strtol(argv[++i], &end, 10);
      if (!end || *end || timeout < 1 || timeout > 3600) return usage();
    } else if (named.empty() && !a.empty() && a.front() != '-') {
      named = a;
    } else {
      return usage();
    }
  }
  auto env = environment();
  if (!named.empty()) {
    // DRBD_RESOURCE is authoritative; a differing name is a configuration mistake.
    if (auto it = env.find("DRBD_RESOURCE"); it == env.end() || it->second.empty()) env["DRBD_RESOURCE"] = named;
    else if (it->second != named) {
      std::fprintf(stderr, "evos-drbd-fence: resource %s on the command line, DRBD_RESOURCE is %s\n", named.c_str(),
                   it->second.c_str());
      return 1;
    }
  }
  const bool verbose = env.contains("EVOS_FENCE_DEBUG");
  auto req = mirror::parse_fence_env(env);
  evos::StderrLog log("evos-drbd-fence", req ? req->resource : "", verbose);
  if (!req) {
    log.error("{}", req.error().message());
    return 1;
  }
  if (action == "fence" || action == "fence-peer") return fence(*req, log, std::chrono::seconds(timeout));
  if (action == "unfence" || action == "unfence-peer" || action == "after-resync-target")
    return unfence(*req, log, std::chrono::seconds(timeout));
  return usage();
}
