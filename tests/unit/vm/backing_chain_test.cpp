#include <evos/vm/backing_chain.hpp>
#include <evos/vm/delete_plan.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::vm;

namespace {

// `qemu-img info --backing-chain -U --output=json top.qcow2` (qemu-utils 7.2), trimmed of
// format-specific data: top -> /tmp/hrq/mid.qcow2 (absolute) -> base.qcow2 (relative to mid).
constexpr char chain_json[] = R"([
    {"backing-filename-format": "qcow2", "virtual-size": 16777216, "filename": "top.qcow2", "format": "qcow2",
     "full-backing-filename": "/tmp/hrq/mid.qcow2", "backing-filename": "/tmp/hrq/mid.qcow2", "dirty-flag": false},
    {"backing-filename-format": "qcow2", "virtual-size": 16777216, "filename": "/tmp/hrq/mid.qcow2", "format": "qcow2",
     "full-backing-filename": "/tmp/hrq/base.qcow2", "backing-filename": "base.qcow2", "dirty-flag": false},
    {"virtual-size": 16777216, "filename": "/tmp/hrq/base.qcow2", "format": "qcow2", "dirty-flag": false}
])";

}  // namespace

TEST_CASE("a backing chain from qemu-img lists the backing files, nearest first, as full paths") {
  auto c = parse_backing_chain(chain_json);
  REQUIRE(c);
  CHECK(*c == std::vector<std::string>{"/tmp/hrq/mid.qcow2", "/tmp/hrq/base.qcow2"});
}

TEST_CASE("an image without a backing file has an empty chain, as an array or a single object") {
  CHECK(parse_backing_chain(R"([{"filename": "/a.qcow2", "format": "qcow2"}])")->empty());
  CHECK(parse_backing_chain(R"({"filename": "/a.qcow2", "format": "raw"})")->empty());
}

TEST_CASE("output that is not qemu-img's backing chain is refused") {
  for (const char* bad : {"", "not json", "[]", "42", R"([{"format": "qcow2"}])", R"([{"filename": 7}])",
                          R"([{"filename": "/a", "backing-filename": "b"}])", R"([{"filename": "/a"}, {"filename": "/b"}])",
                          R"([{"filename": "/a", "full-backing-filename": ""}])", R"([{"filename": "/a", "full-backing-filename": 3}])"}) {
    INFO(bad);
    auto r = parse_backing_chain(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::invalid_config);
  }
}

TEST_CASE("other images that read through ours are found, our own overlays are not") {
  const std::map<std::string, std::vector<std::string>> chains = {
      {"/s/clone1/clone1-vda.qcow2", {"/s/tpl/tpl-vda.qcow2"}},
      {"/s/clone2/clone2-vda.qcow2", {"/s/clone2/base.qcow2", "/s/tpl/tpl-vda.qcow2"}},
      {"/s/other/other-vda.qcow2", {}},
      {"/s/tpl/tpl-vda.qcow2", {}},
  };
  auto uses = backing_uses({"/s/tpl/tpl-vda.qcow2"}, chains);
  CHECK(uses == std::vector<BackingUse>{{"/s/clone1/clone1-vda.qcow2", "/s/tpl/tpl-vda.qcow2"},
                                        {"/s/clone2/clone2-vda.qcow2", "/s/tpl/tpl-vda.qcow2"}});
  CHECK(backing_uses({"/s/other/other-vda.qcow2"}, chains).empty());
}

TEST_CASE("delete refuses without --yes, before anything else") {
  DeleteFacts f{.name = "web1", .yes = false, .active_here = true};
  auto r = plan_delete(f, true);
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::invalid_argument);
  CHECK(r.error().message().find("--yes") != std::string::npos);
  CHECK(r.error().message().find("disks") != std::string::npos);
  f.keep_disks = true;
  CHECK(plan_delete(f, true).error().message().find("disks") == std::string::npos);
}

TEST_CASE("delete refuses a VM that runs here or in the cluster") {
  DeleteFacts f{.name = "web1", .yes = true, .state_here = "running", .active_here = true};
  auto r = plan_delete(f, true);
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("running on this node") != std::string::npos);
  f = DeleteFacts{.name = "web1", .yes = true, .state_here = "absent", .ha_resource = "vm-web1", .ha_active = true, .ha_nodes = {"node2"}};
  r = plan_delete(f, false);
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("runs on node2") != std::string::npos);
  f.ha_active = false;
  auto plan = plan_delete(f, false);
  REQUIRE(plan);
  CHECK(plan->remove_ha);
  CHECK_FALSE(plan->undefine);
  CHECK(plan->remove_disks);
}

TEST_CASE("delete refuses a VM whose disk another image reads, unless the disks are kept") {
  DeleteFacts f{.name = "tpl", .yes = true, .state_here = "shut off",
                .backing_users = {{"/s/clone1/clone1-vda.qcow2", "/s/tpl/tpl-vda.qcow2"}}};
  auto r = plan_delete(f, true);
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("/s/clone1/clone1-vda.qcow2 reads /s/tpl/tpl-vda.qcow2") != std::string::npos);
  f.keep_disks = true;
  auto plan = plan_delete(f, true);
  REQUIRE(plan);
  CHECK(plan->undefine);
  CHECK_FALSE(plan->remove_ha);
  CHECK_FALSE(plan->remove_disks);
}
