#include <evos/backup/vm_plan.hpp>

#include <evos/vm/domain_copy.hpp>
#include <evos/vm/domain_disks.hpp>

#include <pugixml.hpp>

#include <set>
#include <sstream>

namespace evos::backup {
namespace {

Result<pugi::xml_document> load(std::string_view xml, std::string_view what) {
  pugi::xml_document doc;
  const auto parsed = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed) return make_error(Errc::invalid_config, "{} is not XML: {} at offset {}", what, parsed.description(), parsed.offset);
  return doc;
}

std::string dump(const pugi::xml_node& node) {
  std::ostringstream out;
  node.print(out, "  ", pugi::format_indent | pugi::format_no_declaration);
  return out.str();
}

}  // namespace

Result<std::vector<VmDisk>> backup_disks(std::string_view domain_xml) {
  auto disks = vm::domain_disks(domain_xml);
  if (!disks) return std::move(disks).error();
  std::vector<VmDisk> out;
  for (const auto& disk : *disks) {
    if (disk.type != "file" && disk.type != "block")
      return make_error(Errc::unimplemented, "disk {} is of type '{}': evos backs up file and block disks", disk.target, disk.type);
    if (disk.source.empty()) return make_error(Errc::invalid_config, "disk {} has no source", disk.target);
    out.push_back({.target = disk.target, .source = disk.source, .format = disk.format.empty() ? "raw" : disk.format,
                   .block = disk.type == "block"});
  }
  if (out.empty()) return Error(Errc::invalid_config, "the domain has no disk to back up");
  return out;
}

std::string checkpoint_name(std::string_view backup_time) { return fmt::format("evos-{}", backup_time); }

IncrementalPlan plan_incremental(const IncrementalInput& in) {
  if (!in.base) return {false, "no earlier backup of this VM in the store: full read"};
  const Manifest& b = *in.base;
  if (b.mode != Mode::snapshot && b.mode != Mode::suspend) return {false, fmt::format("the last backup ({}) was not taken live: full read", b.id())};
  if (!b.checkpoint) return {false, fmt::format("the last backup ({}) made no checkpoint: full read", b.id())};
  if (!in.run_token) return {false, "the VM was started since the last backup (no run token in its live XML): full read"};
  if (!b.run_token || *b.run_token != *in.run_token)
    return {false, fmt::format("the VM was stopped or restarted since the last backup ({}): its dirty bitmap may have missed writes, full read", b.id())};
  std::size_t capable = 0;
  for (const auto& d : in.disks) {
    const DiskRecord* old = nullptr;
    for (const auto& o : b.disks)
      if (o.target == d.target) old = &o;
    if (!old) return {false, fmt::format("disk {} is new since the last backup: full read", d.target)};
    auto size = in.sizes.find(d.target);
    if (size == in.sizes.end() || size->second != old->size)
      return {false, fmt::format("disk {} changed size since the last backup: full read", d.target)};
    capable += d.bitmap_capable() ? 1 : 0;
  }
  if (capable == 0) return {false, "no disk can keep a dirty bitmap (only qcow2 can): every block read and hashed"};
  return {true, fmt::format("dirty bitmap since {} ({})", *b.checkpoint, b.id())};
}

std::string checkpoint_xml(std::string_view name, const std::vector<VmDisk>& disks) {
  pugi::xml_document doc;
  auto cp = doc.append_child("domaincheckpoint");
  cp.append_child("name").text().set(std::string(name).c_str());
  auto list = cp.append_child("disks");
  for (const auto& d : disks) {
    auto disk = list.append_child("disk");
    disk.append_attribute("name") = d.target.c_str();
    disk.append_attribute("checkpoint") = d.bitmap_capable() ? "bitmap" : "no";
  }
  return dump(cp);
}

std::string pull_backup_xml(const std::vector<VmDisk>& disks, std::string_view socket, std::string_view scratch_dir,
                            const std::optional<std::string>& incremental_from) {
  pugi::xml_document doc;
  auto b = doc.append_child("domainbackup");
  b.append_attribute("mode") = "pull";
  if (incremental_from) b.append_child("incremental").text().set(incremental_from->c_str());
  auto server = b.append_child("server");
  server.append_attribute("transport") = "unix";
  server.append_attribute("socket") = std::string(socket).c_str();
  auto list = b.append_child("disks");
  for (const auto& d : disks) {
    auto disk = list.append_child("disk");
    disk.append_attribute("name") = d.target.c_str();
    disk.append_attribute("backup") = "yes";
    disk.append_attribute("type") = "file";
    disk.append_child("scratch").append_attribute("file") = fmt::format("{}/{}.scratch.qcow2", scratch_dir, d.target).c_str();
  }
  return dump(b);
}

Result<std::string> checkpoint_for_redefine(std::string_view xml) {
  auto doc = load(xml, "the checkpoint XML");
  if (!doc) return std::move(doc).error();
  auto cp = doc->child("domaincheckpoint");
  if (!cp || !cp.child("name")) return Error(Errc::invalid_config, "the checkpoint XML has no <domaincheckpoint><name>");
  cp.remove_child("parent");
  return dump(cp);
}

std::string run_token_xml(std::string_view token) { return fmt::format("<run token=\"{}\"/>", token); }

std::optional<std::string> parse_run_token(std::string_view metadata_xml) {
  pugi::xml_document doc;
  if (!doc.load_buffer(metadata_xml.data(), metadata_xml.size())) return std::nullopt;
  const std::string token = doc.first_child().attribute("token").as_string();
  if (token.empty() || token.size() > 64) return std::nullopt;
  for (char c : token)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
  return token;
}

Result<std::string> domain_for_restore(std::string_view domain_xml, std::string_view new_name,
                                       const std::map<std::string, std::string>& disk_files, std::string_view file_dir) {
  vm::DomainCopy copy{.new_name = std::string(new_name), .drop_other_disks = true, .file_dir = std::string(file_dir)};
  for (const auto& [target, file] : disk_files) copy.disks[target] = vm::CopiedDisk{.file = file, .format = "raw"};
  auto xml = vm::copy_domain(domain_xml, copy);
  if (!xml) return Error(xml.error().code(), "the backed-up domain: " + xml.error().message());
  return xml;
}

}  // namespace evos::backup
