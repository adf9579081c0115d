// evos::drbd::Events2State: the state of every DRBD resource on this node, followed line by line
// from one long-running `drbdsetup events2 --statistics all` stream (evosd, docs/evosd.md
// "DRBD events"). Pure: lines in, state out; the child process and its restarts are the caller's.
//
// A stream begins with the initial dump ("exists ..." lines) and its end marker "exists -"; only
// from then on is the state complete (`synced`). A stream that ended, lost notifications ("- skipped
// N") or has not reached "exists -" yet is not synced, and a reader must not take its state as
// current. A line the parser refuses is garbage: counted, skipped, logged a bounded number of times
// per stream; never fatal.
#pragma once

#include <evos/drbd/events2_parser.hpp>
#include <evos/drbd/state.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace evos::drbd {

// Garbage lines logged per stream; later ones are only counted.
inline constexpr std::uint64_t garbage_logged_per_stream = 5;

// What became of one line.
struct LineOutcome {
  bool garbage = false;
  bool lost = false;                  // "- skipped N": the stream must be read again from the start
  bool synced = false;                // the state is complete after this line
  std::uint64_t stream_garbage = 0;   // unreadable lines of this stream so far
  // A message for the log, when this line deserves one: the first garbage lines of a stream, the
  // line after which garbage is no longer logged, lost notifications, the end of the initial dump.
  std::optional<std::string> log;
};

class Events2State {
 public:
  // A new stream began: what the previous one said is forgotten until this one's "exists -".
  void stream_started();
  // The stream ended (the child exited or was stopped): nothing is current any more.
  void stream_ended(std::string why);

  LineOutcome feed(std::string_view line);

  // The state is complete and current: a stream runs, printed "exists -" and lost nothing since.
  [[nodiscard]] bool synced() const { return running_ && initial_done_ && !lost_; }
  [[nodiscard]] bool running() const { return running_; }
  // Why the state is not current ("" when it is).
  [[nodiscard]] std::string problem() const;

  [[nodiscard]] const std::map<std::string, ResourceState>& resources() const { return resources_; }
  [[nodiscard]] const ResourceState* resource(const std::string& name) const;

  // Totals over every stream (monotonic), and this stream's garbage (for the restart decision).
  [[nodiscard]] std::uint64_t lines() const { return lines_; }
  [[nodiscard]] std::uint64_t garbage() const { return garbage_; }
  [[nodiscard]] std::uint64_t stream_garbage() const { return stream_garbage_; }

 private:
  void apply_event(const Event& event);

  std::map<std::string, ResourceState> resources_;
  bool running_ = false;
  bool initial_done_ = false;
  bool lost_ = false;
  std::string ended_;
  std::uint64_t lines_ = 0;
  std::uint64_t garbage_ = 0;
  std::uint64_t stream_garbage_ = 0;
};

}  // namespace evos::drbd
