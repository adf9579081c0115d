#include <evos/snapshot/plan.hpp>

#include <evos/cluster/vm_ha.hpp>
#include <evos/vm/domain_copy.hpp>

#include <fmt/core.h>
#include <fmt/ranges.h>
#include <pugixml.hpp>

#include <algorithm>
#include <sstream>

namespace evos::snapshot {
namespace {

// The overlay file names of serial `n`: snapshots_dir/NAME-TARGET.N.qcow2.
std::string overlay_file(const vm::VmLayout& layout, const std::string& target, unsigned n) {
  return fmt::format("{}/{}-{}.{}.qcow2", layout.snapshots_dir(), layout.name, target, n);
}

// The first serial from the catalogue's next one whose files are all free: neither an image the
// catalogue knows nor a file on disk (left by an interrupted command; never overwritten).
unsigned free_serial(const Catalogue& c, const vm::VmLayout& layout, const std::map<std::string, std::string>& disks,
                     const std::set<std::string>& existing) {
  for (unsigned n = c.next_serial;; ++n) {
    bool free = true;
    for (const auto& [target, file] : disks) {
      const auto f = overlay_file(layout, target, n);
      if (existing.count(f) || c.images.count(f)) free = false;
    }
    if (free) return n;
  }
}

// New overlays (serial from free_serial) on `bases` (target -> image), added to `after`.
std::vector<NewOverlay> add_overlays(Catalogue& after, const vm::VmLayout& layout, const std::map<std::string, std::string>& bases,
                                     const std::set<std::string>& existing) {
  const unsigned n = free_serial(after, layout, bases, existing);
  std::vector<NewOverlay> out;
  for (const auto& [target, base] : bases) {
    NewOverlay o{target, overlay_file(layout, target, n), base, after.images.at(base).format};
    after.images.emplace(o.file, Image{o.file, "qcow2", base, true});
    out.push_back(std::move(o));
  }
  after.next_serial = n + 1;
  return out;
}

std::map<std::string, DiskSource> sources_of(const std::vector<NewOverlay>& overlays) {
  std::map<std::string, DiskSource> out;
  for (const auto& o : overlays) out.emplace(o.target, DiskSource{o.file, "qcow2"});
  return out;
}

// Removes the images nothing needs from the catalogue; returns their files.
std::vector<std::string> drop_unneeded(Catalogue& c) {
  auto files = unneeded_images(c);
  for (const auto& f : files) c.images.erase(f);
  return files;
}

Error no_snapshot(const Catalogue& c, std::string_view name) {
  return make_error(Errc::not_found, "VM '{}' has no snapshot '{}'", c.vm, name);
}

}  // namespace

std::vector<std::string> unneeded_images(const Catalogue& c) {
  std::set<std::string> needed;
  auto need = [&](const std::string& file) {
    for (std::optional<std::string> f = file; f && needed.insert(*f).second;) {
      auto it = c.images.find(*f);
      f = it == c.images.end() ? std::nullopt : it->second.backing;
    }
  };
  for (const auto& s : c.snapshots)
    for (const auto& [t, f] : s.disks) need(f);
  for (const auto& [t, f] : c.current) need(f);
  std::vector<std::string> out;
  for (const auto& [file, image] : c.images)
    if (image.owned && !needed.count(file)) out.push_back(file);
  return out;
}

Result<CreatePlan> plan_create(const Catalogue& before, const vm::VmLayout& layout, std::string_view domain_xml,
                               const SnapshotInfo& info, const std::set<std::string>& existing) {
  if (auto p = snapshot_name_problem(info.name)) return Error(Errc::invalid_argument, *p);
  CreatePlan plan;
  if (before.find(info.name)) {
    plan.already_exists = true;
    plan.after = before;
    return plan;
  }
  if (auto r = check_definition(before, domain_xml); !r) return r.error();
  plan.after = before;
  plan.overlays = add_overlays(plan.after, layout, before.current, existing);
  plan.after.snapshots.push_back(Snapshot{.name = info.name,
                                          .parent = before.current_parent,
                                          .created = info.created,
                                          .node = info.node,
                                          .consistency = info.consistency,
                                          .was_running = info.running,
                                          .disks = before.current,
                                          .domain_xml = std::string(domain_xml)});
  plan.after.current.clear();
  for (const auto& o : plan.overlays) plan.after.current.emplace(o.target, o.file);
  plan.after.current_parent = info.name;
  auto xml = with_disk_sources(domain_xml, sources_of(plan.overlays));
  if (!xml) return std::move(xml).error();
  plan.definition_xml = std::move(*xml);
  return plan;
}

Result<RevertPlan> plan_revert(const Catalogue& before, const vm::VmLayout& layout, std::string_view name,
                               const std::set<std::string>& existing) {
  const Snapshot* snap = before.find(name);
  if (!snap) return no_snapshot(before, name);
  RevertPlan plan;
  plan.after = before;
  plan.overlays = add_overlays(plan.after, layout, snap->disks, existing);
  plan.after.current.clear();
  for (const auto& o : plan.overlays) plan.after.current.emplace(o.target, o.file);
  plan.after.current_parent = snap->name;
  // The definition as it was when the snapshot was taken (as libvirt and Proxmox restore it).
  auto xml = with_disk_sources(snap->domain_xml, sources_of(plan.overlays));
  if (!xml) return std::move(xml).error().context(fmt::format("the definition saved with snapshot '{}'", name));
  plan.definition_xml = std::move(*xml);
  plan.remove = drop_unneeded(plan.after);
  return plan;
}

Result<DeletePlan> plan_delete(const Catalogue& before, std::string_view name) {
  const Snapshot* snap = before.find(name);
  if (!snap) return no_snapshot(before, name);
  if (auto kids = before.children(name); !kids.empty())
    return make_error(Errc::invalid_argument,
                      "snapshot '{}' of VM '{}' has child snapshots ({}): their images are overlays on its image, and "
                      "merging images (a block commit) is not done by evos; delete the children first",
                      name, before.vm, fmt::join(kids, ", "));
  for (const auto& copy : before.copies)
    if (copy.snapshot == name)
      return make_error(Errc::invalid_argument,
                        "VM '{}' was booted from snapshot '{}' of VM '{}' and its disks are overlays on the snapshot's "
                        "images; delete VM '{}' first",
                        copy.vm, name, before.vm, copy.vm);
  DeletePlan plan;
  plan.after = before;
  const auto parent = snap->parent;
  const auto disks = snap->disks;
  std::erase_if(plan.after.snapshots, [&](const Snapshot& s) { return s.name == name; });
  if (plan.after.current_parent && *plan.after.current_parent == name) plan.after.current_parent = parent;
  plan.remove = drop_unneeded(plan.after);
  for (const auto& [target, file] : disks)
    if (std::find(plan.remove.begin(), plan.remove.end(), file) == plan.remove.end()) plan.kept.push_back(file);
  return plan;
}

Result<BootPlan> plan_boot(const Catalogue& before, std::string_view storage, std::string_view name, std::string_view new_name) {
  auto copy = vm::layout(storage, new_name);
  if (!copy) return std::move(copy).error();
  const Snapshot* snap = before.find(name);
  if (!snap) return no_snapshot(before, name);
  if (new_name == before.vm)
    return make_error(Errc::invalid_argument, "a snapshot booted as a VM needs a new name, not '{}' (revert goes back to it)",
                      new_name);
  BootPlan plan;
  plan.copy = *copy;
  plan.after = before;
  for (const auto& c : before.copies) {
    if (c.vm != new_name) continue;
    if (c.snapshot != name)
      return make_error(Errc::invalid_argument, "VM '{}' was already booted from snapshot '{}' of VM '{}'", new_name, c.snapshot,
                        before.vm);
    plan.already_exists = true;
    return plan;
  }
  std::map<std::string, vm::CopiedDisk> disks;
  Copy record{std::string(new_name), snap->name, {}};
  for (const auto& [target, image] : snap->disks) {
    NewOverlay o{target, copy->disk(target, "qcow2"), image, before.images.at(image).format};
    disks.emplace(target, vm::CopiedDisk{o.file, "qcow2"});
    record.disks.emplace(target, o.file);
    plan.overlays.push_back(std::move(o));
  }
  auto xml = vm::copy_domain(snap->domain_xml, {.new_name = std::string(new_name), .disks = disks, .file_dir = copy->dir()});
  if (!xml) return std::move(xml).error().context(fmt::format("the definition saved with snapshot '{}'", name));
  plan.definition_xml = std::move(*xml);
  plan.after.copies.push_back(std::move(record));
  return plan;
}

std::string live_snapshot_xml(std::string_view name, const std::vector<NewOverlay>& overlays) {
  pugi::xml_document doc;
  auto snap = doc.append_child("domainsnapshot");
  snap.append_child("name").text().set(std::string(name).c_str());
  snap.append_child("description").text().set("evos snapshot (catalogue in the VM's directory, docs/vm-ops.md)");
  auto disks = snap.append_child("disks");
  for (const auto& o : overlays) {
    auto d = disks.append_child("disk");
    d.append_attribute("name") = o.target.c_str();
    d.append_attribute("snapshot") = "external";
    d.append_attribute("type") = "file";
    d.append_child("driver").append_attribute("type") = "qcow2";
    d.append_child("source").append_attribute("file") = o.file.c_str();
  }
  std::ostringstream out;
  snap.print(out, "  ", pugi::format_indent | pugi::format_no_declaration);
  return out.str();
}

Result<std::optional<HaResource>> find_ha_resource(std::string_view cib_xml, const std::vector<std::string>& definitions) {
  auto all = cluster::vm_resources(cib_xml);
  if (!all) return all.error();
  for (auto& r : *all)
    if (std::find(definitions.begin(), definitions.end(), r.config) != definitions.end())
      return std::optional<HaResource>(HaResource{std::move(r.id), std::move(r.target_role)});
  return std::optional<HaResource>();
}

}  // namespace evos::snapshot
