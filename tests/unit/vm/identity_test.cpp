#include <evos/vm/domain_config.hpp>
#include <evos/vm/identity.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::vm;

TEST_CASE("the domain identity is read with an XML parser") {
  auto id = parse_domain_identity("<domain type='kvm'>\n  <name>\n    web1\n  </name>\n  <uuid>1b4e28ba-2fa1-11d2-883f-0016d3cca427</uuid>\n</domain>");
  REQUIRE(id);
  CHECK(id->name == "web1");
  CHECK(id->uuid == "1b4e28ba-2fa1-11d2-883f-0016d3cca427");

  CHECK(parse_domain_identity("<domain><name>a</name>").error().message().find("not well-formed") != std::string::npos);
  CHECK(parse_domain_identity("<network><name>a</name></network>").error().message().find("<network>") != std::string::npos);
  CHECK(parse_domain_identity("<domain></domain>").error().message() == "domain XML has no <name>");
  CHECK_FALSE(parse_domain_identity("<domain><name>a b</name></domain>"));
  CHECK(parse_domain_identity("").error().code() == Errc::invalid_config);
}

TEST_CASE("an unreadable config never hides a domain we know") {
  const Error unreadable(Errc::not_installed, "cannot read config file /x.xml: Permission denied");
  const DomainIdentity remembered{"web1", "u1"};

  SECTION("config readable: it decides - and must agree with the domain parameter") {
    CHECK(resolve_identity({"", DomainIdentity{"web1", "u1"}, std::nullopt})->name == "web1");
    auto clash = resolve_identity({"web2", DomainIdentity{"web1", "u1"}, std::nullopt});
    REQUIRE_FALSE(clash);
    CHECK(clash.error().code() == Errc::invalid_config);
  }
  SECTION("config unreadable: the domain parameter - then the remembered name") {
    CHECK(resolve_identity({"web1", unreadable, std::nullopt})->name == "web1");
    CHECK(resolve_identity({"", unreadable, remembered})->name == "web1");
  }
  SECTION("nothing known: an error - never 'not running'") {
    auto r = resolve_identity({"", unreadable, std::nullopt});
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == Errc::backend);
    CHECK(r.error().message().find("set the 'domain' parameter") != std::string::npos);
  }
}
