// Fakes for evos::mirror's ports: a DRBD node whose state the test sets (drbd::Control), the
// promotion attribute and the agent's memory in memory. Every call is recorded in order.
#pragma once

#include <evos/mirror/service.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace evos::testing {

// A two-node resource "r0" with one volume, seen from this node; the peer is "beta".
inline drbd::ResourceState two_node(drbd::Role role, drbd::DiskState disk, drbd::ConnState conn, drbd::Role peer_role,
                                    drbd::DiskState peer_disk, drbd::ReplState repl = drbd::ReplState::established) {
  drbd::ResourceState s{.name = "r0", .exists = true, .node_id = 0, .role = role};
  s.devices.push_back(drbd::DeviceState{.volume = 0, .minor = 1, .disk = disk});
  drbd::ConnectionState c{.peer_node_id = 1, .name = "beta", .state = conn, .peer_role = peer_role};
  c.peer_devices.push_back(drbd::PeerDeviceState{.volume = 0, .replication = repl, .peer_disk = peer_disk});
  s.connections.push_back(c);
  return s;
}

inline drbd::ResourceState healthy(drbd::Role role = drbd::Role::secondary, drbd::Role peer = drbd::Role::secondary) {
  return two_node(role, drbd::DiskState::up_to_date, drbd::ConnState::connected, peer, drbd::DiskState::up_to_date);
}

inline drbd::ResourceState syncing_source(drbd::Role role = drbd::Role::primary) {
  auto s = two_node(role, drbd::DiskState::up_to_date, drbd::ConnState::connected, drbd::Role::secondary,
                    drbd::DiskState::inconsistent, drbd::ReplState::sync_source);
  s.connections[0].peer_devices[0].done_percent = 42.0;
  s.connections[0].peer_devices[0].out_of_sync_kib = 600000;
  return s;
}

inline drbd::ResourceState syncing_target() {
  auto s = two_node(drbd::Role::secondary, drbd::DiskState::inconsistent, drbd::ConnState::connected, drbd::Role::primary,
                    drbd::DiskState::up_to_date, drbd::ReplState::sync_target);
  s.connections[0].peer_devices[0].done_percent = 42.0;
  s.connections[0].peer_devices[0].out_of_sync_kib = 600000;
  return s;
}

class FakeDrbd final : public drbd::Control {
 public:
  // What `up` brings: the state the resource has once it is up.
  drbd::ResourceState when_up = healthy();
  drbd::ResourceState current{.name = "r0"};  // not up
  std::vector<std::string> calls;
  std::map<std::string, Error> failures;  // call name → error
  bool two_primaries = false;

  Result<void> up(const std::string&, Deadline) override {
    if (auto f = fail("up")) return *f;
    current = when_up;
    return {};
  }
  Result<void> down(const std::string&, Deadline) override {
    if (auto f = fail("down")) return *f;
    current = drbd::ResourceState{.name = "r0"};
    return {};
  }
  Result<void> adjust(const std::string&, Deadline) override { return fail_or_ok("adjust"); }
  Result<void> primary(const std::string&, bool force, Deadline) override {
    if (auto f = fail(force ? "primary --force" : "primary")) return *f;
    current.role = drbd::Role::primary;
    return {};
  }
  Result<void> secondary(const std::string&, Deadline) override {
    if (auto f = fail("secondary")) return *f;
    current.role = drbd::Role::secondary;
    return {};
  }
  Result<void> connect(const std::string&, bool discard, Deadline) override {
    return fail_or_ok(discard ? "connect --discard-my-data" : "connect");
  }
  Result<void> disconnect(const std::string&, Deadline) override { return fail_or_ok("disconnect"); }
  Result<void> invalidate(const std::string&, Deadline) override { return fail_or_ok("invalidate"); }
  Result<void> outdate(const std::string&, Deadline) override { return fail_or_ok("outdate"); }
  Result<void> verify(const std::string&, Deadline) override { return fail_or_ok("verify"); }
  Result<void> allow_two_primaries(const std::string&, bool allow, Deadline) override {
    if (auto f = fail(allow ? "two-primaries yes" : "two-primaries no")) return *f;
    two_primaries = allow;
    return {};
  }
  Result<drbd::ResourceState> state(const std::string&, Deadline) override {
    ++reads;
    if (auto it = failures.find("state"); it != failures.end()) return it->second;
    return current;
  }
  Result<std::vector<drbd::ResourceState>> status(const std::string&, Deadline) override {
    if (!current.exists) return std::vector<drbd::ResourceState>{};
    return std::vector<drbd::ResourceState>{current};
  }

  [[nodiscard]] bool called(const std::string& name) const {
    for (const auto& c : calls)
      if (c == name) return true;
    return false;
  }
  int reads = 0;

 private:
  std::optional<Error> fail(const std::string& name) {
    calls.push_back(name);
    if (auto it = failures.find(name); it != failures.end()) return it->second;
    return std::nullopt;
  }
  Result<void> fail_or_ok(const std::string& name) {
    if (auto f = fail(name)) return *f;
    return {};
  }
};

class FakePromotion final : public mirror::PromotionAttribute {
 public:
  std::optional<int> value;     // what Pacemaker holds
  std::vector<std::string> writes;  // "set 10000", "remove"
  std::optional<Error> failure;

  Result<void> set(int score, Deadline) override {
    writes.push_back("set " + std::to_string(score));
    if (failure) return *failure;
    value = score;
    return {};
  }
  Result<void> remove(Deadline) override {
    writes.push_back("remove");
    if (failure) return *failure;
    value.reset();
    return {};
  }
};

class FakeMemory final : public mirror::MemoryStore {
 public:
  std::optional<mirror::AgentMemory> stored;
  int saves = 0;

  [[nodiscard]] std::optional<mirror::AgentMemory> load() const override { return stored; }
  Result<void> save(const mirror::AgentMemory& m) override {
    ++saves;
    stored = m;
    return {};
  }
  Result<void> remove() override {
    stored.reset();
    return {};
  }
};

}  // namespace evos::testing
