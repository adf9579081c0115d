#include <evos/cluster/status.hpp>

#include <pugixml.hpp>

#include <functional>

namespace evos::cluster {

const ResourceStatus* PacemakerStatus::resource(std::string_view id) const {
  for (const auto& r : resources)
    if (r.id == id) return &r;
  return nullptr;
}

const NodeStatus* PacemakerStatus::node(std::string_view name) const {
  for (const auto& n : nodes)
    if (n.name == name) return &n;
  return nullptr;
}

Result<std::map<std::string, std::string>> parse_attrd_query_xml(std::string_view xml) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size()))
    return make_error(Errc::invalid_argument, "attrd_updater XML is not well-formed");
  const auto root = doc.child("pacemaker-result");
  if (!root) return make_error(Errc::invalid_argument, "not attrd_updater XML (root element <{}>)", doc.document_element().name());
  std::map<std::string, std::string> values;
  // <attribute name="..." value="..." host="node"/>, one per node (Pacemaker 2.1 attrd_updater).
  for (auto a : root.children("attribute")) {
    const char* node = a.attribute("host").value();
    if (!*node) node = a.attribute("node").value();
    if (*node) values[node] = a.attribute("value").value();
  }
  return values;
}

Result<PacemakerStatus> parse_crm_mon_xml(std::string_view xml) {
  pugi::xml_document doc;
  const auto parsed = doc.load_buffer(xml.data(), xml.size());
  if (!parsed)
    return make_error(Errc::invalid_argument, "crm_mon XML is not well-formed: {} at offset {}", parsed.description(),
                      parsed.offset);
  // Pacemaker 2.1 wraps its output in <pacemaker-result>; older releases used <crm_mon>.
  pugi::xml_node root = doc.child("pacemaker-result");
  if (!root) root = doc.child("crm_mon");
  if (!root) return make_error(Errc::invalid_argument, "not crm_mon XML (root element <{}>)", doc.document_element().name());
  if (auto status = root.child("status"); status && status.attribute("code").as_int(0) != 0)
    return make_error(Errc::backend, "crm_mon failed: {}", status.attribute("message").value());

  PacemakerStatus out;
  const auto summary = root.child("summary");
  const auto dc = summary.child("current_dc");
  if (dc.attribute("present").as_bool()) {
    out.dc = dc.attribute("name").value();
    out.quorate = dc.attribute("with_quorum").as_bool();
  }
  out.stonith_enabled = summary.child("cluster_options").attribute("stonith-enabled").as_bool();

  for (auto n : root.child("nodes").children("node")) {
    NodeStatus node;
    node.name = n.attribute("name").value();
    node.online = n.attribute("online").as_bool();
    node.standby = n.attribute("standby").as_bool();
    node.maintenance = n.attribute("maintenance").as_bool();
    node.unclean = n.attribute("unclean").as_bool();
    node.is_dc = n.attribute("is_dc").as_bool();
    out.nodes.push_back(std::move(node));
  }
  for (auto n : root.child("node_attributes").children("node")) {
    auto it = std::find_if(out.nodes.begin(), out.nodes.end(), [&](const auto& x) { return x.name == n.attribute("name").value(); });
    if (it == out.nodes.end()) continue;
    for (auto a : n.children("attribute")) it->attributes[a.attribute("name").value()] = a.attribute("value").value();
  }

  // Resources may sit inside <clone>, <group> or <bundle>: walk the tree, remembering the parent.
  std::function<void(pugi::xml_node, const std::string&)> walk = [&](pugi::xml_node parent, const std::string& owner) {
    for (auto child : parent.children()) {
      const std::string_view tag = child.name();
      if (tag == "resource") {
        ResourceStatus r;
        r.id = child.attribute("id").value();
        r.agent = child.attribute("resource_agent").value();
        r.role = child.attribute("role").value();
        r.parent = owner;
        r.active = child.attribute("active").as_bool();
        r.failed = child.attribute("failed").as_bool();
        r.managed = child.attribute("managed").as_bool(true);
        r.blocked = child.attribute("blocked").as_bool();
        for (auto on : child.children("node")) r.nodes.emplace_back(on.attribute("name").value());
        out.resources.push_back(std::move(r));
      } else if (tag == "clone" || tag == "group" || tag == "bundle" || tag == "replica") {
        walk(child, tag == "replica" ? owner : child.attribute("id").value());
      }
    }
  };
  walk(root.child("resources"), "");
  for (auto f : root.child("failures").children("failure")) {
    FailedAction a;
    a.op_key = f.attribute("op_key").value();
    a.node = f.attribute("node").value();
    a.exitcode = f.attribute("exitcode").as_int(0);
    a.exitreason = f.attribute("exitreason").value();
    out.failures.push_back(std::move(a));
  }
  return out;
}

}  // namespace evos::cluster
