#include <evos/cluster/crm_template.hpp>
#include <evos/cluster/status.hpp>

#include "test_data.hpp"

#include <catch2/catch.hpp>


using namespace evos;
using namespace evos::cluster;

namespace {
std::string data(const std::string& name) { return evos::test::read_data("pacemaker", name); }
}  // namespace

TEST_CASE("crm_mon XML after a failover: nodes - resources - attributes") {
  auto st = parse_crm_mon_xml(data("crm_mon-after-failover.xml"));
  REQUIRE(st);
  REQUIRE(st->nodes.size() == 2);
  CHECK_FALSE(st->node("n1")->online);
  CHECK(st->node("n2")->online);
  CHECK(st->node("n2")->attributes.at("evos-testip") == "3");
  CHECK(st->stonith_enabled);
  const auto* vm = st->resource("vm-web1");
  REQUIRE(vm);
  CHECK(vm->agent == "ocf:evos:vm");
  CHECK(vm->active);
  CHECK(vm->role == "Started");
  CHECK(vm->nodes == std::vector<std::string>{"n2"});
  CHECK(st->resource("nope") == nullptr);
}

TEST_CASE("resources inside clones keep their parent") {
  const char* xml = R"(<pacemaker-result api-version="2.25"><summary><current_dc present="true" name="a" with_quorum="true"/></summary>
    <nodes><node name="a" online="true" is_dc="true"/></nodes>
    <resources><clone id="ping-clone" multi_state="false">
      <resource id="ping" resource_agent="ocf:evos:ping" role="Started" active="true" failed="false"><node name="a"/></resource>
      <resource id="ping" resource_agent="ocf:evos:ping" role="Stopped" active="false" failed="false"/>
    </clone><future-element/></resources><status code="0" message="OK"/></pacemaker-result>)";
  auto st = parse_crm_mon_xml(xml);
  REQUIRE(st);
  CHECK(st->dc == "a");
  CHECK(st->quorate);
  REQUIRE(st->resources.size() == 2);
  CHECK(st->resources[0].parent == "ping-clone");
  CHECK(st->node("a")->is_dc);
}

TEST_CASE("not crm_mon XML is a clear error") {
  CHECK(parse_crm_mon_xml("<html/>").error().message().find("<html>") != std::string::npos);
  CHECK(parse_crm_mon_xml("<pacemaker-result").error().code() == Errc::invalid_argument);
  auto failed = parse_crm_mon_xml(R"(<pacemaker-result><status code="102" message="Not connected"/></pacemaker-result>)");
  REQUIRE_FALSE(failed);
  CHECK(failed.error().message().find("Not connected") != std::string::npos);
}

TEST_CASE("templates: every placeholder needs a value and lone at-signs stay") {
  auto r = render_template("primitive vm-@VM@ ocf:evos:vm params config=\"@CONFIG@\" # mail root@localhost @", {{"VM", "web1"}, {"CONFIG", "/srv/web1.xml"}});
  REQUIRE(r);
  CHECK(*r == "primitive vm-web1 ocf:evos:vm params config=\"/srv/web1.xml\" # mail root@localhost @");
  auto missing = render_template("a @VM@ b @CONFIG@", {{"VM", "x"}});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message() == "template placeholder @CONFIG@ has no value");
}

TEST_CASE("attrd_updater query XML gives one value per node") {
  auto v = parse_attrd_query_xml(R"(<pacemaker-result api-version="2.25" request="attrd_updater -Q -A -n x --output-as=xml">
    <attribute name="x" value="1 1718000000 2000 gw,198.18.1.254,ok,1,3,3,80,95" host="n1"/>
    <attribute name="x" value="" host="n2"/>
    <status code="0" message="OK"/></pacemaker-result>)");
  REQUIRE(v);
  CHECK(v->size() == 2);
  CHECK(v->at("n1").starts_with("1 1718000000 2000 gw,"));
  CHECK(v->at("n2").empty());
  CHECK_FALSE(parse_attrd_query_xml("<nope/>"));
}

TEST_CASE("templates: blocks are split at their headers") {
  const std::string tpl =
      "# header\n# == the clone (once) ==\nprimitive a\n\n# == per VM ==\n# why\nlocation l vm-@VM@\n# == per mirror ==\nlocation m\n";
  auto s = template_sections(tpl);
  REQUIRE(s.size() == 4);
  CHECK(s[0].name.empty());
  CHECK(s[0].text == "# header\n");
  CHECK(s[1].name == "the clone (once)");
  CHECK(s[1].text == "primitive a\n\n");
  CHECK(s[2].name == "per VM");
  CHECK(s[2].text == "# why\nlocation l vm-@VM@\n");
  CHECK(*template_section(tpl, "per mirror", "t.crm") == "location m\n");
  auto missing = template_section(tpl, "per node", "t.crm");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message() == "template t.crm has no block \"# == per node ==\"");
  // A header needs its closing marks; otherwise it is an ordinary comment.
  CHECK(template_sections("# == open\nx\n").size() == 1);
}

TEST_CASE("templates: comments and blank lines are not loaded into the CIB") {
  CHECK(without_comments("# a\nprimitive x \\\n\tparams a=1\n\n   # b\nclone c x\n") == "primitive x \\\n\tparams a=1\nclone c x\n");
  CHECK(without_comments("# only\n").empty());
  CHECK(without_comments("location l x rule 100: #uname eq a") == "location l x rule 100: #uname eq a\n");
}
