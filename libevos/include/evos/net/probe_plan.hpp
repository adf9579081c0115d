// When probes go out and how long a round may last: the deadline logic of the monitor, kept
// pure so it can be checked without a network.
//
// A round sends `attempts` echo requests to every host not yet answered, at offsets
// k * timeout / attempts (k = 0..attempts-1), all hosts at once, and ends when every host has
// answered or at `timeout` after its start, whichever is first. So a round never lasts longer than
// `timeout`, whatever the number of hosts and however many of them are silent. (The prober also
// ends a round early when every host has answered or was refused by the kernel at its latest
// attempt, e.g. with the link down: no reply can come then.)
#pragma once

#include <evos/deadline.hpp>

#include <vector>

namespace evos::net {

struct ProbePlan {
  Millis window{0};              // the round ends at start + window
  std::vector<Millis> send_at;   // offsets of the attempts from the start, ascending, all < window
};

ProbePlan plan_probes(Millis timeout, unsigned attempts);

// The window a monitor can afford before its own deadline: the configured probe timeout, cut
// (never below `minimum`) so that `reserve` is left for publishing the result. `clamped` tells the
// caller to warn that the operation timeout is too short for the probe timeout.
struct Window {
  Millis length{0};
  bool clamped = false;
};
Window affordable_window(Millis timeout, Millis until_deadline, Millis reserve, Millis minimum = Millis(50));

}  // namespace evos::net
