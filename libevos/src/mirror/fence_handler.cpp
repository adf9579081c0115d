#include <evos/mirror/fence_handler.hpp>
#include <evos/text_checks.hpp>

#include <fmt/core.h>

namespace evos::mirror {

Result<FenceInvocation> parse_fence_args(const std::vector<std::string>& args) {
  if (args.empty()) return make_error(Errc::invalid_argument, "no action (fence or unfence)");
  FenceInvocation inv;
  const std::string& action = args[0];
  if (action == "fence" || action == "fence-peer") inv.action = FenceAction::fence;
  else if (action == "unfence" || action == "unfence-peer" || action == "after-resync-target") inv.action = FenceAction::unfence;
  else return make_error(Errc::invalid_argument, "unknown action {}", text::quote_for_message(action));
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--timeout") {
      if (i + 1 >= args.size()) return make_error(Errc::invalid_argument, "--timeout needs seconds");
      const std::string& v = args[++i];
      if (v.empty() || v.size() > 4 || v.find_first_not_of("0123456789") != std::string::npos || std::stoi(v) < 1 ||
          std::stoi(v) > 3600)
        return make_error(Errc::invalid_argument, "--timeout {} is not 1..3600 seconds", text::quote_for_message(v));
      inv.timeout = std::chrono::seconds(std::stoi(v));
    } else if (a == "--verbose") {
      inv.verbose = true;
    } else if (inv.resource.empty() && !a.empty() && a.front() != '-') {
      inv.resource = a;
    } else {
      return make_error(Errc::invalid_argument, "unexpected argument {}", text::quote_for_message(a));
    }
  }
  return inv;
}

Result<FenceRequest> parse_fence_invocation(std::map<std::string, std::string> env, const std::string& resource) {
  if (!resource.empty()) {
    auto it = env.find("DRBD_RESOURCE");
    if (it == env.end() || it->second.empty()) env["DRBD_RESOURCE"] = resource;
    else if (it->second != resource)
      return make_error(Errc::invalid_argument, "resource {} on the command line, DRBD_RESOURCE is {}",
                        text::quote_for_message(resource), text::quote_for_message(it->second));
  }
  return parse_fence_env(env);
}

Result<void> place_fence_constraint(FenceCluster& cluster, const std::string& xml, Deadline deadline) {
  for (int attempt = 0; attempt < fence_place_attempts; ++attempt) {
    auto replaced = cluster.replace_constraint(xml, deadline);
    if (!replaced) return std::move(replaced).error();
    if (*replaced == CibWrite::done) return {};
    auto created = cluster.create_constraint(xml, deadline);
    if (!created) return std::move(created).error();
    if (*created == CibWrite::done) return {};
    // already_exists: another handler created it meanwhile; replace that one.
  }
  return make_error(Errc::backend, "the fence constraint kept changing under us");
}

int fence_peer(const FenceRequest& req, FenceCluster& cluster, Log& log, std::chrono::seconds timeout,
               const std::function<void(Millis)>& sleep, Millis poll) {
  const auto deadline = Deadline::after(timeout);
  auto resources = cluster.resources(deadline);
  if (!resources) {
    log.error("cannot read the CIB's resources: {}; I/O stays frozen", resources.error().message());
    return fence_exit_frozen;
  }
  auto clone = find_mirror_clone(*resources, req.resource);
  if (!clone) {
    log.error("{}; I/O stays frozen", clone.error().message());
    return fence_exit_frozen;
  }
  const auto allowed = req.up_to_date_nodes();
  if (auto r = place_fence_constraint(cluster, fence_constraint_xml(req.resource, *clone, allowed), deadline); !r) {
    log.error("cannot place the fence constraint: {}; I/O stays frozen", r.error().message());
    return fence_exit_frozen;
  }
  std::string allowed_text;
  for (const auto& n : allowed) allowed_text += (allowed_text.empty() ? "" : " ") + n;
  log.info("placed {}: {} may be Promoted only on {}", fence_constraint_id(req.resource), *clone,
           allowed_text.empty() ? "no node" : allowed_text);
  // Ask Pacemaker until it has decided about the peer, bounded by the timeout.
  std::string last;
  for (int round = 1;; ++round) {
    auto st = cluster.status(deadline);
    const FenceDecision d = st ? decide_fence(*st, req.peer()) : FenceDecision{true, fence_exit_frozen, st.error().message()};
    log.debug("round {}: {}", round, d.why);
    if (d.why != last) log.info("{}", d.why);
    last = d.why;
    if (!d.wait) {
      if (d.exit_code == fence_exit_peer_fenced) log.info("peer {} fenced: I/O resumes", req.peer());
      else log.warning("{}", d.why);
      return d.exit_code;
    }
    if (deadline.remaining() < poll) {
      log.error("no decision about {} within {} s ({}): I/O stays frozen", req.peer(), timeout.count(), d.why);
      return fence_exit_frozen;
    }
    sleep(poll);
  }
}

int unfence_peer(const FenceRequest& req, FenceCluster& cluster, Log& log, std::chrono::seconds timeout) {
  const std::string id = fence_constraint_id(req.resource);
  if (auto r = cluster.delete_constraint(id, Deadline::after(timeout)); !r) {
    log.error("cannot remove {}: {}", id, r.error().message());
    return 1;
  }
  log.info("removed {}: the resync is done", id);
  return 0;
}

}  // namespace evos::mirror
