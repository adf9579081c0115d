#include <evos/backup/nbd_reader.hpp>

#include <evos/activity.hpp>

#include <libnbd.h>

#include <condition_variable>
#include <mutex>

namespace evos::backup {
namespace {

struct HandleClose {
  void operator()(nbd_handle* h) const { nbd_close(h); }
};
using Handle = std::unique_ptr<nbd_handle, HandleClose>;

Error nbd_failure(std::string_view doing) {
  const char* e = nbd_get_error();
  return make_error(Errc::backend, "NBD: {}: {}", doing, e ? e : "unknown error");
}

}  // namespace

// Connections handed to one worker at a time: libnbd serialises calls on one handle.
struct NbdReader::Pool {
  std::vector<Handle> handles;
  std::vector<nbd_handle*> free;
  std::mutex mutex;
  std::condition_variable available;

  nbd_handle* take() {
    std::unique_lock lock(mutex);
    available.wait(lock, [&] { return !free.empty(); });
    nbd_handle* h = free.back();
    free.pop_back();
    return h;
  }
  void give(nbd_handle* h) {
    {
      std::lock_guard lock(mutex);
      free.push_back(h);
    }
    available.notify_one();
  }
};

NbdReader::NbdReader(std::unique_ptr<Pool> pool, std::uint64_t size, std::string description, std::string bitmap)
    : pool_(std::move(pool)), size_(size), description_(std::move(description)), bitmap_context_(std::move(bitmap)) {}
NbdReader::~NbdReader() = default;

Result<std::unique_ptr<NbdReader>> NbdReader::open(const NbdSource& source, unsigned connections) {
  auto pool = std::make_unique<Pool>();
  const std::string description = source.image.empty() ? fmt::format("NBD export {} on {}", source.export_name, source.socket)
                                                       : fmt::format("{} (qemu-nbd, {})", source.image, source.format);
  std::int64_t size = -1;
  for (unsigned i = 0; i < std::max(1u, connections); ++i) {
    Handle h(nbd_create());
    if (!h) return nbd_failure("create a handle");
    if (nbd_add_meta_context(h.get(), LIBNBD_CONTEXT_BASE_ALLOCATION) != 0) return nbd_failure("ask for base:allocation");
    if (!source.dirty_bitmap_context.empty() && nbd_add_meta_context(h.get(), source.dirty_bitmap_context.c_str()) != 0)
      return nbd_failure("ask for the dirty bitmap");
    Activity a(fmt::format("NBD: connect to {}", description));
    if (source.image.empty()) {
      if (nbd_set_export_name(h.get(), source.export_name.c_str()) != 0) return nbd_failure("set the export name");
      if (nbd_connect_unix(h.get(), source.socket.c_str()) != 0) return nbd_failure(fmt::format("connect to {}", description));
    } else {
      // By argv, never a shell; read-only, and --shared=1 is qemu-nbd's default (one client each).
      const std::string format = "--format=" + source.format;
      char* argv[] = {const_cast<char*>("qemu-nbd"), const_cast<char*>("--read-only"), const_cast<char*>(format.c_str()),
                      const_cast<char*>(source.image.c_str()), nullptr};
      if (nbd_connect_systemd_socket_activation(h.get(), argv) != 0) return nbd_failure(fmt::format("serve {}", description));
    }
    if (!source.dirty_bitmap_context.empty() && nbd_can_meta_context(h.get(), source.dirty_bitmap_context.c_str()) != 1)
      return make_error(Errc::backend, "NBD: {} does not offer {}", description, source.dirty_bitmap_context);
    const std::int64_t s = nbd_get_size(h.get());
    if (s < 0) return nbd_failure("read the export's size");
    if (size >= 0 && s != size) return make_error(Errc::backend, "NBD: connections to {} disagree on its size", description);
    size = s;
    pool->free.push_back(h.get());
    pool->handles.push_back(std::move(h));
  }
  return std::unique_ptr<NbdReader>(new NbdReader(std::move(pool), static_cast<std::uint64_t>(size), description,
                                                  source.dirty_bitmap_context));
}

Result<void> NbdReader::read(std::uint64_t offset, std::span<std::uint8_t> out) const {
  nbd_handle* h = pool_->take();
  // The server's maximum request is 32 MiB (block_size_maximum); chunks are at most 64 MiB.
  constexpr std::size_t step = 16u << 20;
  Result<void> result;
  for (std::size_t done = 0; done < out.size() && result; done += step) {
    const std::size_t n = std::min(step, out.size() - done);
    if (nbd_pread(h, out.data() + done, n, offset + done, 0) != 0)
      result = nbd_failure(fmt::format("read {} at byte {}", description_, offset + done));
  }
  pool_->give(h);
  return result;
}

namespace {

struct ExtentCollector {
  const char* context;
  bool want_set;
  std::uint32_t mask;
  std::vector<Extent>* out;
  std::uint64_t reached = 0;
};

int collect(void* user, const char* metacontext, std::uint64_t offset, std::uint32_t* entries, std::size_t count, int*) {
  auto* c = static_cast<ExtentCollector*>(user);
  if (std::string_view(metacontext) != c->context) return 0;
  for (std::size_t i = 0; i + 1 < count; i += 2) {
    const std::uint64_t len = entries[i];
    const bool set = (entries[i + 1] & c->mask) != 0;
    if (set == c->want_set && len > 0) {
      if (!c->out->empty() && c->out->back().offset + c->out->back().length == offset)
        c->out->back().length += len;
      else
        c->out->push_back({offset, len});
    }
    offset += len;
  }
  c->reached = offset;
  return 0;
}

}  // namespace

Result<std::vector<Extent>> NbdReader::extents(const std::string& context, bool want_set, std::uint32_t mask) const {
  std::vector<Extent> out;
  nbd_handle* h = pool_->take();
  Result<void> result;
  for (std::uint64_t offset = 0; offset < size_ && result;) {
    ExtentCollector c{context.c_str(), want_set, mask, &out, offset};
    const std::uint64_t count = std::min<std::uint64_t>(size_ - offset, 1u << 30);
    if (nbd_block_status(h, count, offset, nbd_extent_callback{collect, &c, nullptr}, 0) != 0) {
      result = nbd_failure(fmt::format("block status ({}) of {}", context, description_));
    } else if (c.reached <= offset) {
      result = make_error(Errc::backend, "NBD: {} answered block status without progress at byte {}", description_, offset);
    } else {
      offset = c.reached;
    }
  }
  pool_->give(h);
  if (!result) return std::move(result).error();
  return out;
}

Result<std::vector<Extent>> NbdReader::dirty_extents() const {
  if (bitmap_context_.empty()) return Error(Errc::invalid_argument, "NBD: no dirty bitmap was asked for");
  return extents(bitmap_context_, true, 1);  // qemu:dirty-bitmap: bit 0 = dirty
}

Result<std::optional<std::vector<Extent>>> NbdReader::data_extents() const {
  auto data = extents(LIBNBD_CONTEXT_BASE_ALLOCATION, false, LIBNBD_STATE_ZERO);  // holes read as zero too (bit 1 set)
  if (!data) return std::move(data).error();
  return std::optional<std::vector<Extent>>(std::move(*data));
}

}  // namespace evos::backup
