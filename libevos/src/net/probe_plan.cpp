#include <evos/net/probe_plan.hpp>

#include <algorithm>

namespace evos::net {

ProbePlan plan_probes(Millis timeout, unsigned attempts) {
  ProbePlan plan;
  plan.window = std::max(timeout, Millis(1));
  const unsigned n = std::max(attempts, 1u);
  // Evenly spaced, so every attempt leaves the same time for its reply before the next one goes
  // out; the last reply has window/attempts to arrive.
  for (unsigned k = 0; k < n; ++k) plan.send_at.push_back(plan.window * k / n);
  plan.send_at.erase(std::unique(plan.send_at.begin(), plan.send_at.end()), plan.send_at.end());
  return plan;
}

Window affordable_window(Millis timeout, Millis until_deadline, Millis reserve, Millis minimum) {
  const Millis available = until_deadline > reserve ? until_deadline - reserve : Millis(0);
  if (timeout <= available) return {timeout, false};
  return {std::max(available, minimum), true};
}

}  // namespace evos::net
