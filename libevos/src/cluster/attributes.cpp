#include <evos/activity.hpp>
#include <evos/cluster/attributes.hpp>
#include <evos/cluster/status.hpp>
#include <evos/proc/run.hpp>
#include <evos/text_checks.hpp>

#include <fmt/core.h>

namespace evos::cluster {

Result<void> Attributes::call(const std::vector<std::string>& argv, Deadline deadline) {
  const std::string described = proc::describe(argv);
  Activity activity(described);
  auto done = proc::run(argv, deadline);
  if (!done) return std::move(done).error().context(described);
  if (!done->ok()) {
    std::string err = done->err.substr(0, done->err.find('\n'));
    return make_error(Errc::backend, "{} exited with {}{}{}", described, done->exit_code, err.empty() ? "" : ": ",
                      text::quote_for_message(err));
  }
  return {};
}

Result<void> Attributes::update(const std::string& name, const std::string& value, const std::string& dampen, Deadline deadline) const {
  return call({tools_.attrd_updater, "-n", name, "-B", value, "-d", dampen}, deadline);
}

Result<void> Attributes::update_private(const std::string& name, const std::string& value, Deadline deadline) const {
  return call({tools_.attrd_updater, "-p", "-n", name, "-U", value}, deadline);
}

Result<void> Attributes::update_on(const std::string& node, const std::string& name, const std::string& value,
                                   Deadline deadline) const {
  return call({tools_.attrd_updater, "-n", name, "-U", value, "-N", node}, deadline);
}

Result<void> Attributes::remove(const std::string& name, Deadline deadline, const std::optional<std::string>& node) const {
  std::vector<std::string> argv{tools_.attrd_updater, "-D", "-n", name};
  if (node) argv.insert(argv.end(), {"-N", *node});
  return call(argv, deadline);
}

Result<std::map<std::string, std::string>> Attributes::query(const std::string& name, Deadline deadline) const {
  auto r = proc::run({tools_.attrd_updater, "--query", "--all", "--name", name, "--output-as=xml"}, deadline);
  if (!r) return std::move(r).error().context(fmt::format("query node attribute {}", name));
  auto values = parse_attrd_query_xml(r->out);
  if (!values) {
    // attrd_updater exits non-zero when the attribute does not exist yet: that is "no values".
    if (r->exit_code != 0 && r->out.find("<pacemaker-result") == std::string::npos) return std::map<std::string, std::string>();
    return std::move(values).error().context(fmt::format("query node attribute {}", name));
  }
  return values;
}

Result<void> Attributes::set_promotion(int score, Deadline deadline) const {
  return call({tools_.crm_attribute, "--promotion", "-v", std::to_string(score)}, deadline);
}

Result<void> Attributes::remove_promotion(Deadline deadline) const {
  return call({tools_.crm_attribute, "--promotion", "-D"}, deadline);
}

Result<void> Attributes::set_permanent(const std::string& node, const std::string& name, const std::string& value,
                                       Deadline deadline) const {
  return call({tools_.crm_attribute, "--node", node, "--name", name, "--update", value, "--lifetime", "forever"}, deadline);
}

Result<void> Attributes::set_cluster_option(const std::string& name, const std::optional<std::string>& value,
                                            Deadline deadline) const {
  std::vector<std::string> argv{tools_.crm_attribute, "--type", "crm_config", "--name", name};
  if (value)
    argv.insert(argv.end(), {"--update", *value});
  else
    argv.emplace_back("--delete");
  return call(argv, deadline);
}

}  // namespace evos::cluster
