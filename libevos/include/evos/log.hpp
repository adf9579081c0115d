// evos::Log: where services report what they do. Agents log to stderr (pacemaker-execd records
// it) and to syslog when there is one; tests collect lines in memory.
#pragma once

#include <fmt/core.h>

#include <string>
#include <string_view>

namespace evos {

enum class Level { debug, info, warning, error };

class Log {
 public:
  virtual ~Log() = default;
  virtual void write(Level level, std::string_view message) = 0;

  template <class... Args>
  void debug(fmt::format_string<Args...> f, Args&&... a) { write(Level::debug, fmt::format(f, std::forward<Args>(a)...)); }
  template <class... Args>
  void info(fmt::format_string<Args...> f, Args&&... a) { write(Level::info, fmt::format(f, std::forward<Args>(a)...)); }
  template <class... Args>
  void warning(fmt::format_string<Args...> f, Args&&... a) { write(Level::warning, fmt::format(f, std::forward<Args>(a)...)); }
  template <class... Args>
  void error(fmt::format_string<Args...> f, Args&&... a) { write(Level::error, fmt::format(f, std::forward<Args>(a)...)); }
};

// stderr lines "<ident>(<instance>)[pid]: <LEVEL>: message", mirrored to syslog(3) when /dev/log
// exists. Debug lines only when `verbose` (OCF_TRACE_RA or HA_debug set).
class StderrLog final : public Log {
 public:
  StderrLog(std::string ident, std::string instance, bool verbose);
  ~StderrLog() override;
  StderrLog(const StderrLog&) = delete;
  StderrLog& operator=(const StderrLog&) = delete;
  void write(Level level, std::string_view message) override;

 private:
  std::string ident_;
  std::string instance_;
  bool verbose_;
  bool syslog_;
};

}  // namespace evos
