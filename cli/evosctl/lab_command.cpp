#include "lab_command.hpp"

#include "exit_codes.hpp"
#include "install_paths.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace evosctl {

int exec_lab(int argc, char** argv) {
  const std::string script = lab_script();
  std::vector<std::string> args = {script};
  // `--name N` belongs to evosctl lab only until `exec NODE`: what follows is the node's command.
  int command_start = argc;
  for (int i = 2; i < argc; ++i) {
    if (std::string_view(argv[i]) == "exec") {
      int positionals = 0;
      for (int k = i + 1; k < argc; ++k) {
        const std::string_view x(argv[k]);
        if (x == "--name") {
          ++k;
          continue;
        }
        if (x.rfind("--name=", 0) == 0) continue;
        if (++positionals == 1) {  // NODE
          command_start = k + 1;
          break;
        }
      }
      break;
    }
  }
  for (int i = 2; i < argc; ++i) {  // argv[0] = evosctl, argv[1] = lab
    const std::string a = argv[i];
    if (i >= command_start) {
      args.push_back(a);
    } else if (a == "--name" && i + 1 < argc) {
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
