// evos::Activity: names what the process is blocked on right now ("libvirt: get state of
// domain 'web1'"), so a deadline that expires can say what hung instead of just "timeout".
#pragma once

#include <string>

namespace evos {

class Activity {
 public:
  explicit Activity(std::string what);
  ~Activity();
  Activity(const Activity&) = delete;
  Activity& operator=(const Activity&) = delete;

  // The innermost activity of any thread, or "" (thread-safe).
  static std::string current();

 private:
  std::string previous_;
};

}  // namespace evos
