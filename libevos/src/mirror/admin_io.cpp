#include <evos/activity.hpp>
#include <evos/file/atomic_write.hpp>
#include <evos/mirror/admin_io.hpp>
#include <evos/proc/run.hpp>
#include <evos/text_checks.hpp>

#include <unistd.h>

#include <climits>
#include <vector>

namespace evos::mirror {
namespace {

// Runs a Pacemaker tool; a non-zero exit is an error naming the command and its first stderr line.
Result<void> run_tool(const std::vector<std::string>& argv, Deadline deadline) {
  const std::string described = proc::describe(argv);
  Activity activity(described);
  auto r = proc::run(argv, deadline);
  if (!r) return std::move(r).error().context(described);
  if (!r->ok())
    return make_error(Errc::backend, "{} exited with {}: {}", described, r->exit_code,
                      text::quote_for_message(r->err.substr(0, r->err.find('\n'))));
  return {};
}

}  // namespace

std::string local_node_name() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return {};
  return buf;
}

Result<void> write_res_file(const std::string& path, std::string_view text, bool replace) {
  return file::write_atomically(path, text, {.mode = 0644, .replace = replace});
}

Result<void> request_peer_part(const std::string& resource, const std::string& peer, ResolveRequest part,
                               Deadline deadline) {
  return run_tool({"attrd_updater", "-n", resolve_attribute(resource), "-U", std::string(to_string(part)), "-N", peer},
                  deadline);
}

Result<void> put_in_standby(const std::string& node, Deadline deadline) {
  auto r = run_tool({"crm_attribute", "--node", node, "--name", "standby", "--update", "on", "--lifetime", "forever"},
                    deadline);
  if (!r) return std::move(r).error().context("put the node in standby");
  return {};
}

}  // namespace evos::mirror
