#include <evos/drbd/control.hpp>

#include <fmt/core.h>

#include <charconv>

namespace evos::drbd {
namespace {

std::optional<int> code_after(std::string_view text, std::string_view marker) {
  const auto at = text.find(marker);
  if (at == std::string_view::npos) return std::nullopt;
  const std::string_view rest = text.substr(at + marker.size());
  int value = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
  if (ec != std::errc() || end == rest.data() + rest.size() || *end != ')') return std::nullopt;
  return value;
}

bool contains(std::string_view text, std::string_view what) { return text.find(what) != std::string_view::npos; }

// drbdadm's stderr has noise (the "PRETENDING" banner, a missing modinfo); keep the lines that
// say something, joined, bounded.
std::string summarize(std::string_view err) {
  std::string out;
  while (!err.empty()) {
    const auto nl = err.find('\n');
    std::string_view line = err.substr(0, nl);
    err = nl == std::string_view::npos ? std::string_view() : err.substr(nl + 1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
    if (line.empty() || contains(line, "modinfo: not found") || contains(line, "__DRBD_NODE__") ||
        contains(line, "PRETENDING"))
      continue;
    if (!out.empty()) out += "; ";
    out += line;
    if (out.size() > 600) {
      out.resize(600);
      out += "...";
      break;
    }
  }
  std::string clean;
  for (char c : out) clean += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return clean.empty() ? "no error text" : clean;
}

}  // namespace

std::optional<int> state_change_code(std::string_view stderr_text) {
  return code_after(stderr_text, "State change failed: (");
}

std::optional<int> kernel_error_code(std::string_view stderr_text) { return code_after(stderr_text, "Failure: ("); }

Error classify_failure(std::string_view command, int exit_code, std::string_view err) {
  const std::string text = summarize(err);
  const auto ss = state_change_code(err);
  const auto kernel = kernel_error_code(err);
  auto make = [&](Errc code, std::string_view what) {
    return Error(code, fmt::format("{}: {} (exit {}): {}", command, what, exit_code, text));
  };
  if (exit_code == exit_no_up_to_date_data || ss == ss_no_up_to_date_disk)
    return make(Errc::backend, "refused: no access to UpToDate data");
  if (ss == ss_two_primaries) return make(Errc::backend, "refused: the peer is Primary and two primaries are not allowed");
  if (ss == ss_no_verify_alg)
    return make(Errc::invalid_config, "refused: no verify-alg in the resource's net section, so no online verify");
  if (ss == ss_resync_running) return make(Errc::backend, "refused: a resync or an online verify is already running");
  if (ss == ss_need_connection) return make(Errc::backend, "refused: the peer is not connected");
  if (ss) return make(Errc::backend, "state change refused");
  if (kernel == 158 || kernel == 127 || contains(err, "No such resource") || contains(err, "Unknown resource") ||
      contains(err, "not defined in your config"))
    return make(Errc::not_found, "no such resource");
  if (contains(err, "generic netlink family") || contains(err, "Module drbd not found") ||
      contains(err, "modprobe: FATAL"))
    return make(Errc::not_installed, "the DRBD kernel module is not loaded");
  if (contains(err, "Permission denied") || contains(err, "Operation not permitted") || contains(err, "must be root"))
    return make(Errc::permission_denied, "permission denied");
  if (kernel) return make(Errc::backend, "DRBD refused");
  if (exit_code == exit_kernel_error && command.starts_with("drbdadm"))
    return make(Errc::invalid_config, "configuration error");
  if (exit_code == 1 && command.starts_with("drbdadm")) return make(Errc::invalid_argument, "usage error");
  return make(Errc::backend, "failed");
}

std::optional<std::string> resource_name_problem(std::string_view name) {
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (name.empty()) return "is empty";
  if (name.size() > 63) return fmt::format("is {} bytes long; the limit is 63", name.size());
  if (name == "all") return "is 'all', which drbdadm reads as every resource";
  if (!alnum(name.front())) return "must start with a letter or digit";
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (!alnum(c) && c != '_' && c != '.' && c != '-')
      return fmt::format("has a character at position {} other than letters, digits, '_', '.', '-'", i + 1);
  }
  return std::nullopt;
}

}  // namespace evos::drbd
