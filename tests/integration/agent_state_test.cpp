// evos::agent_state against a real directory: atomic write, read back, remove, the state
// directory from HA_RSCTMP, and instance names that cannot name a file.
#include <evos/agent_state.hpp>

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace evos;

namespace {
using evos::test::TempDir;
}  // namespace

TEST_CASE("a state file is written whole and read back") {
  TempDir d("evos-agent-state");
  const std::string file = (d.path() / "sub" / "x.state").string();
  REQUIRE(agent_state::write(file, "one\ntwo\n"));
  CHECK(*agent_state::read(file) == "one\ntwo\n");
  REQUIRE(agent_state::write(file, "three\n"));
  CHECK(*agent_state::read(file) == "three\n");
  // no temporary file is left beside it
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(d.path() / "sub")) ++entries;
  CHECK(entries == 1);
  REQUIRE(agent_state::remove(file));
  CHECK_FALSE(agent_state::read(file));
  CHECK(agent_state::remove(file));  // already gone: not an error
}

TEST_CASE("a state file that cannot be written is an error naming it") {
  TempDir d("evos-agent-state");
  const std::string blocker = (d.path() / "plain").string();
  REQUIRE(agent_state::write(blocker, "x"));
  auto r = agent_state::write(blocker + "/inside.state", "y");  // its directory is a file
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("plain") != std::string::npos);
}

TEST_CASE("the state directory follows HA_RSCTMP and instances must be plain tokens") {
  ::setenv("HA_RSCTMP", "/tmp/evos-rsc", 1);
  CHECK(agent_state::directory() == "/tmp/evos-rsc");
  CHECK(*agent_state::instance_path("evos-ping", "p1") == "/tmp/evos-rsc/evos-ping-p1.state");
  CHECK(*agent_state::instance_path("evos-ping", "") == "/tmp/evos-rsc/evos-ping-default.state");
  CHECK_FALSE(agent_state::instance_path("evos-ping", "../etc/passwd"));
  CHECK_FALSE(agent_state::instance_path("evos-ping", "a b"));
  CHECK_FALSE(agent_state::instance_path("evos-ping", std::string(201, 'a')));
  ::setenv("HA_RSCTMP", "relative", 1);
  CHECK(agent_state::directory() == "/run/resource-agents");
  ::unsetenv("HA_RSCTMP");
  CHECK(agent_state::directory() == "/run/resource-agents");
}
