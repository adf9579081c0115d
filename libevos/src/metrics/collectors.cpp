#include <evos/metrics/collectors.hpp>

#include <evos/cluster/admin.hpp>

#include <fmt/format.h>

#include <charconv>
#include <map>

namespace evos::metrics {

namespace {

double d(std::uint64_t v) { return static_cast<double>(v); }

Family family(std::string name, Type type, std::string help) {
  Family f;
  f.name = std::move(name);
  f.type = type;
  f.help = std::move(help);
  return f;
}

// The label values a state-set family has one sample for, each 1 or 0 (ha_cluster_exporter's
// style: an alert can match state="crashed" == 1 without knowing the previous state).
constexpr std::string_view vm_states[] = {"running", "paused", "shutoff", "crashed", "other"};

std::string_view vm_state_group(int state) {
  switch (state) {
    case 1: case 2: return "running";  // running, blocked (running, waiting on a resource)
    case 3: case 7: return "paused";   // paused, pmsuspended
    case 4: case 5: return "shutoff";  // shutdown (in progress), shutoff
    case 6: return "crashed";
    default: return "other";
  }
}

}  // namespace

std::string_view domain_state_name(int state) noexcept {
  // virDomainState (libvirt-domain.h), as virsh domstate spells them.
  switch (state) {
    case 0: return "nostate";
    case 1: return "running";
    case 2: return "blocked";
    case 3: return "paused";
    case 4: return "shutdown";
    case 5: return "shutoff";
    case 6: return "crashed";
    case 7: return "pmsuspended";
    default: return "unknown";
  }
}

DomainStats domain_stats_from_params(const std::string& name, const std::vector<StatParam>& params) {
  DomainStats out;
  out.name = name;
  auto u64 = [](const StatParam& p) -> std::optional<std::uint64_t> {
    if (!p.number || *p.number < 0) return std::nullopt;
    return static_cast<std::uint64_t>(*p.number);
  };
  std::map<std::size_t, BlockStats> blocks;
  std::map<std::size_t, InterfaceStats> nets;
  for (const auto& p : params) {
    const std::string_view f = p.field;
    if (f == "state.state" && p.number) out.state = static_cast<int>(*p.number);
    else if (f == "cpu.time") out.cpu_time_ns = u64(p);
    else if (f == "balloon.current") out.balloon_current_kib = u64(p);
    else if (f == "balloon.maximum") out.balloon_maximum_kib = u64(p);
    else if (f == "balloon.rss") out.rss_kib = u64(p);
    else if (f.substr(0, 6) == "block." || f.substr(0, 4) == "net.") {
      const bool block = f[0] == 'b';
      std::string_view rest = f.substr(block ? 6 : 4);
      std::size_t idx = 0;
      auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), idx);
      if (ec != std::errc() || end == rest.data() || *end != '.') continue;  // block.count
      const std::string_view key = rest.substr(static_cast<std::size_t>(end - rest.data()) + 1);
      if (block) {
        auto& b = blocks[idx];
        if (key == "name") b.name = p.text;
        else if (key == "rd.bytes") b.read_bytes = u64(p);
        else if (key == "wr.bytes") b.write_bytes = u64(p);
        else if (key == "rd.reqs") b.read_requests = u64(p);
        else if (key == "wr.reqs") b.write_requests = u64(p);
      } else {
        auto& n = nets[idx];
        if (key == "name") n.name = p.text;
        else if (key == "rx.bytes") n.rx_bytes = u64(p);
        else if (key == "tx.bytes") n.tx_bytes = u64(p);
        else if (key == "rx.pkts") n.rx_packets = u64(p);
        else if (key == "tx.pkts") n.tx_packets = u64(p);
        else if (key == "rx.errs") n.rx_errors = u64(p);
        else if (key == "tx.errs") n.tx_errors = u64(p);
        else if (key == "rx.drop") n.rx_drops = u64(p);
        else if (key == "tx.drop") n.tx_drops = u64(p);
      }
    }
  }
  // A record without a name cannot be labelled: it is left out rather than guessed.
  for (auto& [i, b] : blocks)
    if (!b.name.empty()) out.blocks.push_back(std::move(b));
  for (auto& [i, n] : nets)
    if (!n.name.empty()) out.interfaces.push_back(std::move(n));
  return out;
}

void apply_domain_info(DomainStats& d, const DomainInfo& info) {
  constexpr int shutoff = 5;  // VIR_DOMAIN_SHUTOFF: no QEMU process, libvirt reports cpuTime 0
  if (d.state == shutoff || info.state == shutoff) return;
  d.cpu_time_ns = info.cpu_time_ns;
  d.balloon_current_kib = info.memory_kib;
  d.balloon_maximum_kib = info.max_mem_kib;
  d.vcpus = info.vcpus;
}

namespace {
constexpr int vir_domain_shutoff = 5;
}  // namespace

BlockSample block_sample(const std::vector<DomainStats>& domains) {
  BlockSample out;
  for (const auto& d : domains)
    if (d.state != vir_domain_shutoff) out[d.name] = d.blocks;
  return out;
}

bool block_sample_covers(const std::vector<DomainStats>& live, const BlockSample& sample) {
  for (const auto& d : live)
    if (d.state != vir_domain_shutoff && !sample.count(d.name)) return false;
  return true;
}

void merge_block_sample(std::vector<DomainStats>& live, const BlockSample& sample) {
  for (auto& d : live) {
    d.blocks.clear();
    if (d.state == vir_domain_shutoff) continue;
    if (auto it = sample.find(d.name); it != sample.end()) d.blocks = it->second;
  }
}

Family block_sample_age_family(double age_seconds, const std::string& node) {
  auto f = family("evos_vm_block_sample_age_seconds", Type::gauge,
                  "Age of the VM block counters in this scrape, read in the background (evosd metrics_max_age)");
  f.add({{"node", node}}, age_seconds);
  return f;
}

std::optional<int> parse_pid_file(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  int pid = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (ec != std::errc() || end != text.data() + text.size() || pid <= 0) return std::nullopt;
  return pid;
}

bool is_qemu_of_domain(std::string_view cmdline, std::string_view name) {
  std::string want = "guest=";
  for (char c : name) {
    want += c;
    if (c == ',') want += ',';
  }
  std::string_view prev;
  while (!cmdline.empty()) {
    const auto nul = cmdline.find('\0');
    const std::string_view arg = cmdline.substr(0, nul);
    if (prev == "-name") {
      // guest=NAME alone or followed by an unescaped ',' and more options.
      if (arg.substr(0, want.size()) != want) return false;
      const std::string_view rest = arg.substr(want.size());
      if (rest.empty()) return true;
      // One ',' separates the next option; ",," would be an escaped ',' of a longer name.
      std::size_t commas = 0;
      while (commas < rest.size() && rest[commas] == ',') ++commas;
      return commas == 1;
    }
    prev = arg;
    if (nul == std::string_view::npos) break;
    cmdline.remove_prefix(nul + 1);
  }
  return false;
}

std::optional<std::uint64_t> rss_kib_from_proc_stat(std::string_view stat, std::uint64_t page_size) {
  // Field 2 (comm) is in parentheses and may itself hold ')' and spaces: the fields after it
  // start after the last ')'. Field 3 (state) comes next; rss is field 24.
  const auto close = stat.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view rest = stat.substr(close + 1);
  int field = 2;
  while (!rest.empty()) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (rest.empty()) break;
    const auto sp = rest.find_first_of(" \n");
    const std::string_view v = rest.substr(0, sp);
    if (++field == 24) {
      std::uint64_t pages = 0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), pages);
      if (ec != std::errc() || end != v.data() + v.size()) return std::nullopt;
      return pages * page_size / 1024;
    }
    if (sp == std::string_view::npos) break;
    rest.remove_prefix(sp);
  }
  return std::nullopt;
}

std::set<std::string> ha_vm_names(const cluster::PacemakerStatus& status) {
  std::set<std::string> out;
  for (const auto& r : status.resources) {
    if (r.agent != "ocf:evos:vm" || r.id.size() <= 3 || r.id.substr(0, 3) != "vm-") continue;
    const std::string name = r.id.substr(3);
    if (cluster::vm_resource_id(name) == r.id) out.insert(name);
  }
  return out;
}

std::vector<Family> vm_families(const std::vector<DomainStats>& domains, const std::string& node,
                                const std::set<std::string>& ha_vms) {
  auto state = family("evos_vm_state", Type::gauge, "1 for the VM's current state (libvirt domain state grouped), 0 for the others");
  auto info = family("evos_vm_info", Type::gauge, "1 per VM defined on this node; ha=1 if it is an ocf:evos:vm resource");
  auto cpu = family("evos_vm_cpu_seconds_total", Type::counter, "CPU time used by the VM's QEMU process (libvirt virDomainGetInfo cpuTime)");
  auto balloon = family("evos_vm_memory_balloon_bytes", Type::gauge, "Memory the guest has now (libvirt virDomainGetInfo memory, the balloon's size)");
  auto maxmem = family("evos_vm_memory_maximum_bytes", Type::gauge, "Memory the guest may have (libvirt virDomainGetInfo maxMem)");
  auto rss = family("evos_vm_memory_rss_bytes", Type::gauge, "Resident memory of the VM's QEMU process (/proc/PID/stat rss, or libvirt balloon.rss)");
  auto vcpus = family("evos_vm_vcpus", Type::gauge, "Virtual CPUs the VM has now (libvirt virDomainGetInfo nrVirtCpu)");
  auto rd = family("evos_vm_block_read_bytes_total", Type::counter, "Bytes read from a VM disk");
  auto wr = family("evos_vm_block_write_bytes_total", Type::counter, "Bytes written to a VM disk");
  auto rdq = family("evos_vm_block_read_requests_total", Type::counter, "Read requests on a VM disk");
  auto wrq = family("evos_vm_block_write_requests_total", Type::counter, "Write requests on a VM disk");
  auto rx = family("evos_vm_network_receive_bytes_total", Type::counter, "Bytes received on a VM interface");
  auto tx = family("evos_vm_network_transmit_bytes_total", Type::counter, "Bytes sent on a VM interface");
  auto rxp = family("evos_vm_network_receive_packets_total", Type::counter, "Packets received on a VM interface");
  auto txp = family("evos_vm_network_transmit_packets_total", Type::counter, "Packets sent on a VM interface");
  auto rxe = family("evos_vm_network_receive_errors_total", Type::counter, "Receive errors on a VM interface");
  auto txe = family("evos_vm_network_transmit_errors_total", Type::counter, "Transmit errors on a VM interface");
  auto rxd = family("evos_vm_network_receive_drops_total", Type::counter, "Received packets dropped on a VM interface");
  auto txd = family("evos_vm_network_transmit_drops_total", Type::counter, "Packets to send dropped on a VM interface");

  for (const auto& dom : domains) {
    const Labels base{{"vm", dom.name}, {"node", node}};
    info.add({{"vm", dom.name}, {"node", node}, {"ha", ha_vms.count(dom.name) ? "1" : "0"},
              {"libvirt_state", std::string(domain_state_name(dom.state))}},
             1);
    const auto group = vm_state_group(dom.state);
    for (auto s : vm_states) {
      Labels l = base;
      l.emplace_back("state", std::string(s));
      state.add(std::move(l), s == group ? 1 : 0);
    }
    if (dom.cpu_time_ns) cpu.add(base, d(*dom.cpu_time_ns) / 1e9);
    if (dom.balloon_current_kib) balloon.add(base, d(*dom.balloon_current_kib) * 1024);
    if (dom.balloon_maximum_kib) maxmem.add(base, d(*dom.balloon_maximum_kib) * 1024);
    if (dom.rss_kib) rss.add(base, d(*dom.rss_kib) * 1024);
    if (dom.vcpus) vcpus.add(base, d(*dom.vcpus));
    for (const auto& b : dom.blocks) {
      Labels l = base;
      l.emplace_back("disk", b.name);
      if (b.read_bytes) rd.add(l, d(*b.read_bytes));
      if (b.write_bytes) wr.add(l, d(*b.write_bytes));
      if (b.read_requests) rdq.add(l, d(*b.read_requests));
      if (b.write_requests) wrq.add(l, d(*b.write_requests));
    }
    for (const auto& n : dom.interfaces) {
      Labels l = base;
      l.emplace_back("interface", n.name);
      if (n.rx_bytes) rx.add(l, d(*n.rx_bytes));
      if (n.tx_bytes) tx.add(l, d(*n.tx_bytes));
      if (n.rx_packets) rxp.add(l, d(*n.rx_packets));
      if (n.tx_packets) txp.add(l, d(*n.tx_packets));
      if (n.rx_errors) rxe.add(l, d(*n.rx_errors));
      if (n.tx_errors) txe.add(l, d(*n.tx_errors));
      if (n.rx_drops) rxd.add(l, d(*n.rx_drops));
      if (n.tx_drops) txd.add(l, d(*n.tx_drops));
    }
  }
  auto count = family("evos_vms", Type::gauge, "VMs defined on this node");
  count.add({{"node", node}}, d(domains.size()));
  return {count, info, state, cpu, balloon, maxmem, rss, vcpus, rd, wr, rdq, wrq, rx, tx, rxp, txp, rxe, txe, rxd, txd};
}

std::vector<Family> corosync_families(const cluster::Membership& m) {
  auto quorate = family("evos_corosync_quorate", Type::gauge, "1 if this node's partition has quorum (Corosync votequorum)");
  quorate.add({}, m.quorate ? 1 : 0);
  auto member = family("evos_corosync_member_online", Type::gauge, "1 if the configured node is in the current Corosync membership");
  for (const auto& n : m.nodes) member.add({{"node", n.name}, {"nodeid", std::to_string(n.nodeid)}}, n.online ? 1 : 0);
  return {quorate, member};
}

std::vector<Family> pacemaker_families(const cluster::PacemakerStatus& s) {
  auto quorate = family("evos_pacemaker_quorate", Type::gauge, "1 if the Pacemaker DC reports quorum");
  quorate.add({}, s.quorate ? 1 : 0);
  auto dc = family("evos_pacemaker_has_dc", Type::gauge, "1 if the cluster has an elected DC");
  dc.add({}, s.dc.empty() ? 0 : 1);
  auto stonith = family("evos_pacemaker_stonith_enabled", Type::gauge, "1 if fencing is enabled (stonith-enabled)");
  stonith.add({}, s.stonith_enabled ? 1 : 0);
  auto node = family("evos_node_state", Type::gauge, "1 for each state the Pacemaker node is in, 0 for the others");
  auto online = family("evos_cluster_nodes_online", Type::gauge, "Pacemaker nodes online");
  auto standby = family("evos_cluster_nodes_standby", Type::gauge, "Pacemaker nodes in standby");
  double n_online = 0, n_standby = 0;
  for (const auto& n : s.nodes) {
    const std::pair<std::string_view, bool> states[] = {
        {"online", n.online}, {"standby", n.standby}, {"maintenance", n.maintenance}, {"unclean", n.unclean}, {"dc", n.is_dc}};
    for (const auto& [name, on] : states) node.add({{"node", n.name}, {"state", std::string(name)}}, on ? 1 : 0);
    n_online += n.online ? 1 : 0;
    n_standby += n.standby ? 1 : 0;
  }
  online.add({}, n_online);
  standby.add({}, n_standby);
  auto per_node = family("evos_cluster_resources_active", Type::gauge, "Resources active on the node");
  std::map<std::string, double> active;
  for (const auto& n : s.nodes) active[n.name] = 0;
  auto res = family("evos_resource_active", Type::gauge, "1 if the resource is active (on the node it runs on)");
  auto res_failed = family("evos_resource_failed", Type::gauge, "1 if Pacemaker marks the resource failed");
  for (const auto& r : s.resources) {
    for (const auto& on : r.nodes) active[on] += 1;
    // A stopped clone instance has no node and the same id as its siblings: one sample per
    // (resource, node), and "" for the stopped ones, summed (ha_cluster_exporter #193 crashed here).
    std::map<std::string, std::pair<double, double>> by_node;
    if (r.nodes.empty()) by_node[""] = {r.active ? 1 : 0, r.failed ? 1 : 0};
    for (const auto& on : r.nodes) by_node[on] = {r.active ? 1 : 0, r.failed ? 1 : 0};
    for (const auto& [on, v] : by_node) {
      Labels l{{"resource", r.id}, {"agent", r.agent}, {"node", on}};
      bool dup = false;
      for (auto& existing : res.samples)
        if (existing.labels == l) {
          existing.value += v.first;
          dup = true;
        }
      if (dup) {
        for (auto& existing : res_failed.samples)
          if (existing.labels == l) existing.value += v.second;
        continue;
      }
      res.add(l, v.first);
      res_failed.add(l, v.second);
    }
  }
  for (const auto& [name, n] : active) per_node.add({{"node", name}}, n);
  auto failed = family("evos_cluster_failed_actions", Type::gauge, "Failed resource actions Pacemaker records, per node (crm_mon <failures>)");
  std::map<std::string, double> failures;
  for (const auto& n : s.nodes) failures[n.name] = 0;
  for (const auto& f : s.failures) failures[f.node] += 1;
  for (const auto& [name, n] : failures) failed.add({{"node", name}}, n);
  return {quorate, dc, stonith, node, online, standby, per_node, res, res_failed, failed};
}

std::vector<Family> mirror_families(const std::vector<drbd::ResourceState>& resources) {
  auto role = family("evos_mirror_role", Type::gauge, "1 for the mirror's DRBD role on this node, 0 for the others");
  auto disk = family("evos_mirror_disk_state", Type::gauge, "1 for the local disk's DRBD state (per volume)");
  auto conn = family("evos_mirror_connection_state", Type::gauge, "1 for the DRBD connection state to the peer");
  auto peer_disk = family("evos_mirror_peer_disk_state", Type::gauge, "1 for the peer disk's DRBD state (per volume)");
  auto oos = family("evos_mirror_out_of_sync_bytes", Type::gauge, "Data DRBD knows differs from the peer (per volume)");
  auto done = family("evos_mirror_resync_done_ratio", Type::gauge, "Progress of the running resync or verify, 0..1 (absent when none runs)");
  auto sent = family("evos_mirror_sent_bytes_total", Type::counter, "Bytes sent to the peer for this volume (DRBD statistics)");
  auto received = family("evos_mirror_received_bytes_total", Type::counter, "Bytes received from the peer for this volume (DRBD statistics)");
  auto split = family("evos_mirror_split_brain", Type::gauge, "1 if DRBD detected a split brain with the peer");
  for (const auto& r : resources) {
    for (auto s : {drbd::Role::primary, drbd::Role::secondary, drbd::Role::unknown})
      role.add({{"mirror", r.name}, {"role", std::string(drbd::to_string(s))}}, r.role == s ? 1 : 0);
    for (const auto& dev : r.devices)
      disk.add({{"mirror", r.name}, {"volume", std::to_string(dev.volume)}, {"state", std::string(drbd::to_string(dev.disk))}}, 1);
    for (const auto& c : r.connections) {
      const std::string peer = drbd::peer_display_name(c);
      conn.add({{"mirror", r.name}, {"peer", peer}, {"state", std::string(drbd::to_string(c.state))}}, 1);
      split.add({{"mirror", r.name}, {"peer", peer}}, c.split_brain ? 1 : 0);
      for (const auto& p : c.peer_devices) {
        const Labels l{{"mirror", r.name}, {"peer", peer}, {"volume", std::to_string(p.volume)}};
        Labels ls = l;
        ls.emplace_back("state", std::string(drbd::to_string(p.peer_disk)));
        peer_disk.add(ls, 1);
        oos.add(l, d(p.out_of_sync_kib) * 1024);
        if (p.done_percent) done.add(l, *p.done_percent / 100.0);
        if (p.sent_kib) sent.add(l, d(*p.sent_kib) * 1024);
        if (p.received_kib) received.add(l, d(*p.received_kib) * 1024);
      }
    }
  }
  auto count = family("evos_mirrors", Type::gauge, "DRBD resources configured on this node");
  count.add({}, d(resources.size()));
  return {count, role, disk, conn, peer_disk, oos, done, sent, received, split};
}

std::vector<Family> backup_families(const std::vector<VmBackupFacts>& vms, std::int64_t now_unix_ms) {
  auto last = family("evos_backup_last_success_timestamp_seconds", Type::gauge, "When the VM's newest backup was taken (Unix time)");
  auto age = family("evos_backup_last_success_age_seconds", Type::gauge, "Seconds since the VM's newest backup was taken");
  auto duration = family("evos_backup_last_duration_seconds", Type::gauge, "How long the VM's newest backup took");
  auto bytes = family("evos_backup_last_bytes", Type::gauge, "Bytes the VM's newest backup read from its disks (kind=read) and newly stored (kind=stored)");
  auto verify = family("evos_backup_last_verify_ok", Type::gauge, "1 if the last verify of the VM's backups found them whole, 0 if damaged");
  auto scheduled = family("evos_backup_scheduled", Type::gauge, "1 if the VM has a backup schedule on this node");
  auto without = family("evos_backup_vms_without_schedule", Type::gauge, "VMs on this node with no backup schedule");
  auto store_up = family("evos_backup_store_readable", Type::gauge, "1 if the VM's scheduled backup store could be read");
  double n_without = 0;
  for (const auto& v : vms) {
    const Labels l{{"vm", v.vm}};
    scheduled.add(l, v.scheduled ? 1 : 0);
    if (!v.scheduled) n_without += 1;
    if (v.scheduled) store_up.add(l, v.store_error.empty() ? 1 : 0);
    if (v.last_backup_unix_ms) {
      last.add(l, static_cast<double>(*v.last_backup_unix_ms) / 1000.0);
      age.add(l, static_cast<double>(now_unix_ms - *v.last_backup_unix_ms) / 1000.0);
    }
    if (v.last_duration_ms) duration.add(l, d(*v.last_duration_ms) / 1000.0);
    if (v.last_bytes_read) bytes.add({{"vm", v.vm}, {"kind", "read"}}, d(*v.last_bytes_read));
    if (v.last_bytes_stored) bytes.add({{"vm", v.vm}, {"kind", "stored"}}, d(*v.last_bytes_stored));
    if (v.last_verify_ok) verify.add(l, *v.last_verify_ok ? 1 : 0);
  }
  without.add({}, n_without);
  return {scheduled, without, store_up, last, age, duration, bytes, verify};
}

std::vector<Family> testip_families(const std::vector<PingInstance>& instances, const std::string& node) {
  auto reachable = family("evos_testip_reachable", Type::gauge, "1 if the test IP answered in the last probe round");
  auto rtt = family("evos_testip_rtt_seconds", Type::gauge, "Average round-trip time of the last round's replies");
  auto loss = family("evos_testip_loss_ratio", Type::gauge, "Share of the last round's probes without a reply, 0..1");
  auto score = family("evos_testip_score", Type::gauge, "The score the ping instance published (sum of reachable weights times multiplier)");
  auto when = family("evos_testip_last_round_timestamp_seconds", Type::gauge, "When the ping instance's last round ended (Unix time)");
  for (const auto& i : instances) {
    const Labels il{{"instance", i.instance}, {"node", node}};
    score.add(il, d(i.detail.score));
    when.add(il, static_cast<double>(i.detail.unix_time));
    for (const auto& h : i.detail.hosts) {
      const Labels l{{"instance", i.instance}, {"node", node}, {"ip", h.host}};
      reachable.add(l, h.reachable() ? 1 : 0);
      loss.add(l, h.loss_percent() / 100.0);
      if (h.avg_rtt) rtt.add(l, static_cast<double>(h.avg_rtt->count()) / 1e6);
    }
  }
  return {reachable, rtt, loss, score, when};
}

Family scrape_families(const std::vector<SourceOutcome>& outcomes) {
  auto up = family("evos_scrape_source_up", Type::gauge, "1 if the source answered within the scrape's deadline, 0 if its families are missing");
  for (const auto& o : outcomes) up.add({{"source", o.source}}, o.up ? 1 : 0);
  return up;
}

}  // namespace evos::metrics
