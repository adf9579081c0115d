#include <evos/daemon/config.hpp>
#include <evos/text_checks.hpp>

#include <fmt/core.h>

#include <charconv>
#include <set>

namespace evos::daemon {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

Result<std::string> checked(std::string_view value, text::Syntax syntax, std::string_view key, bool may_be_empty) {
  if (value.empty() && may_be_empty) return std::string();
  if (auto p = text::syntax_problem(value, syntax))
    return make_error(Errc::invalid_config, "{} {} {}", key, text::quote_for_message(value), *p);
  return std::string(value);
}

Result<Millis> duration(std::string_view value, std::string_view key, Millis min, Millis max) {
  auto d = read_duration(value, key);
  if (!d) return Error(Errc::invalid_config, d.error().message());
  if (*d < min || *d > max)
    return make_error(Errc::invalid_config, "{} {} is out of range ({} to {})", key, format_duration(*d),
                      format_duration(min), format_duration(max));
  return *d;
}

Result<bool> boolean(std::string_view value, std::string_view key) {
  if (value == "yes" || value == "true" || value == "1" || value == "on") return true;
  if (value == "no" || value == "false" || value == "0" || value == "off") return false;
  return make_error(Errc::invalid_config, "{} {} is not yes or no", key, text::quote_for_message(value));
}

Result<long long> integer(std::string_view value, std::string_view key, long long min, long long max) {
  long long n = 0;
  const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || ptr != value.data() + value.size() || value.empty())
    return make_error(Errc::invalid_config, "{} {} is not a whole number", key, text::quote_for_message(value));
  if (n < min || n > max) return make_error(Errc::invalid_config, "{} {} is out of range ({} to {})", key, n, min, max);
  return n;
}

Result<void> apply(Config& c, std::string_view key, std::string_view value) {
  using text::Syntax;
  using namespace std::chrono_literals;
  auto set = [](auto& into, auto r) -> Result<void> {
    if (!r) return std::move(r).error();
    into = std::move(*r);
    return {};
  };
  if (key == "socket") return set(c.socket, checked(value, Syntax::path, key, false));
  if (key == "libvirt_uri") return set(c.libvirt_uri, checked(value, Syntax::uri, key, false));
  if (key == "node") return set(c.node, checked(value, Syntax::token, key, true));
  if (key == "report_failures") return set(c.report_failures, boolean(value, key));
  if (key == "report_timeout") return set(c.report_timeout, duration(value, key, 1s, 120s));
  if (key == "records") return set(c.records, checked(value, Syntax::path, key, true));
  if (key == "heartbeat") return set(c.heartbeat, duration(value, key, 100ms, 60s));
  if (key == "max_silence") return set(c.max_silence, duration(value, key, 200ms, 120s));
  if (key == "reconnect_min") return set(c.reconnect_min, duration(value, key, 10ms, 60s));
  if (key == "reconnect_max") return set(c.reconnect_max, duration(value, key, 10ms, 600s));
  if (key == "testip_hosts") {
    if (value.empty()) {
      c.testip_hosts.clear();
      return {};
    }
    auto h = net::parse_host_list(value);
    if (!h) return Error(Errc::invalid_config, fmt::format("testip_hosts: {}", h.error().message()));
    c.testip_hosts = std::move(*h);
    return {};
  }
  if (key == "testip_attribute") return set(c.testip_attribute, checked(value, Syntax::token, key, false));
  if (key == "testip_multiplier") {
    auto n = integer(value, key, 1, 1000000);
    if (!n) return std::move(n).error();
    c.testip_multiplier = static_cast<std::uint32_t>(*n);
    return {};
  }
  if (key == "testip_attempts") {
    auto n = integer(value, key, 1, 10);
    if (!n) return std::move(n).error();
    c.testip_attempts = static_cast<unsigned>(*n);
    return {};
  }
  if (key == "testip_interval") return set(c.testip_interval, duration(value, key, 200ms, 60s));
  if (key == "testip_timeout") return set(c.testip_timeout, duration(value, key, 50ms, 60s));
  if (key == "testip_dampen") return set(c.testip_dampen, duration(value, key, 0ms, 3600s));
  if (key == "metrics_listen") {
    if (value == "off") {
      c.metrics_listen.clear();
      return {};
    }
    // ADDRESS:PORT of IP literals ("127.0.0.1:9764", "[::1]:9764"); metrics::parse_listen_address
    // reads it when the exporter starts.
    if (value.empty() || value.size() > 64 || value.find_first_not_of("0123456789abcdefABCDEF.:[]") != std::string_view::npos)
      return make_error(Errc::invalid_config, "{} {} is not ADDRESS:PORT of an IP address (or off)", key, text::quote_for_message(value));
    c.metrics_listen = std::string(value);
    return {};
  }
  if (key == "metrics_max_age") return set(c.metrics_max_age, duration(value, key, 0ms, 600s));
  if (key == "history") {
    if (value == "off") {
      c.history.clear();
      return {};
    }
    return set(c.history, checked(value, Syntax::path, key, false));
  }
  if (key == "drbd_events") return set(c.drbd_events, boolean(value, key));
  if (key == "drbdsetup") return set(c.drbdsetup, checked(value, Syntax::path, key, false));
  if (key == "corosync_events") return set(c.corosync_events, boolean(value, key));
  if (key == "corosync_reconnect_min") return set(c.corosync_reconnect_min, duration(value, key, 10ms, 60s));
  if (key == "corosync_reconnect_max") return set(c.corosync_reconnect_max, duration(value, key, 10ms, 600s));
  return make_error(Errc::invalid_config, "unknown key {}", text::quote_for_message(key));
}

}  // namespace

Result<void> apply_setting(Config& config, std::string_view key, std::string_view value, std::string_view origin) {
  if (auto r = apply(config, key, value); !r) return std::move(r).error().context(origin);
  return {};
}

Result<Config> parse_config(std::string_view text, std::string_view origin, Config base) {
  if (text.size() > (1u << 20)) return make_error(Errc::invalid_config, "{} is over 1 MiB", origin);
  std::set<std::string, std::less<>> seen;
  std::size_t n = 0;
  while (!text.empty()) {
    ++n;
    const auto nl = text.find('\n');
    std::string_view l = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (l.empty() || l.front() == '#') continue;
    if (auto p = text::text_problem(l, 4096)) return make_error(Errc::invalid_config, "{} line {}: {}", origin, n, *p);
    const auto eq = l.find('=');
    if (eq == std::string_view::npos)
      return make_error(Errc::invalid_config, "{} line {}: expected key = value", origin, n);
    const auto key = trim(l.substr(0, eq)), value = trim(l.substr(eq + 1));
    if (seen.count(key)) return make_error(Errc::invalid_config, "{} line {}: {} is given twice", origin, n, key);
    seen.emplace(key);
    if (auto r = apply(base, key, value); !r)
      return std::move(r).error().context(fmt::format("{} line {}", origin, n));
  }
  return base;
}

Result<void> validate(const Config& c) {
  if (c.max_silence < c.heartbeat + c.heartbeat / 2)
    return make_error(Errc::invalid_config, "max_silence ({}) must be at least 1.5 x heartbeat ({})",
                      format_duration(c.max_silence), format_duration(c.heartbeat));
  if (c.reconnect_min > c.reconnect_max)
    return make_error(Errc::invalid_config, "reconnect_min ({}) is above reconnect_max ({})",
                      format_duration(c.reconnect_min), format_duration(c.reconnect_max));
  if (c.corosync_reconnect_min > c.corosync_reconnect_max)
    return make_error(Errc::invalid_config, "corosync_reconnect_min ({}) is above corosync_reconnect_max ({})",
                      format_duration(c.corosync_reconnect_min), format_duration(c.corosync_reconnect_max));
  if (!c.testip_hosts.empty() && c.testip_timeout > c.testip_interval)
    return make_error(Errc::invalid_config, "testip_timeout ({}) is longer than testip_interval ({})",
                      format_duration(c.testip_timeout), format_duration(c.testip_interval));
  if (!c.testip_hosts.empty() && static_cast<unsigned long long>(c.testip_multiplier) * [&] {
        unsigned long long w = 0;
        for (const auto& h : c.testip_hosts) w += h.weight;
        return w;
      }() >= 1000000ull)
    return make_error(Errc::invalid_config,
                      "testip_multiplier x the sum of the weights reaches Pacemaker's INFINITY (1000000)");
  return {};
}

}  // namespace evos::daemon
