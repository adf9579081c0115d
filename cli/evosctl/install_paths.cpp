#include "install_paths.hpp"

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace evosctl {
namespace {

namespace fs = std::filesystem;

std::string resolve(const char* env_name, const char* relative_to_prefix, const char* compiled) {
  if (const char* v = std::getenv(env_name); v && *v) return v;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path candidate = exe.parent_path().parent_path() / relative_to_prefix;
    if (fs::exists(candidate, ec)) return candidate.string();
  }
  return compiled;
}

}  // namespace

std::string template_dir() { return resolve("EVOS_TEMPLATE_DIR", EVOS_TEMPLATE_SUBDIR, EVOS_TEMPLATE_DIR); }
std::string lab_script() { return resolve("EVOS_LAB_SCRIPT", EVOS_LAB_SUBPATH, EVOS_LAB_SCRIPT); }

}  // namespace evosctl
