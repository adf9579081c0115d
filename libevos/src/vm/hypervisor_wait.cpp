#include <evos/vm/hypervisor_wait.hpp>

#include <algorithm>

namespace evos::vm {

Millis hypervisor_wait(std::string_view action, bool probe, Millis remaining) {
  const Millis half = std::max(Millis{0}, remaining / 2);
  if (probe) return half;
  if (action == "meta-data" || action == "validate-all") return Millis{0};
  return std::min(half, other_cap);
}

}  // namespace evos::vm
