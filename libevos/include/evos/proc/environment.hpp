// evos::proc::environment: this process's environment (environ(7)) as name -> value. The one
// reader of `environ`: the OCF runner, the DRBD fence handler and proc::run (the children's
// environment) all start from it. Entries without '=' are skipped; for a name that occurs twice
// the first entry wins, as getenv(3) returns it.
#pragma once

#include <map>
#include <string>

namespace evos::proc {

std::map<std::string, std::string> environment();

}  // namespace evos::proc
