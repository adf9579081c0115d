#include <evos/cluster/vm_ha.hpp>

#include <fmt/core.h>
#include <pugixml.hpp>

#include <set>

namespace evos::cluster {

namespace {
std::string nvpair(pugi::xml_node element, const char* set, std::string_view name) {
  for (auto attributes : element.children(set))
    for (auto nv : attributes.children("nvpair"))
      if (std::string_view(nv.attribute("name").as_string()) == name) return nv.attribute("value").as_string();
  return {};
}
}  // namespace

Result<std::vector<VmResource>> vm_resources(std::string_view xml) {
  pugi::xml_document doc;
  const auto parsed = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed)
    return make_error(Errc::invalid_config, "the CIB configuration is not XML: {} at offset {}", parsed.description(), parsed.offset);
  pugi::xml_node config = doc.child("configuration");
  if (!config) config = doc.child("cib").child("configuration");
  if (!config)
    return make_error(Errc::invalid_config, "not a CIB configuration (root element <{}>, no <configuration>)", doc.document_element().name());
  std::set<std::string> promoted;
  for (const auto& c : config.child("constraints").children("rsc_colocation")) {
    const std::string_view role = c.attribute("with-rsc-role").as_string();
    const std::string_view score = c.attribute("score").as_string();
    if ((role == "Promoted" || role == "Master") && (score == "INFINITY" || score == "+INFINITY" || score == "inf"))
      if (const std::string rsc = c.attribute("rsc").as_string(); !rsc.empty()) promoted.insert(rsc);
  }
  std::vector<VmResource> out;
  for (const auto& x : config.child("resources").select_nodes(".//primitive[@class='ocf' and @provider='evos' and @type='vm']")) {
    const auto p = x.node();
    VmResource r{p.attribute("id").as_string(), nvpair(p, "instance_attributes", "config"), std::nullopt, false};
    if (auto role = nvpair(p, "meta_attributes", "target-role"); !role.empty()) r.target_role = std::move(role);
    r.promoted_mirror = promoted.contains(r.id);
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::optional<std::string>> find_vm_resource(std::string_view xml, std::string_view definition) {
  auto all = vm_resources(xml);
  if (!all) return all.error();
  for (const auto& r : *all)
    if (r.config == definition) return std::optional<std::string>(r.id);
  return std::optional<std::string>();
}

Result<bool> has_id(std::string_view xml, std::string_view id) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size()))
    return Error(Errc::invalid_argument, "the CIB configuration is not well-formed XML");
  for (auto n : doc.select_nodes("//*[@id]"))
    if (std::string_view(n.node().attribute("id").as_string()) == id) return true;
  return false;
}

Result<std::string> vm_shared_stopped(std::string_view crm) {
  std::string text(crm);
  std::size_t found = std::string::npos, count = 0;
  for (std::size_t at = 0; (at = text.find("meta ", at)) != std::string::npos; at += 5) {
    const bool word = at == 0 || text[at - 1] == ' ' || text[at - 1] == '\t';
    if (word) {
      found = at;
      ++count;
    }
  }
  if (count != 1 || text.find("primitive ") == std::string::npos)
    return Error(Errc::invalid_config, "the rendered vm-shared.crm has no single primitive with a meta part");
  text.insert(found + 5, "target-role=Stopped ");
  return text;
}

bool vm_resource_reached(const ResourceStatus* r, bool started) {
  // crm_mon shows an action in flight as role Starting/Stopping with active="true" (and a stop
  // asked for during a start may be reported before it begins): only the final roles count.
  if (!started) return !r || (!r->active && (r->role.empty() || r->role == "Stopped"));
  return r && r->active && r->role == "Started" && r->nodes.size() == 1;
}

}  // namespace evos::cluster
