#include <evos/ocf/params.hpp>

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace evos::ocf {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

Result<void> check_value(const ParamSpec& spec, const std::string& value) {
  auto fail = [&](const std::string& why) {
    return make_error(Errc::invalid_config, "parameter '{}' {}", spec.name, why);
  };
  if (auto problem = text::text_problem(value, max_param_bytes)) return fail(*problem);
  switch (spec.type) {
    case ParamType::integer: {
      auto number = parse_integer(value);
      if (!number) return fail(fmt::format("must be a whole number, not {}", text::quote_for_message(value)));
      if (*number < spec.min || *number > spec.max)
        return fail(fmt::format("must be between {} and {}, not {}", spec.min, spec.max, *number));
      return {};
    }
    case ParamType::boolean:
      if (!parse_ocf_boolean(value))
        return fail(fmt::format("must be a boolean (true/false), not {}", text::quote_for_message(value)));
      return {};
    case ParamType::string:
      if (!spec.choices.empty()) {
        if (std::find(spec.choices.begin(), spec.choices.end(), value) == spec.choices.end()) {
          std::string list;
          for (const auto& c : spec.choices) list += (list.empty() ? "" : ", ") + (c.empty() ? std::string("\"\"") : c);
          return fail(fmt::format("must be one of {}, not {}", list, text::quote_for_message(value)));
        }
        return {};
      }
      if (auto problem = text::syntax_problem(value, spec.syntax))
        return fail(fmt::format("{} ({})", *problem, text::quote_for_message(value)));
      return {};
  }
  return fail("has an unknown type");
}

}  // namespace

std::optional<bool> parse_ocf_boolean(std::string_view text) {
  const auto v = lower(text);
  if (v == "1" || v == "yes" || v == "true" || v == "on" || v == "y") return true;
  if (v == "0" || v == "no" || v == "false" || v == "off" || v == "n") return false;
  return std::nullopt;
}

const std::string& ParamValues::text(const std::string& name) const {
  static const std::string empty;
  auto it = values_.find(name);
  return it == values_.end() ? empty : it->second;
}

std::int64_t ParamValues::integer(const std::string& name) const {
  auto number = parse_integer(text(name));
  if (!number) throw std::logic_error("parameter " + name + " is not a validated integer");
  return *number;
}

bool ParamValues::boolean(const std::string& name) const {
  auto flag = parse_ocf_boolean(text(name));
  if (!flag) throw std::logic_error("parameter " + name + " is not a validated boolean");
  return *flag;
}

bool ParamValues::is_set(const std::string& name) const { return values_.contains(name); }

Result<ParamValues> parse_params(std::span<const ParamSpec> specs, const std::map<std::string, std::string>& reskeys) {
  ParamValues values;
  for (const auto& spec : specs) {
    auto given = reskeys.find(spec.name);
    // Pacemaker passes an empty string for a parameter set to ""; treat it as unset, so the
    // default applies (as ocf-shellfuncs' ${OCF_RESKEY_x:-default} does).
    const bool present = given != reskeys.end() && !given->second.empty();
    if (!present) {
      if (spec.required) return make_error(Errc::invalid_config, "parameter '{}' is required", spec.name);
      if (!spec.default_value.empty()) values.set(spec.name, spec.default_value);
      continue;
    }
    if (auto ok = check_value(spec, given->second); !ok) return std::move(ok).error();
    values.set(spec.name, given->second);
  }
  return values;
}

}  // namespace evos::ocf
