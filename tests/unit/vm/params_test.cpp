#include <evos/vm/params.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::vm;
using namespace std::chrono_literals;

TEST_CASE("migration targets substitute the node name") {
  MigrationSettings s{.remote_hypervisor = "qemu+tcp://%n/system"};
  auto t = migration_target(s, "node2");
  REQUIRE(t);
  CHECK(t->dest_uri == "qemu+tcp://node2/system");
  CHECK(t->migration_uri.empty());

  s.migration_uri = "tcp://%n-mig:49152";
  CHECK(migration_target(s, "node2")->migration_uri == "tcp://node2-mig:49152");

  s.migration_uri.clear();
  s.migration_network = "-mig";
  CHECK(migration_target(s, "node2.example.com")->migration_uri == "tcp://node2-mig.example.com");
  CHECK(migration_target(s, "node2")->migration_uri == "tcp://node2-mig");

  CHECK(migration_target(s, "node2;reboot").error().code() == Errc::invalid_argument);
  CHECK_FALSE(migration_target(s, ""));
}

TEST_CASE("migration_uri and migration_network exclude each other") {
  auto v = ocf::parse_params(param_specs(),
                             {{"config", "/x.xml"}, {"migration_uri", "tcp://a"}, {"migration_network", "-m"}});
  REQUIRE(v);
  auto p = Params::from(*v);
  REQUIRE_FALSE(p);
  CHECK(p.error().message().find("migration_uri") != std::string::npos);
}

TEST_CASE("typed parameters") {
  auto v = ocf::parse_params(param_specs(), {{"config", "/x.xml"},
                                             {"migration_downtime", "250"},
                                             {"migration_speed", "100"},
                                             {"migration_postcopy", "yes"},
                                             {"shutdown_mode", "acpi"},
                                             {"shutdown_timeout", "30"}});
  REQUIRE(v);
  auto p = Params::from(*v);
  REQUIRE(p);
  CHECK(p->migration.max_downtime == 250ms);
  CHECK(p->migration.bandwidth_mib_s == 100);
  CHECK(p->migration.postcopy);
  CHECK(p->shutdown_mode == ShutdownMode::acpi);
  CHECK(p->shutdown_timeout == 30s);
}

TEST_CASE("migration defaults: a 30 ms downtime limit raised up to 300 ms, auto-converge on, post-copy off") {
  auto v = ocf::parse_params(param_specs(), {{"config", "/x.xml"}});
  REQUIRE(v);
  auto p = Params::from(*v);
  REQUIRE(p);
  CHECK(p->migration.max_downtime == 30ms);
  CHECK(p->migration.max_downtime_cap == 300ms);
  CHECK(p->migration.auto_converge);
  CHECK_FALSE(p->migration.postcopy);
  CHECK(p->migration.bandwidth_mib_s == 0);
  v = ocf::parse_params(param_specs(), {{"config", "/x.xml"}, {"migration_downtime_max", "abc"}});
  CHECK_FALSE(v);
}

TEST_CASE("the graceful stop budget leaves time for destroy") {
  CHECK(graceful_stop_budget(0s, 90000ms) == 67500ms);  // a quarter kept back
  CHECK(graceful_stop_budget(0s, 20000ms) == 15000ms);  // at least 5 s kept back
  CHECK(graceful_stop_budget(0s, 4000ms) == 0ms);
  CHECK(graceful_stop_budget(30s, 90000ms) == 30000ms);
  CHECK(graceful_stop_budget(120s, 90000ms) == 85000ms);  // never all of it
}
