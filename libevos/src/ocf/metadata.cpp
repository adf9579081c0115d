#include <evos/ocf/metadata.hpp>

#include <pugixml.hpp>

#include <array>
#include <sstream>

namespace evos::ocf {
namespace {

std::string_view type_name(ParamType type) {
  switch (type) {
    case ParamType::string: return "string";
    case ParamType::integer: return "integer";
    case ParamType::boolean: return "boolean";
  }
  return "string";
}

void add_desc(pugi::xml_node parent, const char* tag, const std::string& text) {
  auto node = parent.append_child(tag);
  node.append_attribute("lang") = "en";
  node.text() = text.c_str();
}

}  // namespace

std::span<const std::string_view> ocf_action_names() {
  // ra-api-1.dtd's enumeration (resource-agents, OCF 1.0) plus reload-agent, the one action OCF
  // 1.1 adds (OCF-spec ra/1.1/resource-agent-api.md, "Actions").
  static constexpr std::array<std::string_view, 17> names{
      "start",   "stop",   "recover", "monitor", "restart", "migrate_to", "migrate_from",
      "promote", "demote", "notify",  "status",  "reload",  "meta-data",  "usage",
      "methods", "validate-all", "reload-agent"};
  return names;
}

const ActionSpec* AgentInfo::action(std::string_view wanted) const {
  for (const auto& a : actions)
    if (a.name == wanted) return &a;
  return nullptr;
}

std::string render_metadata(const AgentInfo& info) {
  pugi::xml_document doc;
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  auto doctype = doc.append_child(pugi::node_doctype);
  std::string names;
  for (auto n : ocf_action_names()) names += (names.empty() ? "" : "|") + std::string(n);
  const std::string subset = "resource-agent SYSTEM \"ra-api-1.dtd\" [\n"
                             "  <!ATTLIST parameter reloadable (1|0) \"0\">\n"
                             "  <!ATTLIST action name (" + names + ") #REQUIRED>\n"
                             "]";
  doctype.set_value(subset.c_str());

  auto agent = doc.append_child("resource-agent");
  agent.append_attribute("name") = info.name.c_str();
  agent.append_attribute("version") = info.version.c_str();
  agent.append_child("version").text() = "1.1";  // the OCF API version this agent implements
  add_desc(agent, "longdesc", info.longdesc);
  add_desc(agent, "shortdesc", info.shortdesc);

  auto params = agent.append_child("parameters");
  for (const auto& spec : info.params) {
    auto p = params.append_child("parameter");
    p.append_attribute("name") = spec.name.c_str();
    p.append_attribute("unique") = spec.unique ? "1" : "0";
    p.append_attribute("required") = spec.required ? "1" : "0";
    if (spec.reloadable) p.append_attribute("reloadable") = "1";
    std::string longdesc = spec.longdesc;
    if (!spec.choices.empty()) {
      longdesc += " One of:";
      for (const auto& c : spec.choices) longdesc += " " + (c.empty() ? std::string("\"\"") : c);
      longdesc += ".";
    }
    add_desc(p, "longdesc", longdesc);
    add_desc(p, "shortdesc", spec.shortdesc);
    auto content = p.append_child("content");
    content.append_attribute("type") = std::string(type_name(spec.type)).c_str();
    if (!spec.default_value.empty()) content.append_attribute("default") = spec.default_value.c_str();
  }

  auto actions = agent.append_child("actions");
  for (const auto& a : info.actions) {
    auto node = actions.append_child("action");
    node.append_attribute("name") = a.name.c_str();
    node.append_attribute("timeout") = (std::to_string(a.timeout_s) + "s").c_str();
    if (a.interval_s) node.append_attribute("interval") = (std::to_string(*a.interval_s) + "s").c_str();
    if (a.depth) node.append_attribute("depth") = std::to_string(*a.depth).c_str();
    if (!a.role.empty()) node.append_attribute("role") = a.role.c_str();
  }

  std::ostringstream out;
  doc.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
  return out.str();
}

}  // namespace evos::ocf
