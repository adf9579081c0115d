#include <evos/clone/operations.hpp>

#include <evos/file/atomic_write.hpp>
#include <evos/file/fd.hpp>
#include <evos/proc/run.hpp>
#include <evos/snapshot/operations.hpp>
#include <evos/vm/domain_copy.hpp>
#include <evos/vm/layout.hpp>

#include <fmt/core.h>

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace evos::clone {
namespace {

namespace fs = std::filesystem;

// A domain definition is a few KiB; anything far larger is not one.
constexpr std::uintmax_t max_definition = 4u << 20;

std::string errno_text(int e) { return std::strerror(e); }

std::string first_line(const std::string& s) {
  auto t = s.substr(0, s.find('\n'));
  while (!t.empty() && (t.back() == '\r' || t.back() == ' ')) t.pop_back();
  return t.empty() ? "(no message)" : t;
}

Result<proc::Completed> qemu_img(const std::vector<std::string>& args, Deadline deadline) {
  std::vector<std::string> argv{"qemu-img"};
  argv.insert(argv.end(), args.begin(), args.end());
  // LC_ALL=C: the lock message checked below is English whatever the admin's locale.
  auto r = proc::run(argv, deadline, proc::Options{.stdin_data = {}, .env = {{"LC_ALL", "C"}}, .unset_env = {},
                                                   .max_output = 16u << 20, .search_path = {}});
  if (!r) return std::move(r).error().context(proc::describe(argv));
  return r;
}

// Removes what a failed clone created, newest first, unless dismissed.
class Undo {
 public:
  ~Undo() {
    if (done_) return;
    std::error_code ec;
    for (auto it = files_.rbegin(); it != files_.rend(); ++it) fs::remove(*it, ec);
    if (!dir_.empty()) fs::remove(dir_, ec);  // only if empty: never anything we did not create
  }
  void dir(std::string d) { dir_ = std::move(d); }
  void file(std::string f) { files_.push_back(std::move(f)); }
  void dismiss() { done_ = true; }

 private:
  std::string dir_;
  std::vector<std::string> files_;
  bool done_ = false;
};

Result<void> fsync_path(const std::string& path) {
  file::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.ok()) return make_error(Errc::backend, "open {}: {}", path, errno_text(errno));
  if (::fsync(fd.get()) != 0) return make_error(Errc::backend, "fsync {}: {}", path, errno_text(errno));
  return {};
}

// FICLONE (ioctl_ficlone(2)): true if `dst` is now a reflink of `src`; false, with the reason in
// `refused`, where the file system cannot (EOPNOTSUPP: no reflinks, as ext4 or XFS without
// reflink=1; EXDEV: another file system; EINVAL/ENOTTY: a file system or file that does not take
// the call): then `dst` does not exist. Any other error is one.
Result<bool> reflink(const std::string& src, const std::string& dst, unsigned mode, std::string& refused) {
  file::Fd in(::open(src.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!in.ok()) return make_error(Errc::backend, "open {}: {}", src, errno_text(errno));
  file::Fd out(::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!out.ok()) return make_error(Errc::backend, "create {}: {}", dst, errno_text(errno));
  if (::ioctl(out.get(), FICLONE, in.get()) != 0) {
    const int e = errno;
    out.reset();
    ::unlink(dst.c_str());
    if (e == EOPNOTSUPP || e == EXDEV || e == EINVAL || e == ENOTTY) {
      refused = fmt::format("FICLONE: {}", errno_text(e));
      return false;
    }
    return make_error(Errc::backend, "reflink {} to {} (FICLONE): {}", src, dst, errno_text(e));
  }
  if (::fchmod(out.get(), mode) != 0 || ::fsync(out.get()) != 0) {
    const int e = errno;
    out.reset();
    ::unlink(dst.c_str());
    return make_error(Errc::backend, "finish {}: {}", dst, errno_text(e));
  }
  return true;
}

Result<void> convert(const DiskStep& s, unsigned mode, Deadline deadline) {
  auto r = qemu_img({"convert", "-f", s.source_format, "-O", s.format, s.source, s.file}, deadline);
  if (!r) return std::move(r).error();
  if (!r->ok()) return make_error(Errc::backend, "qemu-img convert {} {}: {}", s.source, s.file, first_line(r->err));
  if (::chmod(s.file.c_str(), mode) != 0) return make_error(Errc::backend, "chmod {}: {}", s.file, errno_text(errno));
  return fsync_path(s.file);
}

Result<void> overlay(const DiskStep& s, unsigned mode, Deadline deadline) {
  auto r = qemu_img({"create", "-q", "-f", "qcow2", "-b", s.source, "-F", s.source_format, s.file}, deadline);
  if (!r) return std::move(r).error();
  if (!r->ok()) return make_error(Errc::backend, "qemu-img create -b {} {}: {}", s.source, s.file, first_line(r->err));
  if (::chmod(s.file.c_str(), mode) != 0) return make_error(Errc::backend, "chmod {}: {}", s.file, errno_text(errno));
  return fsync_path(s.file);
}

// The new image's mode: the source's, writable by its owner again (a template's disks are a-w).
unsigned new_mode(const std::string& source) {
  struct stat st {};
  if (::stat(source.c_str(), &st) != 0) return 0600;
  return (st.st_mode & 0777 & ~0022u) | 0200;
}

std::string canonical(const std::string& path) {
  std::error_code ec;
  auto c = fs::weakly_canonical(path, ec);
  return ec ? path : c.string();
}

}  // namespace

Result<std::string> read_definition(const std::string& storage, const std::string& name) {
  auto l = vm::layout(storage, name);
  if (!l) return std::move(l).error();
  const std::string path = l->definition();
  std::error_code ec;
  const auto status = fs::symlink_status(path, ec);
  if (ec || !fs::exists(status)) return make_error(Errc::not_found, "no VM {} on {} (no {})", name, l->storage, path);
  if (!fs::is_regular_file(status)) return make_error(Errc::invalid_config, "{} is not a regular file", path);
  if (fs::file_size(path, ec) > max_definition) return make_error(Errc::invalid_config, "{} is larger than 4 MiB", path);
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::backend, "cannot read {}", path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

namespace {

// qemu's raw_check_lock_bytes: 'Failed to get "write" lock' / 'Failed to get shared "write" lock'.
bool lock_refused(const std::string& err) {
  return err.find("Failed to get") != std::string::npos && err.find("lock") != std::string::npos;
}

Error in_use(const std::string& target, const std::string& file, const std::string& err) {
  const std::string what = target.empty() ? file : fmt::format("disk {} ({})", target, file);
  return make_error(Errc::invalid_argument, "{} is in use: a running VM holds its image lock ({})", what, first_line(err));
}

}  // namespace

Result<BackingChain> read_backing_chain(const std::string& file, const std::string& format, Deadline deadline, Share share) {
  std::vector<std::string> args{"info", "-f", format, "--backing-chain", "--output=json", file};
  if (share == Share::force) args.insert(args.begin() + 4, "-U");
  auto r = qemu_img(args, deadline);
  if (!r) return std::move(r).error();
  if (!r->ok()) {
    if (share == Share::lock && lock_refused(r->err)) return in_use("", file, r->err);
    return make_error(Errc::backend, "qemu-img info {}: {}", file, first_line(r->err));
  }
  auto chain = parse_backing_chain(r->out);
  if (!chain) return std::move(chain).error().context(file);
  return chain;
}

Result<void> check_not_in_use(const DomainDisk& disk, Deadline deadline) {
  auto r = qemu_img({"info", "-f", disk.format, "--output=json", disk.file}, deadline);
  if (!r) return std::move(r).error();
  if (r->ok()) return {};
  if (lock_refused(r->err)) return in_use(disk.target, disk.file, r->err);
  return make_error(Errc::backend, "qemu-img info {}: {}", disk.file, first_line(r->err));
}

Result<CloneResult> clone_vm(const CloneRequest& q) {
  auto src = vm::layout(q.storage, q.source);
  if (!src) return std::move(src).error();
  auto dst = vm::layout(q.storage, q.name);
  if (!dst) return std::move(dst).error();
  std::error_code ec;
  if (fs::exists(fs::symlink_status(dst->dir(), ec)))
    return make_error(Errc::invalid_argument, "VM {} already exists ({})", q.name, dst->dir());
  SourceFacts facts;
  if (q.snapshot) {
    auto listing = snapshot::list_snapshots({.storage = q.storage, .vm = q.source, .hypervisor = {}});
    if (!listing) return std::move(listing).error();
    auto definition = snapshot_source(*src, listing->catalogue, *q.snapshot, q.kind);
    if (!definition) return std::move(definition).error();
    facts.definition = std::move(*definition);
  } else {
    auto definition = read_definition(q.storage, q.source);
    if (!definition) return std::move(definition).error();
    facts.definition = std::move(*definition);
  }
  auto disks = domain_disks(facts.definition);
  if (!disks) return std::move(disks).error().context(src->definition());
  for (const auto& d : *disks) {
    // One qemu-img call reads the chain and asks for the image lock. A template's disk passes
    // while its linked clones run (their QEMUs open it read-only and share reading), and fails
    // if someone started the template itself.
    auto chain = read_backing_chain(d.file, d.format, q.deadline, Share::lock);
    if (!chain) {
      if (chain.error().code() == Errc::invalid_argument)
        return Error(Errc::invalid_argument, fmt::format("clone {}: disk {}: {} (shut it off first)", q.source, d.target,
                                                         chain.error().message()));
      return std::move(chain).error().context(fmt::format("clone {}: disk {}", q.source, d.target));
    }
    facts.chains[d.file] = std::move(*chain);
  }
  auto plan = plan_clone(*src, *dst, q.kind, facts);
  if (!plan) return std::move(plan).error();

  Undo undo;
  if (::mkdir(dst->dir().c_str(), 0755) != 0) {
    if (errno == EEXIST) return make_error(Errc::invalid_argument, "VM {} already exists ({})", q.name, dst->dir());
    return make_error(Errc::backend, "create {}: {}", dst->dir(), errno_text(errno));
  }
  undo.dir(dst->dir());
  CloneResult result{.name = q.name, .definition = dst->definition(), .kind = q.kind, .disks = {}};
  for (const auto& step : plan->disks) {
    ClonedDisk done{.target = step.target, .file = step.file, .format = step.format, .method = step.method, .why = step.why};
    const unsigned mode = new_mode(step.source);
    undo.file(step.file);
    if (step.method == Method::reflink) {
      std::string refused;
      auto linked = reflink(step.source, step.file, mode, refused);
      if (!linked) return std::move(linked).error().context(fmt::format("clone {} as {}", q.source, q.name));
      if (!*linked) {
        done.method = Method::copy;
        done.why = fmt::format("a real copy (qemu-img convert): the file system has no reflinks ({})", refused);
      } else {
        done.why = "a reflink copy: it shares the source's blocks until either is written";
      }
    }
    Result<void> made;
    if (done.method == Method::copy) made = convert(step, mode, q.deadline);
    if (done.method == Method::overlay) made = overlay(step, mode, q.deadline);
    if (!made) return std::move(made).error().context(fmt::format("clone {} as {}", q.source, q.name));
    result.disks.push_back(std::move(done));
  }
  // Last, and never over an existing file: a definition stands for a complete clone.
  undo.file(dst->definition());
  auto written = file::write_atomically(dst->definition(), plan->definition,
                                        file::WriteOptions{.mode = 0644, .replace = false, .create_parent = {}, .sync_directory = true});
  if (!written) return std::move(written).error().context(fmt::format("clone {} as {}", q.source, q.name));
  undo.dismiss();
  return result;
}

Result<TemplateResult> make_template(const std::string& storage, const std::string& name, Deadline deadline) {
  auto l = vm::layout(storage, name);
  if (!l) return std::move(l).error();
  auto definition = read_definition(storage, name);
  if (!definition) return std::move(definition).error();
  auto disks = domain_disks(*definition);
  if (!disks) return std::move(disks).error().context(l->definition());
  TemplateResult result{.name = name, .already = false, .disks = {}};
  for (const auto& d : *disks) result.disks.push_back(d.file);
  auto templ = is_template(*definition);
  if (!templ) return std::move(templ).error();
  if (*templ) {
    result.already = true;
    return result;
  }
  for (const auto& d : *disks)
    if (auto used = check_not_in_use(d, deadline); !used)
      return std::move(used).error().context(fmt::format("make {} a template (shut it off first)", name));
  auto marked = mark_template(*definition);
  if (!marked) return std::move(marked).error();

  std::vector<std::pair<std::string, mode_t>> changed;
  auto put_back = [&changed] {
    for (const auto& [file, mode] : changed) ::chmod(file.c_str(), mode);
  };
  for (const auto& d : *disks) {
    struct stat st {};
    if (::stat(d.file.c_str(), &st) != 0) {
      const int e = errno;
      put_back();
      return make_error(Errc::backend, "make {} a template: stat {}: {}", name, d.file, errno_text(e));
    }
    const mode_t old = st.st_mode & 07777;
    if (::chmod(d.file.c_str(), old & ~mode_t{0222}) != 0) {
      const int e = errno;
      put_back();
      return make_error(Errc::backend, "make {} a template: chmod a-w {}: {}", name, d.file, errno_text(e));
    }
    changed.emplace_back(d.file, old);
  }
  struct stat def {};
  const unsigned def_mode = ::stat(l->definition().c_str(), &def) == 0 ? (def.st_mode & 0777) : 0644;
  auto written = file::write_atomically(l->definition(), *marked,
                                        file::WriteOptions{.mode = def_mode, .replace = true, .create_parent = {}, .sync_directory = true});
  if (!written) {
    put_back();
    return std::move(written).error().context(fmt::format("make {} a template", name));
  }
  return result;
}

Result<std::vector<BackingUser>> vms_using_backing_file(const std::string& storage, const std::string& file,
                                                        Deadline deadline) {
  auto root = vm::layout(storage, "x");  // checks the storage path
  if (!root) return std::move(root).error();
  const std::string wanted = canonical(file);
  std::vector<BackingUser> users;
  std::error_code ec;
  fs::directory_iterator it(root->storage.empty() ? "/" : root->storage, ec);
  if (ec) return make_error(Errc::backend, "read {}: {}", root->storage, ec.message());
  std::vector<std::string> names;
  for (const auto& entry : it) {
    const std::string n = entry.path().filename().string();
    if (!entry.is_directory(ec) || vm::name_problem(n)) continue;
    if (!fs::exists(root->storage + "/" + n + "/" + n + ".xml", ec)) continue;  // not a VM directory
    names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    auto definition = read_definition(storage, n);
    if (!definition) return std::move(definition).error().context(fmt::format("find the users of {}", file));
    auto disks = domain_disks(*definition);
    if (!disks) return std::move(disks).error().context(fmt::format("find the users of {}: VM {}", file, n));
    for (const auto& d : *disks) {
      if (d.format != "qcow2") continue;  // a raw image has no backing file
      auto chain = read_backing_chain(d.file, d.format, deadline);
      if (!chain) return std::move(chain).error().context(fmt::format("find the users of {}: VM {} disk {}", file, n, d.target));
      for (auto& image : *chain) image.filename = canonical(image.filename);
      if (chain_has_backing_file(*chain, wanted)) users.push_back(BackingUser{.vm = n, .target = d.target, .file = d.file});
    }
  }
  return users;
}

}  // namespace evos::clone
