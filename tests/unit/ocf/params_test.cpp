#include <evos/ocf/params.hpp>
#include <evos/vm/params.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using ocf::ParamSpec;
using ocf::ParamType;

namespace {
std::map<std::string, std::string> valid_vm() { return {{"config", "/etc/evos/vm1.xml"}}; }
}  // namespace

TEST_CASE("defaults apply to unset and empty parameters - required ones must be given") {
  auto v = ocf::parse_params(vm::param_specs(), valid_vm());
  REQUIRE(v);
  CHECK(v->text("hypervisor") == "qemu:///system");
  CHECK(v->integer("migration_downtime") == 30);
  CHECK_FALSE(v->boolean("force_stop"));

  auto empty = valid_vm();
  empty["hypervisor"] = "";
  CHECK(ocf::parse_params(vm::param_specs(), empty)->text("hypervisor") == "qemu:///system");

  auto missing = ocf::parse_params(vm::param_specs(), {});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code() == Errc::invalid_config);
  CHECK(missing.error().message() == "parameter 'config' is required");
}

TEST_CASE("hostile parameter values are refused with a message naming the parameter") {
  struct Case {
    std::string param;
    std::string value;
  };
  const std::vector<Case> cases = {
      {"config", "/tmp/with space.xml"},
      {"config", "/tmp/quote'.xml"},
      {"config", "/tmp/dq\".xml"},
      {"config", "/tmp/$(touch /tmp/pwned).xml"},
      {"config", "/tmp/`id`.xml"},
      {"config", "/tmp/a\nb.xml"},
      {"config", "/" + std::string(5000, 'a')},
      {"config", "/tmp/\xff\xfe.xml"},
      {"hypervisor", "qemu:///system; rm -rf /"},
      {"hypervisor", "qemu:///system\n"},
      {"remote_hypervisor", "qemu+ssh://$(id)/system"},
      {"migration_uri", "tcp://a b"},
      {"migration_network", "-mig;reboot"},
      {"domain", "vm 1"},
      {"migration_downtime", "100; reboot"},
      {"migration_downtime", "-5"},
      {"migration_speed", "99999999999999999999"},
      {"force_stop", "$(reboot)"},
      {"shutdown_mode", "acpi\nagent"},
      {"shutdown_mode", "halt"},
  };
  for (const auto& c : cases) {
    auto keys = valid_vm();
    keys[c.param] = c.value;
    auto v = ocf::parse_params(vm::param_specs(), keys);
    INFO(c.param << " = " << c.value.substr(0, 40));
    REQUIRE_FALSE(v);
    CHECK(v.error().code() == Errc::invalid_config);
    CHECK(v.error().message().find("parameter '" + c.param + "'") == 0);
    // The message never carries the raw control characters or invalid bytes.
    CHECK(v.error().message().find('\n') == std::string::npos);
    CHECK(v.error().message().find('\xff') == std::string::npos);
  }
}

TEST_CASE("OCF booleans read as ocf_is_true reads them") {
  for (auto t : {"1", "yes", "YES", "true", "True", "on"}) CHECK(ocf::parse_ocf_boolean(t) == true);
  for (auto f : {"0", "no", "false", "OFF"}) CHECK(ocf::parse_ocf_boolean(f) == false);
  CHECK_FALSE(ocf::parse_ocf_boolean("maybe"));
  CHECK_FALSE(ocf::parse_ocf_boolean(""));
}

TEST_CASE("integer parameters honour their declared range") {
  const std::vector<ParamSpec> specs = {{.name = "n", .type = ParamType::integer, .min = 1, .max = 10}};
  CHECK(ocf::parse_params(specs, {{"n", "10"}}));
  CHECK_FALSE(ocf::parse_params(specs, {{"n", "11"}}));
  CHECK_FALSE(ocf::parse_params(specs, {{"n", "0"}}));
  CHECK_FALSE(ocf::parse_params(specs, {{"n", "1.5"}}));
  CHECK_FALSE(ocf::parse_params(specs, {{"n", " 5"}}));
}

TEST_CASE("undeclared keys (CRM_meta_*) are ignored - whatever they hold") {
  auto keys = valid_vm();
  keys["CRM_meta_notify"] = "$(reboot)\n";
  keys["crm_feature_set"] = "3.16.2";
  CHECK(ocf::parse_params(vm::param_specs(), keys));
}
