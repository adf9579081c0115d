#include "mirror_commands.hpp"

#include "exit_codes.hpp"

#include <evos/drbd/drbdsetup_control.hpp>
#include <evos/drbd/mirror_config.hpp>
#include <evos/mirror/admin.hpp>
#include <evos/mirror/admin_io.hpp>
#include <evos/mirror/create.hpp>
#include <evos/mirror/service.hpp>
#include <evos/mirror/verify.hpp>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <thread>

namespace evosctl {
namespace {

using evos::Deadline;
using evos::Errc;
using evos::Error;
namespace drbd = evos::drbd;
namespace mirror = evos::mirror;

struct MirrorOptions {
  std::string name;
  int minor = -1;
  std::vector<std::string> hosts;  // "NAME,ID,ADDRESS,DISK[,META_DISK]"
  std::string output;
  std::string fence_handler = "evos";
  bool dry_run = false;
  std::string discard;
  std::string node;
  std::string drbdconf;
  bool local_only = false;
  bool force = false;
  bool wait = false;
  int timeout_s = 30;
};

// The name checks live in evos::mirror (create.hpp); errors become exit codes here.
std::optional<Error> check_name(const std::string& name) {
  if (auto r = mirror::check_mirror_name(name); !r) return r.error();
  return std::nullopt;
}

std::optional<Error> check_node(const std::string& node, const char* what) {
  if (auto r = mirror::check_node_name(node, what); !r) return r.error();
  return std::nullopt;
}

drbd::DrbdsetupControl control(const MirrorOptions& o) { return drbd::DrbdsetupControl({.config_file = o.drbdconf}); }

nlohmann::json to_json(const drbd::ResourceState& s) {
  nlohmann::json volumes = nlohmann::json::array(), peers = nlohmann::json::array();
  for (const auto& d : s.devices)
    volumes.push_back({{"volume", d.volume}, {"minor", d.minor}, {"disk", std::string(to_string(d.disk))},
                       {"quorum", d.quorum}, {"size_kib", d.size_kib ? nlohmann::json(*d.size_kib) : nlohmann::json(nullptr)}});
  for (const auto& c : s.connections) {
    nlohmann::json devices = nlohmann::json::array();
    for (const auto& p : c.peer_devices)
      devices.push_back({{"volume", p.volume},
                         {"replication", std::string(to_string(p.replication))},
                         {"peer_disk", std::string(to_string(p.peer_disk))},
                         {"done_percent", p.done_percent ? nlohmann::json(*p.done_percent) : nlohmann::json(nullptr)},
                         {"out_of_sync_kib", p.out_of_sync_kib}});
    peers.push_back({{"name", c.name}, {"node_id", c.peer_node_id}, {"connection", std::string(to_string(c.state))},
                     {"role", std::string(to_string(c.peer_role))}, {"split_brain", c.split_brain}, {"volumes", devices}});
  }
  const auto drbd_score = drbd::promotion_score(s);
  const auto score = mirror::score_to_publish(s);
  const auto assessment = mirror::assess(s);
  const auto degraded = drbd::is_degraded(s);
  const auto progress = drbd::sync_progress(s);
  const auto leave = mirror::may_leave(s);
  const auto peer_leave = mirror::peer_may_leave(s);
  const auto verify = mirror::verify_report(s);
  auto verdict = [](const drbd::Verdict& v) { return nlohmann::json{{"yes", v.yes}, {"why", v.why}}; };
  return {{"name", s.name},
          {"up", s.exists},
          {"role", std::string(to_string(s.role))},
          {"suspended", s.suspended},
          {"volumes", volumes},
          {"peers", peers},
          {"split_brain", drbd::in_split_brain(s)},
          {"sync_source", drbd::is_sync_source(s)},
          {"sync_target", drbd::is_sync_target(s)},
          {"sync_done_percent", progress ? nlohmann::json(*progress) : nlohmann::json(nullptr)},
          {"out_of_sync_kib", drbd::out_of_sync_kib(s)},
          {"verify", {{"running", verify.running},
                      {"started_here", verify.source},
                      {"done_percent", verify.done_percent ? nlohmann::json(*verify.done_percent) : nlohmann::json(nullptr)}}},
          {"degraded", verdict(drbd::Verdict{degraded.yes, degraded.why})},
          {"health", std::string(evos::to_string(assessment.health))},
          {"reason", assessment.why},
          {"promotion_score", {{"drbd", drbd_score.value}, {"published", mirror::publishable_score(score)},
                               {"settled", score.settled}, {"why", score.why}}},
          {"may_leave", verdict(leave)},
          {"peer_may_leave", verdict(peer_leave)}};
}

std::string sync_text(const drbd::ResourceState& s) {
  if (drbd::in_split_brain(s)) return "SPLIT BRAIN";
  if (drbd::is_verifying(s)) {
    const auto v = drbd::verify_progress(s);
    return fmt::format("verify{} {}", v ? fmt::format(" {:.1f}%", *v) : std::string(),
                       drbd::out_of_sync_kib(s) ? fmt::format("({} KiB out of sync)", drbd::out_of_sync_kib(s)) : "");
  }
  auto progress = drbd::sync_progress(s);
  if (!progress) return drbd::out_of_sync_kib(s) ? fmt::format("{} KiB out of sync", drbd::out_of_sync_kib(s)) : "-";
  return fmt::format("{} {:.1f}%", drbd::is_sync_source(s) ? "source" : "target", *progress);
}

std::string first_peer_field(const drbd::ResourceState& s, int which) {
  if (s.connections.empty()) return "-";
  const auto& c = s.connections.front();
  switch (which) {
    case 0: return c.name.empty() ? fmt::format("node {}", c.peer_node_id) : c.name;
    case 1: return std::string(to_string(c.state));
    case 2: return std::string(to_string(c.peer_role));
    default:
      return c.peer_devices.empty() ? "-" : std::string(to_string(c.peer_devices.front().peer_disk));
  }
}

int list(const GlobalOptions& g, const MirrorOptions& o) {
  auto ctl = control(o);
  auto states = ctl.status("all", Deadline::after(std::chrono::seconds(o.timeout_s)));
  if (!states) return fail(states.error());
  if (g.json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& s : *states) j.push_back(to_json(s));
    fmt::print("{}\n", j.dump(2));
    return ok;
  }
  fmt::print("{:<20} {:<10} {:<13} {:<14} {:<13} {:<10} {:<13} {}\n", "MIRROR", "ROLE", "DISK", "PEER", "CONNECTION",
             "PEER-ROLE", "PEER-DISK", "SYNC");
  for (const auto& s : *states) {
    const std::string disk = s.devices.empty() ? "-" : std::string(to_string(s.devices.front().disk));
    fmt::print("{:<20} {:<10} {:<13} {:<14} {:<13} {:<10} {:<13} {}\n", s.name, to_string(s.role), disk,
               first_peer_field(s, 0), first_peer_field(s, 1), first_peer_field(s, 2), first_peer_field(s, 3),
               sync_text(s));
  }
  return ok;
}

int status(const GlobalOptions& g, const MirrorOptions& o) {
  if (auto e = check_name(o.name)) return fail(*e);
  auto ctl = control(o);
  auto s = ctl.state(o.name, Deadline::after(std::chrono::seconds(o.timeout_s)));
  if (!s) return fail(s.error());
  if (!s->exists) return fail(Error(Errc::not_found, fmt::format("mirror {} is not up on this node", o.name)));
  if (g.json) {
    fmt::print("{}\n", to_json(*s).dump(2));
    return ok;
  }
  const auto a = mirror::assess(*s);
  const auto score = mirror::score_to_publish(*s);
  fmt::print("{}\n", drbd::describe(*s));
  fmt::print("health: {}{}\n", evos::to_string(a.health), a.why.empty() ? "" : ": " + a.why);
  fmt::print("promotion score: {} ({})\n", mirror::publishable_score(score), score.why);
  const auto verify = mirror::verify_report(*s);
  if (auto p = drbd::sync_progress(*s)) {
    fmt::print("resync: {} {:.1f}% done, {} KiB left\n", drbd::is_sync_source(*s) ? "sending" : "receiving", *p,
               drbd::out_of_sync_kib(*s));
  } else if (verify.running) {
    fmt::print("online verify: running ({}), {}{} KiB out of sync so far\n",
               verify.source ? "started here" : fmt::format("started by {}", verify.peer),
               verify.done_percent ? fmt::format("{:.1f}% done, ", *verify.done_percent) : std::string(),
               verify.out_of_sync_kib);
  } else if (verify.out_of_sync_kib > 0) {
    fmt::print("out of sync: {} KiB\n", verify.out_of_sync_kib);
    if (!drbd::is_degraded(*s).yes) fmt::print("{}\n", mirror::out_of_sync_advice(verify));
  }
  if (auto v = mirror::may_leave(*s); !v.yes) fmt::print("this node must not leave: {}\n", v.why);
  if (auto v = mirror::peer_may_leave(*s); !v.yes) fmt::print("the peer must not leave: {}\n", v.why);
  return ok;
}

// Full resync of this node's data from its peer (drbdadm invalidate), when mirror::check_resync
// allows it.
int resync(const MirrorOptions& o) {
  if (auto e = check_name(o.name)) return fail(*e);
  auto ctl = control(o);
  const auto deadline = Deadline::after(std::chrono::seconds(o.timeout_s));
  auto s = ctl.state(o.name, deadline);
  if (!s) return fail(s.error());
  if (auto r = mirror::check_resync(*s); !r) return fail(r.error());
  if (auto r = ctl.invalidate(o.name, deadline); !r) return fail(r.error());
  fmt::print("{}: full resync from {} started (evosctl mirror status {})\n", o.name, mirror::peer_of(*s), o.name);
  return ok;
}

// Online verify (drbdadm verify): refused with the reason unless the peer is connected, both
// disks are UpToDate and nothing else runs. Without --wait it returns once DRBD has started it
// (mirror status shows the progress); with --wait it reports what was found. Exit 0: started, or
// finished in sync; 6 (out_of_sync): finished and found blocks that differ; 1: failed or --timeout
// passed (the verify goes on); 2: refused; 3: not up here.
int verify(const GlobalOptions& g, const MirrorOptions& o) {
  if (auto e = check_name(o.name)) return fail(*e);
  auto ctl = control(o);
  const auto deadline = Deadline::after(std::chrono::seconds(o.timeout_s));
  auto s = ctl.state(o.name, deadline);
  if (!s) return fail(s.error());
  if (auto r = mirror::start_verify(ctl, *s, deadline); !r) return fail(r.error());
  const std::string peer = mirror::peer_of(*s);
  evos::Result<mirror::VerifyReport> report = evos::make_error(Errc::backend, "no report");
  if (o.wait) {
    report = mirror::wait_verify(ctl, o.name, deadline, std::chrono::milliseconds(500),
                                 [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); });
    if (!report) return fail(report.error());
  } else {
    auto now = ctl.state(o.name, deadline);
    if (!now) return fail(now.error());
    report = mirror::verify_report(*now);
  }
  const bool finished = o.wait || !report->running;
  const bool differs = o.wait && report->out_of_sync_kib > 0;
  if (g.json) {
    fmt::print("{}\n", nlohmann::json{{"mirror", o.name},
                                      {"peer", peer},
                                      {"started", true},
                                      {"finished", finished},
                                      {"running", report->running},
                                      {"done_percent", report->done_percent ? nlohmann::json(*report->done_percent)
                                                                            : nlohmann::json(nullptr)},
                                      {"out_of_sync_kib", report->out_of_sync_kib},
                                      {"out_of_sync_bytes", report->out_of_sync_kib * 1024},
                                      {"in_sync", finished && report->out_of_sync_kib == 0},
                                      {"advice", mirror::out_of_sync_advice(*report)}}
                           .dump(2));
  } else if (!o.wait) {
    fmt::print("{}: online verify with {} started; follow it with 'evosctl mirror status {}' (it resyncs nothing)\n",
               o.name, peer, o.name);
  } else if (!differs) {
    fmt::print("{}: online verify with {} finished: in sync (0 KiB out of sync)\n", o.name, peer);
  } else {
    fmt::print("{}: online verify with {} finished: {} KiB ({} bytes) out of sync\n", o.name, peer,
               report->out_of_sync_kib, report->out_of_sync_kib * 1024);
  }
  if (differs) {
    if (!g.json) fmt::print(stderr, "evosctl: {}\n", mirror::out_of_sync_advice(*report));
    return out_of_sync;
  }
  return ok;
}

// Writes the mirror's .res file (drbd::render_res validates everything first). DRBD itself is
// not touched: create-md and up are the administrator's and Pacemaker's.
int create(const MirrorOptions& o) {
  auto m = mirror::plan_mirror(
      {.name = o.name, .minor = o.minor, .hosts = o.hosts, .fence_handler = o.fence_handler, .evos_handler = EVOS_FENCE_HANDLER});
  if (!m) return fail(m.error());
  auto text = drbd::render_res(*m);
  if (!text) return fail(text.error());
  if (o.dry_run) {
    fmt::print("{}", *text);
    return ok;
  }
  auto path = mirror::res_file_path(o.name, o.output);
  if (!path) return fail(path.error());
  if (auto r = mirror::write_res_file(*path, *text, o.force); !r) {
    if (r.error().code() == Errc::invalid_argument)  // it exists
      return fail(Error(Errc::invalid_argument, fmt::format("{} (use --force to replace it)", r.error().message())));
    return fail(r.error());
  }
  fmt::print("{} written. Next, on both nodes: drbdadm create-md {}; then put it under the cluster "
             "(crm-templates/vm-drbd, docs/mirror.md)\n",
             *path, o.name);
  return ok;
}

int resolve(const GlobalOptions& g, const MirrorOptions& o) {
  if (auto e = check_name(o.name)) return fail(*e);
  if (auto e = check_node(o.discard, "--discard")) return fail(*e);
  auto ctl = control(o);
  const auto deadline = Deadline::after(std::chrono::seconds(o.timeout_s));
  auto s = ctl.state(o.name, deadline);
  if (!s) return fail(s.error());
  const std::string here = mirror::local_node_name();
  auto plan = mirror::plan_resolve(*s, here, o.discard);
  if (!plan) return fail(plan.error());
  const auto part = plan->discard_here ? mirror::ResolveRequest::discard : mirror::ResolveRequest::connect;
  if (auto r = mirror::resolve_here(ctl, *s, part, deadline); !r) return fail(r.error());
  std::string peer_status = "not requested (--local-only)";
  int code = ok;
  if (!o.local_only) {
    if (auto r = mirror::request_peer_part(o.name, plan->peer, plan->for_peer, deadline); r) {
      peer_status = fmt::format("requested: its mirror agent will {} at its next monitor", mirror::to_string(plan->for_peer));
    } else {
      peer_status = fmt::format("could not be requested through the cluster ({}); run 'evosctl mirror resolve {} "
                                "--discard {} --local-only' on {}",
                                r.error().message(), o.name, o.discard, plan->peer);
      code = unavailable;
    }
  }
  if (g.json) {
    fmt::print("{}\n", nlohmann::json{{"mirror", o.name},
                                      {"discarded", o.discard},
                                      {"here", {{"node", here}, {"action", std::string(mirror::to_string(part))}}},
                                      {"peer", {{"node", plan->peer},
                                                {"action", std::string(mirror::to_string(plan->for_peer))},
                                                {"status", peer_status}}}}
                           .dump(2));
  } else {
    fmt::print("{}: {} ({}) {}; {}: {}\n", o.name, here,
               plan->discard_here ? "discards its changes and resyncs from its peer" : "keeps its data",
               plan->discard_here ? "reconnected with --discard-my-data" : "reconnected", plan->peer, peer_status);
  }
  if (code != ok) fmt::print(stderr, "evosctl: {}\n", peer_status);
  return code;
}

// Refuses (exit 1) while `node` is the sync source of a running resync of any mirror up here.
int leave_check(const GlobalOptions& g, const MirrorOptions& o, const std::string& node, const std::string& doing,
                bool& refused) {
  refused = false;
  auto ctl = control(o);
  auto states = ctl.status("all", Deadline::after(std::chrono::seconds(o.timeout_s)));
  if (!states) return fail(states.error());
  const auto check = mirror::check_leave(*states, node, mirror::local_node_name());
  refused = !check.ok;
  if (g.json) {
    fmt::print("{}\n", nlohmann::json{{"node", node}, {"action", doing}, {"ok", check.ok}, {"refusals", check.refusals}}.dump(2));
  } else if (!check.ok) {
    for (const auto& r : check.refusals) fmt::print(stderr, "evosctl: refusing {} of {}: {}\n", doing, node, r);
  }
  return check.ok ? ok : failure;
}

int shutdown_check(const GlobalOptions& g, const MirrorOptions& o) {
  bool refused = false;
  const std::string here = mirror::local_node_name();
  int code = leave_check(g, o, here, "shutdown", refused);
  if (code == ok && !g.json) fmt::print("{} may shut down: it is not the sync source of a running resync\n", here);
  return code;
}

int standby(const GlobalOptions& g, const MirrorOptions& o) {
  if (auto e = check_node(o.node, "node")) return fail(*e);
  if (!o.force) {
    bool refused = false;
    int code = leave_check(g, o, o.node, "standby", refused);
    if (code != ok) {
      if (refused && !g.json) fmt::print(stderr, "evosctl: wait for the resync to finish (or use --force to lose the only UpToDate copy)\n");
      return code;
    }
  }
  if (auto r = mirror::put_in_standby(o.node, Deadline::after(std::chrono::seconds(o.timeout_s))); !r)
    return fail(r.error());
  if (!g.json) fmt::print("{} is in standby: Pacemaker moves its resources away\n", o.node);
  return ok;
}

}  // namespace

void add_mirror_commands(CLI::App& app, GlobalOptions& global, std::function<int()>& run) {
  auto o = std::make_shared<MirrorOptions>();
  auto common = [&global, o](CLI::App* c) {
    c->add_option("--drbdconf", o->drbdconf, "drbdadm configuration file (default: drbdadm's)");
    c->add_option("--timeout", o->timeout_s, "Seconds to wait for DRBD and Pacemaker")->check(CLI::Range(1, 600));
    c->add_flag("--json", global.json, "Print JSON");
  };

  auto* m = app.add_subcommand("mirror",
                               "DRBD mirrors of VM disks: create, list, status, resync, verify, resolve a split brain");
  m->require_subcommand(1);
  auto* cr = m->add_subcommand("create", "Write the mirror's DRBD .res file (validated; evos' fence handler)");
  cr->add_option("NAME", o->name, "DRBD resource")->required();
  cr->add_option("--minor", o->minor, "DRBD minor (/dev/drbdN)")->required()->check(CLI::Range(0, drbd::max_minor));
  cr->add_option("--host", o->hosts, "NAME,NODE_ID,ADDRESS,DISK[,META_DISK] (twice; NAME is the node's uname -n)")->required();
  cr->add_option("--output", o->output, "The file to write (default /etc/drbd.d/NAME.res)");
  cr->add_option("--fence-handler", o->fence_handler, "evos (default) or linbit");
  cr->add_flag("--dry-run", o->dry_run, "Print the file instead of writing it");
  cr->add_flag("--force", o->force, "Replace an existing file");
  cr->callback([&run, o] { run = [o] { return create(*o); }; });

  auto* ls = m->add_subcommand("list", "Every mirror up on this node, as drbdsetup status --json shows it");
  common(ls);
  ls->callback([&run, &global, o] { run = [&global, o] { return list(global, *o); }; });

  auto* st = m->add_subcommand("status", "One mirror: roles, disks, resync, split brain, promotion score, leave checks");
  st->add_option("NAME", o->name, "DRBD resource")->required();
  common(st);
  st->callback([&run, &global, o] { run = [&global, o] { return status(global, *o); }; });

  auto* rs = m->add_subcommand("resync", "Discard this node's data and resync it fully from the connected UpToDate peer");
  rs->add_option("NAME", o->name, "DRBD resource")->required();
  common(rs);
  rs->callback([&run, o] { run = [o] { return resync(*o); }; });

  auto* vf = m->add_subcommand("verify",
                                "Online verify: compare both copies block by block (exit 6 if blocks differ; nothing "
                                "is resynced)");
  vf->add_option("NAME", o->name, "DRBD resource")->required();
  vf->add_flag("--wait", o->wait, "Wait until the verify has finished and report what it found");
  vf->add_option("--drbdconf", o->drbdconf, "drbdadm configuration file (default: drbdadm's)");
  vf->add_option("--timeout", o->timeout_s, "Seconds to wait for DRBD (with --wait: for the whole verify)")
      ->check(CLI::Range(1, 7 * 24 * 3600));
  vf->add_flag("--json", global.json, "Print JSON");
  vf->callback([&run, &global, o] { run = [&global, o] { return verify(global, *o); }; });

  auto* rv = m->add_subcommand("resolve", "Recover from a split brain: NODE's changes since the split are discarded");
  rv->add_option("NAME", o->name, "DRBD resource")->required();
  rv->add_option("--discard", o->discard, "The node whose changes are discarded (this node or its peer)")->required();
  rv->add_flag("--local-only", o->local_only, "Do only this node's part (run the same command on the peer too)");
  common(rv);
  rv->callback([&run, &global, o] { run = [&global, o] { return resolve(global, *o); }; });

  auto* node = app.add_subcommand("node", "Cluster nodes: standby, and the checks before a node leaves");
  node->require_subcommand(1);
  auto* sb = node->add_subcommand("standby", "Put NODE in standby, unless it is the sync source of a running resync");
  sb->add_option("NODE", o->node, "Pacemaker node name")->required();
  sb->add_flag("--force", o->force, "Skip the mirror checks");
  common(sb);
  sb->callback([&run, &global, o] { run = [&global, o] { return standby(global, *o); }; });
  auto* sc = node->add_subcommand("shutdown-check",
                                  "Exit 0 if this node may shut down now; 1 (with the reason) while it is the sync source "
                                  "of a running resync");
  common(sc);
  sc->callback([&run, &global, o] { run = [&global, o] { return shutdown_check(global, *o); }; });
}

}  // namespace evosctl
