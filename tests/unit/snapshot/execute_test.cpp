#include <evos/snapshot/execute.hpp>

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

using namespace evos;
using namespace evos::snapshot;

namespace {

const char* domain = R"(<domain type='kvm'><name>web1</name><devices>
  <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/srv/web1/web1-vda.qcow2'/><target dev='vda'/></disk>
</devices></domain>)";

// Records every call in order; `fail` names the calls that fail.
class FakeActions final : public Actions {
 public:
  std::vector<std::string> calls;
  std::set<std::string> fail;
  bool agent = false;
  std::optional<Catalogue> saved;

  Result<bool> freeze() override {
    if (auto e = step("freeze")) return *e;
    return agent;
  }
  Result<void> thaw() override { return result("thaw"); }
  Result<void> live_snapshot(const std::string&) override { return result("live_snapshot"); }
  Result<void> make_overlays(const std::vector<NewOverlay>&) override { return result("make_overlays"); }
  void remove_files(const std::vector<std::string>& files) override {
    for (const auto& f : files) calls.push_back("remove " + f);
  }
  Result<void> check_not_in_use(const std::map<std::string, std::string>&) override { return result("check_not_in_use"); }
  Result<void> write_definition(const std::string&) override { return result("write_definition"); }
  Result<void> redefine(const std::string&) override { return result("redefine"); }
  Result<void> save_catalogue(const Catalogue& c) override {
    auto r = result("save_catalogue");
    if (r) saved = c;
    return r;
  }
  Result<void> stop_vm() override { return result("stop_vm"); }
  Result<void> start_vm() override { return result("start_vm"); }
  Result<void> set_ha_role(const std::string& id, const std::optional<std::string>& role, bool, bool wait) override {
    return result(fmt::format("role {} {}{}", id, role.value_or("(unset)"), wait ? " wait" : ""));
  }

 private:
  std::optional<Error> step(const std::string& name) {
    calls.push_back(name);
    if (fail.count(name)) return Error(Errc::backend, name + " failed");
    return std::nullopt;
  }
  Result<void> result(const std::string& name) {
    if (auto e = step(name)) return *e;
    return {};
  }
};

vm::VmLayout web1() { return *vm::layout("/srv", "web1"); }

CreatePlan create_plan(const Catalogue& c, const std::string& xml, const std::string& name) {
  auto p = plan_create(c, web1(), xml, {.name = name, .created = "t", .node = "a"}, {});
  REQUIRE(p);
  return *p;
}

struct Fixture {
  Catalogue c;
  std::string xml = domain;
  Fixture() {
    auto i = initial_catalogue("web1", domain);
    REQUIRE(i);
    c = *i;
    auto p = create_plan(c, xml, "s1");
    c = p.after;
    xml = p.definition_xml;
    auto p2 = create_plan(c, xml, "s2");
    c = p2.after;
    xml = p2.definition_xml;
  }
  RevertPlan revert(const std::string& to) {
    auto r = plan_revert(c, web1(), to, {});
    REQUIRE(r);
    return *r;
  }
};

const Place running_ha{.ha_resource = "vm-web1", .target_role = std::nullopt, .running = true, .node = "b"};
const Place running_plain{.running = true, .node = "a"};
const Place shut_off{};

}  // namespace

TEST_CASE("a live snapshot freezes, snapshots and thaws, then writes the definition before the catalogue") {
  Fixture f;
  auto plan = create_plan(f.c, f.xml, "s3");
  FakeActions a;
  a.agent = true;
  auto r = execute_create(plan, running_plain, a);
  REQUIRE(r);
  CHECK(r->consistency == Consistency::frozen);
  CHECK(a.calls == std::vector<std::string>{"freeze", "live_snapshot", "thaw", "write_definition", "redefine", "save_catalogue"});
  REQUIRE(a.saved);
  CHECK(a.saved->find("s3")->consistency == Consistency::frozen);
}

TEST_CASE("without a guest agent a live snapshot is crash-consistent and nothing is thawed") {
  Fixture f;
  auto plan = create_plan(f.c, f.xml, "s3");
  FakeActions a;
  auto r = execute_create(plan, running_ha, a);
  REQUIRE(r);
  CHECK(r->consistency == Consistency::crash_consistent);
  // An HA VM is not redefined: its agent redefines it from the file at every start.
  CHECK(a.calls == std::vector<std::string>{"freeze", "live_snapshot", "write_definition", "save_catalogue"});
}

TEST_CASE("a paused VM is snapshotted without asking its guest agent") {
  Fixture f;
  auto plan = create_plan(f.c, f.xml, "s3");
  FakeActions a;
  a.agent = true;
  Place p = running_plain;
  p.paused = true;
  auto r = execute_create(plan, p, a);
  REQUIRE(r);
  CHECK(r->consistency == Consistency::crash_consistent);
  CHECK(a.calls == std::vector<std::string>{"live_snapshot", "write_definition", "redefine", "save_catalogue"});
}

TEST_CASE("a frozen guest is thawed even when the snapshot fails, and nothing is recorded") {
  Fixture f;
  auto plan = create_plan(f.c, f.xml, "s3");
  FakeActions a;
  a.agent = true;
  a.fail = {"live_snapshot"};
  auto r = execute_create(plan, running_plain, a);
  REQUIRE_FALSE(r);
  CHECK(a.calls == std::vector<std::string>{"freeze", "live_snapshot", "thaw"});
  CHECK_FALSE(a.saved);
}

TEST_CASE("a failed thaw after a taken snapshot still records it, with a warning") {
  Fixture f;
  auto plan = create_plan(f.c, f.xml, "s3");
  FakeActions a;
  a.agent = true;
  a.fail = {"thaw"};
  auto r = execute_create(plan, running_plain, a);
  REQUIRE(r);
  REQUIRE(r->warnings.size() == 1);
  CHECK(r->warnings[0].find("domfsthaw") != std::string::npos);
  CHECK(a.saved);
}

TEST_CASE("an offline snapshot whose definition cannot be written leaves no overlay behind") {
  Fixture f;
  auto plan = create_plan(f.c, f.xml, "s3");
  FakeActions a;
  a.fail = {"write_definition"};
  auto r = execute_create(plan, shut_off, a);
  REQUIRE_FALSE(r);
  CHECK(a.calls == std::vector<std::string>{"check_not_in_use", "make_overlays", "write_definition",
                                            "remove /srv/web1/snapshots/web1-vda.3.qcow2"});
  CHECK_FALSE(a.saved);
}

TEST_CASE("an offline snapshot of images a QEMU still writes is refused before anything is made") {
  Fixture f;
  auto plan = create_plan(f.c, f.xml, "s3");
  FakeActions a;
  a.fail = {"check_not_in_use"};
  auto r = execute_create(plan, shut_off, a);
  REQUIRE_FALSE(r);
  CHECK(a.calls == std::vector<std::string>{"check_not_in_use"});
  CHECK_FALSE(a.saved);
}

TEST_CASE("a running HA VM is reverted only through Pacemaker: stopped, reverted, its target-role put back") {
  Fixture f;
  auto plan = f.revert("s1");
  FakeActions a;
  auto r = execute_revert(plan, f.c, running_ha, a);
  REQUIRE(r);
  CHECK(*r);
  CHECK(a.calls == std::vector<std::string>{"role vm-web1 Stopped wait", "check_not_in_use", "make_overlays", "write_definition",
                                            "save_catalogue", "remove /srv/web1/snapshots/web1-vda.2.qcow2",
                                            "role vm-web1 (unset) wait"});
}

TEST_CASE("an HA VM that does not stop in time is not reverted, and Pacemaker gets its target back") {
  Fixture f;
  auto plan = f.revert("s1");
  FakeActions a;
  a.fail = {"role vm-web1 Stopped wait"};
  Place p = running_ha;
  p.target_role = "Started";
  auto r = execute_revert(plan, f.c, p, a);
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("nothing was reverted") != std::string::npos);
  CHECK(a.calls == std::vector<std::string>{"role vm-web1 Stopped wait", "role vm-web1 Started"});
  CHECK_FALSE(a.saved);
}

TEST_CASE("a revert that fails after the stop starts the VM again on what it had") {
  Fixture f;
  auto plan = f.revert("s1");
  FakeActions a;
  a.fail = {"check_not_in_use"};
  auto r = execute_revert(plan, f.c, running_plain, a);
  REQUIRE_FALSE(r);
  CHECK(a.calls == std::vector<std::string>{"stop_vm", "check_not_in_use", "start_vm"});
  CHECK_FALSE(a.saved);

  FakeActions b;
  b.fail = {"check_not_in_use", "start_vm"};
  auto r2 = execute_revert(plan, f.c, running_plain, b);
  REQUIRE_FALSE(r2);
  CHECK(r2.error().message().find("and starting the VM again failed") != std::string::npos);
}

TEST_CASE("a shut-off VM is reverted without being started, and nothing is removed before the catalogue is saved") {
  Fixture f;
  auto plan = f.revert("s2");
  FakeActions a;
  a.fail = {"save_catalogue"};
  auto r = execute_revert(plan, f.c, shut_off, a);
  REQUIRE_FALSE(r);
  CHECK(a.calls == std::vector<std::string>{"check_not_in_use", "make_overlays", "write_definition", "redefine", "save_catalogue"});
  FakeActions b;
  auto ok = execute_revert(plan, f.c, shut_off, b);
  REQUIRE(ok);
  CHECK_FALSE(*ok);
}
