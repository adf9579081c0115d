// evosctl lab ...: the two-node lab (docs/lab.md). The lab is orchestration of ip, unshare,
// mount, corosync and pacemaker, so it lives in a script; evosctl only execs it by argv.
#pragma once

namespace evosctl {

// Replaces this process with the lab script: `evosctl lab ARGS...` → `evos-lab ARGS...`, with
// `--name N` moved into EVOS_LAB_NAME. Returns only on failure (an exit code).
int exec_lab(int argc, char** argv);

}  // namespace evosctl
