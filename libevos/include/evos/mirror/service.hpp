// ocf:evos:mirror's behaviour over ports: DRBD (drbd::Control), this node's promotion score in
// Pacemaker (PromotionAttribute) and the agent's memory between actions (MemoryStore). The agent's
// main() only wires adapters; everything here is tested with fakes.
//
// The decisions are free functions (pure, on drbd::ResourceState): the monitor result per role,
// which score to publish and when, whether a promotion is safe, and whether this node may leave
// (demote, stop, standby, power off) without taking the only UpToDate data away from its peer.
#pragma once

#include <evos/deadline.hpp>
#include <evos/drbd/control.hpp>
#include <evos/drbd/state.hpp>
#include <evos/error.hpp>
#include <evos/health.hpp>
#include <evos/log.hpp>
#include <evos/mirror/params.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace evos::mirror {

// ---- ports ------------------------------------------------------------------------------------

// This node's promotion score for the promotable clone (the "master-<instance>" transient node
// attribute that Pacemaker's scheduler reads). The adapter runs `crm_attribute --promotion`.
class PromotionAttribute {
 public:
  virtual ~PromotionAttribute() = default;
  virtual Result<void> set(int score, Deadline deadline) = 0;
  virtual Result<void> remove(Deadline deadline) = 0;
};

// What the agent remembers between actions of one instance ($HA_RSCTMP, a tmpfs: a rebooted node
// remembers nothing, and neither does Pacemaker's status of it).
struct AgentMemory {
  std::optional<int> published;  // the score last written; 0 = the attribute was removed; nullopt = unknown
  bool window_open = false;      // this node opened a dual-primary window (allow-two-primaries)
  bool split_brain = false;      // DRBD reported a split brain that has not been resolved yet

  bool operator==(const AgentMemory&) const = default;
};

// "published=10000\nwindow=0\nsplit_brain=0\n" ("published=-" when unknown).
std::string format_memory(const AgentMemory& memory);
// nullopt for anything damaged: the agent then treats the score as unknown and writes it again.
std::optional<AgentMemory> parse_memory(std::string_view text);

class MemoryStore {
 public:
  virtual ~MemoryStore() = default;
  [[nodiscard]] virtual std::optional<AgentMemory> load() const = 0;  // nullopt: absent or damaged
  virtual Result<void> save(const AgentMemory& memory) = 0;
  virtual Result<void> remove() = 0;  // absent is fine
};

// A split-brain recovery step evosctl left for this node (mirror/admin.hpp): the value of the
// transient attribute evos-mirror-resolve-<resource> on this node ("discard" or "connect").
class ResolveRequests {
 public:
  virtual ~ResolveRequests() = default;
  virtual Result<std::optional<std::string>> pending(Deadline deadline) = 0;
  virtual Result<void> done(Deadline deadline) = 0;
};

// ---- decisions ---------------------------------------------------------------------------------

using evos::Health;  // evos/health.hpp

struct Assessment {
  bool primary = false;  // DRBD's role here (what Pacemaker sees as Promoted)
  Health health = Health::stopped;
  std::string why;       // for degraded and failed
};

// The monitor's answer. stopped: the resource is not up here. failed: a Primary without access to
// UpToDate data, or I/O failing. degraded: running without full redundancy (the peer away, a resync,
// a split brain, a failed local disk on a Secondary, I/O frozen by fencing). `split_brain_seen`
// is the agent's memory of a split brain DRBD reported earlier (drbd-utils before sync-state show
// it only as a helper call).
Assessment assess(const drbd::ResourceState& state, bool split_brain_seen = false);

// The score this node publishes for a DRBD score (drbd::promotion_score). Only UpToDate data is
// ever promoted: local UpToDate (10000 connected, 1000 peer unknown) or a sync target reading
// through its UpToDate peer (10). Consistent-only data (5) and unusable data (0) publish nothing
// (the attribute is removed): a node that is alone with Consistent data waits for its peer.
int publishable_score(const drbd::PromotionScore& score);

// A Secondary connected to a Primary publishes at most this. It never outranks the running
// Primary, whose own published score may be a monitor behind (1000 while its peer was away, or
// capped during a split brain): otherwise a peer that has just finished its resync would make
// Pacemaker move the Promoted role, and the VM with it, for nothing. It stays promotable: when the
// Primary dies it is the only candidate, and its next monitor recomputes (1000: peer away).
inline constexpr int score_beside_primary = 100;

// drbd::promotion_score with the rule above applied: the score this node should publish (before
// publishable_score's threshold).
drbd::PromotionScore score_to_publish(const drbd::ResourceState& state);

struct ScorePlan {
  bool write = false;  // call the attribute port
  int value = 0;       // 0 = remove the attribute
  std::string why;
};

// Write only what changed; `force` (start, probe) writes whatever is due even if unchanged, because
// Pacemaker may have lost transient attributes the agent believes are set. While DRBD is in
// transition (`settled` false) the previous score stays, as ocf:linbit:drbd does.
ScorePlan plan_score(const drbd::PromotionScore& score, std::optional<int> published, bool force);

// Whether this node may stop being Primary or stop replicating (demote, stop, standby, shutdown)
// without taking the only UpToDate copy away: no, while it is the sync source of a resync whose
// target is not UpToDate yet. The "no" carries the message an administrator sees.
drbd::Verdict may_leave(const drbd::ResourceState& state);

// Whether the peer may leave: no while the peer is this node's sync source (read from this node's
// view, which in a two-node mirror sees both ends of the resync).
drbd::Verdict peer_may_leave(const drbd::ResourceState& state);

// Promotion here: drbd::may_promote, and a second Primary (a live-migration window) only with
// local UpToDate data, never as a sync target reading through the first.
drbd::Verdict may_promote_here(const drbd::ResourceState& state, bool dual_primary_allowed);

// The "pre"/"post" notification of a clone operation (Pacemaker's CRM_meta_notify_* variables).
struct Notification {
  std::string type;       // "pre" or "post"
  std::string operation;  // "start", "stop", "promote", "demote"
  std::vector<std::string> promote_nodes;  // CRM_meta_notify_promote_uname
  std::vector<std::string> demote_nodes;   // CRM_meta_notify_demote_uname
  std::string local_node;                  // CRM_meta_on_node
};

// "a b  c" → {"a","b","c"}.
std::vector<std::string> split_node_list(std::string_view text);

// ---- the service -------------------------------------------------------------------------------

class MirrorService {
 public:
  // `requests` (optional) is consulted only while the resource is StandAlone or in split brain.
  MirrorService(drbd::Control& control, PromotionAttribute& attribute, MemoryStore& memory, Log& log,
                const MirrorParams& params, ResolveRequests* requests = nullptr);

  // drbdadm up unless already up; publishes the score.
  Result<void> start(Deadline deadline);
  // Refuses while this node is the sync source (protect_sync_source); otherwise Secondary, then
  // down; removes the score. Idempotent.
  Result<void> stop(Deadline deadline);
  // Reads the state, publishes the score if it changed (always on a probe), closes a dual-primary
  // window nobody uses any more (only when promoted-max is back to 1: with 2, a window opened by a
  // pre-promote notification waits for the peer's promotion), carries out this node's part of a
  // split-brain recovery evosctl requested, and assesses. A failed attribute write is a warning (the next
  // monitor retries): the replicated data is fine, and a monitor failure would restart the
  // resources that depend on it.
  Result<Assessment> monitor(bool probe, bool dual_primary_allowed, Deadline deadline);
  // Refuses early, with DRBD's reason, when `drbdadm primary` could not or should not succeed.
  // With dual_primary_allowed (promoted-max 2) and a Primary peer, it opens the migration window.
  Result<void> promote(bool dual_primary_allowed, Deadline deadline);
  // Refuses while this node is the sync source (protect_sync_source); closes the window it opened.
  Result<void> demote(Deadline deadline);
  // pre-promote on the Primary: opens the window for a second Primary (dual_primary_allowed);
  // post-*: closes an unused window and publishes the score.
  Result<void> notify(const Notification& notification, bool dual_primary_allowed, Deadline deadline);

 private:
  Result<drbd::ResourceState> read(Deadline deadline);
  AgentMemory recall() const;
  void remember(const AgentMemory& memory);
  // Publishes (warnings only) and returns the memory with the new score.
  AgentMemory publish(const drbd::ResourceState& state, AgentMemory memory, bool force, Deadline deadline);
  AgentMemory close_unused_window(const drbd::ResourceState& state, AgentMemory memory, Deadline deadline);
  // Returns the state after a requested recovery step (or `state` unchanged).
  drbd::ResourceState serve_request(drbd::ResourceState state, Deadline deadline);

  drbd::Control& control_;
  PromotionAttribute& attribute_;
  MemoryStore& memory_;
  Log& log_;
  const MirrorParams& params_;
  ResolveRequests* requests_;
};

}  // namespace evos::mirror
