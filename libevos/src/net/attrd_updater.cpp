#include <evos/net/attrd_updater.hpp>
#include <evos/net/ping_params.hpp>

namespace evos::net {

Result<void> AttrdUpdater::update(const std::string& name, const std::string& value, Millis dampen, Deadline deadline) {
  return attributes_.update(name, value, format_dampen(dampen), deadline);
}

Result<void> AttrdUpdater::update_private(const std::string& name, const std::string& value, Deadline deadline) {
  return attributes_.update_private(name, value, deadline);
}

Result<void> AttrdUpdater::remove(const std::string& name, Deadline deadline) { return attributes_.remove(name, deadline); }

}  // namespace evos::net
