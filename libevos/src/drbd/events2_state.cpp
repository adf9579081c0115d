#include <evos/drbd/events2_state.hpp>
#include <evos/text_checks.hpp>

#include <fmt/core.h>

namespace evos::drbd {

void Events2State::stream_started() {
  resources_.clear();
  running_ = true;
  initial_done_ = false;
  lost_ = false;
  ended_.clear();
  stream_garbage_ = 0;
}

void Events2State::stream_ended(std::string why) {
  running_ = false;
  ended_ = std::move(why);
}

std::string Events2State::problem() const {
  if (!running_) return ended_.empty() ? std::string("drbdsetup events2 is not running") : ended_;
  if (lost_) return "drbdsetup events2 lost notifications; the stream is restarted";
  if (!initial_done_) return "drbdsetup events2 has not finished its initial state";
  return {};
}

const ResourceState* Events2State::resource(const std::string& name) const {
  const auto it = resources_.find(name);
  return it == resources_.end() ? nullptr : &it->second;
}

void Events2State::apply_event(const Event& e) {
  if (!e.name || e.object == ObjectKind::none || e.object == ObjectKind::other) return;
  if (e.object == ObjectKind::resource && e.kind == EventKind::destroy) {
    resources_.erase(*e.name);  // `drbdadm down`: the resource is no longer up here
    return;
  }
  auto it = resources_.find(*e.name);
  if (it == resources_.end()) {
    // Only an object that exists creates a resource: a stray helper, path or destroy line for an
    // unknown resource must not make it look up.
    if (e.kind == EventKind::destroy || e.object == ObjectKind::helper || e.object == ObjectKind::path) return;
    it = resources_.emplace(*e.name, ResourceState{.name = *e.name}).first;
  }
  ResourceState next = apply(std::move(it->second), e);
  next.initial_state_done = initial_done_;
  next.stale = lost_;
  if (next.name != it->first) {  // renamed
    resources_.erase(it);
    resources_[next.name] = std::move(next);
  } else {
    it->second = std::move(next);
  }
}

LineOutcome Events2State::feed(std::string_view line) {
  ++lines_;
  LineOutcome out;
  auto event = parse_events2_line(line);
  if (!event) {
    ++garbage_;
    ++stream_garbage_;
    if (stream_garbage_ <= garbage_logged_per_stream)
      out.log = fmt::format("drbdsetup events2 printed a line evos cannot read ({}): {}", event.error().message(),
                            text::quote_for_message(line.substr(0, 200)));
    if (stream_garbage_ == garbage_logged_per_stream)
      *out.log += "; further unreadable lines of this stream are only counted";
    out.garbage = true;
    out.stream_garbage = stream_garbage_;
    out.synced = synced();
    return out;
  }
  if (event->kind == EventKind::initial_state_done) {
    initial_done_ = true;
    for (auto& [name, r] : resources_) r.initial_state_done = true;
    out.log = fmt::format("drbdsetup events2: initial state read, {} resource{}", resources_.size(),
                          resources_.size() == 1 ? "" : "s");
  } else if (event->kind == EventKind::skipped) {
    lost_ = true;
    out.lost = true;
    for (auto& [name, r] : resources_) r.stale = true;
    out.log = fmt::format("drbdsetup events2 lost {} notifications; the state is no longer current", event->skipped);
  } else {
    apply_event(*event);
  }
  out.stream_garbage = stream_garbage_;
  out.synced = synced();
  return out;
}

}  // namespace evos::drbd
