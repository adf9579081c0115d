#include <evos/backup/store.hpp>

#include <evos/file/atomic_write.hpp>
#include <evos/file/fd.hpp>
#include <evos/vm/domain_copy.hpp>

#include <nlohmann/json.hpp>

#include <dirent.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

namespace evos::backup {
namespace {

constexpr unsigned dir_mode = 0700;  // backups hold whole VM disks: root only
constexpr std::size_t manifest_limit = 256u << 20;

using file::Fd;

class Dir {
 public:
  explicit Dir(const std::string& path) : d_(::opendir(path.c_str())) {}
  ~Dir() {
    if (d_) ::closedir(d_);
  }
  Dir(const Dir&) = delete;
  Dir& operator=(const Dir&) = delete;
  [[nodiscard]] DIR* get() const { return d_; }

 private:
  DIR* d_;
};

Error os_error(std::string_view doing, const std::string& path, int error) {
  const Errc code = error == ENOENT ? Errc::not_found : error == EACCES || error == EPERM ? Errc::permission_denied : Errc::backend;
  return make_error(code, "cannot {} {}: {}", doing, path, std::strerror(error));
}

std::int64_t mtime_ms(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
}

unsigned long long proc_start_time(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  // Fields after the command: state is field 3; starttime is field 22 (proc(5)).
  for (int i = 3; i <= 22 && fields >> field; ++i)
    if (i == 22) return std::strtoull(field.c_str(), nullptr, 10);
  return 0;
}

std::string format_owner(const LockOwner& o) {
  nlohmann::ordered_json j{{"host", o.host}, {"pid", o.pid}, {"proc_start", o.proc_start}, {"since_ms", o.since_ms}, {"what", o.what}};
  return j.dump() + "\n";
}

std::optional<LockOwner> parse_owner(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  try {
    return LockOwner{j.at("host").get<std::string>(), j.at("pid").get<pid_t>(), j.at("proc_start").get<unsigned long long>(),
                     j.at("since_ms").get<std::int64_t>(), j.at("what").get<std::string>()};
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

// A lock this host's process left behind when it died (or whose PID now names another process).
bool owner_is_gone(const LockOwner& o) {
  if (o.host != this_host() || o.pid <= 0) return false;
  if (::kill(o.pid, 0) != 0 && errno == ESRCH) return true;
  return proc_start_time(o.pid) != o.proc_start;
}

std::string describe_owner(const LockOwner& o) {
  const auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(o.since_ms));
  const std::time_t s = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  return fmt::format("{} (host {}, pid {}, since {:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC)", o.what, o.host, o.pid,
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

bool is_temporary(std::string_view name) { return name.find(".tmp.") != std::string_view::npos; }

}  // namespace

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string this_host() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

Result<std::vector<std::uint8_t>> read_file(const std::string& path, std::size_t limit) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0) return os_error("read", path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return os_error("read", path, errno);
  if (!S_ISREG(st.st_mode)) return make_error(Errc::invalid_config, "cannot read {}: not a regular file", path);
  if (static_cast<std::uint64_t>(st.st_size) > limit)
    return make_error(Errc::backend, "{} is damaged: {} bytes, more than the {} it can hold", path, st.st_size, limit);
  std::vector<std::uint8_t> data(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::read(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return os_error("read", path, errno);
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  data.resize(done);
  return data;
}

struct Store::Pending {
  std::mutex mutex;
  std::set<std::string> dirs;
};

Store::Store(std::string dir, StoreConfig config, Codec codec)
    : dir_(std::move(dir)), config_(std::move(config)), codec_(std::move(codec)), pending_(std::make_shared<Pending>()) {}

StoreLock::~StoreLock() {
  if (!path_.empty()) ::unlink(path_.c_str());
}

Result<void> Store::init(const std::string& dir, const StoreConfig& config) {
  if (dir.empty() || dir.front() != '/') return make_error(Errc::invalid_argument, "a store is an absolute directory path, not '{}'", dir);
  if (auto p = chunk_size_problem(config.chunk_size)) return Error(Errc::invalid_argument, *p);
  if (::mkdir(dir.c_str(), dir_mode) != 0 && errno != EEXIST) return os_error("create the store", dir, errno);
  {
    Dir d(dir);
    if (!d.get()) return os_error("open the store", dir, errno);
    while (const dirent* e = ::readdir(d.get()))
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0 && std::strcmp(e->d_name, "lost+found") != 0)
        return make_error(Errc::invalid_argument, "cannot make {} a store: it is not empty ({} is there)", dir, e->d_name);
  }
  for (const char* sub : {"chunks", "backups", "locks"})
    if (::mkdir(fmt::format("{}/{}", dir, sub).c_str(), dir_mode) != 0 && errno != EEXIST)
      return os_error("create", fmt::format("{}/{}", dir, sub), errno);
  for (unsigned i = 0; i < 256; ++i) {
    const std::string sub = fmt::format("{}/chunks/{:02x}", dir, i);
    if (::mkdir(sub.c_str(), dir_mode) != 0 && errno != EEXIST) return os_error("create", sub, errno);
  }
  // Written last: a directory with evos-store.json is a complete store.
  return file::write_atomically(fmt::format("{}/{}", dir, store_config_name), format_store_config(config),
                                {.mode = 0600, .replace = false});
}

Result<Store> Store::open(const std::string& dir, std::optional<Key> key) {
  if (dir.empty() || dir.front() != '/') return make_error(Errc::invalid_argument, "a store is an absolute directory path, not '{}'", dir);
  const std::string config_path = fmt::format("{}/{}", dir, store_config_name);
  auto text = read_file(config_path, 1u << 20);
  if (!text) {
    if (text.error().code() == Errc::not_found)
      return make_error(Errc::not_found, "{} is not a backup store (no {}; `evosctl backup store init` makes one)", dir, store_config_name);
    return std::move(text).error();
  }
  auto config = parse_store_config(std::string_view(reinterpret_cast<const char*>(text->data()), text->size()), config_path);
  if (!config) return std::move(config).error();
  if (config->key_fingerprint && !key)
    return make_error(Errc::invalid_argument, "the store {} is encrypted: give its key (--key-file)", dir);
  if (!config->key_fingerprint && key)
    return make_error(Errc::invalid_argument, "the store {} is not encrypted: it takes no --key-file", dir);
  if (key && key_fingerprint(*key) != *config->key_fingerprint)
    return make_error(Errc::invalid_argument, "wrong key for the store {}: the key's fingerprint is {}, the store's {}", dir,
                      key_fingerprint(*key), *config->key_fingerprint);
  return Store(dir, std::move(*config), Codec(std::move(key)));
}

std::string Store::chunk_path(const Digest& id) const {
  const std::string hex = to_hex(id);
  return fmt::format("{}/chunks/{}/{}", dir_, hex.substr(0, 2), hex);
}

Result<bool> Store::touch_chunk(const Digest& id) const {
  const std::string path = chunk_path(id);
  if (::utimensat(AT_FDCWD, path.c_str(), nullptr, AT_SYMLINK_NOFOLLOW) == 0) return true;
  if (errno == ENOENT) return false;
  return os_error("touch the chunk", path, errno);
}

Result<std::uint64_t> Store::put_chunk(const Digest& id, std::span<const std::uint8_t> blob) const {
  const std::string path = chunk_path(id);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) return std::uint64_t{0};
  // Durable before visible; the directory is synced once, before the manifest (sync()).
  if (auto w = file::write_atomically(path, std::string_view(reinterpret_cast<const char*>(blob.data()), blob.size()),
                                      {.mode = 0600, .sync_directory = false});
      !w)
    return std::move(w).error();
  {
    std::lock_guard lock(pending_->mutex);
    pending_->dirs.insert(path.substr(0, path.rfind('/')));
  }
  return std::uint64_t{blob.size()};
}

Result<std::vector<std::uint8_t>> Store::read_chunk(const Digest& id) const {
  const std::string path = chunk_path(id);
  auto blob = read_file(path, max_blob_plain_size + (1u << 20));
  if (!blob) {
    if (blob.error().code() == Errc::not_found) return make_error(Errc::not_found, "chunk {} is missing ({})", to_hex(id), path);
    return std::move(blob).error();
  }
  return codec_.decode(BlobKind::chunk, *blob, id, fmt::format("chunk {}", to_hex(id)));
}

Result<std::vector<ChunkFile>> Store::list_chunks() const {
  std::vector<ChunkFile> out;
  for (unsigned i = 0; i < 256; ++i) {
    const std::string sub = fmt::format("{}/chunks/{:02x}", dir_, i);
    Dir d(sub);
    if (!d.get()) return os_error("list", sub, errno);
    while (const dirent* e = ::readdir(d.get())) {
      const std::string_view name = e->d_name;
      if (name.size() != 64) continue;  // ".", "..", temporaries
      auto id = parse_digest(name, sub);
      if (!id) continue;
      struct stat st {};
      if (::fstatat(dirfd(d.get()), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // removed meanwhile
      out.push_back({*id, mtime_ms(st), static_cast<std::uint64_t>(st.st_size)});
    }
  }
  return out;
}

Result<bool> Store::remove_chunk_if_older(const Digest& id, std::int64_t cutoff_ms) const {
  const std::string path = chunk_path(id);
  const std::string aside = path + ".tmp.gc";
  if (::rename(path.c_str(), aside.c_str()) != 0) {
    if (errno == ENOENT) return false;
    return os_error("move aside", path, errno);
  }
  struct stat st {};
  if (::lstat(aside.c_str(), &st) != 0) return os_error("stat", aside, errno);
  if (mtime_ms(st) >= cutoff_ms) {
    // Touched by a backup meanwhile; if it wrote the chunk anew, the content is the same.
    if (::rename(aside.c_str(), path.c_str()) != 0) return os_error("move back", aside, errno);
    return false;
  }
  if (::unlink(aside.c_str()) != 0) return os_error("remove", aside, errno);
  return true;
}

Result<std::uint64_t> Store::remove_stale_temporaries(std::int64_t cutoff_ms) const {
  std::uint64_t removed = 0;
  std::vector<std::string> dirs;
  for (unsigned i = 0; i < 256; ++i) dirs.push_back(fmt::format("{}/chunks/{:02x}", dir_, i));
  dirs.push_back(dir_ + "/verify");  // a verify killed while writing its record
  {
    Dir d(dir_ + "/backups");
    if (d.get())
      while (const dirent* e = ::readdir(d.get()))
        if (e->d_name[0] != '.') dirs.push_back(fmt::format("{}/backups/{}", dir_, e->d_name));
  }
  for (const auto& sub : dirs) {
    Dir d(sub);
    if (!d.get()) continue;
    while (const dirent* e = ::readdir(d.get())) {
      if (!is_temporary(e->d_name)) continue;
      struct stat st {};
      if (::fstatat(dirfd(d.get()), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && mtime_ms(st) < cutoff_ms &&
          ::unlinkat(dirfd(d.get()), e->d_name, 0) == 0)
        ++removed;
    }
  }
  return removed;
}

Result<void> Store::sync() const {
  std::set<std::string> dirs;
  {
    std::lock_guard lock(pending_->mutex);
    dirs.swap(pending_->dirs);
  }
  for (const auto& d : dirs) {
    Fd fd(::open(d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0 || ::fsync(fd.get()) != 0) return os_error("sync", d, errno);
  }
  return {};
}

Result<void> Store::write_manifest(const Manifest& m) const {
  const std::string text = format_manifest(m);
  const auto bytes = std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
  auto blob = codec_.encode(BlobKind::manifest, bytes, codec_.digest(bytes));
  if (!blob) return std::move(blob).error();
  const std::string path = fmt::format("{}/backups/{}/{}.manifest", dir_, m.vm, m.time);
  return file::write_atomically(path, std::string_view(reinterpret_cast<const char*>(blob->data()), blob->size()),
                                {.mode = 0600, .replace = false, .create_parent = dir_mode});
}

Result<Manifest> Store::read_manifest(const BackupId& id) const {
  const std::string path = fmt::format("{}/backups/{}/{}.manifest", dir_, id.vm, id.time);
  const std::string what = fmt::format("the manifest of backup {}/{}", id.vm, id.time);
  auto blob = read_file(path, manifest_limit);
  if (!blob) {
    if (blob.error().code() == Errc::not_found) return make_error(Errc::not_found, "there is no backup {}/{} in {}", id.vm, id.time, dir_);
    return std::move(blob).error();
  }
  auto text = codec_.decode(BlobKind::manifest, *blob, std::nullopt, what);
  if (!text) return std::move(text).error();
  auto m = parse_manifest(std::string_view(reinterpret_cast<const char*>(text->data()), text->size()), what);
  if (!m) return std::move(m).error();
  if (m->vm != id.vm || m->time != id.time) return make_error(Errc::backend, "{} is damaged: it describes backup {}", what, m->id());
  if (m->chunk_size != config_.chunk_size)
    return make_error(Errc::backend, "{} is damaged: chunk size {} in a store of {}", what, m->chunk_size, config_.chunk_size);
  return m;
}

Result<void> Store::remove_manifest(const BackupId& id) const {
  const std::string path = fmt::format("{}/backups/{}/{}.manifest", dir_, id.vm, id.time);
  if (::unlink(path.c_str()) != 0) return os_error("remove", path, errno);
  return {};
}

Result<std::vector<BackupId>> Store::list_backups(const std::optional<std::string>& vm) const {
  std::vector<BackupId> out;
  std::vector<std::string> vms;
  if (vm) {
    vms.push_back(*vm);
  } else {
    Dir d(dir_ + "/backups");
    if (!d.get()) return os_error("list", dir_ + "/backups", errno);
    while (const dirent* e = ::readdir(d.get()))
      if (!vm::name_problem(e->d_name)) vms.emplace_back(e->d_name);
  }
  for (const auto& name : vms) {
    Dir d(fmt::format("{}/backups/{}", dir_, name));
    if (!d.get()) {
      if (errno == ENOENT) continue;
      return os_error("list", fmt::format("{}/backups/{}", dir_, name), errno);
    }
    while (const dirent* e = ::readdir(d.get())) {
      std::string_view file = e->d_name;
      constexpr std::string_view suffix = ".manifest";
      if (file.size() <= suffix.size() || file.substr(file.size() - suffix.size()) != suffix) continue;
      const std::string time(file.substr(0, file.size() - suffix.size()));
      if (parse_backup_time(time)) out.push_back({name, time});
    }
  }
  std::sort(out.begin(), out.end(), [](const BackupId& a, const BackupId& b) {
    return a.time != b.time ? a.time < b.time : a.vm < b.vm;
  });
  return out;
}

Result<StoreLock> Store::take_lock(const std::string& name, const std::string& what) const {
  const std::string path = fmt::format("{}/locks/{}.lock", dir_, name);
  LockOwner me{this_host(), ::getpid(), proc_start_time(::getpid()), wall_clock_ms(), what};
  for (int attempt = 0; attempt < 2; ++attempt) {
    // Whole, and never over another's: write_atomically without replace ends in link(2), which is
    // atomic on NFS too and fails if the lock exists.
    auto w = file::write_atomically(path, format_owner(me), {.mode = 0600, .replace = false});
    if (w) return StoreLock(path, me);
    if (w.error().code() != Errc::invalid_argument) return std::move(w).error();  // not "exists"
    auto held = read_file(path, 4096);
    if (!held) {
      if (held.error().code() == Errc::not_found) continue;  // released meanwhile
      return std::move(held).error();
    }
    const std::string text(held->begin(), held->end());
    const auto owner = parse_owner(text);
    if (owner && owner_is_gone(*owner)) {
      // Re-read just before removing: another process may have taken it over meanwhile.
      auto again = read_file(path, 4096);
      if (again && std::string(again->begin(), again->end()) == text) ::unlink(path.c_str());
      continue;
    }
    return make_error(Errc::backend, "{} is busy: {} holds {}{}", what,
                      owner ? describe_owner(*owner) : std::string("an unreadable lock"), path,
                      owner && owner->host != this_host() ? "; remove it only if that host is down and no such job runs" : "");
  }
  return make_error(Errc::backend, "cannot take the lock {}: it keeps changing", path);
}

Result<StoreLock> Store::lock_vm(const std::string& vm, const std::string& what) const {
  if (auto p = vm::name_problem(vm)) return Error(Errc::invalid_argument, *p);
  return take_lock("vm-" + vm, what);
}

Result<StoreLock> Store::lock_gc() const { return take_lock("gc", "garbage collection"); }

Result<std::vector<LockOwner>> Store::writers() const {
  std::vector<LockOwner> out;
  const std::string locks = dir_ + "/locks";
  Dir d(locks);
  if (!d.get()) return os_error("list", locks, errno);
  while (const dirent* e = ::readdir(d.get())) {
    const std::string_view name = e->d_name;
    if (name.rfind("vm-", 0) != 0 || is_temporary(name)) continue;
    const std::string path = fmt::format("{}/{}", locks, name);
    auto text = read_file(path, 4096);
    if (!text) continue;  // released meanwhile
    if (auto owner = parse_owner(std::string(text->begin(), text->end()))) {
      out.push_back(*owner);
    } else {
      // Unreadable: assume it started as long ago as the file is old (the safe side for GC).
      struct stat st {};
      out.push_back({"unknown", 0, 0, ::stat(path.c_str(), &st) == 0 ? mtime_ms(st) : 0, std::string(name)});
    }
  }
  return out;
}

}  // namespace evos::backup
