#include <evos/drbd/control.hpp>

#include <catch2/catch.hpp>

using namespace evos::drbd;
using evos::Errc;

TEST_CASE("failed drbdadm and drbdsetup runs map to evos errors") {
  struct Row {
    const char* command;
    int exit_code;
    const char* err;
    Errc code;
    const char* expected;
  };
  const std::vector<Row> rows = {
      {"drbdadm primary r0", 17, "r0: State change failed: (-2) Need access to UpToDate data\n", Errc::backend,
       "refused: no access to UpToDate data (exit 17): r0: State change failed: (-2) Need access to UpToDate data"},
      {"drbdadm primary r0", 11, "r0: State change failed: (-1) Multiple primaries not allowed by config\n", Errc::backend,
       "the peer is Primary and two primaries are not allowed"},
      {"drbdadm down r0", 11, "r0: State change failed: (-12) Device is held open by someone\n", Errc::backend,
       "state change refused"},
      {"drbdadm verify r0", 11, "r0: State change failed: (-14) Need a verify algorithm to start online verify\n",
       Errc::invalid_config, "no verify-alg in the resource's net section"},
      {"drbdadm verify r0", 11, "r0: State change failed: (-8) Can not start OV/resync since it is already active\n",
       Errc::backend, "a resync or an online verify is already running"},
      {"drbdadm verify r0", 11, "r0: State change failed: (-15) Need a connection to start verify or resync\n",
       Errc::backend, "the peer is not connected"},
      {"drbdsetup status r0", 10, "r0: No such resource\n", Errc::not_found, "no such resource"},
      {"drbdsetup primary r0", 10, "r0: Failure: (158) Unknown resource\n", Errc::not_found, "no such resource"},
      {"drbdadm up r9", 10, "'r9' not defined in your config (for this host).\n", Errc::not_found, "no such resource"},
      {"drbdsetup events2 r0", 20, "Could not connect to 'drbd' generic netlink family\n", Errc::not_installed,
       "kernel module is not loaded"},
      {"drbdsetup attach 1", 10, "1: Failure: (104) Can not open backing device.\n", Errc::backend, "DRBD refused"},
      {"drbdadm up r0", 10, "/etc/drbd.d/r0.res:12: Parse error: 'protocol' expected\n", Errc::invalid_config,
       "configuration error"},
      {"drbdadm frobnicate r0", 1, "Unknown command 'frobnicate'\n", Errc::invalid_argument, "usage error"},
      {"drbdsetup new-minor r0 1 0", 20, "open(/var/run/drbd/lock/drbd-147-1): Permission denied\n",
       Errc::permission_denied, "permission denied"},
      {"drbdsetup down r0", 20, "", Errc::backend, "failed (exit 20): no error text"},
  };
  for (const auto& row : rows) {
    INFO(row.command << " " << row.err);
    const evos::Error e = classify_failure(row.command, row.exit_code, row.err);
    INFO(e.message());
    CHECK(e.code() == row.code);
    CHECK(e.message().find(row.expected) != std::string::npos);
    CHECK(e.message().rfind(row.command, 0) == 0);
  }
}

TEST_CASE("state change and kernel codes are read from stderr") {
  CHECK(state_change_code("r0: State change failed: (-2) Need access to UpToDate data") == -2);
  CHECK(state_change_code("State change failed: (-19) Concurrent state changes detected and aborted") == -19);
  CHECK_FALSE(state_change_code("State change failed: (x) odd"));
  CHECK(kernel_error_code("r0: Failure: (158) Unknown resource") == 158);
  CHECK_FALSE(kernel_error_code("no code here"));
}

TEST_CASE("drbdadm noise is dropped from messages") {
  const evos::Error e = classify_failure("drbdadm primary r0", 17,
                                         "\n   found __DRBD_NODE__ in environment\n   PRETENDING that I am >>alpha<<\n\n"
                                         "sh: 1: modinfo: not found\nr0: State change failed: (-2) Need access to UpToDate data\n");
  CHECK(e.message() ==
        "drbdadm primary r0: refused: no access to UpToDate data (exit 17): r0: State change failed: (-2) Need access "
        "to UpToDate data");
}

TEST_CASE("resource names passed to drbdadm cannot be options") {
  CHECK_FALSE(resource_name_problem("vm-web1"));
  CHECK_FALSE(resource_name_problem("r0.data_1"));
  CHECK(resource_name_problem("--force"));
  CHECK(resource_name_problem("all"));
  CHECK(resource_name_problem(""));
  CHECK(resource_name_problem("r0;reboot"));
  CHECK(resource_name_problem(std::string(64, 'a')));
}
