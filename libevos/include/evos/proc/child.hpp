// evos::proc::Child: a long-running program (by argv, never a shell) whose standard output is read
// line by line, such as `drbdsetup events2`. It runs in a process group of its own, listed for
// kill_running_children like run()'s children; the destructor kills the group and reaps the
// child, so a Child never outlives its owner (RAII, like drbd-reactor's KillOnDrop).
#pragma once

#include <evos/deadline.hpp>
#include <evos/error.hpp>
#include <evos/proc/run.hpp>

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace evos::proc {

struct ReadLine {
  enum class What { line, timeout, end };
  What what = What::timeout;
  std::string line;      // without its '\n'; cut at the limit when `overlong`
  bool overlong = false;  // the line was longer than the limit (the rest up to its '\n' is skipped)
};

struct Exit {
  int exit_code = -1;  // 0..255, or -1 if killed by a signal
  int signal = 0;
  std::string err;     // the last bytes it wrote to stderr (at most 4 KiB)
  [[nodiscard]] std::string describe() const;  // "exited with status 1: <stderr>", "killed by signal 9"
};

class Child {
 public:
  // Starts argv with stdin from /dev/null. Options as for run() (stdin_data and max_output unused).
  static Result<Child> start(const std::vector<std::string>& argv, const Options& options = {},
                             std::size_t max_line = 64 * 1024);
  Child(Child&&) noexcept;
  Child& operator=(Child&&) noexcept;
  ~Child();

  [[nodiscard]] pid_t pid() const;

  // The next line of stdout, waiting until `deadline` (What::timeout then); What::end once stdout
  // closed (the child exited or closed it). A last line without '\n' is returned as a line.
  ReadLine read_line(Deadline deadline);

  // Ends it: SIGTERM to its group, a short grace, SIGKILL; reaps it. After end of output, waits up
  // to `grace` for the exit before killing. Idempotent; later calls return the same exit.
  Exit stop(Millis grace = Millis(200));

 private:
  struct Impl;
  explicit Child(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace evos::proc
