#include <evos/activity.hpp>
#include <evos/net/attrd_updater.hpp>
#include <evos/net/ping_params.hpp>
#include <evos/proc/run.hpp>
#include <evos/text_checks.hpp>

namespace evos::net {

Result<void> AttrdUpdater::call(std::vector<std::string> argv, Deadline deadline) {
  Activity activity(proc::describe(argv));
  auto done = proc::run(argv, deadline);
  if (!done) return std::move(done).error().context(proc::describe(argv));
  if (!done->ok()) {
    std::string err = done->err.substr(0, done->err.find('\n'));
    return make_error(Errc::backend, "{} exited with {}{}{}", proc::describe(argv), done->exit_code,
                      err.empty() ? "" : ": ", text::quote_for_message(err));
  }
  return {};
}

Result<void> AttrdUpdater::update(const std::string& name, const std::string& value, Millis dampen, Deadline deadline) {
  return call({program_, "-n", name, "-B", value, "-d", format_dampen(dampen)}, deadline);
}

Result<void> AttrdUpdater::update_private(const std::string& name, const std::string& value, Deadline deadline) {
  return call({program_, "-p", "-n", name, "-U", value}, deadline);
}

Result<void> AttrdUpdater::remove(const std::string& name, Deadline deadline) {
  return call({program_, "-D", "-n", name}, deadline);
}

}  // namespace evos::net
