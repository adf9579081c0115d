// Module-private parts of evos::proc shared by run() and Child: pipes, the table of running
// process groups (for kill_running_children), finding a program without a shell, spawning it in a
// group of its own, and killing and reaping it.
#pragma once

#include <evos/error.hpp>
#include <evos/proc/run.hpp>

#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <string>
#include <vector>

namespace evos::proc::detail {

class Pipe {
 public:
  Pipe() {
    if (::pipe2(fds_, O_CLOEXEC) != 0) fds_[0] = fds_[1] = -1;
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  [[nodiscard]] bool ok() const { return fds_[0] >= 0; }
  [[nodiscard]] int read_end() const { return fds_[0]; }
  [[nodiscard]] int write_end() const { return fds_[1]; }
  void close_read() { close_fd(fds_[0]); }
  void close_write() { close_fd(fds_[1]); }
  // Hands the read end over to the caller, who closes it.
  int release_read() {
    const int fd = fds_[0];
    fds_[0] = -1;
    return fd;
  }

 private:
  static void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  int fds_[2] = {-1, -1};
};

// The process groups of the children started and not reaped (0: a free slot, -1: reserved for a
// spawn in progress). A fixed array of atomics, so that a watchdog can read it while any other
// thread is anywhere, without a lock it could find taken.
inline constexpr std::size_t max_children = 64;
extern std::array<std::atomic<pid_t>, max_children> running_groups;

// One slot of running_groups, from before the spawn until the child is reaped. The group is
// forgotten only once the child has exited and before it is reaped: until the reap its PID (and
// so the group ID) cannot be reused.
class GroupSlot {
 public:
  GroupSlot() {
    for (auto& s : running_groups) {
      pid_t expected = 0;
      if (s.compare_exchange_strong(expected, -1)) {
        slot_ = &s;
        return;
      }
    }
  }
  ~GroupSlot() { release(); }
  GroupSlot(const GroupSlot&) = delete;
  GroupSlot& operator=(const GroupSlot&) = delete;
  [[nodiscard]] bool ok() const { return slot_ != nullptr; }
  void set(pid_t pgid) {
    if (slot_) slot_->store(pgid);
  }
  void release() {
    if (slot_) slot_->store(0);
    slot_ = nullptr;
  }

 private:
  std::atomic<pid_t>* slot_ = nullptr;
};

// Waits for the child to exit without reaping it (WNOWAIT), forgets its group, then reaps it.
// 1: reaped; 0: still running (only when `block` is false); -1: waitid failed (errno).
int reap(pid_t pid, int& status, GroupSlot& slot, bool block);

// Kills the child's process group: SIGTERM, a short grace, then SIGKILL; then reaps the child.
void kill_and_reap(pid_t pid, int& status, GroupSlot& slot);

// argv[0] found in the options' search path (or this process's PATH, or the system's), without
// the shell's fallbacks; Errc::not_installed naming the path searched.
Result<std::string> find_program(const std::string& program, const Options& options);

// Starts `program` with `argv` in a process group of its own, its stdin/stdout/stderr on the
// given descriptors, the environment from `options`; records the group in `slot`.
Result<pid_t> spawn(const std::string& program, const std::vector<std::string>& argv, const Options& options, int in_fd,
                    int out_fd, int err_fd, GroupSlot& slot);

}  // namespace evos::proc::detail
