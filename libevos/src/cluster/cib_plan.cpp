#include <evos/cluster/cib_plan.hpp>
#include <evos/text_checks.hpp>

#include <fmt/core.h>
#include <pugixml.hpp>

#include <memory>
#include <sstream>

namespace evos::cluster {
namespace {

using namespace std::string_view_literals;

constexpr std::string_view base = "/cib/configuration";

struct Config {
  std::unique_ptr<pugi::xml_document> doc = std::make_unique<pugi::xml_document>();
  pugi::xml_node node;
};

Result<Config> parse(std::string_view xml) {
  Config c;
  if (!c.doc->load_buffer(xml.data(), xml.size()))
    return make_error(Errc::invalid_argument, "the CIB configuration is not well-formed XML");
  c.node = c.doc->document_element();
  if (std::string_view(c.node.name()) == "cib") c.node = c.node.child("configuration");
  if (!c.node || std::string_view(c.node.name()) != "configuration")
    return make_error(Errc::invalid_argument, "not a CIB configuration (root element <{}>)", c.doc->document_element().name());
  return c;
}

// An id as an XPath literal: CIB ids are XML IDs (no quotes), checked anyway.
Result<std::string> literal(std::string_view id) {
  if (id.empty() || id.find_first_of("'\"") != std::string_view::npos)
    return make_error(Errc::invalid_config, "CIB id {} cannot be named in an XPath", text::quote_for_message(id));
  return fmt::format("'{}'", id);
}

class RemovalBuilder {
 public:
  Result<void> add(std::string_view section, std::string_view element, std::string_view id) {
    for (const auto& have : out_.ids)
      if (have == id) return {};  // named twice (e.g. a rule on the clone's attribute that names the clone)
    auto l = literal(id);
    if (!l) return std::move(l).error();
    out_.ids.emplace_back(id);
    out_.xpath += fmt::format("{}{}/{}/{}[@id={}]", out_.xpath.empty() ? "" : " | ", base, section, element, *l);
    return {};
  }
  // A section element itself (it has no id), e.g. the <fencing-topology> left empty.
  void add_section(std::string_view section) {
    out_.ids.emplace_back(section);
    out_.xpath += fmt::format("{}{}/{}", out_.xpath.empty() ? "" : " | ", base, section);
  }
  [[nodiscard]] bool empty() const { return out_.ids.empty(); }
  CibRemoval take() { return std::move(out_); }

 private:
  CibRemoval out_;
};

bool names(const pugi::xml_node& constraint, std::string_view rsc) {
  for (const char* a : {"rsc", "with-rsc", "first", "then"})
    if (constraint.attribute(a) && rsc == constraint.attribute(a).value()) return true;
  return false;
}

pugi::xml_node resource_ref(const pugi::xml_node& constraint, std::string_view rsc) {
  for (const auto& x : constraint.select_nodes(".//resource_ref"))
    if (rsc == x.node().attribute("id").value()) return x.node();
  return {};
}

// Constraints naming `rsc` directly, into `b`; a resource set naming it is refused.
Result<void> add_constraints_of(const pugi::xml_node& config, std::string_view rsc, RemovalBuilder& b) {
  for (const auto& c : config.child("constraints").children()) {
    if (c.type() != pugi::node_element) continue;
    if (names(c, rsc)) {
      if (auto r = b.add("constraints", "*", c.attribute("id").value()); !r) return r;
    } else if (resource_ref(c, rsc)) {
      return make_error(Errc::invalid_config, "{} is in a resource set of constraint {}: remove it from there first", rsc,
                        c.attribute("id").value());
    }
  }
  return {};
}

// The element with this id anywhere under <resources>.
pugi::xml_node find_resource(const pugi::xml_node& config, std::string_view id) {
  for (const auto& x : config.child("resources").select_nodes(".//*[@id]"))
    if (id == x.node().attribute("id").value()) return x.node();
  return {};
}

std::string nvpair(const pugi::xml_node& parent, std::string_view set, std::string_view name) {
  for (const auto& x : parent.select_nodes(fmt::format(".//{}/nvpair", set).c_str()))
    if (name == x.node().attribute("name").value()) return x.node().attribute("value").value();
  return {};
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i <= text.size()) {
    const auto j = std::min(text.find(sep, i), text.size());
    if (j > i) out.emplace_back(text.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::string topology_xml(const std::vector<FencingLevel>& levels) {
  pugi::xml_document doc;
  auto top = doc.append_child("fencing-topology");
  for (const auto& l : levels) {
    auto x = top.append_child("fencing-level");
    x.append_attribute("id") = l.id.c_str();
    x.append_attribute("target") = l.target.c_str();
    x.append_attribute("index") = l.index;
    x.append_attribute("devices") = join(l.devices, ",").c_str();
  }
  std::ostringstream s;
  top.print(s, "", pugi::format_raw);
  return s.str();
}

Result<void> check_level_token(std::string_view value, std::string_view what) {
  if (auto p = text::syntax_problem(value, text::Syntax::token))
    return make_error(Errc::invalid_config, "fencing level {} {} {}: fence-race enable can only save node levels of plain names", what,
                      text::quote_for_message(value), *p);
  return {};
}

// The node-target levels of the topology; a level evosctl could not write back is refused.
Result<std::vector<FencingLevel>> read_levels(const pugi::xml_node& config) {
  std::vector<FencingLevel> out;
  for (const auto& l : config.child("fencing-topology").children("fencing-level")) {
    if (!l.attribute("target"))
      return make_error(Errc::invalid_config, "fencing level {} has no node target (target-pattern or target-attribute): "
                        "evosctl handles node levels only; change it by hand", l.attribute("id").value());
    FencingLevel level{l.attribute("id").value(), l.attribute("target").value(), l.attribute("index").as_int(1),
                       split(l.attribute("devices").value(), ',')};
    if (auto r = check_level_token(level.id, "id"); !r) return std::move(r).error();
    if (auto r = check_level_token(level.target, "target"); !r) return std::move(r).error();
    for (const auto& d : level.devices)
      if (auto r = check_level_token(d, "device"); !r) return std::move(r).error();
    out.push_back(std::move(level));
  }
  return out;
}

// The resource `id`, when configured, into `b`: it must be a top-level <element> (what the
// template makes); anything else was made by hand and is refused. Returns the element, or null.
Result<pugi::xml_node> add_top_level(const pugi::xml_node& config, std::string_view id, std::string_view element,
                                     RemovalBuilder& b) {
  auto r = find_resource(config, id);
  if (!r) return pugi::xml_node();
  if (element != r.name() || std::string_view(r.parent().name()) != "resources")
    return make_error(Errc::invalid_config, "{} is a <{}> inside <{} id=\"{}\">, not the <{}> evosctl makes: change it by hand", id,
                      r.name(), r.parent().name(), r.parent().attribute("id").value(), element);
  if (auto x = b.add("resources", element, id); !x) return std::move(x).error();
  return r;
}

}  // namespace

Result<std::optional<PrimitiveInConfig>> find_primitive(std::string_view configuration_xml, std::string_view resource_id) {
  auto c = parse(configuration_xml);
  if (!c) return std::move(c).error();
  for (const auto& x : c->node.select_nodes(".//primitive")) {
    const auto p = x.node();
    if (resource_id != p.attribute("id").value()) continue;
    PrimitiveInConfig out;
    out.agent = std::string(p.attribute("class").value()) + ":";
    if (p.attribute("provider")) out.agent += std::string(p.attribute("provider").value()) + ":";
    out.agent += p.attribute("type").value();
    out.target_role = nvpair(p, "meta_attributes", "target-role");
    return std::optional(out);
  }
  return std::optional<PrimitiveInConfig>();
}

Result<CibRemoval> plan_vm_removal(std::string_view configuration_xml, std::string_view resource_id) {
  auto c = parse(configuration_xml);
  if (!c) return std::move(c).error();
  RemovalBuilder b;
  if (auto r = add_top_level(c->node, resource_id, "primitive", b); !r) return std::move(r).error();
  if (auto r = add_constraints_of(c->node, resource_id, b); !r) return std::move(r).error();
  if (b.empty()) return make_error(Errc::not_found, "{} is not a cluster resource and no constraint names it", resource_id);
  return b.take();
}

Result<CibRemoval> plan_testip_removal(std::string_view configuration_xml) {
  auto c = parse(configuration_xml);
  if (!c) return std::move(c).error();
  RemovalBuilder b;
  std::string attribute = "evos-testip";
  auto clone = add_top_level(c->node, "testip-clone", "clone", b);
  if (!clone) return std::move(clone).error();
  if (*clone) {
    if (auto name = nvpair(*clone, "instance_attributes", "name"); !name.empty()) attribute = name;
    for (const auto* rsc : {"testip-clone", "testip"})
      if (auto r = add_constraints_of(c->node, rsc, b); !r) return std::move(r).error();
  }
  // evosd's attribute is the clone's with "-evosd" (testip.crm's testip-evosd rules, evosd's default)
  const std::string evosd_attribute = attribute + "-evosd";
  const auto ours = [&](std::string_view a) { return a == attribute || a == evosd_attribute; };
  for (const auto& l : c->node.child("constraints").children("rsc_location")) {
    bool reads = false;
    for (const auto& e : l.select_nodes(".//expression")) reads = reads || ours(e.node().attribute("attribute").value());
    for (const auto& r : l.select_nodes(".//rule")) reads = reads || ours(r.node().attribute("score-attribute").value());
    if (reads)
      if (auto x = b.add("constraints", "*", l.attribute("id").value()); !x) return std::move(x).error();
  }
  if (b.empty()) return make_error(Errc::not_found, "no test IPs configured: no testip-clone and no rule on {}", attribute);
  return b.take();
}

Result<FencingBefore> read_fencing(std::string_view configuration_xml) {
  auto c = parse(configuration_xml);
  if (!c) return std::move(c).error();
  FencingBefore out;
  auto levels = read_levels(c->node);
  if (!levels) return std::move(levels).error();
  out.topology = std::move(*levels);
  for (const auto& set : c->node.child("crm_config").children("cluster_property_set")) {
    if (std::string_view(set.attribute("id").value()) == fencing_before_set) continue;
    for (const auto& nv : set.children("nvpair"))
      if (std::string_view(nv.attribute("name").value()) == "priority-fencing-delay") {
        out.priority_fencing_delay = nv.attribute("value").value();
        if (auto p = text::syntax_problem(*out.priority_fencing_delay, text::Syntax::token))
          return make_error(Errc::invalid_config, "priority-fencing-delay {} {}", text::quote_for_message(*out.priority_fencing_delay), *p);
      }
  }
  return out;
}

Result<std::optional<FencingBefore>> read_fencing_before(std::string_view configuration_xml) {
  auto c = parse(configuration_xml);
  if (!c) return std::move(c).error();
  pugi::xml_node set;
  for (const auto& s : c->node.child("crm_config").children("cluster_property_set"))
    if (std::string_view(s.attribute("id").value()) == fencing_before_set) set = s;
  if (!set) return std::optional<FencingBefore>();
  FencingBefore out;
  bool have_topology = false;
  for (const auto& nv : set.children("nvpair")) {
    const std::string_view name = nv.attribute("name").value();
    const std::string value = nv.attribute("value").value();
    if (name == "evos-priority-fencing-delay") {
      out.priority_fencing_delay = value;
    } else if (name == "evos-fencing-topology") {
      have_topology = true;
      if (value == "none") continue;
      for (const auto& level : split(value, ' ')) {
        const auto parts = split(level, '/');
        if (parts.size() != 4 || parts[2].empty() || parts[2].find_first_not_of("0123456789") != std::string::npos || parts[2].size() > 4)
          return make_error(Errc::invalid_config, "{}: evos-fencing-topology level {} is not ID/TARGET/INDEX/DEVICES", fencing_before_set,
                            text::quote_for_message(level));
        out.topology.push_back({parts[0], parts[1], std::stoi(parts[2]), split(parts[3], ',')});
      }
    }
  }
  if (!have_topology) return make_error(Errc::invalid_config, "{} has no evos-fencing-topology", fencing_before_set);
  return std::optional<FencingBefore>(std::move(out));
}

std::string fencing_before_crm(const FencingBefore& before) {
  std::vector<std::string> levels;
  for (const auto& l : before.topology) levels.push_back(fmt::format("{}/{}/{}/{}", l.id, l.target, l.index, join(l.devices, ",")));
  std::string line = fmt::format("property {}: evos-fencing-topology=\"{}\"", fencing_before_set, levels.empty() ? "none" : join(levels, " "));
  if (before.priority_fencing_delay) line += fmt::format(" evos-priority-fencing-delay=\"{}\"", *before.priority_fencing_delay);
  return line + "\n";
}

Result<FenceRaceRemoval> plan_fence_race_removal(std::string_view configuration_xml) {
  auto c = parse(configuration_xml);
  if (!c) return std::move(c).error();
  auto saved = read_fencing_before(configuration_xml);
  if (!saved) return std::move(saved).error();
  RemovalBuilder b;
  if (auto r = add_top_level(c->node, "fence-race", "primitive", b); !r) return std::move(r).error();
  if (auto r = add_constraints_of(c->node, "fence-race", b); !r) return std::move(r).error();
  if (b.empty() && !*saved) return make_error(Errc::not_found, "no fence race device: no fence-race and no {}", fencing_before_set);
  FenceRaceRemoval out;
  if (*saved) {
    if (auto x = b.add("crm_config", "cluster_property_set", fencing_before_set); !x) return std::move(x).error();
    out.topology_xml = topology_xml((*saved)->topology);
    out.priority_fencing_delay = (*saved)->priority_fencing_delay;
    out.restore_delay = true;
  } else {
    auto current = read_levels(c->node);
    if (!current) return std::move(current).error();
    std::vector<FencingLevel> levels;
    for (auto& level : *current) {
      std::erase(level.devices, "fence-race");
      if (!level.devices.empty()) levels.push_back(std::move(level));
    }
    out.topology_xml = topology_xml(levels);
  }
  // No levels to restore: the section goes (as before enable) rather than stay empty.
  if (out.topology_xml == "<fencing-topology/>") {
    out.topology_xml.clear();
    if (c->node.child("fencing-topology")) b.add_section("fencing-topology");
  }
  out.removal = b.take();
  return out;
}

}  // namespace evos::cluster
