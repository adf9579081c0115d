#include <evos/vm/migration_policy.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::vm;
using namespace std::chrono_literals;

namespace {

constexpr unsigned long long MiB = 1ull << 20;

MigrationSettings settings(Millis downtime, Millis cap, bool postcopy = false, bool auto_converge = true) {
  MigrationSettings s;
  s.max_downtime = downtime;
  s.max_downtime_cap = cap;
  s.postcopy = postcopy;
  s.auto_converge = auto_converge;
  return s;
}

// A reading of the job in pass `pass` with `remaining` MiB left and the two rates in MiB/s.
MigrationProgress reading(unsigned long long pass, unsigned long long remaining, unsigned long long dirty = 0,
                          unsigned long long link = 0) {
  MigrationProgress p;
  p.memory_iteration = pass;
  p.memory_remaining = remaining * MiB;
  p.dirty_rate = dirty * MiB;
  p.transfer_rate = link * MiB;
  return p;
}

}  // namespace

TEST_CASE("the plan starts with the configured limit, bandwidth and controls") {
  auto s = settings(30ms, 300ms, true, true);
  s.bandwidth_mib_s = 100;
  MigrationPolicy policy(s);
  CHECK(policy.plan().max_downtime == 30ms);
  CHECK(policy.plan().bandwidth_mib_s == 100);
  CHECK(policy.plan().auto_converge);
  CHECK(policy.plan().postcopy);
  CHECK(policy.max_downtime() == 30ms);
}

TEST_CASE("a converging migration is left alone") {
  MigrationPolicy policy(settings(30ms, 300ms));
  CHECK_FALSE(policy.next(reading(1, 200, 0, 0)));  // the first pass: nothing to judge
  CHECK_FALSE(policy.next(reading(1, 100, 0, 0)));
  CHECK_FALSE(policy.next(reading(2, 40, 20, 250)));  // the guest dirties slower than the link
  CHECK_FALSE(policy.next(reading(3, 10, 20, 250)));  // and the remainder shrinks
  CHECK_FALSE(policy.next(reading(4, 2, 20, 250)));
  CHECK(policy.max_downtime() == 30ms);
  CHECK_FALSE(policy.postcopy_started());
}

TEST_CASE("each pass that does not shrink the remainder doubles the limit, up to the cap") {
  MigrationPolicy policy(settings(30ms, 200ms));
  CHECK_FALSE(policy.next(reading(1, 200)));
  CHECK_FALSE(policy.next(reading(2, 50)));
  CHECK_FALSE(policy.next(reading(2, 50)));  // the same pass is judged once
  auto step = policy.next(reading(3, 60));
  REQUIRE(step);
  CHECK(step.max_downtime == 60ms);
  CHECK_FALSE(step.start_postcopy);
  CHECK(step.why.find("downtime limit raised to 60 ms") != std::string::npos);
  CHECK(step.why.find("auto-converge") != std::string::npos);
  CHECK_FALSE(policy.next(reading(3, 10)));  // later readings of pass 3: already judged
  CHECK(policy.next(reading(4, 60)).max_downtime == 120ms);
  CHECK(policy.next(reading(5, 61)).max_downtime == 200ms);  // capped
  CHECK_FALSE(policy.next(reading(6, 70)));                   // at the cap: QEMU's throttling goes on
  CHECK(policy.max_downtime() == 200ms);
}

TEST_CASE("a guest that dirties as fast as the link carries is not converging, even while the remainder shrinks") {
  MigrationPolicy policy(settings(30ms, 300ms));
  CHECK_FALSE(policy.next(reading(1, 200, 0, 0)));
  auto step = policy.next(reading(2, 100, 300, 250));  // judged right after the first pass
  REQUIRE(step);
  CHECK(step.max_downtime == 60ms);
  CHECK(step.why.find("dirties 300 MiB/s while the link carries 250 MiB/s") != std::string::npos);
}

TEST_CASE("with post-copy allowed, the first pass that does not converge switches to post-copy, once") {
  MigrationPolicy policy(settings(30ms, 300ms, true));
  CHECK_FALSE(policy.next(reading(1, 200)));
  CHECK_FALSE(policy.next(reading(2, 50, 10, 250)));
  auto step = policy.next(reading(3, 80, 10, 250));
  REQUIRE(step);
  CHECK(step.start_postcopy);
  CHECK_FALSE(step.max_downtime);
  CHECK(step.why.find("post-copy") != std::string::npos);
  CHECK(policy.postcopy_started());
  CHECK_FALSE(policy.next(reading(4, 90, 10, 250)));  // nothing more to do after the switch
  CHECK(policy.max_downtime() == 30ms);
}

TEST_CASE("post-copy allowed but not needed: a converging guest stays in pre-copy") {
  MigrationPolicy policy(settings(30ms, 300ms, true));
  CHECK_FALSE(policy.next(reading(1, 200, 0, 0)));
  CHECK_FALSE(policy.next(reading(2, 30, 50, 250)));
  CHECK_FALSE(policy.next(reading(3, 5, 50, 250)));
  CHECK_FALSE(policy.postcopy_started());
}

TEST_CASE("QEMU's own limit (0) is never raised, and a cap below the limit keeps it") {
  MigrationPolicy qemu(settings(0ms, 300ms));
  CHECK_FALSE(qemu.next(reading(1, 200)));
  CHECK_FALSE(qemu.next(reading(2, 50)));
  CHECK_FALSE(qemu.next(reading(3, 60)));
  CHECK(qemu.max_downtime() == 0ms);
  MigrationPolicy fixed(settings(100ms, 50ms));
  CHECK_FALSE(fixed.next(reading(1, 200)));
  CHECK_FALSE(fixed.next(reading(2, 50)));
  CHECK_FALSE(fixed.next(reading(3, 60)));
  CHECK(fixed.max_downtime() == 100ms);
}

TEST_CASE("readings without a pass number (a job just starting) are ignored, and a skipped pass is still judged") {
  MigrationPolicy policy(settings(30ms, 300ms));
  CHECK_FALSE(policy.next(reading(0, 0)));
  CHECK_FALSE(policy.next(reading(1, 200)));
  CHECK_FALSE(policy.next(reading(2, 50)));
  CHECK(policy.next(reading(5, 55)).max_downtime == 60ms);  // passes 3 and 4 went by between readings
}
