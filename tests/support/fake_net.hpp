// Fakes for evos::net's ports: a resolver with a table, a prober with scripted replies, an
// attribute writer and a state store in memory.
#pragma once

#include <evos/net/ping_service.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace evos::testing {

class MemoryLog final : public Log {
 public:
  void write(Level, std::string_view message) override { lines.emplace_back(message); }
  [[nodiscard]] bool contains(std::string_view text) const {
    for (const auto& l : lines)
      if (l.find(text) != std::string::npos) return true;
    return false;
  }
  std::vector<std::string> lines;
};

class FakeResolver final : public net::Resolver {
 public:
  Result<std::vector<net::Target>> resolve(std::span<const net::HostSpec> hosts, Deadline) override {
    ++calls;
    if (failure) return *failure;
    std::vector<net::Target> out;
    for (const auto& h : hosts) {
      if (!h.is_name()) {
        out.push_back({h, h.host, h.literal});
        continue;
      }
      auto it = table.find(h.host);
      if (it == table.end()) return make_error(Errc::invalid_config, "host_list: host '{}' does not resolve", h.host);
      out.push_back({h, it->second, net::literal_family(it->second)});
    }
    return out;
  }
  std::map<std::string, std::string> table;
  std::optional<Error> failure;
  int calls = 0;
};

class FakeProber final : public net::Prober {
 public:
  Result<std::vector<net::HostResult>> probe(std::span<const net::Target> targets, const net::ProbeOptions& options,
                                             Deadline) override {
    last_targets.assign(targets.begin(), targets.end());
    last_options = options;
    if (failure) return *failure;
    std::vector<net::HostResult> out;
    for (const auto& t : targets) {
      net::HostResult r{.host = t.spec.host, .address = t.address, .weight = t.spec.weight};
      r.sent = static_cast<unsigned>(options.plan.send_at.size());
      if (up.contains(t.address)) {
        r.sent = 1;
        r.received = 1;
        r.state = net::ProbeState::ok;
        r.min_rtt = r.avg_rtt = net::Micros(250);
      }
      out.push_back(r);
    }
    return out;
  }
  std::set<std::string> up;  // addresses that answer
  std::optional<Error> failure;
  std::vector<net::Target> last_targets;
  net::ProbeOptions last_options;
};

class FakeAttributes final : public net::AttributeWriter {
 public:
  struct Call {
    std::string what, name, value;
    Millis dampen{0};
  };
  Result<void> update(const std::string& name, const std::string& value, Millis dampen, Deadline) override {
    calls.push_back({"update", name, value, dampen});
    if (failure) return *failure;
    values[name] = value;
    return {};
  }
  Result<void> update_private(const std::string& name, const std::string& value, Deadline) override {
    calls.push_back({"private", name, value, Millis(0)});
    if (failure) return *failure;
    values[name] = value;
    return {};
  }
  Result<void> remove(const std::string& name, Deadline) override {
    calls.push_back({"remove", name, "", Millis(0)});
    if (failure) return *failure;
    values.erase(name);
    return {};
  }
  std::map<std::string, std::string> values;
  std::vector<Call> calls;
  std::optional<Error> failure;
};

class MemoryStore final : public net::StateStore {
 public:
  [[nodiscard]] bool exists() const override { return state.has_value(); }
  [[nodiscard]] std::optional<net::PingState> load() const override { return state; }
  Result<void> save(const net::PingState& s) override {
    state = s;
    ++saves;
    return {};
  }
  Result<void> remove() override {
    state.reset();
    return {};
  }
  std::optional<net::PingState> state;
  int saves = 0;
};

}  // namespace evos::testing
