#include <evos/vm/storage_check.hpp>

#include <fmt/format.h>
#include <pugixml.hpp>

#include <filesystem>

namespace evos::vm {

std::string_view to_string(NeedKind k) {
  switch (k) {
    case NeedKind::definition: return "definition";
    case NeedKind::disk: return "disk";
    case NeedKind::cdrom: return "cdrom";
    case NeedKind::kernel: return "kernel";
    case NeedKind::initrd: return "initrd";
    case NeedKind::loader: return "loader";
  }
  return "?";
}

std::string_view to_string(StorageProblem p) {
  switch (p) {
    case StorageProblem::definition_invalid: return "definition-invalid";
    case StorageProblem::node_unreachable: return "node-unreachable";
    case StorageProblem::directory_unavailable: return "directory-unavailable";
    case StorageProblem::file_missing: return "file-missing";
    case StorageProblem::directory_unlisted: return "directory-unlisted";
    case StorageProblem::device_unchecked: return "device-unchecked";
  }
  return "?";
}

namespace {

Result<void> check_path(std::string_view path, std::string_view what) {
  if (path.empty() || path.front() != '/')
    return make_error(Errc::invalid_config, "{} '{}' is not an absolute path", what, path);
  return {};
}

std::string describe(const NeededFile& f) {
  switch (f.kind) {
    case NeedKind::definition: return fmt::format("its definition {}", f.path);
    case NeedKind::disk: return fmt::format("disk {} ({})", f.target, f.path);
    case NeedKind::cdrom: return fmt::format("CD-ROM {} ({})", f.target, f.path);
    case NeedKind::kernel:
    case NeedKind::initrd:
    case NeedKind::loader: return fmt::format("its {} {}", to_string(f.kind), f.path);
  }
  return f.path;
}

std::string parent_of(const std::string& path) { return std::filesystem::path(path).parent_path().string(); }
std::string name_of(const std::string& path) { return std::filesystem::path(path).filename().string(); }

}  // namespace

Result<StorageNeeds> storage_needs(std::string_view config_path, std::string_view domain_xml) {
  if (auto r = check_path(config_path, "the definition"); !r) return std::move(r).error();
  pugi::xml_document doc;
  const auto parsed = doc.load_buffer(domain_xml.data(), domain_xml.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed)
    return make_error(Errc::invalid_config, "the domain XML is not XML: {} at offset {}", parsed.description(), parsed.offset);
  const auto domain = doc.child("domain");
  if (!domain) return Error(Errc::invalid_config, "the domain XML has no <domain>");
  StorageNeeds out;
  out.files.push_back({std::string(config_path), NeedKind::definition, ""});
  for (const auto& disk : domain.child("devices").children("disk")) {
    const std::string device = disk.attribute("device").as_string("disk");
    const std::string type = disk.attribute("type").as_string("file");
    const std::string target = disk.child("target").attribute("dev").as_string();
    const auto source = disk.child("source");
    if (type == "file") {
      const std::string file = source.attribute("file").as_string();
      if (file.empty()) continue;  // an empty CD-ROM drive
      if (auto r = check_path(file, fmt::format("the file of disk '{}'", target)); !r) return std::move(r).error();
      out.files.push_back({file, device == "cdrom" ? NeedKind::cdrom : NeedKind::disk, target});
    } else if (type == "block") {
      const std::string dev = source.attribute("dev").as_string();
      if (dev.empty()) continue;
      if (auto r = check_path(dev, fmt::format("the device of disk '{}'", target)); !r) return std::move(r).error();
      out.devices.push_back({dev, target});
    }
  }
  // Direct kernel boot and firmware (formatdomain.html, "Operating system booting").
  const auto os = domain.child("os");
  for (const auto& [tag, kind] : {std::pair{"kernel", NeedKind::kernel}, {"initrd", NeedKind::initrd}, {"loader", NeedKind::loader}}) {
    const std::string path = os.child(tag).text().as_string();
    if (path.empty()) continue;
    if (auto r = check_path(path, fmt::format("the {}", tag)); !r) return std::move(r).error();
    out.files.push_back({path, kind, ""});
  }
  return out;
}

std::set<std::string> directories_needed(const std::vector<VmStorage>& vms) {
  std::set<std::string> out;
  for (const auto& vm : vms)
    if (vm.needs)
      for (const auto& f : vm.needs->files) out.insert(parent_of(f.path));
  return out;
}

std::vector<StorageFinding> check_vm_storage(const std::vector<VmStorage>& vms, const std::vector<NodeFiles>& nodes) {
  std::vector<StorageFinding> out;
  for (const auto& vm : vms) {
    if (!vm.needs_error.empty())
      out.push_back({vm.resource, "", StorageProblem::definition_invalid, "",
                     fmt::format("{}'s definition names storage no node can be checked for: {}", vm.resource, vm.needs_error)});
    if (!vm.needs) continue;
    for (const auto& node : nodes) {
      if (node.error) {
        out.push_back({vm.resource, node.node, StorageProblem::node_unreachable, "",
                       fmt::format("{}'s storage on {} could not be checked: {}", vm.resource, node.node, *node.error)});
        continue;
      }
      std::set<std::string> reported_dirs;  // one finding per unavailable directory, not per file
      for (const auto& f : vm.needs->files) {
        const auto dir = parent_of(f.path);
        const auto it = node.directories.find(dir);
        if (it == node.directories.end()) {
          if (reported_dirs.insert(dir).second)
            out.push_back({vm.resource, node.node, StorageProblem::directory_unlisted, dir,
                           fmt::format("{} was not listed on {}, so {} is not checked there", dir, node.node, describe(f))});
          continue;
        }
        if (it->second.error) {
          if (reported_dirs.insert(dir).second)
            out.push_back({vm.resource, node.node, StorageProblem::directory_unavailable, dir,
                           fmt::format("{} needs {} on {}, which that node cannot read: {}", vm.resource, dir, node.node, *it->second.error)});
          continue;
        }
        if (!it->second.files.contains(name_of(f.path)))
          out.push_back({vm.resource, node.node, StorageProblem::file_missing, f.path,
                         fmt::format("{}: {} is missing on {}", vm.resource, describe(f), node.node)});
      }
      if (!vm.promoted_mirror)
        for (const auto& d : vm.needs->devices)
          out.push_back({vm.resource, node.node, StorageProblem::device_unchecked, d.path,
                         fmt::format("{}: disk {} is the block device {}; no colocation with a promoted mirror ties the VM to the "
                                     "nodes that have it, and cluster check cannot see whether {} has it",
                                     vm.resource, d.target, d.path, node.node)});
    }
  }
  return out;
}

}  // namespace evos::vm
