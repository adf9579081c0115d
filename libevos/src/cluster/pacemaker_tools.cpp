#include <evos/cluster/attributes.hpp>
#include <evos/cluster/pacemaker_tools.hpp>
#include <evos/proc/run.hpp>

#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <thread>
#include <unistd.h>

namespace evos::cluster {
namespace {

using namespace std::chrono_literals;

// Runs a Pacemaker tool; a non-zero exit becomes an error carrying its stderr.
Result<proc::Completed> tool(const std::vector<std::string>& argv, Deadline deadline, const proc::Options& options = {}) {
  auto r = proc::run(argv, deadline, options);
  if (!r) return std::move(r).error();
  if (!r->ok()) {
    std::string err = r->err.empty() ? r->out : r->err;
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    return make_error(Errc::backend, "{} exited with {}: {}", proc::describe(argv), r->exit_code, err);
  }
  return r;
}

// A private temporary file, removed when it goes out of scope.
class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    const char* dir = std::getenv("TMPDIR");
    path_ = std::string(dir && *dir ? dir : "/tmp") + "/evos-XXXXXX";
    const int fd = ::mkstemp(path_.data());
    if (fd < 0) {
      path_.clear();
      return;
    }
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    if (!ok) {
      std::remove(path_.c_str());
      path_.clear();
    }
  }
  ~TempFile() {
    if (!path_.empty()) std::remove(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

Result<PacemakerStatus> read_pacemaker_status(Deadline deadline) {
  auto r = proc::run({"crm_mon", "--one-shot", "--output-as=xml", "--include=attributes"}, deadline);
  if (!r) return std::move(r).error().context("read the cluster status");
  // crm_mon exits non-zero when it cannot reach the cluster but still prints a result document.
  auto status = parse_crm_mon_xml(r->out);
  if (!status) {
    std::string err = r->err;
    while (!err.empty() && err.back() == '\n') err.pop_back();
    return make_error(Errc::backend, "read the cluster status: crm_mon exited with {}: {}", r->exit_code,
                      err.empty() ? status.error().message() : err);
  }
  return status;
}

Result<std::map<std::string, std::string>> query_node_attribute(const std::string& name, Deadline deadline) {
  return Attributes().query(name, deadline);
}

Result<std::string> query_configuration(Deadline deadline) {
  auto r = tool({"cibadmin", "--query", "--scope", "configuration"}, deadline);
  if (!r) return std::move(r).error().context("read the cluster configuration");
  return std::move(r->out);
}

Result<std::optional<std::string>> query_configuration_if_running(Deadline deadline) {
  constexpr int not_connected = 102;  // crm_exit_t CRM_EX_NOT_CONNECTED (include/crm/common/results.h)
  const std::vector<std::string> argv{"cibadmin", "--query", "--scope", "configuration"};
  auto r = proc::run(argv, deadline);
  if (!r && r.error().code() == Errc::not_installed) return std::optional<std::string>();
  if (!r) return std::move(r).error().context("read the cluster configuration");
  if (r->exit_code == not_connected) return std::optional<std::string>();
  if (!r->ok())
    return make_error(Errc::backend, "read the cluster configuration: {} exited with {}: {}", proc::describe(argv),
                      r->exit_code, r->err.empty() ? r->out : r->err);
  return std::optional(std::move(r->out));
}

Result<void> remove_from_cib(const CibRemoval& removal, Deadline deadline) {
  auto r = tool({"cibadmin", "--delete", "--force", "--delete-all", "--xpath", removal.xpath}, deadline);
  if (!r) return std::move(r).error().context("remove from the configuration");
  return {};
}

Result<void> replace_fencing_topology(const std::string& topology_xml, Deadline deadline) {
  auto r = tool({"cibadmin", "--replace", "--scope", "fencing-topology", "--xml-text", topology_xml}, deadline);
  if (!r) return std::move(r).error().context("replace the fencing topology");
  return {};
}

Result<void> load_crm_configuration(const std::string& text, Deadline deadline) {
  TempFile file(text);
  if (file.path().empty()) return make_error(Errc::backend, "cannot write a temporary file for crm");
  // "load update" merges the text into the configuration (crmsh), like an administrator would.
  auto r = tool({"crm", "configure", "load", "update", file.path()}, deadline);
  if (!r) return std::move(r).error().context("apply the configuration");
  return {};
}

Result<void> set_resource_meta(const std::string& resource, const std::string& name, const std::string& value,
                               Deadline deadline) {
  std::vector<std::string> argv = {"crm_resource", "--resource", resource, "--meta"};
  if (value.empty()) {
    argv.insert(argv.end(), {"--delete-parameter", name});
  } else {
    argv.insert(argv.end(), {"--set-parameter", name, "--parameter-value", value});
  }
  auto r = tool(argv, deadline);
  if (!r) return std::move(r).error().context(fmt::format("set {} of resource {}", name, resource));
  return {};
}

Result<void> delete_primitive(const std::string& resource, Deadline deadline) {
  auto r = tool({"cibadmin", "--delete", "--scope", "resources", "--xml-text", fmt::format("<primitive id=\"{}\"/>", resource)},
                deadline);
  if (!r) return std::move(r).error().context(fmt::format("delete resource {}", resource));
  return {};
}

Result<void> move_resource(const std::string& resource, const std::string& node, Deadline deadline) {
  auto r = tool({"crm_resource", "--resource", resource, "--move", "--node", node}, deadline);
  if (!r) return std::move(r).error().context(fmt::format("move resource {} to {}", resource, node));
  return {};
}

Result<void> clear_resource_moves(const std::string& resource, Deadline deadline) {
  auto r = tool({"crm_resource", "--resource", resource, "--clear"}, deadline);
  if (!r) return std::move(r).error().context(fmt::format("clear the move constraints of {}", resource));
  return {};
}

Result<void> fail_resource(const std::string& resource, const std::string& node, Deadline deadline) {
  auto r = tool({"crm_resource", "--fail", "--resource", resource, "--node", node}, deadline);
  if (!r) return std::move(r).error().context(fmt::format("report resource {} failed on {}", resource, node));
  return {};
}

Result<std::string> local_node_name(Deadline deadline) {
  auto r = tool({"crm_node", "--name"}, deadline);
  if (!r) return std::move(r).error().context("name of this cluster node");
  std::string name = r->out;
  while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
  if (name.empty() || name.find_first_of(" \n\t") != std::string::npos)
    return make_error(Errc::backend, "crm_node --name printed no single node name");
  return name;
}

Result<PacemakerStatus> wait_for_resource(const std::string& resource, Deadline deadline,
                                          const std::function<bool(const ResourceStatus*)>& done) {
  std::optional<PacemakerStatus> last;  // the last status read, for the message at the deadline
  for (;;) {
    auto status = read_pacemaker_status(deadline);
    if (status && done(status->resource(resource))) return status;
    if (status) last = std::move(*status);
    if (deadline.expired()) {
      if (!last) return std::move(status).error();
      const auto* r = last->resource(resource);
      std::string where;
      if (r)
        for (const auto& n : r->nodes) where += (where.empty() ? " on " : ", ") + n;
      return make_error(Errc::timeout, "resource {} is {}{} at the deadline", resource, r ? r->role : "absent", where);
    }
    std::this_thread::sleep_for(std::min<Millis>(500ms, deadline.remaining()));
  }
}

}  // namespace evos::cluster
