// LibvirtHypervisor against libvirt's test:///default driver: real libvirt client code paths,
// an in-process fake hypervisor (virt-notes.md section 6), no daemon.
#include <evos/virt/libvirt_hypervisor.hpp>

#include <catch2/catch.hpp>
#include <libvirt/libvirt.h>

using namespace evos;
using namespace evos::vm;

namespace {

const char* const guest_xml =
    "<domain type='test'><name>evos-unit</name><uuid>0f0e0d0c-0b0a-0908-0706-050403020100</uuid>"
    "<memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>";

std::unique_ptr<virt::LibvirtHypervisor> connect() {
  auto hv = virt::connect_libvirt("test:///default");
  REQUIRE(hv);
  return std::move(*hv);
}

}  // namespace

TEST_CASE("lifecycle through the adapter") {
  auto hv = connect();
  CHECK(hv->state("evos-unit")->power == Power::absent);
  REQUIRE(hv->define(guest_xml));
  CHECK(hv->state("evos-unit")->power == Power::shut_off);
  auto summary = hv->summary("evos-unit");
  REQUIRE(summary);
  CHECK(summary->persistent);
  CHECK_FALSE(summary->autostart);
  CHECK(summary->uuid == "0f0e0d0c-0b0a-0908-0706-050403020100");

  REQUIRE(hv->start("evos-unit"));
  CHECK(hv->state("evos-unit")->power == Power::running);
  auto deep = hv->deep_check("evos-unit");
  REQUIRE(deep);
  CHECK(deep->disk_errors.empty());

  REQUIRE(hv->request_shutdown("evos-unit", ShutdownMode::hypervisor_default));
  CHECK(hv->state("evos-unit")->power == Power::shut_off);
  REQUIRE(hv->start("evos-unit"));
  REQUIRE(hv->destroy("evos-unit", false));
  auto st = hv->state("evos-unit");
  CHECK(st->power == Power::shut_off);
  CHECK(st->reason == Reason::destroyed);

  auto all = hv->list();
  REQUIRE(all);
  CHECK(std::any_of(all->begin(), all->end(), [](const auto& d) { return d.name == "test"; }));
}

TEST_CASE("invalid domain XML is a configuration error") {
  auto hv = connect();
  auto r = hv->define("<domain type='test'><name>x</name></domain>");
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::invalid_config);
}

TEST_CASE("errors name the operation - unknown domains are 'absent' to state() and errors elsewhere") {
  auto hv = connect();
  auto r = hv->start("no-such-domain");
  REQUIRE_FALSE(r);
  CHECK(r.error().code() == Errc::not_found);
  CHECK(r.error().message().find("no-such-domain") != std::string::npos);
}

TEST_CASE("snapshot metadata is listed with its XML and current flag") {
  auto hv = connect();
  // Create a snapshot with the raw API: the port has no "create snapshot" on purpose.
  virConnectPtr raw = virConnectOpen("test:///default");
  REQUIRE(raw);
  virDomainPtr dom = virDomainLookupByName(raw, "test");
  REQUIRE(dom);
  virDomainSnapshotPtr snap = virDomainSnapshotCreateXML(dom, "<domainsnapshot><name>s1</name></domainsnapshot>", 0);
  REQUIRE(snap);
  virDomainSnapshotFree(snap);
  virDomainFree(dom);
  virConnectClose(raw);

  auto snaps = hv->snapshots("test");
  REQUIRE(snaps);
  REQUIRE(snaps->size() == 1);
  CHECK((*snaps)[0].name == "s1");
  CHECK((*snaps)[0].current);
  CHECK((*snaps)[0].xml.find("<name>s1</name>") != std::string::npos);

  // The test driver cannot delete metadata only (VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY);
  // the carry-over across a migration is tested on real libvirtd (tests/integration/vm_agent_real.sh).
  auto dropped = hv->drop_snapshot_metadata("test", "s1");
  REQUIRE_FALSE(dropped);
  CHECK(dropped.error().message().find("snapshot 's1'") != std::string::npos);
  CHECK(hv->snapshots("test")->size() == 1);
}

TEST_CASE("a migration the driver cannot do fails cleanly - without hanging") {
  auto hv = connect();
  MigrationRequest req{{"node2", "test:///default", ""}, {}};
  auto r = hv->migrate("test", req, Deadline::after(std::chrono::seconds(5)), {});
  REQUIRE_FALSE(r);
  CHECK(hv->state("test")->power == Power::running);
}

TEST_CASE("an unreachable hypervisor is a backend error naming the URI") {
  auto hv = virt::connect_libvirt("qemu+unix:///system?socket=/nonexistent/evos-no-such-socket");
  REQUIRE_FALSE(hv);
  CHECK(hv.error().code() == Errc::backend);
  CHECK(hv.error().message().find("/nonexistent/evos-no-such-socket") != std::string::npos);
}
