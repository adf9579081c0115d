// The libvirt metrics source on libvirt's test:///default driver: the bulk
// virDomainListGetStats and virDomainGetInfo calls through the real client library, no daemon.
#include <evos/metrics/sources.hpp>
#include <evos/virt/libvirt_hypervisor.hpp>

#include <catch2/catch.hpp>

using namespace evos;
using namespace evos::metrics;

namespace {

std::optional<double> value(const std::vector<Family>& fs, const std::string& name, const Labels& want) {
  for (const auto& f : fs)
    if (f.name == name)
      for (const auto& s : f.samples) {
        bool all = true;
        for (const auto& w : want)
          if (std::find(s.labels.begin(), s.labels.end(), w) == s.labels.end()) all = false;
        if (all) return s.value;
      }
  return std::nullopt;
}

}  // namespace

TEST_CASE("metrics: bulk domain stats of the test driver's domains") {
  // test:///default's state is shared by the connections of one process: a domain defined here
  // is seen by the reader's own connection.
  auto hv = virt::connect_libvirt("test:///default");
  REQUIRE(hv);
  REQUIRE((*hv)->define("<domain type='test'><name>evos-metrics-off</name><memory>65536</memory><vcpu>1</vcpu>"
                        "<os><type>hvm</type></os></domain>"));
  auto reader = std::make_shared<LibvirtStatsReader>("test:///default");
  auto stats = reader->read();
  REQUIRE(stats);
  auto facts = std::make_shared<SharedFacts>();
  facts->set_ha_vms({"test"});
  auto source = libvirt_source(reader, "alpha", facts);
  auto fs = source.read(Deadline::after(Millis(5000)));
  REQUIRE(fs);
  CHECK(value(*fs, "evos_vm_state", {{"vm", "test"}, {"node", "alpha"}, {"state", "running"}}) == 1);
  CHECK(value(*fs, "evos_vm_state", {{"vm", "evos-metrics-off"}, {"state", "shutoff"}}) == 1);
  CHECK(value(*fs, "evos_vm_info", {{"vm", "test"}, {"ha", "1"}}) == 1);
  CHECK(value(*fs, "evos_vm_info", {{"vm", "evos-metrics-off"}, {"ha", "0"}}) == 1);
  CHECK(facts->vms().count("evos-metrics-off") == 1);
  // virDomainGetInfo's figures: the test driver's "test" domain runs with 2 vCPUs and 8 GiB at most
  // (its built-in definition); the shut-off one has none.
  CHECK(value(*fs, "evos_vm_vcpus", {{"vm", "test"}}) == 2);
  CHECK(value(*fs, "evos_vm_memory_maximum_bytes", {{"vm", "test"}}) == 8388608.0 * 1024);
  CHECK_FALSE(value(*fs, "evos_vm_vcpus", {{"vm", "evos-metrics-off"}}));
  // Not a QEMU driver on this host: no pid files to read, so no RSS from /proc.
  CHECK(local_qemu_pid_dir("test:///default").empty());
  CHECK(local_qemu_pid_dir("qemu:///system") == "/run/libvirt/qemu");
  CHECK(local_qemu_pid_dir("qemu+unix:///system?socket=/tmp/x/libvirt-sock").empty());
  CHECK(local_qemu_pid_dir("qemu+ssh://other/system").empty());
  auto text = write_text(*fs);
  REQUIRE(text);
  CHECK(text->find("evos_vm_state{vm=\"test\",node=\"alpha\",state=\"running\"} 1\n") != std::string::npos);
}

TEST_CASE("metrics: an unreachable libvirt is an error naming the URI and the next read tries again") {
  LibvirtStatsReader reader("qemu+unix:///system?socket=/nonexistent/evos-metrics-test.sock");
  auto r = reader.read();
  REQUIRE_FALSE(r);
  CHECK(r.error().message().find("/nonexistent/evos-metrics-test.sock") != std::string::npos);
  CHECK_FALSE(reader.read());
}

TEST_CASE("metrics: with a max age the block counters are sampled and the state stays live") {
  auto hv = virt::connect_libvirt("test:///default");
  REQUIRE(hv);
  const std::string name = "evos-metrics-sampled";
  REQUIRE((*hv)->define("<domain type='test'><name>" + name + "</name><memory>65536</memory><vcpu>1</vcpu>"
                        "<os><type>hvm</type></os></domain>"));
  REQUIRE((*hv)->start(name));
  // An hour: only this test's reads refresh the sample (the background one waits half of it).
  auto reader = std::make_shared<LibvirtStatsReader>(LibvirtReadOptions{.uri = "test:///default", .max_age = Millis(3'600'000)});
  auto first = reader->read();
  REQUIRE(first);
  REQUIRE(first->block_sample_age);  // read by this scrape: no sample was there
  auto second = reader->read();
  REQUIRE(second);
  REQUIRE(second->block_sample_age);
  CHECK(*second->block_sample_age >= *first->block_sample_age);  // the same sample, older
  auto find = [&](const DomainReading& r) -> const DomainStats* {
    for (const auto& d : r.domains)
      if (d.name == name) return &d;
    return nullptr;
  };
  REQUIRE(find(*second));
  CHECK(find(*second)->state == 1);
  // (The test driver has no block counters to sample: the merge is unit/"sampled block counters",
  // the counters against QEMU bench/monitor's evos-sampled row.)
  // Stopped: the next read says so at once, with no sampled disk, though the sample is young.
  REQUIRE((*hv)->destroy(name, false));
  auto third = reader->read();
  REQUIRE(third);
  REQUIRE(find(*third));
  CHECK(find(*third)->state == 5);
  CHECK(find(*third)->blocks.empty());
  CHECK(third->block_sample_age);
  // The family says how old the counters are.
  auto facts = std::make_shared<SharedFacts>();
  auto fs = libvirt_source(reader, "alpha", facts).read(Deadline::after(Millis(5000)));
  REQUIRE(fs);
  CHECK(value(*fs, "evos_vm_block_sample_age_seconds", {{"node", "alpha"}}) >= 0.0);
  CHECK(value(*fs, "evos_vm_state", {{"vm", name}, {"state", "shutoff"}}) == 1);
  // Live (no max age): no such family.
  auto live = libvirt_source(std::make_shared<LibvirtStatsReader>("test:///default"), "alpha", facts).read(Deadline::after(Millis(5000)));
  REQUIRE(live);
  CHECK_FALSE(value(*live, "evos_vm_block_sample_age_seconds", {}));
}
