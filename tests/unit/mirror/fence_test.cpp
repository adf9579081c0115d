#include "fence_data.hpp"

#include <evos/mirror/fence.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::mirror;
using evos::testing::drbd_env;
using evos::testing::peer_status;

TEST_CASE("the fence handler reads DRBD's environment") {
  auto r = parse_fence_env(drbd_env());
  REQUIRE(r);
  CHECK(r->resource == "r0");
  CHECK(r->me() == "alpha");
  CHECK(r->peer() == "beta");
  CHECK(r->up_to_date_nodes() == std::vector<std::string>{"alpha"});
  auto both = drbd_env();
  both["UP_TO_DATE_NODES"] = "0x3";
  CHECK(parse_fence_env(both)->up_to_date_nodes() == std::vector<std::string>{"alpha", "beta"});
  auto none = drbd_env();
  none["UP_TO_DATE_NODES"] = "0x0";
  CHECK(parse_fence_env(none)->up_to_date_nodes().empty());
  auto no_mask = drbd_env();
  no_mask.erase("UP_TO_DATE_NODES");
  no_mask.erase("DRBD_PEER_NODE_ID");
  auto r2 = parse_fence_env(no_mask);
  REQUIRE(r2);
  CHECK(r2->up_to_date_nodes() == std::vector<std::string>{"alpha"});
  CHECK(r2->peer() == "beta");
}

TEST_CASE("malformed handler environments are refused naming the variable") {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"DRBD_RESOURCE", ""},           {"DRBD_RESOURCE", "r0\"/><x"},   {"DRBD_RESOURCE", "--force"},
      {"DRBD_MY_NODE_ID", "x"},        {"DRBD_MY_NODE_ID", "32"},       {"DRBD_NODE_ID_1", "beta\" or \""},
      {"DRBD_NODE_ID_0", "$(reboot)"}, {"UP_TO_DATE_NODES", "0xzz"},    {"UP_TO_DATE_NODES", "0x"},
  };
  for (const auto& [k, v] : bad) {
    INFO(k << "=" << v);
    auto env = drbd_env();
    env[k] = v;
    auto r = parse_fence_env(env);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::invalid_argument);
    CHECK(r.error().message().find(k) != std::string::npos);
  }
  auto nameless = drbd_env();
  nameless.erase("DRBD_NODE_ID_0");
  CHECK_FALSE(parse_fence_env(nameless));
}

TEST_CASE("the fence constraint allows promotion only on UpToDate nodes") {
  const std::string xml = fence_constraint_xml("r0", "mirror-r0-clone", {"alpha"});
  CHECK(xml ==
        "<rsc_location id=\"evos-fence-r0\" rsc=\"mirror-r0-clone\"><rule id=\"evos-fence-r0-rule\" role=\"Promoted\" "
        "score=\"-INFINITY\" boolean-op=\"and\"><expression id=\"evos-fence-r0-expr-0\" attribute=\"#uname\" "
        "operation=\"ne\" value=\"alpha\"/></rule></rsc_location>");
  CHECK(fence_constraint_xml("r0", "c", {}).find("operation=\"defined\"") != std::string::npos);
  CHECK(fence_constraint_xml("r0", "c\"<", {"a&b"}).find("c&quot;&lt;") != std::string::npos);
}

TEST_CASE("the mirror clone is found by its DRBD resource") {
  const std::string cib = R"(<resources>
    <primitive id="vm-web1" class="ocf" provider="evos" type="vm"/>
    <clone id="other-clone"><primitive id="other" class="ocf" provider="evos" type="mirror">
      <instance_attributes id="o-ia"><nvpair id="o-r" name="drbd_resource" value="r1"/></instance_attributes></primitive></clone>
    <clone id="mirror-r0-clone"><primitive id="mirror-r0" class="ocf" provider="evos" type="mirror">
      <instance_attributes id="m-ia"><nvpair id="m-r" name="drbd_resource" value="r0"/></instance_attributes></primitive></clone>
    <clone id="linbit-clone"><primitive id="d" class="ocf" provider="linbit" type="drbd">
      <instance_attributes id="d-ia"><nvpair id="d-r" name="drbd_resource" value="r2"/></instance_attributes></primitive></clone>
  </resources>)";
  CHECK(*find_mirror_clone(cib, "r0") == "mirror-r0-clone");
  CHECK(*find_mirror_clone(cib, "r2") == "linbit-clone");
  CHECK(find_mirror_clone(cib, "r9").error().code() == Errc::not_found);
  CHECK(find_mirror_clone("<x", "r0").error().code() == Errc::invalid_argument);
}

TEST_CASE("fence decisions per peer state") {
  FenceDecision online = decide_fence(peer_status(true, false), "beta");
  CHECK_FALSE(online.wait);
  CHECK(online.exit_code == fence_exit_frozen);
  CHECK(online.why.find("beta is online in the cluster: I/O stays frozen") != std::string::npos);
  FenceDecision unclean = decide_fence(peer_status(false, true), "beta");
  CHECK(unclean.wait);
  FenceDecision fenced = decide_fence(peer_status(false, false), "beta");
  CHECK_FALSE(fenced.wait);
  CHECK(fenced.exit_code == fence_exit_peer_fenced);
  CHECK(decide_fence(peer_status(false, false, false), "beta").exit_code == fence_exit_frozen);
  CHECK(decide_fence(peer_status(false, false, true, ""), "beta").wait);
  CHECK(decide_fence(peer_status(true, false), "gamma").exit_code == fence_exit_frozen);
}
