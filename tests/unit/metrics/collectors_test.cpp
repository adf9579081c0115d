#include <evos/cluster/status.hpp>
#include <evos/drbd/events2_parser.hpp>
#include <evos/metrics/collectors.hpp>

#include <catch2/catch.hpp>

using namespace evos::metrics;

namespace {

// The value of the sample of `name` whose labels include all of `want`, or nullopt.
std::optional<double> value(const std::vector<Family>& fs, const std::string& name, const Labels& want) {
  for (const auto& f : fs) {
    if (f.name != name) continue;
    for (const auto& s : f.samples) {
      bool all = true;
      for (const auto& w : want)
        if (std::find(s.labels.begin(), s.labels.end(), w) == s.labels.end()) all = false;
      if (all) return s.value;
    }
  }
  return std::nullopt;
}

std::size_t count(const std::vector<Family>& fs, const std::string& name) {
  for (const auto& f : fs)
    if (f.name == name) return f.samples.size();
  return 0;
}

}  // namespace

TEST_CASE("libvirt stats record: typed parameters to domain stats") {
  const std::vector<StatParam> params = {
      {"state.state", 1, ""},        {"state.reason", 1, ""},      {"cpu.time", 2500000000.0, ""},
      {"vcpu.current", 2, ""},       {"balloon.current", 524288, ""}, {"balloon.maximum", 1048576, ""},
      {"balloon.rss", 300000, ""},   {"block.count", 2, ""},       {"block.0.name", std::nullopt, "vda"},
      {"block.0.rd.bytes", 4096, ""}, {"block.0.wr.bytes", 8192, ""}, {"block.0.rd.reqs", 1, ""},
      {"block.0.wr.reqs", 2, ""},    {"block.1.rd.bytes", 5, ""},  // no name: left out
      {"net.count", 1, ""},          {"net.0.name", std::nullopt, "vnet0"}, {"net.0.rx.bytes", 100, ""},
      {"net.0.tx.bytes", 200, ""},   {"net.0.rx.pkts", 3, ""},     {"net.0.tx.pkts", 4, ""}, {"net.0.rx.errs", 5, ""}, {"net.0.tx.drop", 6, ""},
      {"block.x.rd.bytes", 9, ""},   {"unknown.key", 1, ""},
  };
  const DomainStats d = domain_stats_from_params("web1", params);
  CHECK(d.name == "web1");
  CHECK(d.state == 1);
  CHECK(d.cpu_time_ns == 2500000000u);
  CHECK(d.rss_kib == 300000u);
  REQUIRE(d.blocks.size() == 1);
  CHECK(d.blocks[0].name == "vda");
  CHECK(d.blocks[0].write_bytes == 8192u);
  REQUIRE(d.interfaces.size() == 1);
  CHECK(d.interfaces[0].tx_packets == 4u);

  const auto fs = vm_families({d}, "alpha", {"web1"});
  CHECK(value(fs, "evos_vm_cpu_seconds_total", {{"vm", "web1"}, {"node", "alpha"}}) == 2.5);
  CHECK(value(fs, "evos_vm_memory_balloon_bytes", {{"vm", "web1"}}) == 524288.0 * 1024);
  CHECK(value(fs, "evos_vm_memory_rss_bytes", {{"vm", "web1"}}) == 300000.0 * 1024);
  CHECK(value(fs, "evos_vm_block_write_bytes_total", {{"disk", "vda"}}) == 8192);
  CHECK(value(fs, "evos_vm_network_receive_packets_total", {{"interface", "vnet0"}}) == 3);
  CHECK(value(fs, "evos_vm_network_receive_errors_total", {{"interface", "vnet0"}}) == 5);
  CHECK(value(fs, "evos_vm_network_transmit_drops_total", {{"interface", "vnet0"}}) == 6);
  CHECK(value(fs, "evos_vm_info", {{"vm", "web1"}, {"ha", "1"}, {"libvirt_state", "running"}}) == 1);
  CHECK(value(fs, "evos_vm_state", {{"vm", "web1"}, {"state", "running"}}) == 1);
  CHECK(value(fs, "evos_vm_state", {{"vm", "web1"}, {"state", "crashed"}}) == 0);
  CHECK(value(fs, "evos_vms", {}) == 1);
  CHECK(write_text(fs));
}

TEST_CASE("a shut-off VM has a state and no CPU or device samples") {
  DomainStats off;
  off.name = "cold";
  off.state = 5;
  const auto fs = vm_families({off}, "alpha", {});
  CHECK(value(fs, "evos_vm_state", {{"vm", "cold"}, {"state", "shutoff"}}) == 1);
  CHECK(value(fs, "evos_vm_info", {{"vm", "cold"}, {"ha", "0"}}) == 1);
  CHECK(count(fs, "evos_vm_cpu_seconds_total") == 0);
  CHECK(domain_state_name(6) == "crashed");
  CHECK(domain_state_name(99) == "unknown");
}

TEST_CASE("HA VMs are ocf:evos:vm resources named vm-NAME") {
  evos::cluster::PacemakerStatus st;
  st.resources.push_back({.id = "vm-web1", .agent = "ocf:evos:vm"});
  st.resources.push_back({.id = "vm-", .agent = "ocf:evos:vm"});
  st.resources.push_back({.id = "db", .agent = "ocf:evos:vm"});
  st.resources.push_back({.id = "vm-ping", .agent = "ocf:evos:ping"});
  CHECK(ha_vm_names(st) == std::set<std::string>{"web1"});
}

TEST_CASE("cluster families from crm_mon XML with failed actions") {
  const char* xml = R"(<pacemaker-result api-version="2.25" request="crm_mon --output-as=xml">
  <summary><current_dc present="true" name="alpha" with_quorum="true"/><cluster_options stonith-enabled="true"/></summary>
  <nodes>
    <node name="alpha" online="true" standby="false" maintenance="false" unclean="false" is_dc="true"/>
    <node name="beta" online="true" standby="true" maintenance="false" unclean="false" is_dc="false"/>
  </nodes>
  <resources>
    <resource id="vm-web1" resource_agent="ocf:evos:vm" role="Started" active="true" failed="false" managed="true">
      <node name="alpha"/></resource>
    <clone id="ping-clone">
      <resource id="ping" resource_agent="ocf:evos:ping" role="Started" active="true"><node name="alpha"/></resource>
      <resource id="ping" resource_agent="ocf:evos:ping" role="Stopped" active="false"/>
      <resource id="ping" resource_agent="ocf:evos:ping" role="Stopped" active="false"/>
    </clone>
  </resources>
  <failures>
    <failure op_key="vm-web1_monitor_10000" node="beta" exitstatus="not running" exitreason="gone" exitcode="7" call="12" status="complete"/>
    <failure op_key="vm-web1_start_0" node="beta" exitstatus="error" exitreason="" exitcode="1" call="14" status="complete"/>
  </failures>
  <status code="0" message="OK"/>
</pacemaker-result>)";
  auto st = evos::cluster::parse_crm_mon_xml(xml);
  REQUIRE(st);
  REQUIRE(st->failures.size() == 2);
  CHECK(st->failures[0].op_key == "vm-web1_monitor_10000");
  CHECK(st->failures[0].exitcode == 7);
  CHECK(st->failures[0].exitreason == "gone");
  const auto fs = pacemaker_families(*st);
  CHECK(value(fs, "evos_pacemaker_quorate", {}) == 1);
  CHECK(value(fs, "evos_cluster_nodes_online", {}) == 2);
  CHECK(value(fs, "evos_cluster_nodes_standby", {}) == 1);
  CHECK(value(fs, "evos_node_state", {{"node", "beta"}, {"state", "standby"}}) == 1);
  CHECK(value(fs, "evos_node_state", {{"node", "alpha"}, {"state", "dc"}}) == 1);
  CHECK(value(fs, "evos_cluster_failed_actions", {{"node", "beta"}}) == 2);
  CHECK(value(fs, "evos_cluster_failed_actions", {{"node", "alpha"}}) == 0);
  CHECK(value(fs, "evos_cluster_resources_active", {{"node", "alpha"}}) == 2);
  // The two stopped clone instances share one sample (ha_cluster_exporter #193).
  CHECK(value(fs, "evos_resource_active", {{"resource", "ping"}, {"node", ""}}) == 0);
  CHECK(value(fs, "evos_resource_active", {{"resource", "vm-web1"}, {"node", "alpha"}}) == 1);
  CHECK(write_text(fs));
}

TEST_CASE("corosync families stand alone when Pacemaker is down") {
  evos::cluster::Membership m;
  m.quorate = false;
  m.nodes = {{1, "alpha", true}, {2, "beta", false}};
  const auto fs = corosync_families(m);
  CHECK(value(fs, "evos_corosync_quorate", {}) == 0);
  CHECK(value(fs, "evos_corosync_member_online", {{"node", "beta"}, {"nodeid", "2"}}) == 0);
  CHECK(value(fs, "evos_corosync_member_online", {{"node", "alpha"}}) == 1);
  CHECK(write_text(fs));
}

TEST_CASE("mirror families from events2 with statistics") {
  const std::string text =
      "exists resource name:r0 role:Primary suspended:no force-io-failures:no\n"
      "exists connection name:r0 peer-node-id:1 conn-name:beta connection:Connected role:Secondary\n"
      "exists device name:r0 volume:0 minor:1 disk:UpToDate client:no quorum:yes size:1048576\n"
      "exists peer-device name:r0 peer-node-id:1 conn-name:beta volume:0 replication:SyncSource peer-disk:Inconsistent "
      "peer-client:no resync-suspended:no done:40.00 received:12 sent:2048 out-of-sync:4096 pending:0 unacked:0\n"
      "exists -\n";
  auto events = evos::drbd::parse_events2(text);
  REQUIRE(events);
  const auto states = evos::drbd::states_from_events(*events);
  std::vector<evos::drbd::ResourceState> list;
  for (const auto& [n, s] : states) list.push_back(s);
  const auto fs = mirror_families(list);
  CHECK(value(fs, "evos_mirror_role", {{"mirror", "r0"}, {"role", "Primary"}}) == 1);
  CHECK(value(fs, "evos_mirror_role", {{"mirror", "r0"}, {"role", "Secondary"}}) == 0);
  CHECK(value(fs, "evos_mirror_disk_state", {{"mirror", "r0"}, {"state", "UpToDate"}}) == 1);
  CHECK(value(fs, "evos_mirror_connection_state", {{"peer", "beta"}, {"state", "Connected"}}) == 1);
  CHECK(value(fs, "evos_mirror_peer_disk_state", {{"peer", "beta"}, {"state", "Inconsistent"}}) == 1);
  CHECK(value(fs, "evos_mirror_out_of_sync_bytes", {{"mirror", "r0"}}) == 4096.0 * 1024);
  CHECK(value(fs, "evos_mirror_resync_done_ratio", {{"mirror", "r0"}}) == Approx(0.4));
  CHECK(value(fs, "evos_mirror_sent_bytes_total", {{"mirror", "r0"}}) == 2048.0 * 1024);
  CHECK(value(fs, "evos_mirror_received_bytes_total", {{"mirror", "r0"}}) == 12.0 * 1024);
  CHECK(value(fs, "evos_mirror_split_brain", {{"mirror", "r0"}}) == 0);
  CHECK(write_text(fs));
}

TEST_CASE("backup families: age of the newest backup and VMs without a schedule") {
  std::vector<VmBackupFacts> vms(3);
  vms[0].vm = "web1";
  vms[0].scheduled = true;
  vms[0].last_backup_unix_ms = 1'000'000;
  vms[0].last_duration_ms = 1500;
  vms[0].last_bytes_read = 100;
  vms[0].last_bytes_stored = 10;
  vms[1].vm = "db";
  vms[1].scheduled = true;
  vms[1].store_error = "store /mnt/x: not found";
  vms[2].vm = "scratch";
  const auto fs = backup_families(vms, 4'600'000);
  CHECK(value(fs, "evos_backup_last_success_timestamp_seconds", {{"vm", "web1"}}) == 1000);
  CHECK(value(fs, "evos_backup_last_success_age_seconds", {{"vm", "web1"}}) == 3600);
  CHECK(value(fs, "evos_backup_last_duration_seconds", {{"vm", "web1"}}) == 1.5);
  CHECK(value(fs, "evos_backup_last_bytes", {{"vm", "web1"}, {"kind", "stored"}}) == 10);
  CHECK(value(fs, "evos_backup_store_readable", {{"vm", "db"}}) == 0);
  CHECK(value(fs, "evos_backup_scheduled", {{"vm", "scratch"}}) == 0);
  CHECK(value(fs, "evos_backup_vms_without_schedule", {}) == 1);
  CHECK_FALSE(value(fs, "evos_backup_last_success_age_seconds", {{"vm", "db"}}));
  CHECK(count(fs, "evos_backup_last_verify_ok") == 0);
  CHECK(write_text(fs));
}

TEST_CASE("test-IP families from a ping instance's detail line") {
  auto detail = evos::net::parse_detail(
      "1 1718000000 2000 198.18.1.254,198.18.1.254,ok,1,2,2,85,90 gw,198.18.2.1,lost,1,4,0,-,-");
  REQUIRE(detail);
  const auto fs = testip_families({{"testip", *detail}}, "alpha");
  CHECK(value(fs, "evos_testip_reachable", {{"ip", "198.18.1.254"}, {"node", "alpha"}}) == 1);
  CHECK(value(fs, "evos_testip_reachable", {{"ip", "gw"}}) == 0);
  CHECK(value(fs, "evos_testip_rtt_seconds", {{"ip", "198.18.1.254"}}) == Approx(90e-6));
  CHECK_FALSE(value(fs, "evos_testip_rtt_seconds", {{"ip", "gw"}}));
  CHECK(value(fs, "evos_testip_loss_ratio", {{"ip", "gw"}}) == 1);
  CHECK(value(fs, "evos_testip_score", {{"instance", "testip"}}) == 2000);
  CHECK(write_text(fs));
}

TEST_CASE("virDomainGetInfo's figures fill a running domain and not a shut-off one") {
  const DomainInfo info{.state = 1, .max_mem_kib = 1048576, .memory_kib = 524288, .cpu_time_ns = 3'000'000'000, .vcpus = 2};
  DomainStats d;
  d.name = "web1";
  d.state = 1;
  apply_domain_info(d, info);
  CHECK(d.cpu_time_ns == 3'000'000'000u);
  CHECK(d.balloon_current_kib == 524288u);
  CHECK(d.balloon_maximum_kib == 1048576u);
  CHECK(d.vcpus == 2u);
  const auto fs = vm_families({d}, "alpha", {});
  CHECK(value(fs, "evos_vm_vcpus", {{"vm", "web1"}, {"node", "alpha"}}) == 2);
  CHECK(value(fs, "evos_vm_cpu_seconds_total", {{"vm", "web1"}}) == 3.0);
  CHECK(value(fs, "evos_vm_memory_maximum_bytes", {{"vm", "web1"}}) == 1048576.0 * 1024);

  // Shut off by the bulk record, or stopped between the record and the info call.
  DomainStats off;
  off.state = 5;
  apply_domain_info(off, info);
  CHECK_FALSE(off.cpu_time_ns);
  CHECK_FALSE(off.vcpus);
  DomainStats stopped;
  stopped.state = 1;
  DomainInfo gone = info;
  gone.state = 5;
  apply_domain_info(stopped, gone);
  CHECK_FALSE(stopped.cpu_time_ns);
  CHECK_FALSE(stopped.balloon_current_kib);
  CHECK(count(vm_families({stopped}, "alpha", {}), "evos_vm_vcpus") == 0);
}

TEST_CASE("libvirtd's pid file") {
  CHECK(parse_pid_file("73\n") == 73);
  CHECK(parse_pid_file("4242") == 4242);
  CHECK_FALSE(parse_pid_file(""));
  CHECK_FALSE(parse_pid_file("\n"));
  CHECK_FALSE(parse_pid_file("0\n"));
  CHECK_FALSE(parse_pid_file("-5\n"));
  CHECK_FALSE(parse_pid_file("12 34\n"));
  CHECK_FALSE(parse_pid_file("12abc"));
}

TEST_CASE("the QEMU process of a domain, by its -name guest= option") {
  using namespace std::string_literals;
  const std::string qemu = "/usr/bin/qemu-system-x86_64\0-name\0guest=web1,debug-threads=on\0-S\0-machine\0pc\0"s;
  CHECK(is_qemu_of_domain(qemu, "web1"));
  CHECK_FALSE(is_qemu_of_domain(qemu, "web"));   // a prefix of the name
  CHECK_FALSE(is_qemu_of_domain(qemu, "web12"));
  CHECK(is_qemu_of_domain("qemu\0-name\0guest=db\0"s, "db"));  // no further options, no trailing NUL either
  CHECK(is_qemu_of_domain("qemu\0-name\0guest=db"s, "db"));
  // A ',' in the name is doubled on QEMU's command line.
  const std::string comma = "qemu\0-name\0guest=a,,b,debug-threads=on\0"s;
  CHECK(is_qemu_of_domain(comma, "a,b"));
  CHECK_FALSE(is_qemu_of_domain(comma, "a"));
  CHECK_FALSE(is_qemu_of_domain("qemu\0-name\0guest=a,,,debug-threads=on\0"s, "a"));  // the name is "a,"
  CHECK(is_qemu_of_domain("qemu\0-name\0guest=a,,,debug-threads=on\0"s, "a,"));
  // Another program, or QEMU of another domain, at a recycled PID.
  CHECK_FALSE(is_qemu_of_domain("sleep\0001000\0"s, "web1"));
  CHECK_FALSE(is_qemu_of_domain("qemu\0-name\0guest=other,debug-threads=on\0"s, "web1"));
  CHECK_FALSE(is_qemu_of_domain("qemu\0-name\0"s, "web1"));
  CHECK_FALSE(is_qemu_of_domain("", "web1"));
}

TEST_CASE("RSS from /proc/PID/stat, whose process name may hold spaces and parentheses") {
  // proc(5): pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
  // utime stime cutime cstime priority nice num_threads itrealvalue starttime vsize rss ...
  const std::string stat =
      "73 (qemu-system-x86) S 9109 9109 9109 0 -1 4194624 4855 0 2 0 58 31 0 0 20 0 4 0 2790 1105027072 12345 "
      "18446744073709551615 1 1 0 0 0 0 0 4096 17 0 0 0 0 0 0\n";
  CHECK(rss_kib_from_proc_stat(stat, 4096) == 12345u * 4);
  const std::string odd = "7 (a) b (c) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 100 3 0\n";
  CHECK(rss_kib_from_proc_stat(odd, 4096) == 12u);
  CHECK_FALSE(rss_kib_from_proc_stat("73 (qemu) S 1 2 3\n", 4096));  // too short
  CHECK_FALSE(rss_kib_from_proc_stat("73 qemu S", 4096));            // no comm
  CHECK_FALSE(rss_kib_from_proc_stat("7 (a) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 100 x3 0\n", 4096));
}

TEST_CASE("sampled block counters: only running domains get them, and a new one makes the sample unusable") {
  auto dom = [](std::string name, int state, std::uint64_t read) {
    DomainStats d;
    d.name = std::move(name);
    d.state = state;
    if (state != 5) d.blocks.push_back({"vda", read, 0, 0, 0});
    return d;
  };
  const BlockSample sample = block_sample({dom("a", 1, 100), dom("b", 3, 200), dom("off", 5, 0)});
  CHECK(sample.size() == 2);  // the shut-off one has nothing to keep
  CHECK(sample.at("b").at(0).read_bytes == 200u);

  // Now: a still runs (its counters moved on, but the sample's are served), b stopped, off runs.
  std::vector<DomainStats> live{dom("a", 1, 0), dom("b", 5, 0)};
  live[0].blocks.clear();
  CHECK(block_sample_covers(live, sample));
  merge_block_sample(live, sample);
  REQUIRE(live[0].blocks.size() == 1);
  CHECK(live[0].blocks[0].read_bytes == 100u);
  CHECK(live[1].blocks.empty());  // stopped: no disk counters, and its state is the live one
  CHECK(live[1].state == 5);
  const auto fs = vm_families(live, "alpha", {});
  CHECK(value(fs, "evos_vm_state", {{"vm", "b"}, {"state", "shutoff"}}) == 1);
  CHECK(value(fs, "evos_vm_state", {{"vm", "b"}, {"state", "paused"}}) == 0);
  CHECK(count(fs, "evos_vm_block_read_bytes_total") == 1);

  // A VM started since the sample: not covered, so the scrape reads the counters itself.
  CHECK_FALSE(block_sample_covers({dom("a", 1, 0), dom("off", 1, 0)}, sample));
  CHECK(block_sample_covers({dom("a", 1, 0), dom("new-but-off", 5, 0)}, sample));

  const Family age = block_sample_age_family(4.5, "alpha");
  CHECK(age.name == "evos_vm_block_sample_age_seconds");
  REQUIRE(age.samples.size() == 1);
  CHECK(age.samples[0].value == 4.5);
}
