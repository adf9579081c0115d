#include <evos/fence/agent_options.hpp>
#include <evos/text_checks.hpp>

#include <algorithm>
#include <cctype>
#include <optional>

namespace evos::fence {
namespace {

std::string normalize_name(std::string_view name) {
  std::string n(name);
  std::replace(n.begin(), n.end(), '-', '_');
  if (n == "option") return "action";  // FenceAgentAPI: "option" (deprecated) is the same as "action"
  if (n == "port") return "plug";      // fencing.py: --plug is the long form of the "port" option
  return n;
}

// "If argument is specified several times only last value is used" (FenceAgentAPI); "port"
// and "plug" are one argument.
void put(Options& options, std::string_view name, std::string value) { options[normalize_name(name)] = std::move(value); }

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

}  // namespace

Options parse_stdin_options(std::string_view text) {
  Options options;
  if (text.size() > max_input_bytes) text = text.substr(0, max_input_bytes);
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    line = trim_left(line);
    if (line.empty() || line.front() == '#') continue;
    const auto eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    std::string_view value = line.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    put(options, line.substr(0, eq), std::string(value));
  }
  return options;
}

Result<Options> parse_argv_options(std::span<const std::string> args, std::span<const std::string_view> flags) {
  Options options;
  auto is_flag = [&](const std::string& name) {
    return std::find(flags.begin(), flags.end(), std::string_view(name)) != flags.end();
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string name;
    std::optional<std::string> value;
    if (a == "-o") {
      name = "action";
    } else if (a == "-n") {
      name = "plug";
    } else if (a == "-v") {
      name = "verbose";
    } else if (a.size() > 2 && a.starts_with("--")) {
      const auto eq = a.find('=');
      name = normalize_name(std::string_view(a).substr(2, eq == std::string::npos ? std::string::npos : eq - 2));
      if (eq != std::string::npos) value = a.substr(eq + 1);
    } else {
      return make_error(Errc::invalid_argument, "unexpected argument {}", text::quote_for_message(a));
    }
    if (name.empty()) return make_error(Errc::invalid_argument, "unexpected argument {}", text::quote_for_message(a));
    if (is_flag(name)) {
      if (value) return make_error(Errc::invalid_argument, "option --{} takes no value", name);
      options[name] = "1";
      continue;
    }
    if (!value) {
      if (i + 1 >= args.size()) return make_error(Errc::invalid_argument, "option {} needs a value", text::quote_for_message(a));
      value = args[++i];
    }
    options[name] = std::move(*value);
  }
  return options;
}

std::string action_of(const Options& options) {
  auto it = options.find("action");
  if (it == options.end() || it->second.empty()) return "reboot";
  std::string a = it->second;
  std::transform(a.begin(), a.end(), a.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return a;
}

std::string target_of(const Options& options) {
  for (const char* key : {"plug", "port", "nodename"}) {
    auto it = options.find(key);
    if (it != options.end() && !it->second.empty()) return it->second;
  }
  return {};
}

}  // namespace evos::fence
