#include <evos/activity.hpp>

#include <mutex>
#include <utility>

namespace evos {
namespace {
std::mutex mutex;
std::string current_activity;
}  // namespace

Activity::Activity(std::string what) {
  std::lock_guard lock(mutex);
  previous_ = std::exchange(current_activity, std::move(what));
}

Activity::~Activity() {
  std::lock_guard lock(mutex);
  current_activity = std::move(previous_);
}

std::string Activity::current() {
  std::lock_guard lock(mutex);
  return current_activity;
}

}  // namespace evos
