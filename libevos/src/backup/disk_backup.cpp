#include <evos/backup/disk_backup.hpp>

#include "parallel.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <mutex>
#include <set>

namespace evos::backup {
namespace {

class FileReader final : public BlockReader {
 public:
  FileReader(int fd, std::uint64_t size, std::string path) : fd_(fd), size_(size), path_(std::move(path)) {}
  ~FileReader() override { ::close(fd_); }
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;
  [[nodiscard]] std::uint64_t size() const override { return size_; }
  [[nodiscard]] std::string describe() const override { return path_; }
  // lseek(2) moves the shared file offset; pread ignores it, and this runs before the workers.
  [[nodiscard]] Result<std::optional<std::vector<Extent>>> data_extents() const override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) return std::optional<std::vector<Extent>>();  // a device
    std::vector<Extent> out;
    for (off_t at = 0; at < st.st_size;) {
      const off_t data = ::lseek(fd_, at, SEEK_DATA);
      if (data < 0) {
        if (errno == ENXIO) break;  // no data after `at`: the rest is a hole
        if (errno == EINVAL) return std::optional<std::vector<Extent>>();  // the file system cannot tell
        return make_error(Errc::backend, "cannot find the data of {}: {}", path_, std::strerror(errno));
      }
      off_t hole = ::lseek(fd_, data, SEEK_HOLE);
      if (hole < 0) hole = st.st_size;
      out.push_back({static_cast<std::uint64_t>(data), static_cast<std::uint64_t>(hole - data)});
      at = hole;
    }
    return std::optional<std::vector<Extent>>(std::move(out));
  }
  [[nodiscard]] Result<void> read(std::uint64_t offset, std::span<std::uint8_t> out) const override {
    std::size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return make_error(Errc::backend, "cannot read {} at byte {}: {}", path_, offset + done, std::strerror(errno));
      if (n == 0) return make_error(Errc::backend, "{} ended at byte {} while it was read (it shrank?)", path_, offset + done);
      done += static_cast<std::size_t>(n);
    }
    return {};
  }

 private:
  int fd_;
  std::uint64_t size_;
  std::string path_;
};

}  // namespace

unsigned worker_count(unsigned threads) {
  if (threads) return std::min(threads, 64u);
  return std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
}

unsigned backup_worker_count(unsigned threads) {
  if (threads) return std::min(threads, 64u);
  return std::clamp(2 * std::thread::hardware_concurrency(), 2u, 16u);
}

Result<std::unique_ptr<BlockReader>> open_file_reader(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return make_error(errno == ENOENT ? Errc::not_found : Errc::backend, "cannot open {}: {}", path, std::strerror(errno));
  struct stat st {};
  std::uint64_t size = 0;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return make_error(Errc::backend, "cannot open {}: {}", path, std::strerror(errno));
  }
  if (S_ISREG(st.st_mode)) {
    size = static_cast<std::uint64_t>(st.st_size);
  } else if (S_ISBLK(st.st_mode)) {
    if (::ioctl(fd, BLKGETSIZE64, &size) != 0) {
      ::close(fd);
      return make_error(Errc::backend, "cannot read the size of {}: {}", path, std::strerror(errno));
    }
  } else {
    ::close(fd);
    return make_error(Errc::invalid_argument, "{} is neither a file nor a block device", path);
  }
  // Sequential reads of a whole disk: tell the kernel to read ahead.
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return std::unique_ptr<BlockReader>(std::make_unique<FileReader>(fd, size, path));
}

Result<DiskRecord> back_up_disk(const Store& store, const DiskJob& job, const RunOptions& options) {
  const std::uint64_t chunk_size = store.config().chunk_size;
  const std::uint64_t size = job.reader->size();
  const std::uint64_t count = chunk_count(size, chunk_size);
  DiskRecord record;
  record.target = job.target;
  record.source = job.reader->describe();
  record.format = "raw";
  record.size = size;
  record.chunks.assign(count, std::nullopt);

  // Which chunks to read: all, or the dirty ones plus any base chunk that is gone.
  std::vector<std::uint64_t> to_read;
  const bool incremental = job.base && job.dirty_chunks && job.base->size == size && job.base->chunks.size() == count;
  if (incremental) {
    std::set<std::uint64_t> read_set(job.dirty_chunks->begin(), job.dirty_chunks->end());
    for (std::uint64_t i = 0; i < count; ++i) {
      if (read_set.count(i)) continue;
      const auto& c = job.base->chunks[i];
      if (!c) continue;  // zero in the base and not written since
      auto present = store.touch_chunk(*c);
      if (!present) return std::move(present).error();
      if (*present)
        record.chunks[i] = c;
      else
        read_set.insert(i);
    }
    to_read.assign(read_set.begin(), read_set.end());
    to_read.erase(std::remove_if(to_read.begin(), to_read.end(), [&](auto i) { return i >= count; }), to_read.end());
    record.method = ReadMethod::dirty_bitmap;
  } else {
    to_read.resize(count);
    for (std::uint64_t i = 0; i < count; ++i) to_read[i] = i;
    record.method = ReadMethod::full;
  }

  auto data = job.reader->data_extents();
  if (!data) return std::move(data).error();
  if (*data) {
    // Chunks with no data extent are zero: recorded as null (the default), never read.
    const auto with_data = chunks_touched(**data, chunk_size, size);
    std::vector<std::uint64_t> kept;
    std::set_intersection(to_read.begin(), to_read.end(), with_data.begin(), with_data.end(), std::back_inserter(kept));
    to_read = std::move(kept);
  }

  const unsigned workers = backup_worker_count(options.threads);
  std::vector<std::vector<std::uint8_t>> buffers(workers), blobs(workers);
  std::atomic<std::uint64_t> read_bytes{0}, stored_bytes{0}, new_chunks{0}, covered{0};
  // A chunk that is new to the store but appears twice in this disk (or is being written by
  // another worker) is compressed and written once: the first worker to claim it writes it.
  std::mutex claim_mutex;
  std::set<Digest> claimed;
  auto claim = [&](const Digest& id) {
    std::lock_guard lock(claim_mutex);
    return claimed.insert(id).second;
  };
  // Progress covers the whole disk: chunks taken from the base count as done at once.
  const std::uint64_t reused_bytes = size - std::min<std::uint64_t>(size, to_read.size() * chunk_size);
  const auto start = Clock::now();
  auto report = [&] {
    if (options.progress)
      options.progress({std::min(size, reused_bytes + covered.load()), size,
                        std::chrono::duration_cast<Millis>(Clock::now() - start)});
  };
  auto work = [&](std::uint64_t n, unsigned w) -> Result<void> {
    const std::uint64_t i = to_read[n];
    const std::uint64_t offset = i * chunk_size;
    const std::uint64_t len = std::min(chunk_size, size - offset);
    auto& buf = buffers[w];
    buf.resize(len);
    if (auto r = job.reader->read(offset, buf); !r) return std::move(r).error();
    read_bytes += len;
    if (!all_zero(buf)) {
      const Digest id = store.codec().digest(buf);
      auto present = store.touch_chunk(id);
      if (!present) return std::move(present).error();
      if (!*present && claim(id)) {
        auto blob = store.codec().encode_into(BlobKind::chunk, buf, id, blobs[w]);
        if (!blob) return std::move(blob).error();
        auto written = store.put_chunk(id, *blob);
        if (!written) return std::move(written).error();
        if (*written) {
          stored_bytes += *written;
          ++new_chunks;
        }
      }
      record.chunks[i] = id;  // each worker writes distinct elements
    }
    covered += len;
    return {};
  };
  if (auto r = detail::parallel_for(to_read.size(), workers, work, report); !r)
    return std::move(r).error().context(fmt::format("back up {} ({})", job.target, job.reader->describe()));
  report();
  record.bytes_read = read_bytes;
  record.bytes_stored = stored_bytes;
  record.chunks_new = new_chunks;
  return record;
}

}  // namespace evos::backup
