#include "lab_command.hpp"

#include "exit_codes.hpp"
#include "install_paths.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace evosctl {

int exec_lab(int argc, char** argv) {
  const std::string script = lab_script();
  std::vector<std::string> args = {script};
  for (int i = 2; i < argc; ++i) {  // argv[0] = evosctl, argv[1] = lab
    const std::string a = argv[i];
    if (a == "--name" && i + 1 < argc) {
      ::setenv("EVOS_LAB_NAME", argv[++i], 1);
    } else if (a.rfind("--name=", 0) == 0) {
      ::setenv("EVOS_LAB_NAME", a.substr(7).c_str(), 1);
    } else {
      args.push_back(a);
    }
  }
  std::vector<char*> c_args;
  for (auto& a : args) c_args.push_back(a.data());
  c_args.push_back(nullptr);
  ::execv(script.c_str(), c_args.data());
  fmt::print(stderr, "evosctl: cannot run the lab script {}: {}\n", script, std::strerror(errno));
  return errno == ENOENT ? unavailable : failure;
}

}  // namespace evosctl
