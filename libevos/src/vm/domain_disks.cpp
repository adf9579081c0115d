#include <evos/vm/domain_disks.hpp>

#include <pugixml.hpp>

#include <set>

namespace evos::vm {

Result<std::vector<DiskDevice>> domain_disks(std::string_view domain_xml) {
  pugi::xml_document doc;
  const auto parsed = doc.load_buffer(domain_xml.data(), domain_xml.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed)
    return make_error(Errc::invalid_config, "the domain XML is not XML: {} at offset {}", parsed.description(), parsed.offset);
  const auto domain = doc.child("domain");
  if (!domain) return Error(Errc::invalid_config, "the domain XML has no <domain>");
  std::vector<DiskDevice> out;
  std::set<std::string> targets;
  for (const auto& disk : domain.child("devices").children("disk")) {
    if (std::string(disk.attribute("device").as_string("disk")) != "disk") continue;
    DiskDevice d;
    d.target = disk.child("target").attribute("dev").as_string();
    if (d.target.empty()) return Error(Errc::invalid_config, "a disk of the domain has no <target dev>");
    if (!targets.insert(d.target).second) return make_error(Errc::invalid_config, "the domain has two disks {}", d.target);
    d.type = disk.attribute("type").as_string("file");
    if (d.type == "file")
      d.source = disk.child("source").attribute("file").as_string();
    else if (d.type == "block")
      d.source = disk.child("source").attribute("dev").as_string();
    d.format = disk.child("driver").attribute("type").as_string();
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace evos::vm
