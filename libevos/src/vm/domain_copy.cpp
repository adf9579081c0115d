#include <evos/vm/domain_copy.hpp>

#include <fmt/core.h>
#include <pugixml.hpp>

#include <set>
#include <sstream>
#include <vector>

namespace evos::vm {
namespace {

void set_attribute(pugi::xml_node node, const char* name, const std::string& value) {
  auto a = node.attribute(name);
  if (!a) a = node.append_attribute(name);
  a.set_value(value.c_str());
}

}  // namespace

std::optional<std::string> name_problem(std::string_view name) {
  if (name.empty()) return "a VM name is empty";
  if (name.size() > 128) return "a VM name is longer than 128 characters";
  if (name.front() == '.' || name.front() == '-') return fmt::format("VM name '{}' starts with '{}'", name, name.front());
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                    c == '-' || c == '+';
    if (!ok) return fmt::format("VM name '{}' holds a character other than A-Z a-z 0-9 . _ - +", name);
  }
  return std::nullopt;
}

Result<std::string> copy_domain(std::string_view domain_xml, const DomainCopy& c) {
  if (auto p = name_problem(c.new_name)) return Error(Errc::invalid_argument, *p);
  pugi::xml_document doc;
  const auto parsed = doc.load_buffer(domain_xml.data(), domain_xml.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed)
    return make_error(Errc::invalid_config, "the domain XML is not XML: {} at offset {}", parsed.description(), parsed.offset);
  auto domain = doc.child("domain");
  if (!domain) return Error(Errc::invalid_config, "the domain XML has no <domain>");
  if (!domain.child("name")) domain.prepend_child("name");
  domain.child("name").text().set(c.new_name.c_str());
  domain.remove_child("uuid");
  domain.remove_child("metadata");
  auto devices = domain.child("devices");
  std::vector<pugi::xml_node> drop;
  std::set<std::string> placed;
  for (auto disk : devices.children("disk")) {
    if (std::string(disk.attribute("device").as_string("disk")) != "disk") continue;
    const std::string target = disk.child("target").attribute("dev").as_string();
    auto copied = c.disks.find(target);
    if (copied == c.disks.end()) {
      if (!c.drop_other_disks)
        return make_error(Errc::invalid_config, "disk {} of the domain has no copy (every disk must be copied)",
                          target.empty() ? "(without <target dev>)" : target);
      drop.push_back(disk);
      continue;
    }
    placed.insert(target);
    set_attribute(disk, "type", "file");
    disk.remove_child("source");
    disk.remove_child("backingStore");
    auto source = disk.child("target") ? disk.insert_child_before("source", disk.child("target")) : disk.append_child("source");
    source.append_attribute("file") = copied->second.file.c_str();
    auto driver = disk.child("driver");
    if (!driver) {
      driver = disk.prepend_child("driver");
      driver.append_attribute("name") = "qemu";
    }
    set_attribute(driver, "type", copied->second.format);
  }
  for (auto& d : drop) devices.remove_child(d);
  for (const auto& [target, file] : c.disks)
    if (!placed.count(target)) return make_error(Errc::invalid_config, "the domain has no disk {}", target);
  for (auto iface : devices.children("interface")) iface.remove_child("mac");
  // A console is often the serial port again (the same file): one new file per original path.
  std::map<std::string, std::string> moved;
  for (const char* kind : {"serial", "console", "parallel", "channel"}) {
    unsigned n = 0;
    for (auto dev : devices.children(kind)) {
      // A file device's own file, and the <log file> any device (a pty for the console) keeps.
      for (auto path : {std::string(dev.attribute("type").as_string()) == "file" ? dev.child("source").attribute("path")
                                                                                 : pugi::xml_attribute(),
                        dev.child("log").attribute("file")}) {
        if (!path) continue;
        auto [it, fresh] = moved.try_emplace(path.as_string(), fmt::format("{}/{}.{}-{}.log", c.file_dir, c.new_name, kind, n));
        if (fresh) ++n;
        path.set_value(it->second.c_str());
      }
    }
  }
  std::ostringstream out;
  domain.print(out, "  ", pugi::format_indent | pugi::format_no_declaration);
  return out.str();
}

}  // namespace evos::vm
