// evosd's socket protocol (docs/evosd.md, "Socket protocol"): one JSON object per line each way.
// Requests: {"op":"ping"}, {"op":"vm","name":"web1"}, {"op":"mirror","name":"r0"}, {"op":"status"}. Every answer has "ok";
// a failed request gets {"ok":false,"error":"..."}. And the freshness rule by which a client
// (the VM agent's monitor) decides whether an answer may stand for libvirt's own.
#pragma once

#include <evos/daemon/node_state.hpp>
#include <evos/deadline.hpp>
#include <evos/error.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace evos::daemon {

// Longest request line evosd reads; a longer one is answered with an error and the client dropped.
inline constexpr std::size_t max_request_bytes = 4096;

struct Request {
  enum class Op { ping, vm, mirror, status };
  Op op = Op::ping;
  std::string name;  // vm: the domain; mirror: the DRBD resource
};

// Errc::invalid_argument naming the problem: not JSON, not an object, unknown op, a name that is
// not a domain name.
Result<Request> parse_request(std::string_view line);

// The request as one line (for clients).
std::string render_request(const Request& request);

// What evosd answers from, besides the node state.
struct AnswerContext {
  std::string uri;       // the libvirt URI it follows
  Millis max_silence;    // its freshness bound
  Clock::time_point now;
};

std::string render_error(std::string_view message);
std::string render_ping(std::string_view version);
std::string render_vm(const NodeState& state, const std::string& name, const AnswerContext& ctx);
std::string render_status(const NodeState& state, const AnswerContext& ctx);
// A DRBD resource as followed from drbdsetup events2. Its state (role, disks, connections,
// replication, out of sync, resync progress, traffic) is given only while the follower is fresh
// (NodeState::drbd_fresh); otherwise "fresh":false and why, and the client asks drbdsetup itself.
std::string render_mirror(const NodeState& state, const std::string& name, const AnswerContext& ctx);

// A "vm" answer as the client reads it.
struct VmAnswer {
  std::string name;
  std::string uuid;   // "" when evosd does not know the domain
  std::string uri;
  bool known = false;  // evosd has the domain (else state is absent)
  vm::DomainState state;
  Millis age{0};       // since the domain entered its state
  bool fresh = false;  // evosd's own verdict on its libvirt source
  bool connected = false;
  bool synced = false;
  Millis heard{0};     // since its libvirt source last gave a sign of life
};

// Errc::invalid_argument for anything that is not a well-formed, successful "vm" answer.
Result<VmAnswer> parse_vm_answer(std::string_view line);

struct Expectation {
  std::string domain;
  std::string uuid;     // "" when the caller does not know it
  std::string uri;      // the hypervisor the caller would ask itself
  Millis max_silence;   // the oldest sign of life the caller accepts
};

// The freshness rule: nullopt when the answer says the domain is running and may stand for
// libvirt's answer; otherwise why the caller must ask libvirt itself. Only "running" is ever
// taken from evosd: an answer that would make Pacemaker act (stopped, failed, absent) is always
// checked with libvirt, so evosd can delay a failure's detection but never invent one, and
// never hide a running domain from a probe.
std::optional<std::string> distrust(const VmAnswer& answer, const Expectation& expected);

}  // namespace evos::daemon
