#include <evos/snapshot/operations.hpp>

#include "../virt/libvirt_internal.hpp"

#include <evos/activity.hpp>
#include <evos/cluster/pacemaker_tools.hpp>
#include <evos/file/atomic_write.hpp>
#include <evos/proc/run.hpp>
#include <evos/snapshot/plan.hpp>
#include <evos/virt/libvirt_hypervisor.hpp>
#include <evos/vm/layout.hpp>

#include <fmt/core.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace evos::snapshot {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Pacemaker's exit code when a tool cannot reach the cluster daemons (CRM_EX_NOT_CONNECTED,
// crm_exit_t in include/crm/common/results.h): no cluster runs on this node.
constexpr int crm_ex_not_connected = 102;

std::string hostname() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<std::string> read_file(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int e = errno;
    return make_error(e == ENOENT ? Errc::not_found : Errc::backend, "cannot read {} {}: {}", what, path, std::strerror(e));
  }
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) return make_error(Errc::backend, "cannot read {} {}", what, path);
  return s.str();
}

unsigned mode_of(const std::string& path, unsigned fallback) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 07777) : fallback;
}

// The catalogue's lock: a file created exclusively beside it (link(2), never replacing), so two
// evosctl on either node never change one VM's snapshots at once. Removed when done; a lock left
// by a killed evosctl says who held it, and is removed by hand.
class CatalogueLock {
 public:
  static Result<CatalogueLock> take(const vm::VmLayout& l) {
    const std::string path = l.snapshots_dir() + "/lock";
    std::error_code ec;
    fs::create_directories(l.snapshots_dir(), ec);
    if (ec) return make_error(Errc::backend, "cannot make {}: {}", l.snapshots_dir(), ec.message());
    const std::string holder = fmt::format("evosctl pid {} on {} since {}\n", ::getpid(), hostname(), utc_now());
    if (auto r = file::write_atomically(path, holder, {.mode = 0644, .replace = false}); !r) {
      if (r.error().code() != Errc::invalid_argument) return r.error();
      auto who = read_file(path, "lock");
      std::string text = who ? *who : "";
      while (!text.empty() && text.back() == '\n') text.pop_back();
      return make_error(Errc::backend,
                        "the snapshots of VM '{}' are being changed by another command ({}: {}); if none runs any more "
                        "(it was killed), remove {}",
                        l.name, path, text.empty() ? "unreadable" : text, path);
    }
    return CatalogueLock(path);
  }
  CatalogueLock(CatalogueLock&& o) noexcept : path_(std::exchange(o.path_, {})) {}
  CatalogueLock& operator=(CatalogueLock&&) = delete;
  CatalogueLock(const CatalogueLock&) = delete;
  ~CatalogueLock() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }

 private:
  explicit CatalogueLock(std::string p) : path_(std::move(p)) {}
  std::string path_;
};

std::string catalogue_path(const vm::VmLayout& l) { return l.snapshots_dir() + "/" + catalogue_file_name; }

// The catalogue, or nullopt when the VM has none yet.
Result<std::optional<Catalogue>> load_catalogue(const vm::VmLayout& l) {
  auto text = read_file(catalogue_path(l), "snapshot catalogue");
  if (!text) {
    if (text.error().code() == Errc::not_found) return std::optional<Catalogue>();
    return std::move(text).error();
  }
  auto c = parse_catalogue(*text, l.name);
  if (!c) return std::move(c).error().context(catalogue_path(l));
  return std::optional<Catalogue>(std::move(*c));
}

Result<void> save_catalogue(const vm::VmLayout& l, const Catalogue& c) {
  return file::write_atomically(catalogue_path(l), render_catalogue(c), {.mode = 0644});
}

Result<std::string> read_definition(const vm::VmLayout& l) {
  auto xml = read_file(l.definition(), "the definition");
  if (!xml) {
    if (xml.error().code() == Errc::not_found)
      return make_error(Errc::not_found, "VM '{}' has no definition {} (evos VMs keep theirs in their directory on the storage)",
                        l.name, l.definition());
    return std::move(xml).error();
  }
  auto name = domain_name(*xml);
  if (!name) return std::move(name).error().context(l.definition());
  if (*name != l.name) return make_error(Errc::invalid_config, "{} defines VM '{}', not '{}'", l.definition(), *name, l.name);
  return xml;
}

Result<void> write_definition(const vm::VmLayout& l, const std::string& xml) {
  return file::write_atomically(l.definition(), xml, {.mode = mode_of(l.definition(), 0644)});
}

std::set<std::string> files_in(const std::string& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.insert(e.path().string());
  return out;
}

Result<void> run_tool(const std::vector<std::string>& argv, Deadline deadline) {
  Activity a(proc::describe(argv));
  auto r = proc::run(argv, deadline);
  if (!r) return std::move(r).error().context(proc::describe(argv));
  if (!r->ok()) {
    std::string err = r->err.empty() ? r->out : r->err;
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    return make_error(Errc::backend, "{} exited with {}: {}", proc::describe(argv), r->exit_code, err);
  }
  return {};
}

// `qemu-img create -f qcow2 -b BACKING -F FORMAT FILE` (its size is the backing file's). It does
// not take the backing file's image lock: callers check with check_not_in_use first.
Result<void> make_overlays(const std::vector<NewOverlay>& overlays, Deadline deadline) {
  std::vector<std::string> made;
  for (const auto& o : overlays) {
    std::error_code ec;
    fs::create_directories(fs::path(o.file).parent_path(), ec);
    auto r = run_tool({"qemu-img", "create", "-q", "-f", "qcow2", "-b", o.backing, "-F", o.backing_format, o.file}, deadline);
    if (!r) {
      for (const auto& f : made) ::unlink(f.c_str());
      return r.error().context(fmt::format("make overlay {} on {}", o.file, o.backing));
    }
    made.push_back(o.file);
  }
  return {};
}

// `qemu-img info` without -U takes the image's lock: it fails while a QEMU anywhere has it open
// for writing, which is how evos knows no VM it did not see still writes an image it is about to
// drop.
Result<void> check_not_in_use(const std::map<std::string, std::string>& disks, Deadline deadline) {
  for (const auto& [target, file] : disks)
    if (auto r = run_tool({"qemu-img", "info", "--output=json", file}, deadline); !r)
      return r.error().context(fmt::format("disk {} ({}) seems to be in use by a running QEMU (is the VM running on another node? "
                                           "give that node's libvirt with -c)",
                                           target, file));
  return {};
}

void unmake(const std::vector<NewOverlay>& overlays) {
  for (const auto& o : overlays) ::unlink(o.file.c_str());
}

std::vector<std::string> files_of(const std::vector<NewOverlay>& overlays) {
  std::vector<std::string> out;
  for (const auto& o : overlays) out.push_back(o.file);
  return out;
}

std::string node_uri(const std::string& tpl, const std::string& node) {
  std::string out = tpl;
  for (std::size_t at; (at = out.find("%n")) != std::string::npos;) out.replace(at, 2, node);
  return out;
}

// The node Pacemaker calls this one (crm_node -n), or "" when no cluster answers.
std::string local_node(Deadline deadline) {
  auto r = proc::run({"crm_node", "-n"}, deadline);
  if (!r || !r->ok()) return "";
  std::string n = r->out;
  while (!n.empty() && (n.back() == '\n' || n.back() == ' ')) n.pop_back();
  return n;
}

struct Ha {
  HaResource resource;
  cluster::ResourceStatus status;
};

// The VM's Pacemaker resource, if it has one. No Pacemaker installed, or none running on this node
// (cibadmin: not connected), is "not HA-managed", with a note saying so.
Result<std::optional<Ha>> find_ha(const vm::VmLayout& l, Deadline deadline, std::vector<std::string>& notes) {
  auto r = proc::run({"cibadmin", "--query", "--scope", "configuration"}, deadline);
  if (!r) {
    if (r.error().code() == Errc::not_installed) return std::optional<Ha>();
    return std::move(r).error().context("read the cluster configuration");
  }
  if (r->exit_code == crm_ex_not_connected) {
    notes.push_back("no cluster runs on this node: the VM is taken as not HA-managed");
    return std::optional<Ha>();
  }
  if (!r->ok())
    return make_error(Errc::backend, "read the cluster configuration: cibadmin exited with {}: {}", r->exit_code, r->err);
  std::vector<std::string> spellings{l.definition()};
  std::error_code ec;
  if (auto canon = fs::canonical(l.definition(), ec); !ec && canon.string() != l.definition()) spellings.push_back(canon.string());
  auto res = find_ha_resource(r->out, spellings);
  if (!res) return std::move(res).error();
  if (!*res) return std::optional<Ha>();
  auto st = cluster::read_pacemaker_status(deadline);
  if (!st) return std::move(st).error();
  const auto* rs = st->resource((*res)->id);
  Ha ha{**res, rs ? *rs : cluster::ResourceStatus{.id = (*res)->id}};
  return std::optional<Ha>(std::move(ha));
}

// Where the VM is: through Pacemaker when HA-managed, else on t.hypervisor.
Result<Place> locate(const Target& t, const vm::VmLayout& l, const std::optional<Ha>& ha, Deadline deadline) {
  Place p;
  p.hypervisor = t.hypervisor;
  if (ha) {
    p.ha_resource = ha->resource.id;
    p.target_role = ha->resource.target_role;
    if (ha->status.active && !ha->status.nodes.empty()) {
      p.running = true;
      p.node = ha->status.nodes.front();
      if (p.node != local_node(deadline)) p.hypervisor = node_uri(t.remote_hypervisor, p.node);
    }
    return p;
  }
  auto hv = virt::connect_libvirt(t.hypervisor, virt::Access::read_only);
  if (!hv) return std::move(hv).error();
  auto st = (*hv)->run_state(l.name);
  if (!st) {
    if (st.error().code() == Errc::not_found) return p;  // not defined here
    return std::move(st).error();
  }
  if (*st != backup::VmRunState::shut_off) {
    p.running = true;
    p.paused = *st == backup::VmRunState::paused;
    p.node = hostname();
  }
  return p;
}

Result<Place> where(const Target& t, const vm::VmLayout& l, Deadline deadline) {
  std::vector<std::string> notes;
  auto ha = find_ha(l, deadline, notes);
  if (!ha) return std::move(ha).error();
  auto p = locate(t, l, *ha, deadline);
  if (!p) return std::move(p).error();
  p->notes = std::move(notes);
  return p;
}

// A live, disk-only snapshot without libvirt metadata (formatsnapshot.html; flags of
// virDomainSnapshotCreateXML): libvirt makes the overlays and switches QEMU to them atomically.
Result<void> live_snapshot(const std::string& uri, const std::string& domain, const std::string& xml) {
  Activity a(fmt::format("libvirt: snapshot '{}' (virDomainSnapshotCreateXML)", domain));
  virt::ConnectionPtr conn(virConnectOpen(uri.c_str()));
  if (!conn) return virt::detail::last_error(fmt::format("connect to {}", uri));
  virt::DomainPtr dom(virDomainLookupByName(conn.get(), domain.c_str()));
  if (!dom) return virt::detail::last_error(fmt::format("look up domain '{}'", domain));
  const unsigned flags =
      VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY | VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA | VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC;
  virDomainSnapshotPtr snap = virDomainSnapshotCreateXML(dom.get(), xml.c_str(), flags);
  if (!snap) return virt::detail::last_error(fmt::format("snapshot '{}'", domain));
  virDomainSnapshotFree(snap);
  return {};
}

// Redefines the VM where it is defined (not HA-managed: evos's agent redefines an HA VM from its
// definition file at every start).
Result<void> redefine_if_defined(const std::string& uri, const std::string& name, const std::string& xml) {
  auto hv = virt::connect_libvirt(uri);
  if (!hv) return std::move(hv).error();
  auto st = (*hv)->state(name);
  if (!st) return std::move(st).error();
  if (st->power == vm::Power::absent) return {};
  return (*hv)->define(xml);
}

void remove_files(const std::vector<std::string>& files) {
  for (const auto& f : files) ::unlink(f.c_str());
}

// The Actions port over libvirt, qemu-img, Pacemaker and the files in the VM's directory.
class IoActions final : public Actions {
 public:
  IoActions(const vm::VmLayout& l, const Place& p, Deadline d) : l_(l), place_(p), deadline_(d) {}

  Result<bool> freeze() override {
    auto hv = connection();
    if (!hv) return std::move(hv).error();
    return (*hv)->freeze(l_.name);
  }
  Result<void> thaw() override {
    auto hv = connection();
    if (!hv) return std::move(hv).error();
    return (*hv)->thaw(l_.name);
  }
  Result<void> live_snapshot(const std::string& xml) override { return snapshot::live_snapshot(place_.hypervisor, l_.name, xml); }
  Result<void> make_overlays(const std::vector<NewOverlay>& overlays) override { return snapshot::make_overlays(overlays, deadline_); }
  void remove_files(const std::vector<std::string>& files) override { snapshot::remove_files(files); }
  Result<void> check_not_in_use(const std::map<std::string, std::string>& disks) override {
    return snapshot::check_not_in_use(disks, deadline_);
  }
  Result<void> write_definition(const std::string& xml) override { return snapshot::write_definition(l_, xml); }
  Result<void> redefine(const std::string& xml) override { return redefine_if_defined(place_.hypervisor, l_.name, xml); }
  Result<void> save_catalogue(const Catalogue& c) override { return snapshot::save_catalogue(l_, c); }
  Result<void> stop_vm() override {
    auto hv = connection();
    if (!hv) return std::move(hv).error();
    return (*hv)->destroy(l_.name, false);
  }
  Result<void> start_vm() override {
    auto hv = connection();
    if (!hv) return std::move(hv).error();
    return (*hv)->start(l_.name);
  }
  Result<void> set_ha_role(const std::string& id, const std::optional<std::string>& role, bool active, bool wait) override {
    // Without a wait (putting the previous role back after a failure) the deadline may have
    // passed already: a short one of its own.
    const Deadline d = wait ? deadline_ : Deadline::after(30s);
    if (auto r = cluster::set_resource_meta(id, "target-role", role.value_or(""), d); !r) return r;
    if (!wait) return {};
    auto st = cluster::wait_for_resource(id, d, [&](const cluster::ResourceStatus* s) {
      return active ? (s && s->active && !s->nodes.empty()) : (!s || !s->active);
    });
    if (!st) return std::move(st).error().context(fmt::format("wait for {} to {}", id, active ? "start" : "stop"));
    return {};
  }

 private:
  Result<virt::LibvirtHypervisor*> connection() {
    if (!hv_) {
      auto hv = virt::connect_libvirt(place_.hypervisor);
      if (!hv) return std::move(hv).error();
      hv_ = std::move(*hv);
    }
    return hv_.get();
  }
  const vm::VmLayout& l_;
  const Place& place_;
  Deadline deadline_;
  std::unique_ptr<virt::LibvirtHypervisor> hv_;
};

}  // namespace

Result<CreateResult> create_snapshot(const Target& t, const std::string& name, Deadline deadline) {
  if (auto p = snapshot_name_problem(name)) return Error(Errc::invalid_argument, *p);
  auto l = vm::layout(t.storage, t.vm);
  if (!l) return std::move(l).error();
  auto xml = read_definition(*l);
  if (!xml) return std::move(xml).error();
  auto lock = CatalogueLock::take(*l);
  if (!lock) return std::move(lock).error();
  auto loaded = load_catalogue(*l);
  if (!loaded) return std::move(loaded).error();
  Catalogue before;
  // With no snapshot and no booted copy left, nothing needs the old catalogue: start again from the
  // definition (disks added meanwhile are then covered; the chain's images become the VM's own).
  if (*loaded && ((*loaded)->snapshots.size() + (*loaded)->copies.size()) > 0) {
    before = std::move(**loaded);
  } else {
    auto c = initial_catalogue(l->name, *xml);
    if (!c) return std::move(c).error().context(l->definition());
    before = std::move(*c);
    if (*loaded) before.next_serial = (*loaded)->next_serial;
  }
  CreateResult out;
  if (before.find(name)) {
    out.already_exists = true;
    return out;
  }
  auto place = where(t, *l, deadline);
  if (!place) return std::move(place).error();
  out.place = std::move(*place);
  SnapshotInfo info{.name = name, .created = utc_now(), .node = out.place.running ? out.place.node : hostname(),
                    .running = out.place.running};
  auto plan = plan_create(before, *l, *xml, info, files_in(l->snapshots_dir()));
  if (!plan) return std::move(plan).error();
  IoActions actions(*l, out.place, deadline);
  auto done = execute_create(*plan, out.place, actions);
  if (!done) return std::move(done).error();
  out.consistency = done->consistency;
  out.warnings = done->warnings;
  out.overlays = files_of(plan->overlays);
  return out;
}

Result<Listing> list_snapshots(const Target& t) {
  auto l = vm::layout(t.storage, t.vm);
  if (!l) return std::move(l).error();
  Listing out;
  out.path = catalogue_path(*l);
  auto loaded = load_catalogue(*l);
  if (!loaded) return std::move(loaded).error();
  if (*loaded) {
    out.catalogue = std::move(**loaded);
    return out;
  }
  auto xml = read_definition(*l);
  if (!xml) return std::move(xml).error();
  out.catalogue.vm = l->name;
  return out;
}

Result<RevertResult> revert_snapshot(const Target& t, const std::string& name, Deadline deadline) {
  auto l = vm::layout(t.storage, t.vm);
  if (!l) return std::move(l).error();
  auto xml = read_definition(*l);
  if (!xml) return std::move(xml).error();
  auto lock = CatalogueLock::take(*l);
  if (!lock) return std::move(lock).error();
  auto loaded = load_catalogue(*l);
  if (!loaded) return std::move(loaded).error();
  if (!*loaded) return make_error(Errc::not_found, "VM '{}' has no snapshot '{}' (it has no snapshots)", l->name, name);
  const Catalogue before = std::move(**loaded);
  if (auto r = check_definition(before, *xml); !r) return r.error();
  auto plan = plan_revert(before, *l, name, files_in(l->snapshots_dir()));
  if (!plan) return std::move(plan).error();
  RevertResult out;
  auto place = where(t, *l, deadline);
  if (!place) return std::move(place).error();
  out.place = std::move(*place);

  IoActions actions(*l, out.place, deadline);
  auto restarted = execute_revert(*plan, before, out.place, actions);
  if (!restarted) return std::move(restarted).error();
  out.restarted = *restarted;
  out.overlays = files_of(plan->overlays);
  out.removed = plan->remove;
  return out;
}

Result<DeleteResult> delete_snapshot(const Target& t, const std::string& name, Deadline) {
  auto l = vm::layout(t.storage, t.vm);
  if (!l) return std::move(l).error();
  auto lock = CatalogueLock::take(*l);
  if (!lock) return std::move(lock).error();
  auto loaded = load_catalogue(*l);
  if (!loaded) return std::move(loaded).error();
  if (!*loaded) return make_error(Errc::not_found, "VM '{}' has no snapshot '{}' (it has no snapshots)", l->name, name);
  Catalogue before = std::move(**loaded);
  DeleteResult out;
  // A booted copy whose disks are all gone (deleted with its VM) no longer needs its snapshot.
  std::erase_if(before.copies, [&](const Copy& c) {
    for (const auto& [target, file] : c.disks)
      if (::access(file.c_str(), F_OK) == 0) return false;
    out.forgotten_copies.push_back(c.vm);
    return true;
  });
  auto plan = plan_delete(before, name);
  if (!plan) return std::move(plan).error();
  if (auto r = save_catalogue(*l, plan->after); !r) return r.error();
  remove_files(plan->remove);
  out.removed = plan->remove;
  out.kept = plan->kept;
  return out;
}

Result<BootResult> boot_snapshot(const Target& t, const std::string& name, const std::string& new_name,
                                 const std::string& hypervisor, Deadline deadline) {
  auto l = vm::layout(t.storage, t.vm);
  if (!l) return std::move(l).error();
  auto lock = CatalogueLock::take(*l);
  if (!lock) return std::move(lock).error();
  auto loaded = load_catalogue(*l);
  if (!loaded) return std::move(loaded).error();
  if (!*loaded) return make_error(Errc::not_found, "VM '{}' has no snapshot '{}' (it has no snapshots)", l->name, name);
  auto plan = plan_boot(**loaded, t.storage, name, new_name);
  if (!plan) return std::move(plan).error();
  BootResult out{.already_exists = plan->already_exists, .vm = new_name, .definition = plan->copy.definition(),
                 .hypervisor = hypervisor};
  if (plan->already_exists) return out;
  if (::access(plan->copy.dir().c_str(), F_OK) == 0)
    return make_error(Errc::invalid_argument, "{} exists: VM '{}' (or something of that name) is on the storage already",
                      plan->copy.dir(), new_name);
  auto hv = virt::connect_libvirt(hypervisor);
  if (!hv) return std::move(hv).error();
  if (auto st = (*hv)->state(new_name); !st)
    return std::move(st).error();
  else if (st->power != vm::Power::absent)
    return make_error(Errc::invalid_argument, "a domain '{}' is defined on {} already", new_name, hypervisor);
  std::error_code ec;
  fs::create_directory(plan->copy.dir(), ec);
  if (ec) return make_error(Errc::backend, "cannot make {}: {}", plan->copy.dir(), ec.message());
  auto undo = [&] {
    unmake(plan->overlays);
    ::unlink(plan->copy.definition().c_str());
    fs::remove(plan->copy.dir(), ec);
  };
  if (auto r = make_overlays(plan->overlays, deadline); !r) {
    undo();
    return r.error();
  }
  if (auto r = file::write_atomically(plan->copy.definition(), plan->definition_xml, {.mode = 0644}); !r) {
    undo();
    return r.error();
  }
  // Recorded before the copy runs: from now on its base images are protected from delete.
  if (auto r = save_catalogue(*l, plan->after); !r) {
    undo();
    return r.error();
  }
  if (auto r = (*hv)->define(plan->definition_xml); !r) return r.error().context(fmt::format("define VM '{}'", new_name));
  if (auto r = (*hv)->start(new_name); !r) return r.error().context(fmt::format("start VM '{}'", new_name));
  out.disks = files_of(plan->overlays);
  return out;
}

}  // namespace evos::snapshot
