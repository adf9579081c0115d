#include <evos/ocf/request.hpp>
#include <evos/ocf/runner.hpp>
#include <evos/vm/agent_info.hpp>

#include <catch2/catch.hpp>

using namespace evos;

TEST_CASE("a request reads the OCF and Pacemaker environment") {
  auto r = ocf::parse_request("monitor",
                              {{"OCF_RESKEY_config", "/x.xml"},
                               {"OCF_RESKEY_CRM_meta_timeout", "30000"},
                               {"OCF_RESKEY_CRM_meta_interval", "10000"},
                               {"OCF_CHECK_LEVEL", "10"},
                               {"OCF_RESOURCE_INSTANCE", "vm1"},
                               {"PATH", "/usr/bin"}},
                              vm::agent_info());
  REQUIRE(r);
  CHECK(r->reskeys.at("config") == "/x.xml");
  CHECK_FALSE(r->reskeys.contains("PATH"));
  CHECK(r->timeout == Millis(30000));
  CHECK(r->interval == Millis(10000));
  CHECK(r->check_level == 10);
  CHECK(r->instance == "vm1");
  CHECK_FALSE(r->is_probe());
}

TEST_CASE("without a CRM timeout the action's declared timeout bounds it") {
  auto start = ocf::parse_request("start", {}, vm::agent_info());
  REQUIRE(start);
  CHECK(start->timeout == Millis(90000));
  CHECK(start->is_probe() == false);
  auto probe = ocf::parse_request("monitor", {}, vm::agent_info());
  CHECK(probe->is_probe());
}

TEST_CASE("malformed meta values are refused") {
  CHECK_FALSE(ocf::parse_request("start", {{"OCF_RESKEY_CRM_meta_timeout", "-1"}}, vm::agent_info()));
  CHECK_FALSE(ocf::parse_request("start", {{"OCF_RESKEY_CRM_meta_timeout", "1e3"}}, vm::agent_info()));
  CHECK_FALSE(ocf::parse_request("start", {{"OCF_CHECK_LEVEL", "30"}}, vm::agent_info()));
  auto bad_target = ocf::parse_request("migrate_to", {{"OCF_RESKEY_CRM_meta_migrate_target", "node2;reboot"}},
                                       vm::agent_info());
  REQUIRE_FALSE(bad_target);
  CHECK(bad_target.error().code() == Errc::invalid_argument);
  CHECK(bad_target.error().message().find("migrate_target") != std::string::npos);
}

TEST_CASE("the guard keeps a small - bounded share of the timeout back") {
  CHECK(ocf::guard_time(Millis(20000)) == Millis(2000));
  CHECK(ocf::guard_time(Millis(1000)) == Millis(200));
  CHECK(ocf::guard_time(Millis(600000)) == Millis(2000));
}

TEST_CASE("a health verdict's OCF result, per role") {
  using evos::Health;
  using ocf::Status;
  const struct {
    Health health;
    bool promoted;
    Status status;
    bool has_reason;
  } rows[] = {
      {Health::running, false, Status::success, false},           {Health::running, true, Status::running_promoted, false},
      {Health::degraded, false, Status::degraded, true},          {Health::degraded, true, Status::degraded_promoted, true},
      {Health::stopped, false, Status::not_running, false},       {Health::stopped, true, Status::not_running, false},
      {Health::failed, false, Status::err_generic, true},         {Health::failed, true, Status::failed_promoted, true},
  };
  for (const auto& r : rows) {
    INFO(evos::to_string(r.health) << (r.promoted ? " promoted" : ""));
    const auto o = ocf::outcome_of(r.health, "why", r.promoted);
    CHECK(o.status == r.status);
    CHECK(o.reason == (r.has_reason ? "why" : ""));
  }
  CHECK(ocf::Outcome::from(evos::Result<void>{}).status == Status::success);
  CHECK(ocf::Outcome::from(evos::Result<void>{evos::make_error(evos::Errc::invalid_config, "bad")}).status == Status::err_configured);
}
