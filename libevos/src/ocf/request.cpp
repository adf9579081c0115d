#include <evos/ocf/request.hpp>

#include <algorithm>
#include <charconv>

namespace evos::ocf {
namespace {

constexpr std::string_view reskey_prefix = "OCF_RESKEY_";

std::string lookup(const std::map<std::string, std::string>& env, const std::string& key) {
  auto it = env.find(key);
  return it == env.end() ? std::string() : it->second;
}

Result<long long> non_negative(const std::map<std::string, std::string>& env, const std::string& key) {
  const std::string text = lookup(env, key);
  if (text.empty()) return 0LL;
  long long value = -1;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < 0)
    return make_error(Errc::invalid_argument, "{} must be a non-negative whole number, not {}", key,
                      text::quote_for_message(text));
  return value;
}

}  // namespace

Millis guard_time(Millis timeout) { return evos::guard_time(timeout); }

std::string Request::meta(const std::string& name) const {
  auto it = reskeys.find("CRM_meta_" + name);
  return it == reskeys.end() ? std::string() : it->second;
}

Result<Request> parse_request(std::string action, const std::map<std::string, std::string>& environment,
                              const AgentInfo& info) {
  Request req;
  req.action = std::move(action);
  for (const auto& [key, value] : environment)
    if (key.starts_with(reskey_prefix)) req.reskeys.emplace(key.substr(reskey_prefix.size()), value);
  req.instance = lookup(environment, "OCF_RESOURCE_INSTANCE");
  if (auto prefix = lookup(environment, "OCF_EXIT_REASON_PREFIX"); !prefix.empty()) req.exit_reason_prefix = prefix;

  auto timeout = non_negative(environment, "OCF_RESKEY_CRM_meta_timeout");
  if (!timeout) return std::move(timeout).error();
  auto interval = non_negative(environment, "OCF_RESKEY_CRM_meta_interval");
  if (!interval) return std::move(interval).error();
  auto level = non_negative(environment, "OCF_CHECK_LEVEL");
  if (!level) return std::move(level).error();
  if (*level > 20) return make_error(Errc::invalid_argument, "OCF_CHECK_LEVEL must be 0, 10 or 20, not {}", *level);

  req.timeout = Millis(*timeout);
  if (req.timeout.count() == 0) {
    const ActionSpec* declared = info.action(req.action);
    req.timeout = Millis(1000LL * (declared ? declared->timeout_s : 20));
  }
  req.interval = Millis(*interval);
  req.check_level = static_cast<int>(*level);

  for (auto [field, key] : {std::pair{&req.migrate_source, "migrate_source"}, std::pair{&req.migrate_target, "migrate_target"}}) {
    *field = req.meta(key);
    if (field->empty()) continue;
    if (auto problem = text::text_problem(*field, 255); problem)
      return make_error(Errc::invalid_argument, "OCF_RESKEY_CRM_meta_{} {}", key, *problem);
    if (auto problem = text::syntax_problem(*field, text::Syntax::token); problem)
      return make_error(Errc::invalid_argument, "OCF_RESKEY_CRM_meta_{} {}", key, *problem);
  }
  return req;
}

}  // namespace evos::ocf
