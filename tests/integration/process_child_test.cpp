// evos::proc::Child against real processes: lines read as they come, deadlines, the end of
// output, overlong lines cut, and stop() killing a child that would run on.
#include <evos/proc/child.hpp>

#include <catch2/catch.hpp>

#include <signal.h>

using namespace evos;
using namespace std::chrono_literals;

TEST_CASE("child lines are read as they come then the end and the exit") {
  auto c = proc::Child::start({"sh", "-c", "echo one; echo two; echo oops >&2; printf last; exit 4"});
  REQUIRE(c);
  std::vector<std::string> lines;
  for (;;) {
    auto r = c->read_line(Deadline::after(10s));
    REQUIRE(r.what != proc::ReadLine::What::timeout);
    if (r.what == proc::ReadLine::What::end) break;
    lines.push_back(r.line);
  }
  CHECK(lines == std::vector<std::string>{"one", "two", "last"});
  const auto e = c->stop(5s);
  CHECK(e.exit_code == 4);
  CHECK(e.describe() == "exited with status 4: oops");
}

TEST_CASE("child read_line returns at its deadline while the child is silent") {
  auto c = proc::Child::start({"sleep", "30"});
  REQUIRE(c);
  const auto r = c->read_line(Deadline::after(100ms));
  CHECK(r.what == proc::ReadLine::What::timeout);
  const auto e = c->stop();
  CHECK(e.signal == SIGTERM);
  CHECK(::kill(c->pid(), 0) != 0);  // reaped: the PID is gone
}

TEST_CASE("child overlong lines are cut and the rest skipped") {
  auto c = proc::Child::start({"sh", "-c", "printf '%0100d' 0; echo; echo ok"}, {}, 10);
  REQUIRE(c);
  auto r = c->read_line(Deadline::after(10s));
  REQUIRE(r.what == proc::ReadLine::What::line);
  CHECK(r.overlong);
  CHECK(r.line == std::string(10, '0'));
  r = c->read_line(Deadline::after(10s));
  REQUIRE(r.what == proc::ReadLine::What::line);
  CHECK_FALSE(r.overlong);
  CHECK(r.line == "ok");
}

TEST_CASE("child that cannot be found is not_installed") {
  auto c = proc::Child::start({"/nonexistent/evos-no-such-program"});
  REQUIRE_FALSE(c);
  CHECK(c.error().code() == Errc::not_installed);
}
