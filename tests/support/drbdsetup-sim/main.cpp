// drbd-sim: the drbd simulator, a test program standing in for drbdadm and drbdsetup on machines
// without the DRBD kernel module. Installed (linked) as `drbdadm` and `drbdsetup` in a temporary
// bin directory put first on PATH; it picks its personality from argv[0].
//
//   EVOS_DRBD_SIM_DIR    directory shared by both simulated nodes (one <resource>.json each)
//   EVOS_DRBD_SIM_NODE   the node this call runs on (falls back to __DRBD_NODE__, as drbdadm)
//   EVOS_DRBD_SIM_EVENTS_SECONDS  how long `drbdsetup events2` without --now streams (default 30)
//
//   drbdadm   [-c FILE] [-d] up|down|adjust|primary [--force]|secondary|connect [--discard-my-data]|
//             disconnect|invalidate|outdate|verify|net-options --allow-two-primaries=yes|no|status|
//             role|cstate|dstate RESOURCE
//   drbdsetup events2 [--now] [--statistics] [--timestamps] RESOURCE|all
//   drbdsetup status [--json] RESOURCE|all,  primary [--force]|secondary|down RESOURCE,
//             verify RESOURCE PEER_NODE_ID VOLUME
//   drbd-sim ctl init RESOURCE NODE:ID NODE:ID [--minor N] [--size-kib N] [--rate-kib-s N] [--new]
//                [--verify-alg ALG]
//   drbd-sim ctl link RESOURCE up|down | fail-disk RESOURCE NODE | repair-disk RESOURCE NODE |
//                write RESOURCE NODE KIB | corrupt RESOURCE NODE KIB | set-rate RESOURCE KIB_PER_S |
//                show RESOURCE
//   (corrupt: KIB of NODE's blocks change silently, as bit rot does; only an online verify finds them)
//
// Exit codes and error texts follow drbdsetup's: 10 kernel failure ("Failure: (158) Unknown
// resource"), 11 refused state change, 17 "(-2) Need access to UpToDate data", 20 local error.
#include "sim_world.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using evos::drbdsim::SimWorld;

namespace {

struct Outcome {
  int code = 0;
  std::string out;
  std::string err;
};

Outcome fail(int code, std::string err) { return {code, "", std::move(err)}; }

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

fs::path sim_dir() {
  const std::string dir = env("EVOS_DRBD_SIM_DIR");
  if (dir.empty()) {
    std::fprintf(stderr, "drbd-sim: EVOS_DRBD_SIM_DIR is not set\n");
    std::exit(20);
  }
  return dir;
}

std::string sim_node() {
  std::string node = env("EVOS_DRBD_SIM_NODE");
  if (node.empty()) node = env("__DRBD_NODE__");
  if (node.empty()) {
    std::fprintf(stderr, "drbd-sim: EVOS_DRBD_SIM_NODE is not set\n");
    std::exit(20);
  }
  return node;
}

// The whole world directory is locked for every read-modify-write: calls from both nodes
// serialize like DRBD's state changes do.
class Lock {
 public:
  explicit Lock(const fs::path& dir) {
    fd_ = ::open((dir / ".lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0) {
      std::fprintf(stderr, "drbd-sim: cannot lock %s\n", (dir / ".lock").c_str());
      std::exit(20);
    }
  }
  ~Lock() { ::close(fd_); }
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

 private:
  int fd_ = -1;
};

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 63 || name == "all" || name.front() == '-') return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') return false;
  return true;
}

fs::path world_file(const std::string& resource) { return sim_dir() / (resource + ".json"); }

std::optional<SimWorld> load(const std::string& resource) {
  if (!valid_name(resource)) return std::nullopt;
  std::ifstream in(world_file(resource));
  if (!in) return std::nullopt;
  return evos::drbdsim::from_json(nlohmann::json::parse(in));
}

void save(const SimWorld& w) {
  const fs::path file = world_file(w.resource);
  const fs::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << evos::drbdsim::to_json(w).dump(1) << "\n";
  }
  fs::rename(tmp, file);
}

std::vector<std::string> all_resources() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(sim_dir()))
    if (entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

// ---- events2 -----------------------------------------------------------------------------------

std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto usec = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
  std::tm tm{};
  localtime_r(&t, &tm);
  const long off = tm.tm_gmtoff;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}{}{:02}:{:02} ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, usec, off < 0 ? '-' : '+', std::labs(off) / 3600,
                     (std::labs(off) / 60) % 60);
}

struct Events2Options {
  bool now = false;
  bool statistics = false;
  bool timestamps = false;
};

using ViewMap = std::map<std::string, evos::drbdsim::ObjectView>;

std::string view_key(const evos::drbdsim::ObjectView& v) {
  std::string key = v.object;
  for (const auto& f : v.identity) key += " " + f.key + ":" + f.value;
  return key;
}

std::string render(const std::string& kind, const evos::drbdsim::ObjectView& v, const std::vector<evos::drbdsim::Field>& fields,
                   const Events2Options& o) {
  std::string line = (o.timestamps ? timestamp() : std::string()) + kind + " " + v.object;
  for (const auto& f : v.identity) line += " " + f.key + ":" + f.value;
  for (const auto& f : fields)
    if (!f.statistic || o.statistics) line += " " + f.key + ":" + f.value;
  return line + "\n";
}

// Lines for the change from `before` to `after` (DRBD prints only what changed, plus identity).
// Real DRBD sends no notification when only statistics change (drbdsetup(8), --poll); the
// simulator streams such progress at most once a second (`progress_due`) so a resync is visible.
std::string diff(const ViewMap& before, const std::vector<evos::drbdsim::ObjectView>& after, bool initial,
                 const Events2Options& o, bool progress_due = true) {
  std::string out;
  for (const auto& v : after) {
    auto it = before.find(view_key(v));
    if (it == before.end()) {
      out += render(initial ? "exists" : "create", v, v.fields, o);
      continue;
    }
    std::vector<evos::drbdsim::Field> changed;
    bool state_change = false;
    bool progress_change = false;
    for (const auto& f : v.fields) {
      bool same = false;
      for (const auto& g : it->second.fields)
        if (g.key == f.key && g.value == f.value) same = true;
      if (same) continue;
      changed.push_back(f);
      if (f.statistic && !o.statistics) continue;
      (f.progress ? progress_change : state_change) = true;
    }
    if (state_change || (progress_change && progress_due)) out += render("change", v, changed, o);
  }
  // Destroyed objects, innermost first.
  std::vector<const evos::drbdsim::ObjectView*> gone;
  for (const auto& [key, v] : before) {
    bool present = false;
    for (const auto& a : after)
      if (view_key(a) == key) present = true;
    if (!present) gone.push_back(&v);
  }
  auto order = [](const std::string& object) {
    if (object == "path") return 0;
    if (object == "peer-device") return 1;
    if (object == "device") return 2;
    if (object == "connection") return 3;
    return 4;
  };
  std::sort(gone.begin(), gone.end(), [&](auto* a, auto* b) { return order(a->object) < order(b->object); });
  for (const auto* v : gone) out += render("destroy", *v, {}, o);
  return out;
}

std::string helper_line(const SimWorld& w, const evos::drbdsim::HelperCall& h, const Events2Options& o) {
  const auto& peer = w.nodes[static_cast<std::size_t>(1 - h.node)];
  std::string line = fmt::format("{}{} helper name:{} peer-node-id:{} conn-name:{} volume:0 minor:{} helper:{}",
                                 o.timestamps ? timestamp() : "", h.response ? "response" : "call", w.resource,
                                 peer.node_id, peer.name, w.minor, h.helper);
  if (h.response) line += " status:0";
  return line + "\n";
}

struct Snapshot {
  std::map<std::string, std::vector<evos::drbdsim::ObjectView>> views;  // per resource
  std::map<std::string, std::string> helpers;                             // new helper lines per resource
};

Snapshot snapshot(const std::vector<std::string>& resources, const std::string& node,
                  std::map<std::string, std::uint64_t>& helper_seen, const Events2Options& o, bool write_back) {
  Snapshot s;
  Lock lock(sim_dir());
  const std::int64_t t = now_ms();
  for (const auto& r : resources) {
    auto w = load(r);
    if (!w) continue;
    const int me = w->index_of(node);
    if (me < 0) continue;
    w->settle(t);
    if (write_back) save(*w);
    s.views[r] = evos::drbdsim::views(*w, me, t);
    std::uint64_t& seen = helper_seen[r];
    for (const auto& h : w->helpers) {
      if (h.node == me && h.seq > seen) {
        s.helpers[r] += helper_line(*w, h, o);
        seen = h.seq;
      }
    }
  }
  return s;
}

bool emit(const std::string& text) {
  if (text.empty()) return true;
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size()) return false;
  return std::fflush(stdout) == 0;
}

int events2(const std::vector<std::string>& args) {
  Events2Options o;
  std::string target;
  for (const auto& a : args) {
    if (a == "--now") o.now = true;
    else if (a == "--statistics" || a == "-s" || a == "--full" || a == "-f") o.statistics = true;
    else if (a == "--timestamps" || a == "-t") o.timestamps = true;
    else if (a == "--diff" || a == "--poll" || a == "--color=never") continue;
    else if (!a.empty() && a.front() == '-') return std::fprintf(stderr, "drbdsetup events2: unknown option %s\n", a.c_str()), 20;
    else target = a;
  }
  if (target.empty()) target = "all";
  const std::string node = sim_node();
  auto resources = [&] { return target == "all" ? all_resources() : std::vector<std::string>{target}; };
  std::map<std::string, std::uint64_t> helper_seen;
  // Helper calls from before this stream started are history, not events.
  {
    Snapshot first = snapshot(resources(), node, helper_seen, o, false);
    (void)first;
  }
  Snapshot current = snapshot(resources(), node, helper_seen, o, true);
  std::map<std::string, ViewMap> shown;
  std::string out;
  for (const auto& [r, vs] : current.views) {
    out += diff({}, vs, true, o);
    for (const auto& v : vs) shown[r][view_key(v)] = v;
  }
  out += (o.timestamps ? timestamp() : std::string()) + "exists -\n";
  if (!emit(out) || o.now) return 0;

  std::int64_t seconds = 30;
  if (const std::string s = env("EVOS_DRBD_SIM_EVENTS_SECONDS"); !s.empty()) seconds = std::atoll(s.c_str());
  const std::int64_t until = now_ms() + seconds * 1000;
  std::int64_t last_progress = now_ms();
  while (now_ms() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    Snapshot next = snapshot(resources(), node, helper_seen, o, true);
    const bool progress_due = now_ms() - last_progress >= 1000;
    if (progress_due) last_progress = now_ms();
    std::string lines;
    for (const auto& r : resources()) {
      const auto& before = shown[r];
      const auto it = next.views.find(r);
      const std::vector<evos::drbdsim::ObjectView> after = it == next.views.end() ? std::vector<evos::drbdsim::ObjectView>{} : it->second;
      if (auto h = next.helpers.find(r); h != next.helpers.end()) lines += h->second;
      lines += diff(before, after, false, o, progress_due);
      // Progress not yet shown stays "unseen" so it is printed at the next tick.
      ViewMap updated;
      for (const auto& v : after) {
        evos::drbdsim::ObjectView kept = v;
        if (!progress_due) {
          if (auto old = before.find(view_key(v)); old != before.end()) {
            for (auto& f : kept.fields) {
              if (!f.progress) continue;
              for (const auto& g : old->second.fields)
                if (g.key == f.key) f.value = g.value;
            }
          }
        }
        updated[view_key(v)] = std::move(kept);
      }
      shown[r] = std::move(updated);
    }
    if (!emit(lines)) return 0;  // the reader went away
  }
  return 0;
}

// ---- status ------------------------------------------------------------------------------------

int status(const std::vector<std::string>& args, const std::string& prog) {
  bool json = false;
  std::string target = "all";
  for (const auto& a : args) {
    if (a == "--json" || a == "-j") json = true;
    else if (!a.empty() && a.front() == '-') continue;  // --verbose, --statistics, --color=...
    else target = a;
  }
  const std::string node = sim_node();
  Lock lock(sim_dir());
  const std::int64_t t = now_ms();
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  std::string text;
  bool found = false;
  for (const auto& r : target == "all" ? all_resources() : std::vector<std::string>{target}) {
    auto w = load(r);
    if (!w) continue;
    const int me = w->index_of(node);
    if (me < 0 || !w->nodes[static_cast<std::size_t>(me)].up) continue;
    w->settle(t);
    save(*w);
    found = true;
    list.push_back(evos::drbdsim::status_json(*w, me, t));
    const auto vs = evos::drbdsim::views(*w, me, t);
    auto field = [&](const char* object, const char* key) {
      for (const auto& v : vs)
        if (v.object == object)
          for (const auto& f : v.fields)
            if (f.key == key) return f.value;
      return std::string();
    };
    const auto& peer = w->nodes[static_cast<std::size_t>(1 - me)];
    text += fmt::format("{} role:{}\n  disk:{}\n  {} connection:{} role:{}\n    replication:{} peer-disk:{}\n\n", r,
                        field("resource", "role"), field("device", "disk"), peer.name, field("connection", "connection"),
                        field("connection", "role"), field("peer-device", "replication"), field("peer-device", "peer-disk"));
  }
  if (!found && target != "all") {
    std::fprintf(stderr, "%s: No such resource\n", target.c_str());
    return 10;
  }
  (void)prog;
  if (json) std::printf("%s\n", list.dump(2).c_str());
  else std::printf("%s", text.empty() ? "# No currently configured DRBD found.\n" : text.c_str());
  return 0;
}

// ---- state changes -----------------------------------------------------------------------------

Outcome unknown_resource(const std::string& r) { return fail(10, fmt::format("{}: Failure: (158) Unknown resource\n", r)); }

Outcome refuse(int code, const std::string& r, int ss, const char* text) {
  return fail(code, fmt::format("{}: State change failed: ({}) {}\n", r, ss, text));
}

Outcome do_up(SimWorld& w, int me) {
  auto& n = w.nodes[static_cast<std::size_t>(me)];
  if (n.up) return fail(10, fmt::format("{}: Failure: (174) Already exists\n", w.resource));
  n.up = true;
  n.net = true;
  n.standalone = false;
  n.split_brain = false;
  n.role = "Secondary";
  n.attached = !n.disk_broken;
  if (n.disk_broken) return fail(10, "Failure: (104) Can not open backing device.\n");
  return {};
}

Outcome do_primary(SimWorld& w, int me, bool force, std::int64_t t) {
  auto& n = w.nodes[static_cast<std::size_t>(me)];
  auto& p = w.nodes[static_cast<std::size_t>(1 - me)];
  if (!n.up) return unknown_resource(w.resource);
  if (n.role == "Primary") return {};
  const bool connected = w.connected();
  if (connected && p.role == "Primary" && !w.two_primaries)
    return refuse(11, w.resource, -1, "Multiple primaries not allowed by config");
  const std::string disk = w.reported_disk(me);
  if (disk == "UpToDate" || (connected && w.reported_disk(1 - me) == "UpToDate")) {
    n.role = "Primary";
    return {};
  }
  if (force && n.attached) {
    // --force: declare this side's data the good one; a full resync to the peer follows.
    n.parent = n.uuid;
    n.uuid = fmt::format("g{}", ++w.generation);
    n.written_kib = w.size_kib;
    n.disk = "UpToDate";
    n.role = "Primary";
    w.renegotiate(t);
    return {};
  }
  return refuse(17, w.resource, -2, "Need access to UpToDate data");
}

Outcome apply_command(SimWorld& w, int me, const std::string& cmd, const std::vector<std::string>& opts, std::int64_t t) {
  auto& n = w.nodes[static_cast<std::size_t>(me)];
  auto& p = w.nodes[static_cast<std::size_t>(1 - me)];
  auto has = [&](const char* opt) { return std::find(opts.begin(), opts.end(), opt) != opts.end(); };
  if (cmd == "up") return do_up(w, me);
  if (cmd == "primary") return do_primary(w, me, has("--force"), t);
  if (cmd == "down") {
    n.up = false;
    n.role = "Secondary";
    return {};
  }
  if (!n.up && cmd != "adjust") return unknown_resource(w.resource);
  if (cmd == "secondary") {
    n.role = "Secondary";
    return {};
  }
  if (cmd == "adjust") {
    if (!n.up) return do_up(w, me);
    Outcome result;
    if (!n.attached) {
      if (n.disk_broken) {
        result = fail(10, "Failure: (104) Can not open backing device.\n");
      } else {
        // Reattached after a failure: the data missed writes; a resync from the peer follows.
        n.attached = true;
        n.disk = "Outdated";
        n.resync_left_kib = std::max<std::uint64_t>(p.written_kib, 4096);
      }
    }
    n.net = true;
    n.standalone = false;
    n.split_brain = false;
    w.renegotiate(t);
    return result;
  }
  if (cmd == "connect") {
    n.net = true;
    n.standalone = false;
    n.split_brain = false;
    n.discard_my_data = has("--discard-my-data");
    return {};
  }
  if (cmd == "disconnect") {
    n.net = false;
    n.split_brain = false;
    return {};
  }
  if (cmd == "invalidate") {
    if (!n.attached) return refuse(11, w.resource, -4, "Can not resync without local disk");
    if (w.connected()) {
      if (w.reported_disk(1 - me) != "UpToDate") return refuse(11, w.resource, -5, "Can not resync without remote disk");
      n.disk = "Inconsistent";
      n.resync_left_kib = w.size_kib;
      w.renegotiate(t);
      return {};
    }
    n.disk = "Inconsistent";
    n.resync_left_kib = w.size_kib;
    return {};
  }
  if (cmd == "outdate") {
    if (w.connected()) return refuse(11, w.resource, -6, "Refusing to be Outdated while Connected");
    if (n.role == "Primary") return refuse(11, w.resource, -2, "Need access to UpToDate data");
    if (n.attached && n.disk == "UpToDate") n.disk = "Outdated";
    return {};
  }
  if (cmd == "verify") {
    // drbd_adm_start_ov(): the state change to VerifyS is checked like DRBD checks it.
    if (!n.attached) return refuse(11, w.resource, -4, "Can not resync without local disk");
    if (!w.connected()) return refuse(11, w.resource, -15, "Need a connection to start verify or resync");
    if (w.sync.active || w.verify.active) return refuse(11, w.resource, -8, "Can not start OV/resync since it is already active");
    if (!p.attached) return refuse(11, w.resource, -5, "Can not resync without remote disk");
    if (w.verify_alg.empty()) return refuse(11, w.resource, -14, "Need a verify algorithm to start online verify");
    w.verify = evos::drbdsim::SimVerify{.active = true, .source = me, .target = 1 - me, .start_ms = t};
    return {};
  }
  if (cmd == "net-options") {
    for (const auto& o : opts) {
      if (o == "--allow-two-primaries=yes" || o == "--allow-two-primaries") w.two_primaries = true;
      if (o == "--allow-two-primaries=no") w.two_primaries = false;
    }
    return {};
  }
  return fail(20, fmt::format("drbd-sim: unsupported command '{}'\n", cmd));
}

int finish(const Outcome& o) {
  if (!o.out.empty()) std::fputs(o.out.c_str(), stdout);
  if (!o.err.empty()) std::fputs(o.err.c_str(), stderr);
  return o.code;
}

// Runs one state-changing command on `resource` as this node.
int change(const std::string& cmd, const std::vector<std::string>& opts, const std::string& resource, bool from_drbdadm) {
  const std::string node = sim_node();
  Lock lock(sim_dir());
  auto w = load(resource);
  const int me = w ? w->index_of(node) : -1;
  if (me < 0) {
    if (from_drbdadm) return finish(fail(10, fmt::format("'{}' not defined in your config (for this host).\n", resource)));
    if (cmd == "down") return 0;  // drbdsetup down of an unknown resource succeeds
    return finish(unknown_resource(resource));
  }
  const std::int64_t t = now_ms();
  w->settle(t);
  Outcome o = apply_command(*w, me, cmd, opts, t);
  w->settle(t);
  save(*w);
  if (from_drbdadm && o.code != 0)
    o.err += fmt::format("Command 'drbdsetup {} {}' terminated with exit code {}\n", cmd, resource, o.code);
  return finish(o);
}

int simple_query(const std::string& cmd, const std::string& resource) {
  const std::string node = sim_node();
  Lock lock(sim_dir());
  auto w = load(resource);
  const int me = w ? w->index_of(node) : -1;
  if (me < 0 || !w->nodes[static_cast<std::size_t>(me)].up) {
    std::fprintf(stderr, "%s: No such resource\n", resource.c_str());
    return 10;
  }
  const std::int64_t t = now_ms();
  w->settle(t);
  save(*w);
  for (const auto& v : evos::drbdsim::views(*w, me, t)) {
    for (const auto& f : v.fields) {
      if (cmd == "role" && v.object == "resource" && f.key == "role") std::printf("%s\n", f.value.c_str());
      if (cmd == "cstate" && v.object == "connection" && f.key == "connection") std::printf("%s\n", f.value.c_str());
      if (cmd == "dstate" && v.object == "device" && f.key == "disk")
        std::printf("%s/%s\n", f.value.c_str(), w->connected() ? w->reported_disk(1 - me).c_str() : "DUnknown");
    }
  }
  return 0;
}

int drbdadm(const std::vector<std::string>& args) {
  std::vector<std::string> rest;
  bool dry_run = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-c" || a == "--config-file") ++i;  // the simulator's world replaces the configuration
    else if (a.rfind("--config-file=", 0) == 0) continue;
    else if (a == "-d" || a == "--dry-run") dry_run = true;
    else if (a == "-v" || a == "--verbose" || a == "--") continue;
    else rest.push_back(a);
  }
  std::string cmd;
  std::vector<std::string> opts;
  std::vector<std::string> resources;
  for (const auto& a : rest) {
    const bool option = !a.empty() && a.front() == '-';
    if (cmd.empty() && !option) cmd = a;
    else if (option) opts.push_back(a);
    else resources.push_back(a);
  }
  if (cmd.empty() || resources.size() != 1) {
    std::fprintf(stderr, "USAGE: drbdadm COMMAND [OPTION...] {all|RESOURCE...}\n");
    return 1;
  }
  const std::string& resource = resources[0];
  if (dry_run) {
    std::printf("drbdsetup %s %s\n", cmd.c_str(), resource.c_str());
    return 0;
  }
  if (cmd == "status") return status({resource}, "drbdadm");
  if (cmd == "role" || cmd == "cstate" || cmd == "dstate") return simple_query(cmd, resource);
  static const std::vector<std::string> known = {"up", "down", "adjust", "primary", "secondary", "connect",
                                                 "disconnect", "invalidate", "outdate", "verify", "net-options"};
  if (std::find(known.begin(), known.end(), cmd) == known.end()) {
    std::fprintf(stderr, "Unknown command '%s'\n", cmd.c_str());
    return 1;
  }
  return change(cmd, opts, resource, true);
}

int drbdsetup(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::fprintf(stderr, "USAGE: drbdsetup command {arguments} [options]\n");
    return 20;
  }
  const std::string& cmd = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (cmd == "events2") return events2(rest);
  if (cmd == "status") return status(rest, "drbdsetup");
  std::vector<std::string> opts;
  std::vector<std::string> positional;
  for (const auto& a : rest) (!a.empty() && a.front() == '-' ? opts : positional).push_back(a);
  if (positional.empty()) {
    std::fprintf(stderr, "Missing argument 'resource'\n");
    return 20;
  }
  if (cmd == "primary" || cmd == "secondary" || cmd == "down" || cmd == "connect" || cmd == "disconnect")
    return change(cmd, opts, positional[0], false);
  if (cmd == "verify") {
    if (positional.size() != 3) {
      std::fprintf(stderr, "USAGE: drbdsetup verify {resource} {peer_node_id} {volume} [{options}]\n");
      return 20;
    }
    return change(cmd, opts, positional[0], false);
  }
  std::fprintf(stderr, "drbd-sim: drbdsetup %s is not simulated\n", cmd.c_str());
  return 20;
}

// ---- ctl ---------------------------------------------------------------------------------------

int ctl(const std::vector<std::string>& args) {
  auto usage = [] {
    std::fprintf(stderr,
                 "usage: drbd-sim ctl init RESOURCE NODE:ID NODE:ID [--minor N] [--size-kib N] [--rate-kib-s N] [--new]\n"
                 "       drbd-sim ctl link RESOURCE up|down | fail-disk RESOURCE NODE | repair-disk RESOURCE NODE\n"
                 "       drbd-sim ctl write RESOURCE NODE KIB | corrupt RESOURCE NODE KIB | set-rate RESOURCE KIB_PER_S |\n"
                 "                    show RESOURCE\n"
                 "       (init also takes --verify-alg ALG: without it, verify is refused as DRBD does)\n");
    return 20;
  };
  if (args.size() < 2) return usage();
  const std::string& cmd = args[0];
  const std::string& resource = args[1];
  if (!valid_name(resource)) return std::fprintf(stderr, "drbd-sim: bad resource name\n"), 20;
  fs::create_directories(sim_dir());
  Lock lock(sim_dir());
  if (cmd == "init") {
    if (args.size() < 4) return usage();
    SimWorld w;
    w.resource = resource;
    for (std::size_t i = 0; i < 2; ++i) {
      const std::string& spec = args[2 + i];
      const auto colon = spec.find(':');
      if (colon == std::string::npos) return usage();
      w.nodes[i].name = spec.substr(0, colon);
      w.nodes[i].node_id = std::atoi(spec.c_str() + colon + 1);
    }
    for (std::size_t i = 4; i < args.size(); ++i) {
      auto value = [&]() -> std::uint64_t { return i + 1 < args.size() ? std::strtoull(args[++i].c_str(), nullptr, 10) : 0; };
      if (args[i] == "--minor") w.minor = static_cast<int>(value());
      else if (args[i] == "--size-kib") w.size_kib = value();
      else if (args[i] == "--rate-kib-s") w.rate_kib_s = value();
      else if (args[i] == "--verify-alg" && i + 1 < args.size()) w.verify_alg = args[++i];
      else if (args[i] == "--new") {
        for (auto& n : w.nodes) n.disk = "Inconsistent";
      } else {
        return usage();
      }
    }
    save(w);
    return 0;
  }
  auto w = load(resource);
  if (!w) return std::fprintf(stderr, "drbd-sim: no simulated resource %s\n", resource.c_str()), 20;
  const std::int64_t t = now_ms();
  w->settle(t);
  auto node_index = [&](const std::string& name) {
    const int i = w->index_of(name);
    if (i < 0) {
      std::fprintf(stderr, "drbd-sim: %s is not a node of %s\n", name.c_str(), resource.c_str());
      std::exit(20);
    }
    return static_cast<std::size_t>(i);
  };
  if (cmd == "link" && args.size() == 3) {
    w->link_up = args[2] == "up";
  } else if (cmd == "fail-disk" && args.size() == 3) {
    auto& n = w->nodes[node_index(args[2])];
    n.attached = false;
    n.disk_broken = true;
  } else if (cmd == "repair-disk" && args.size() == 3) {
    w->nodes[node_index(args[2])].disk_broken = false;
  } else if (cmd == "write" && args.size() == 4) {
    auto& n = w->nodes[node_index(args[2])];
    if (n.role == "Primary" && !w->connected()) n.written_kib += std::strtoull(args[3].c_str(), nullptr, 10);
  } else if (cmd == "corrupt" && args.size() == 4) {
    w->nodes[node_index(args[2])].corrupt_kib += std::strtoull(args[3].c_str(), nullptr, 10);
  } else if (cmd == "set-rate" && args.size() == 3) {
    w->rate_kib_s = std::strtoull(args[2].c_str(), nullptr, 10);
  } else if (cmd == "show" && args.size() == 2) {
    std::printf("%s\n", evos::drbdsim::to_json(*w).dump(2).c_str());
  } else {
    return usage();
  }
  w->settle(t);
  save(*w);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const std::string prog = fs::path(argv[0]).filename().string();
  try {
    if (prog == "drbdadm") return drbdadm(args);
    if (prog == "drbdsetup") return drbdsetup(args);
    if (!args.empty() && args[0] == "ctl") return ctl({args.begin() + 1, args.end()});
    if (!args.empty() && args[0] == "drbdadm") return drbdadm({args.begin() + 1, args.end()});
    if (!args.empty() && args[0] == "drbdsetup") return drbdsetup({args.begin() + 1, args.end()});
    std::fprintf(stderr, "drbd-sim: run as drbdadm or drbdsetup (a link), or 'drbd-sim ctl ...'\n");
    return 20;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "drbd-sim: %s\n", e.what());
    return 20;
  }
}
