#include <evos/mirror/agent_info.hpp>
#include <evos/net/ping_agent_info.hpp>
#include <evos/ocf/metadata.hpp>
#include <evos/vm/agent_info.hpp>
#include <evos/vm/params.hpp>

#include <catch2/catch.hpp>
#include <pugixml.hpp>

using namespace evos;

TEST_CASE("vm meta-data is rendered from the one declaration") {
  const std::string xml = ocf::render_metadata(vm::agent_info());
  pugi::xml_document doc;
  REQUIRE(doc.load_string(xml.c_str(), pugi::parse_default | pugi::parse_doctype));
  auto ra = doc.child("resource-agent");
  CHECK(std::string(ra.attribute("name").value()) == "vm");
  CHECK(std::string(ra.child_value("version")) == "1.1");
  CHECK(xml.find("<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\"") != std::string::npos);

  // Every declared parameter appears once, with its flags and default.
  std::size_t count = 0;
  for (auto p : ra.child("parameters").children("parameter")) {
    ++count;
    const std::string name = p.attribute("name").value();
    const auto* spec = [&]() -> const ocf::ParamSpec* {
      for (const auto& s : vm::param_specs())
        if (s.name == name) return &s;
      return nullptr;
    }();
    REQUIRE(spec);
    CHECK(p.attribute("required").as_bool() == spec->required);
    CHECK(p.attribute("reloadable").as_bool() == spec->reloadable);
    CHECK(std::string(p.child("content").attribute("default").value()) == spec->default_value);
    CHECK(std::string(p.child("shortdesc").attribute("lang").value()) == "en");
  }
  CHECK(count == vm::param_specs().size());
  CHECK(ra.child("parameters").find_child_by_attribute("parameter", "name", "config").attribute("unique").as_bool());
  CHECK_FALSE(ra.child("parameters").find_child_by_attribute("parameter", "name", "config").attribute("reloadable"));

  // Actions Pacemaker needs for a migratable, reloadable agent; monitor at depths 0 and 10.
  std::vector<std::string> actions;
  for (auto a : ra.child("actions").children("action")) {
    actions.push_back(a.attribute("name").value());
    CHECK(std::string(a.attribute("timeout").value()).ends_with("s"));
  }
  for (auto needed : {"start", "stop", "monitor", "migrate_to", "migrate_from", "validate-all", "reload-agent", "meta-data"})
    CHECK(std::find(actions.begin(), actions.end(), needed) != actions.end());
  CHECK(ra.child("actions").find_child_by_attribute("action", "depth", "10"));
}

TEST_CASE("meta-data escapes text") {
  ocf::AgentInfo info{.name = "x", .version = "1", .shortdesc = "a <b> & c", .longdesc = "l",
                      .params = {{.name = "p", .shortdesc = "s", .longdesc = "l"}},
                      .actions = {{.name = "start"}}};
  const auto xml = ocf::render_metadata(info);
  CHECK(xml.find("a &lt;b&gt; &amp; c") != std::string::npos);
}

TEST_CASE("meta-data keeps the DTD's action name an enumeration of OCF's names") {
  const auto names = ocf::ocf_action_names();
  auto known = [&](std::string_view n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  CHECK(known("reload-agent"));  // OCF 1.1's addition to ra-api-1.dtd's list
  CHECK(known("migrate_from"));
  CHECK_FALSE(known("reload_agent"));
  for (const auto* info : {&vm::agent_info(), &net::ping_agent_info(), &mirror::mirror_agent_info()}) {
    INFO(info->name);
    for (const auto& a : info->actions) {
      INFO(a.name);
      CHECK(known(a.name));
    }
    const auto xml = ocf::render_metadata(*info);
    // the internal subset redeclares the attribute as the list, never as free text (CDATA)
    CHECK(xml.find("<!ATTLIST action name (start|stop|") != std::string::npos);
    CHECK(xml.find("|reload-agent) #REQUIRED>") != std::string::npos);
    CHECK(xml.find("CDATA") == std::string::npos);
  }
}
