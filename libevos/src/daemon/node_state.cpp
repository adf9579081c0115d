#include <evos/daemon/lifecycle.hpp>
#include <evos/daemon/node_state.hpp>

#include <algorithm>
#include <set>

namespace evos::daemon {

std::string_view to_string(Source source) noexcept {
  switch (source) {
    case Source::libvirt: return "libvirt";
    case Source::testip: return "testip";
  }
  return "unknown";
}

SourceStatus& NodeState::mutable_source(Source s) { return s == Source::libvirt ? libvirt_ : testip_; }
const SourceStatus& NodeState::source(Source s) const { return s == Source::libvirt ? libvirt_ : testip_; }

void NodeState::connected(Source s, Clock::time_point now) {
  auto& st = mutable_source(s);
  st.connected = true;
  st.synced = false;  // until the listing after this connect is applied
  st.since = st.heard = now;
  st.problem.clear();
}

void NodeState::disconnected(Source s, Clock::time_point now, std::string problem) {
  auto& st = mutable_source(s);
  if (st.connected || st.problem.empty()) st.since = now;
  st.connected = false;
  st.synced = false;
  st.problem = std::move(problem);
}

void NodeState::heard(Source s, Clock::time_point now) {
  auto& st = mutable_source(s);
  if (st.connected) st.heard = std::max(st.heard, now);
}

bool NodeState::fresh(Source s, Clock::time_point now, Millis max_silence) const {
  const auto& st = source(s);
  return st.connected && st.synced && now - st.heard <= max_silence;
}

namespace {
bool is_active(vm::Power p) { return p != vm::Power::absent && p != vm::Power::shut_off; }
bool same(const vm::DomainState& a, const vm::DomainState& b) { return a.power == b.power && a.reason == b.reason; }
}  // namespace

std::optional<DomainChange> NodeState::apply_event(const std::string& name, const std::string& uuid,
                                                   const LifecycleChange& change, std::uint64_t seq,
                                                   Clock::time_point now) {
  auto it = domains_.find(name);
  std::optional<vm::DomainState> before;
  if (it != domains_.end()) before = it->second.state;
  if (change.undefined) {
    if (it == domains_.end() || is_active(it->second.state.power)) {
      if (it != domains_.end()) it->second.seq = seq;
      return std::nullopt;  // a running domain goes on as a transient one
    }
    domains_.erase(it);
    return DomainChange{name, before, vm::DomainState{vm::Power::absent, vm::Reason::unknown}};
  }
  if (!change.state) return std::nullopt;
  if (it == domains_.end()) it = domains_.emplace(name, DomainRecord{name, uuid, *change.state, now, seq, false}).first;
  auto& rec = it->second;
  rec.seq = seq;
  if (!uuid.empty()) rec.uuid = uuid;
  if (before && same(*before, *change.state)) return std::nullopt;
  rec.state = *change.state;
  rec.since = now;
  if (is_active(rec.state.power) && rec.state.power != vm::Power::crashed) rec.reported = false;
  return DomainChange{name, before, rec.state};
}

std::vector<DomainChange> NodeState::apply_listing(const std::vector<Listed>& domains, std::uint64_t started_seq,
                                                   Clock::time_point now) {
  std::vector<DomainChange> changes;
  std::set<std::string> listed;
  for (const auto& d : domains) {
    listed.insert(d.name);
    auto it = domains_.find(d.name);
    if (it == domains_.end()) {
      domains_.emplace(d.name, DomainRecord{d.name, d.uuid, d.state, now, started_seq, false});
      changes.push_back({d.name, std::nullopt, d.state});
      continue;
    }
    auto& rec = it->second;
    if (rec.seq > started_seq) continue;  // an event newer than the listing
    if (!d.uuid.empty()) rec.uuid = d.uuid;
    if (same(rec.state, d.state)) continue;
    changes.push_back({d.name, rec.state, d.state});
    rec.state = d.state;
    rec.since = now;
    rec.seq = started_seq;
    if (is_active(rec.state.power) && rec.state.power != vm::Power::crashed) rec.reported = false;
  }
  for (auto it = domains_.begin(); it != domains_.end();) {
    if (!listed.count(it->first) && it->second.seq <= started_seq) {
      changes.push_back({it->first, it->second.state, vm::DomainState{vm::Power::absent, vm::Reason::unknown}});
      it = domains_.erase(it);
    } else {
      ++it;
    }
  }
  libvirt_.synced = libvirt_.connected;
  if (libvirt_.connected) libvirt_.heard = std::max(libvirt_.heard, now);
  return changes;
}

const DomainRecord* NodeState::domain(const std::string& name) const {
  auto it = domains_.find(name);
  return it == domains_.end() ? nullptr : &it->second;
}

void NodeState::mark_reported(const std::string& name) {
  if (auto it = domains_.find(name); it != domains_.end()) it->second.reported = true;
}

bool NodeState::apply_round(const std::vector<TestIpRecord>& hosts, Clock::time_point now) {
  bool changed = hosts.size() != test_ips_.size();
  std::vector<TestIpRecord> next;
  for (const auto& h : hosts) {
    TestIpRecord r = h;
    auto old = std::find_if(test_ips_.begin(), test_ips_.end(), [&](const auto& o) { return o.host == h.host; });
    if (old == test_ips_.end() || old->reachable != h.reachable) {
      changed = true;
      r.since = now;
    } else {
      r.since = old->since;
    }
    next.push_back(std::move(r));
  }
  test_ips_ = std::move(next);
  testip_.heard = now;
  return changed;
}

}  // namespace evos::daemon
