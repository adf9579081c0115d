#include "install_paths.hpp"

#include <filesystem>
#include <system_error>

namespace evosctl {
namespace {

namespace fs = std::filesystem;

std::string resolve(const char* relative_to_prefix, const char* in_source_tree, const char* compiled) {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return compiled;
  // The build tree's own binary reads the source tree's files (no install step while developing).
  if (fs::equivalent(exe.parent_path(), EVOS_CLI_BUILD_DIR, ec)) return in_source_tree;
  const fs::path candidate = exe.parent_path().parent_path() / relative_to_prefix;
  if (fs::exists(candidate, ec)) return candidate.string();
  return compiled;
}

}  // namespace

std::string template_dir(const std::string& option) {
  if (!option.empty()) return option;
  return resolve(EVOS_TEMPLATE_SUBDIR, EVOS_SOURCE_DIR "/crm-templates", EVOS_TEMPLATE_DIR);
}

std::string lab_script() { return resolve(EVOS_LAB_SUBPATH, EVOS_SOURCE_DIR "/lab/evos-lab", EVOS_LAB_SCRIPT); }

}  // namespace evosctl
