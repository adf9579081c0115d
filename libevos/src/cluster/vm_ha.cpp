#include <evos/cluster/vm_ha.hpp>

#include <fmt/core.h>
#include <pugixml.hpp>

namespace evos::cluster {

Result<std::optional<std::string>> find_vm_resource(std::string_view xml, std::string_view definition) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size()))
    return Error(Errc::invalid_argument, "the CIB configuration is not well-formed XML");
  auto root = doc.document_element();
  if (std::string_view(root.name()) == "cib") root = root.child("configuration");
  if (!root || std::string_view(root.name()) != "configuration")
    return make_error(Errc::invalid_argument, "not a CIB configuration (root element <{}>)", doc.document_element().name());
  for (const auto& x : root.select_nodes(".//primitive[@class='ocf' and @provider='evos' and @type='vm']")) {
    const auto p = x.node();
    for (auto set : p.children("instance_attributes"))
      for (auto nv : set.children("nvpair"))
        if (std::string_view(nv.attribute("name").as_string()) == "config" &&
            std::string_view(nv.attribute("value").as_string()) == definition)
          return std::optional<std::string>(p.attribute("id").as_string());
  }
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
