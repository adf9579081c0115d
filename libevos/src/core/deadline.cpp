#include <evos/deadline.hpp>

namespace evos {

Millis Deadline::remaining() const {
  auto left = std::chrono::duration_cast<Millis>(at_ - Clock::now());
  return left.count() > 0 ? left : Millis(0);
}

}  // namespace evos
