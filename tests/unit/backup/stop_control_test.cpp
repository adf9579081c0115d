#include <evos/backup/stop_control.hpp>
#include <evos/log.hpp>

#include "fake_hypervisor.hpp"
#include "fake_time.hpp"

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::backup;
using namespace std::chrono_literals;
using evos::test::FakeHypervisor;
using evos::test::FakeTime;

TEST_CASE("a stop-mode backup outside a cluster asks the guest to shut down and starts it again") {
  FakeHypervisor hv;
  hv.domains["web1"].state = {vm::Power::running, vm::Reason::booted};
  FakeTime time;
  HypervisorStopControl c(hv, "web1", time);
  REQUIRE(c.stop(time.after(60s)));
  CHECK(hv.domains["web1"].state.power == vm::Power::shut_off);
  REQUIRE(c.start(time.after(60s)));
  CHECK(hv.domains["web1"].state.power == vm::Power::running);
  CHECK(hv.calls == std::vector<std::string>{"shutdown web1", "start web1"});
}

TEST_CASE("a guest that ignores the shutdown request is left running: the backup is not taken") {
  FakeHypervisor hv;
  hv.domains["web1"].state = {vm::Power::running, vm::Reason::booted};
  hv.guest_ignores_shutdown = true;
  FakeTime time;
  HypervisorStopControl c(hv, "web1", time);
  auto r = c.stop(time.after(30s));
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::timeout);
  CHECK(r.error().message().find("left running") != std::string::npos);
  CHECK(hv.domains["web1"].state.power == vm::Power::running);  // never destroyed
  for (const auto& call : hv.calls) CHECK(call.rfind("destroy", 0) != 0);
  CHECK(time.slept() >= 30s);
}

TEST_CASE("a stop-mode backup names a VM the hypervisor does not have") {
  FakeHypervisor hv;
  FakeTime time;
  HypervisorStopControl c(hv, "ghost", time);
  CHECK_FALSE(c.stop(time.after(5s)));
}
