#include <evos/activity.hpp>
#include <evos/cluster/pacemaker_tools.hpp>
#include <evos/mirror/fence_io.hpp>
#include <evos/proc/run.hpp>
#include <evos/text_checks.hpp>

#include <fmt/core.h>

#include <vector>

namespace evos::mirror {
namespace {

// Pacemaker's crm_exit_t (include/crm/common/results.h).
constexpr int cib_not_found = 105;  // CRM_EX_NOSUCH
constexpr int cib_exists = 108;     // CRM_EX_EXISTS

Result<proc::Completed> cibadmin(std::vector<std::string> args, Deadline deadline) {
  args.insert(args.begin(), "cibadmin");
  const std::string described = proc::describe(args);
  Activity activity(described);
  auto r = proc::run(args, deadline);
  if (!r) return std::move(r).error().context(described);
  return r;
}

Error exited(const std::string& what, const proc::Completed& c) {
  return Error(Errc::backend, fmt::format("cibadmin {} exited with {}: {}", what, c.exit_code,
                                          text::quote_for_message(c.err.substr(0, c.err.find('\n')))));
}

Result<CibWrite> write(const std::string& how, const std::string& xml, Deadline deadline) {
  auto r = cibadmin({how, "--scope", "constraints", "--xml-text", xml}, deadline);
  if (!r) return std::move(r).error();
  if (r->ok()) return CibWrite::done;
  if (r->exit_code == cib_not_found) return CibWrite::no_such_object;
  if (r->exit_code == cib_exists) return CibWrite::already_exists;
  return exited(how, *r);
}

}  // namespace

Result<std::string> CibadminFenceCluster::resources(Deadline deadline) {
  auto r = cibadmin({"--query", "--scope", "resources"}, deadline);
  if (!r) return std::move(r).error();
  if (!r->ok()) return exited("--query", *r);
  return std::move(r->out);
}

Result<CibWrite> CibadminFenceCluster::replace_constraint(const std::string& xml, Deadline deadline) {
  return write("--replace", xml, deadline);
}

Result<CibWrite> CibadminFenceCluster::create_constraint(const std::string& xml, Deadline deadline) {
  return write("--create", xml, deadline);
}

Result<void> CibadminFenceCluster::delete_constraint(const std::string& id, Deadline deadline) {
  // The id is fence_constraint_id(): "evos-fence-" and a DRBD resource name, no XML metacharacters.
  auto r = cibadmin({"--delete", "--xml-text", "<rsc_location id=\"" + id + "\"/>"}, deadline);
  if (!r) return std::move(r).error();
  if (!r->ok()) return exited("--delete", *r);
  return {};
}

Result<cluster::PacemakerStatus> CibadminFenceCluster::status(Deadline deadline) {
  return cluster::read_pacemaker_status(deadline);
}

}  // namespace evos::mirror
