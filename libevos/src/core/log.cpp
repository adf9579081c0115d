#include <evos/log.hpp>

#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdio>

namespace evos {
namespace {

const char* level_name(Level level) {
  switch (level) {
    case Level::debug: return "DEBUG";
    case Level::info: return "INFO";
    case Level::warning: return "WARNING";
    case Level::error: return "ERROR";
  }
  return "INFO";
}

int syslog_priority(Level level) {
  switch (level) {
    case Level::debug: return LOG_DEBUG;
    case Level::info: return LOG_INFO;
    case Level::warning: return LOG_WARNING;
    case Level::error: return LOG_ERR;
  }
  return LOG_INFO;
}

bool have_syslog() {
  struct stat st {};
  return ::stat("/dev/log", &st) == 0 && S_ISSOCK(st.st_mode);
}

}  // namespace

StderrLog::StderrLog(std::string ident, std::string instance, bool verbose)
    : ident_(std::move(ident)), instance_(std::move(instance)), verbose_(verbose), syslog_(have_syslog()) {
  // openlog() only records the ident; the socket is opened on the first message, so a monitor
  // that logs nothing costs nothing.
  if (syslog_) ::openlog(ident_.c_str(), LOG_PID, LOG_DAEMON);
}

StderrLog::~StderrLog() {
  if (syslog_) ::closelog();
}

void StderrLog::write(Level level, std::string_view message) {
  if (level == Level::debug && !verbose_) return;
  const std::string who = instance_.empty() ? ident_ : ident_ + "(" + instance_ + ")";
  fmt::print(stderr, "{}[{}]: {}: {}\n", who, ::getpid(), level_name(level), message);
  std::fflush(stderr);
  if (syslog_) ::syslog(syslog_priority(level), "%s%s: %.*s", instance_.empty() ? "" : instance_.c_str(),
                        instance_.empty() ? "" : ":", static_cast<int>(message.size()), message.data());
}

}  // namespace evos
