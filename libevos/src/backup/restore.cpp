#include <evos/backup/restore.hpp>

#include "parallel.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>

namespace evos::backup {
namespace {

Result<void> write_at(int fd, std::span<const std::uint8_t> data, std::uint64_t offset, const std::string& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(Errc::backend, "cannot write {} at byte {}: {}", path, offset + done, std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
  // Start the write-back of what was just written, so the disk works while the next chunks
  // decode and the closing fsync waits only for the tail (sync_file_range(2): no durability by
  // itself; that fsync still gives it, and reports any write error).
  ::sync_file_range(fd, static_cast<off_t>(offset), static_cast<off_t>(data.size()), SYNC_FILE_RANGE_WRITE);
  return {};
}

std::string parent_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

Result<void> restore_disk(const Store& store, const DiskRecord& disk, const RestoreTarget& target, const RunOptions& options) {
  if (target.path.empty() || target.path.front() != '/')
    return make_error(Errc::invalid_argument, "restore {} to '{}': the target is an absolute path", disk.target, target.path);
  struct stat st {};
  const bool exists = ::lstat(target.path.c_str(), &st) == 0;
  const bool device = exists && S_ISBLK(st.st_mode);
  if (exists && !device && !S_ISREG(st.st_mode))
    return make_error(Errc::invalid_argument, "restore {} to {}: it is neither a file nor a block device", disk.target, target.path);
  if (exists && !device && !target.replace)
    return make_error(Errc::invalid_argument, "restore {} to {}: the file exists (give --replace to replace it)", disk.target, target.path);

  std::string write_path = target.path;
  int fd = -1;
  if (device) {
    fd = ::open(target.path.c_str(), O_WRONLY | O_CLOEXEC | O_EXCL);  // O_EXCL on a device: not mounted or in use
    if (fd < 0) return make_error(Errc::backend, "cannot open {} to restore {}: {}", target.path, disk.target, std::strerror(errno));
    std::uint64_t size = 0;
    if (::ioctl(fd, BLKGETSIZE64, &size) != 0 || size < disk.size) {
      ::close(fd);
      return make_error(Errc::invalid_argument, "restore {} to {}: the device holds {} bytes, the disk {}", disk.target,
                        target.path, size, disk.size);
    }
  } else {
    std::mt19937_64 random(std::random_device{}());
    write_path = fmt::format("{}/.{}.restore.tmp.{}.{:08x}", parent_of(target.path),
                             target.path.substr(target.path.rfind('/') + 1), ::getpid(), random() & 0xffffffff);
    fd = ::open(write_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return make_error(Errc::backend, "cannot create {} to restore {}: {}", write_path, disk.target, std::strerror(errno));
    if (::ftruncate(fd, static_cast<off_t>(disk.size)) != 0) {
      const int e = errno;
      ::close(fd);
      ::unlink(write_path.c_str());
      return make_error(Errc::backend, "cannot size {} to {} bytes: {}", write_path, disk.size, std::strerror(e));
    }
  }
  struct Guard {
    int fd;
    std::string tmp;  // removed unless renamed into place
    ~Guard() {
      if (fd >= 0) ::close(fd);
      if (!tmp.empty()) ::unlink(tmp.c_str());
    }
  } guard{fd, device ? std::string() : write_path};

  const std::uint64_t chunk_size = store.config().chunk_size;
  std::atomic<std::uint64_t> covered{0};
  const std::vector<std::uint8_t> zeros(device ? chunk_size : 0, 0);
  const auto start = Clock::now();
  auto report = [&] {
    if (options.progress)
      options.progress({covered.load(), disk.size, std::chrono::duration_cast<Millis>(Clock::now() - start)});
  };
  auto work = [&](std::uint64_t i, unsigned) -> Result<void> {
    const std::uint64_t offset = i * chunk_size;
    const std::uint64_t len = std::min(chunk_size, disk.size - offset);
    const auto& id = disk.chunks[i];
    if (!id) {
      // A new file is already zero there (a hole); a device is not.
      if (device)
        if (auto w = write_at(fd, std::span(zeros.data(), len), offset, target.path); !w) return w;
      covered += len;
      return {};
    }
    auto data = store.read_chunk(*id);
    if (!data) return std::move(data).error().context(fmt::format("chunk {} of {}", i, disk.target));
    if (data->size() != len)
      return make_error(Errc::backend, "chunk {} of {} ({}) holds {} bytes where the disk needs {}", i, disk.target,
                        to_hex(*id), data->size(), len);
    if (auto w = write_at(fd, *data, offset, write_path); !w) return w;
    covered += len;
    return {};
  };
  if (auto r = detail::parallel_for(disk.chunks.size(), worker_count(options.threads), work, report); !r)
    return std::move(r).error().context(fmt::format("restore {} to {}", disk.target, target.path));
  report();
  if (::fsync(fd) != 0) return make_error(Errc::backend, "cannot sync {}: {}", write_path, std::strerror(errno));
  if (!device) {
    if (::rename(write_path.c_str(), target.path.c_str()) != 0)
      return make_error(Errc::backend, "cannot rename {} to {}: {}", write_path, target.path, std::strerror(errno));
    guard.tmp.clear();
    const int dir = ::open(parent_of(target.path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
  }
  return {};
}

}  // namespace evos::backup
