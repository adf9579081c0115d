// ocf:evos:ping's behaviour over ports (resolver, prober, attribute writer, state store), so the
// start/monitor/stop logic is tested with fakes and the agent's main() only wires adapters.
#pragma once

#include <evos/deadline.hpp>
#include <evos/error.hpp>
#include <evos/log.hpp>
#include <evos/net/detail.hpp>
#include <evos/net/ping_params.hpp>
#include <evos/net/ping_state.hpp>
#include <evos/net/probe_plan.hpp>
#include <evos/net/reachability.hpp>

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace evos::net {

// Turns host names into addresses, bounded by the deadline. Address literals never wait.
// Errors: invalid_config naming every host that does not exist (EAI_NONAME); backend or timeout
// for resolvers that cannot answer now (a transient problem of this node, not of the config).
class Resolver {
 public:
  virtual ~Resolver() = default;
  virtual Result<std::vector<Target>> resolve(std::span<const HostSpec> hosts, Deadline deadline) = 0;
};

struct ProbeOptions {
  ProbePlan plan;
  std::string interface;  // SO_BINDTODEVICE, "" = any
};

// Sends the plan's echo requests to every target at once and collects the replies until every
// target answered or the window ends (never past `deadline`). One result per target, in order.
// An error means the node could not probe at all (no socket), never that a host is down.
class Prober {
 public:
  virtual ~Prober() = default;
  virtual Result<std::vector<HostResult>> probe(std::span<const Target> targets, const ProbeOptions& options,
                                                Deadline deadline) = 0;
};

// Node attributes of the local node (pacemaker-attrd).
class AttributeWriter {
 public:
  virtual ~AttributeWriter() = default;
  virtual Result<void> update(const std::string& name, const std::string& value, Millis dampen, Deadline deadline) = 0;
  // A private attribute: kept by attrd, never written to the CIB.
  virtual Result<void> update_private(const std::string& name, const std::string& value, Deadline deadline) = 0;
  virtual Result<void> remove(const std::string& name, Deadline deadline) = 0;
};

class StateStore {
 public:
  virtual ~StateStore() = default;
  [[nodiscard]] virtual bool exists() const = 0;
  // nullopt when absent or damaged.
  [[nodiscard]] virtual std::optional<PingState> load() const = 0;
  virtual Result<void> save(const PingState& state) = 0;
  virtual Result<void> remove() = 0;
};

// What a round found, after it was published.
struct Round {
  Summary summary;
  std::vector<HostResult> hosts;
  Assessment assessment;
};

// How much of an action's budget is kept for publishing the result (attrd_updater) after a round,
// and the most one attrd_updater call may take: attrd answers in milliseconds; one that does not
// answer within this is hung, and the monitor should say so rather than run into its timeout.
inline constexpr Millis publish_reserve{1500};

class PingService {
 public:
  PingService(Resolver& resolver, Prober& prober, AttributeWriter& attributes, StateStore& store, Log& log,
              const PingParams& params, std::int64_t (*unix_now)() = nullptr);

  // Resolves names (a name that does not exist is invalid_config), records the state, runs a
  // round and publishes it. Fails (backend) if the score is below failure_score.
  Result<Round> start(Deadline deadline);
  // Removes the attributes (warnings only if attrd cannot be reached: a failed stop would get the
  // node fenced over a stale attribute) and the state file. Idempotent.
  Result<void> stop(Deadline deadline);
  // nullopt = not started (no state file). Otherwise one round, published.
  Result<std::optional<Round>> monitor(Deadline deadline);
  // reload-agent: new reloadable values (dampen, multiplier, ...) take effect at once with one
  // round; names are resolved again.
  Result<Round> reload(Deadline deadline);
  // validate-all level 10: names resolve and the node can probe (one round, nothing published).
  Result<void> check(Deadline deadline);

 private:
  Result<std::vector<Target>> targets(const std::optional<PingState>& cached, bool refresh, Deadline deadline);
  Result<Round> round(std::span<const Target> targets, Deadline deadline);
  Result<void> publish(const Round& round, Deadline deadline);

  Resolver& resolver_;
  Prober& prober_;
  AttributeWriter& attributes_;
  StateStore& store_;
  Log& log_;
  const PingParams& params_;
  std::int64_t (*unix_now_)();
};

}  // namespace evos::net
