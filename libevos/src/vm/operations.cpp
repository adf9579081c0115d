#include <evos/vm/operations.hpp>

#include <evos/cluster/config_changes.hpp>
#include <evos/cluster/pacemaker_tools.hpp>
#include <evos/cluster/vm_ha.hpp>
#include <evos/file/atomic_write.hpp>
#include <evos/proc/run.hpp>
#include <evos/virt/libvirt_hypervisor.hpp>
#include <evos/vm/identity_store.hpp>
#include <evos/vm/service.hpp>

#include <fmt/core.h>
#include <fmt/format.h>

#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <system_error>

namespace evos::vm {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool is_active(Power p) { return p != Power::absent && p != Power::shut_off; }

// A qemu-img run; a non-zero exit is an error with its stderr.
Result<proc::Completed> qemu_img(const std::vector<std::string>& argv, Deadline deadline, std::string_view doing) {
  auto r = proc::run(argv, deadline);
  if (!r) return std::move(r).error().context(doing);
  if (!r->ok()) {
    std::string err = r->err.empty() ? r->out : r->err;
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    return make_error(Errc::backend, "{}: qemu-img exited with {}: {}", doing, r->exit_code, err);
  }
  return r;
}

VmIdentity random_identity() {
  std::random_device rd;  // getrandom(2) on Linux
  std::array<std::uint8_t, 19> bytes{};
  for (auto& b : bytes) b = static_cast<std::uint8_t>(rd());
  return make_identity(bytes);
}

// Removes what a create made unless it is committed: the VM directory (only if this create
// made it) and the libvirt definition (only if this create defined it).
class Undo {
 public:
  Undo(virt::LibvirtHypervisor& hv, Log& log) : hv_(hv), log_(log) {}
  Undo(const Undo&) = delete;
  Undo& operator=(const Undo&) = delete;
  ~Undo() {
    if (committed_) return;
    if (!domain_.empty())
      if (auto r = hv_.undefine(domain_); !r) log_.error("could not undefine {} again: {}", domain_, r.error().message());
    if (!dir_.empty()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
      if (ec) log_.error("could not remove {} again: {}", dir_, ec.message());
    }
  }
  void made_dir(std::string d) { dir_ = std::move(d); }
  void defined(std::string d) { domain_ = std::move(d); }
  void commit() { committed_ = true; }

 private:
  virt::LibvirtHypervisor& hv_;
  Log& log_;
  std::string dir_, domain_;
  bool committed_ = false;
};

Result<void> copy_boot_file(const std::string& from, const std::string& to) {
  std::error_code ec;
  if (!fs::is_regular_file(from, ec)) return make_error(Errc::not_found, "{} is not a readable file", from);
  fs::copy_file(from, to, fs::copy_options::none, ec);
  if (ec) return make_error(Errc::backend, "copy {} to {}: {}", from, to, ec.message());
  fs::permissions(to, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read, ec);
  return {};
}

Result<void> make_disk(const DiskSpec& d, Deadline deadline) {
  if (d.import_from.empty()) {
    auto r = qemu_img({"qemu-img", "create", "-q", "-f", d.format, d.file, std::to_string(d.bytes)}, deadline,
                      fmt::format("create disk {}", d.file));
    if (!r) return std::move(r).error();
    return {};
  }
  std::error_code ec;
  if (!fs::is_regular_file(d.import_from, ec) && !fs::is_block_file(d.import_from, ec))
    return make_error(Errc::not_found, "--import {} is not a disk image file", d.import_from);
  // -U: the image may be open elsewhere (a template's running VM); the copy is what it holds now.
  auto r = qemu_img({"qemu-img", "convert", "-U", "-O", d.format, d.import_from, d.file}, deadline,
                    fmt::format("import {} as {}", d.import_from, d.file));
  if (!r) return std::move(r).error();
  return {};
}

std::string canonical_or_same(const std::string& p) {
  std::error_code ec;
  auto c = fs::weakly_canonical(p, ec);
  return ec ? p : c.string();
}

}  // namespace

Result<Created> create_vm(const VmSpec& spec, const CreateOptions& o, virt::LibvirtHypervisor& hv, Log& log) {
  const auto& l = spec.layout;
  Created out{.spec = spec};
  if (!o.ha && (o.migration_unsafe || o.shutdown_timeout_s != 0))
    return Error(Errc::invalid_argument, "--migration-unsafe and --shutdown-timeout are settings of the cluster resource: they need --ha");
  std::error_code ec;
  if (fs::exists(l.definition(), ec)) {
    auto existing = read_domain_xml(l.definition());
    if (!existing) return std::move(existing).error();
    auto id = read_identity(*existing);
    if (id && domain_xml(spec, *id) == *existing) {
      out.outcome = CreateOutcome::already_exists;
      return out;
    }
    return make_error(Errc::invalid_argument, "a different VM {} exists already ({}): delete it first or choose another name",
                      l.name, l.definition());
  }
  if (fs::exists(l.dir(), ec))
    return make_error(Errc::invalid_argument,
                      "{} exists without a definition (another create running, or not made by evosctl): remove it or choose another name",
                      l.dir());
  if (!fs::is_directory(l.storage.empty() ? "/" : l.storage, ec))
    return make_error(Errc::not_found, "storage directory {} does not exist", l.storage);
  auto here = hv.state(l.name);
  if (!here) return std::move(here).error();
  if (here->power != Power::absent)
    return make_error(Errc::invalid_argument, "libvirt on this node has a domain {} already (not from {}): choose another name", l.name,
                      l.definition());
  // A network or bridge that is not on this node would only fail the first start (for a
  // cluster-managed VM: on whichever node the cluster picks); refused here, before anything.
  if (spec.net == NetKind::network) {
    // Defined is enough: an inactive network is started by libvirt's autostart or `net create`.
    auto has = hv.network_presence(spec.net_source);
    if (!has) return std::move(has).error();
    if (*has == NetworkPresence::missing)
      return make_error(Errc::not_found, "--network {}: libvirt on this node has no such network", spec.net_source);
  }
  if (spec.net == NetKind::bridge && !fs::is_directory("/sys/class/net/" + spec.net_source + "/bridge", ec))
    return make_error(Errc::not_found, "--bridge {}: this node has no such bridge", spec.net_source);
  if (o.ha) {
    // Pacemaker's id rules are stricter than libvirt's (a letter first, at most 64): checked
    // before anything is made, not when the resource is loaded at the end.
    if (auto r = cluster::check_vm_name(l.name); !r) return std::move(r).error().context("--ha");
    auto view = cluster::view_vm_ha(l.definition(), o.deadline, l.name);
    if (!view) return std::move(view).error();
    if (!view->cluster) return make_error(Errc::not_installed, "--ha: {}", view->why_no_cluster);
    if (view->id_taken)
      return make_error(Errc::invalid_argument, "the cluster has a {} already (not for {}): choose another name",
                        cluster::vm_resource_id(l.name), l.definition());
  }

  Undo undo(hv, log);
  // mkdir(2) is the claim on the name: of two creates at once, one gets EEXIST.
  if (::mkdir(l.dir().c_str(), 0711) != 0)
    return make_error(errno == EACCES || errno == EROFS ? Errc::permission_denied : Errc::backend, "create {}: {}", l.dir(),
                      std::strerror(errno));
  undo.made_dir(l.dir());
  ::chmod(l.dir().c_str(), 0711);  // whatever the umask: QEMU running as another user must reach its files
  if (spec.boot == BootKind::kernel) {
    if (auto r = copy_boot_file(spec.kernel_source, spec.kernel); !r) return std::move(r).error().context("--kernel");
    if (auto r = copy_boot_file(spec.initrd_source, spec.initrd); !r) return std::move(r).error().context("--initrd");
  }
  if (spec.boot == BootKind::cdrom && !fs::is_regular_file(spec.cdrom, ec))
    return make_error(Errc::not_found, "--cdrom {} is not a readable file", spec.cdrom);
  for (const auto& d : spec.disks) {
    log.info("creating disk {}", d.file);
    if (auto r = make_disk(d, o.deadline); !r) return std::move(r).error();
  }
  const std::string xml = domain_xml(spec, random_identity());
  if (auto r = file::write_atomically(l.definition(), xml, {.mode = 0644, .replace = false}); !r) return std::move(r).error();
  if (o.ha) {
    auto id = cluster::enable_vm_ha(o.ha_template,
                                    {.name = l.name, .config = l.definition(), .migration_unsafe = o.migration_unsafe,
                                     .force_stop = false, .shutdown_timeout_s = o.shutdown_timeout_s},
                                    o.start, o.deadline);
    if (!id) return std::move(id).error().context(fmt::format("put {} under the cluster", l.name));
    out.resource = *id;
    undo.commit();  // in the cluster now: from here on, `vm delete` takes it out
    if (o.start) {
      auto st = cluster::wait_for_resource(*id, o.deadline, [](const cluster::ResourceStatus* r) { return cluster::vm_resource_reached(r, true); });
      if (!st) return std::move(st).error().context(fmt::format("{} was created; starting it", l.name));
      out.started = true;
    }
    return out;
  }
  if (auto r = hv.define(xml); !r) return std::move(r).error().context(fmt::format("define {} in libvirt", l.name));
  undo.defined(l.name);
  undo.commit();
  if (o.start) {
    if (auto r = hv.start(l.name); !r) return std::move(r).error().context(fmt::format("{} was created; starting it", l.name));
    out.started = true;
  }
  return out;
}

Result<VmFacts> vm_facts(const VmLayout& layout, bool no_cluster, Deadline deadline) {
  std::error_code ec;
  if (!fs::exists(layout.definition(), ec))
    return make_error(Errc::not_found, "no VM {} in {} (no {})", layout.name, layout.storage, layout.definition());
  auto xml = read_domain_xml(layout.definition());
  if (!xml) return std::move(xml).error();
  VmFacts f{.layout = layout, .definition_xml = std::move(*xml), .ha = {}};
  if (no_cluster) return f;
  auto view = cluster::view_vm_ha(layout.definition(), deadline);
  if (!view) return std::move(view).error();
  if (!view->cluster && view->installed)
    return make_error(Errc::not_installed,
                      "cannot tell whether the cluster manages VM {}: {}; --no-cluster acts through libvirt on this node alone",
                      layout.name, view->why_no_cluster);
  f.ha = std::move(*view);
  return f;
}

Result<PowerResult> power_vm(const VmFacts& f, PowerAction what, std::chrono::seconds shutdown, virt::LibvirtHypervisor& hv,
                             Log& log, Deadline deadline) {
  PowerResult out;
  const std::string& name = f.layout.name;
  if (f.ha.resource) {
    out.through_cluster = true;
    const auto& id = *f.ha.resource;
    if (what == PowerAction::restart) {
      if (auto r = cluster::set_vm_target_role(id, false, deadline); !r) return std::move(r).error();
    }
    const bool started = what != PowerAction::stop;
    out.changed = what == PowerAction::restart || f.ha.active != started;
    auto st = cluster::set_vm_target_role(id, started, deadline);
    if (!st) return std::move(st).error();
    if (const auto* r = st->resource(id)) out.nodes = r->nodes;
    return out;
  }
  Params p;
  p.config = f.layout.definition();
  p.hypervisor = hv.uri();
  p.shutdown_timeout = shutdown;
  Service svc(hv, log, p, DomainIdentity{.name = name, .uuid = ""});
  auto st = hv.state(name);
  if (!st) return std::move(st).error();
  if (what != PowerAction::start) {
    out.changed = is_active(st->power);
    if (auto r = svc.stop(what == PowerAction::restart ? deadline.minus(std::min<Millis>(deadline.remaining() / 2, 30s)) : deadline); !r)
      return std::move(r).error();
  }
  if (what != PowerAction::stop) {
    if (what == PowerAction::start) out.changed = !is_active(st->power);
    if (auto r = svc.start(f.definition_xml, deadline); !r) return std::move(r).error();
  }
  return out;
}

Result<std::map<std::string, std::vector<std::string>>> storage_backing_chains(const std::string& storage,
                                                                                const std::string& skip_dir, Deadline deadline) {
  std::map<std::string, std::vector<std::string>> chains;
  std::error_code ec;
  const std::string root = storage.empty() ? "/" : storage;
  std::vector<std::string> images;
  for (fs::directory_iterator vm(root, ec), end; !ec && vm != end; vm.increment(ec)) {
    if (!vm->is_directory(ec) || vm->is_symlink(ec) || vm->path() == fs::path(skip_dir)) continue;
    for (const auto& sub : {vm->path(), vm->path() / "snapshots"}) {
      std::error_code e2;
      for (fs::directory_iterator f(sub, e2), fend; !e2 && f != fend; f.increment(e2))
        if (f->path().extension() == ".qcow2" && f->is_regular_file(e2)) images.push_back(f->path().string());
    }
  }
  if (ec) return make_error(Errc::backend, "list {}: {}", root, ec.message());
  for (const auto& img : images) {
    auto r = qemu_img({"qemu-img", "info", "--backing-chain", "-U", "--output=json", img}, deadline,
                      fmt::format("read the backing chain of {}", img));
    if (!r) return std::move(r).error();
    auto chain = parse_backing_chain(r->out);
    if (!chain) return std::move(chain).error().context(img);
    for (auto& c : *chain) c = canonical_or_same(c);
    chains.emplace(canonical_or_same(img), std::move(*chain));
  }
  return chains;
}

Result<Deleted> delete_vm(const VmFacts& f, bool yes, bool keep_disks, virt::LibvirtHypervisor& hv, Deadline deadline) {
  const auto& l = f.layout;
  DeleteFacts facts{.name = l.name, .yes = yes, .keep_disks = keep_disks};
  // The cheap refusal first: no --yes asks nothing of libvirt, the cluster or the images.
  if (!yes) return std::move(plan_delete(facts, false)).error();
  auto st = hv.state(l.name);
  if (!st) return std::move(st).error();
  facts.state_here = describe(*st);
  facts.active_here = is_active(st->power);
  facts.ha_resource = f.ha.resource;
  facts.ha_active = f.ha.active;
  facts.ha_nodes = f.ha.nodes;
  if (!keep_disks) {
    auto disks = defined_disks(f.definition_xml);
    if (!disks) return std::move(disks).error();
    // Everything under the VM's directory goes with it: its current disks, and the older images
    // they stand on (the base image, snapshot images), which a VM booted from a snapshot or a
    // linked clone may read as its backing file.
    std::vector<std::string> ours;
    for (const auto& d : *disks) ours.push_back(canonical_or_same(d.file));
    std::error_code walk;
    for (fs::recursive_directory_iterator it(l.dir(), walk), end; !walk && it != end; it.increment(walk))
      if (it->is_regular_file(walk)) ours.push_back(canonical_or_same(it->path().string()));
    auto chains = storage_backing_chains(l.storage, l.dir(), deadline);
    if (!chains) return std::move(chains).error();
    facts.backing_users = backing_uses(ours, *chains);
  }
  auto plan = plan_delete(facts, st->power != Power::absent);
  if (!plan) return std::move(plan).error();

  Deleted out;
  if (plan->remove_ha) {
    auto removed = cluster::remove_resource(*f.ha.resource, false, deadline);
    if (!removed) return std::move(removed).error().context(fmt::format("remove {} from the cluster", *f.ha.resource));
    out.steps.push_back(fmt::format("cluster resource {} ({})", *f.ha.resource, fmt::join(removed->ids, ", ")));
  }
  if (plan->undefine) {
    if (auto r = hv.undefine(l.name); !r) return std::move(r).error();
    out.steps.push_back("libvirt definition on this node");
  }
  std::error_code ec;
  if (plan->remove_disks) {
    fs::remove_all(l.dir(), ec);
    if (ec) return make_error(Errc::backend, "remove {}: {}", l.dir(), ec.message());
    out.steps.push_back(l.dir());
  } else {
    // The definition last among the files: a VM directory without one is what a half-way
    // delete leaves, and create refuses to reuse it.
    for (const auto& p : {l.serial_log(), l.dir() + "/" + l.name + ".kernel", l.dir() + "/" + l.name + ".initrd", l.definition()}) {
      if (fs::remove(p, ec)) out.steps.push_back(p);
      if (ec) return make_error(Errc::backend, "remove {}: {}", p, ec.message());
    }
  }
  return out;
}

}  // namespace evos::vm
