// Typed OCF instance parameters, declared once: the same declaration parses OCF_RESKEY_*,
// validates, supplies defaults and renders the meta-data <parameter> elements.
#pragma once

#include <evos/error.hpp>
#include <evos/text_checks.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace evos::ocf {

// OCF 1.0's content types, which ocf-tester's DTD and every Pacemaker accept.
enum class ParamType { string, integer, boolean };

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::string;
  std::string default_value;  // empty: no default
  bool required = false;
  bool unique = false;
  bool reloadable = false;  // OCF 1.1: applied by reload-agent without a restart
  std::string shortdesc;
  std::string longdesc;
  text::Syntax syntax = text::Syntax::any_text;  // for strings
  std::int64_t min = INT64_MIN;                  // for integers
  std::int64_t max = INT64_MAX;
  std::vector<std::string> choices;  // for strings: the only accepted values (empty = any)
};

// Parameter values after defaults and validation.
class ParamValues {
 public:
  // Raw text as validated ("" when unset with no default).
  [[nodiscard]] const std::string& text(const std::string& name) const;
  [[nodiscard]] std::int64_t integer(const std::string& name) const;
  [[nodiscard]] bool boolean(const std::string& name) const;
  [[nodiscard]] bool is_set(const std::string& name) const;  // given explicitly or by default

  void set(std::string name, std::string value) { values_[std::move(name)] = std::move(value); }

 private:
  std::map<std::string, std::string> values_;
};

// OCF booleans as ocf-shellfuncs' ocf_is_true reads them: yes/true/1/on (and their negations),
// case-insensitively.
std::optional<bool> parse_ocf_boolean(std::string_view text);

// The limit on any parameter's length in bytes.
inline constexpr std::size_t max_param_bytes = 4096;

// Validates every declared parameter present in `reskeys` (OCF_RESKEY_<name> without prefix).
// Undeclared keys (CRM_meta_*, crm_feature_set, ...) are ignored. Every error names the parameter.
Result<ParamValues> parse_params(std::span<const ParamSpec> specs, const std::map<std::string, std::string>& reskeys);

}  // namespace evos::ocf
