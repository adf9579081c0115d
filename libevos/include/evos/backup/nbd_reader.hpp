// evos::backup::NbdReader: a disk read over NBD with libnbd: the point-in-time export of a libvirt
// pull-mode backup (a unix socket), or a disk image of a VM that is not running, served by a
// read-only qemu-nbd that libnbd starts by argv (systemd socket activation) and ends on close.
// Several connections, one per worker, so chunks are read in parallel. It also answers NBD block
// status: QEMU's dirty bitmap ("qemu:dirty-bitmap:backup-vda") and holes/zeros ("base:allocation").
#pragma once

#include <evos/backup/chunk_map.hpp>
#include <evos/backup/disk_backup.hpp>

#include <memory>
#include <string>
#include <vector>

namespace evos::backup {

struct NbdSource {
  // Either a unix socket and export name (a libvirt pull backup) ...
  std::string socket;
  std::string export_name;
  // ... or an image and its format, served by qemu-nbd --read-only.
  std::string image;
  std::string format;
  std::string dirty_bitmap_context;  // "" unless dirty extents will be asked for
};

class NbdReader final : public BlockReader {
 public:
  static Result<std::unique_ptr<NbdReader>> open(const NbdSource& source, unsigned connections);
  ~NbdReader() override;
  NbdReader(const NbdReader&) = delete;
  NbdReader& operator=(const NbdReader&) = delete;

  [[nodiscard]] std::uint64_t size() const override { return size_; }
  [[nodiscard]] Result<void> read(std::uint64_t offset, std::span<std::uint8_t> out) const override;
  [[nodiscard]] std::string describe() const override { return description_; }

  // Extents the dirty bitmap marks (only with source.dirty_bitmap_context set).
  [[nodiscard]] Result<std::vector<Extent>> dirty_extents() const;
  // Extents that hold data (base:allocation: not known zero); none of the rest need be read.
  [[nodiscard]] Result<std::optional<std::vector<Extent>>> data_extents() const override;

 private:
  struct Pool;
  NbdReader(std::unique_ptr<Pool> pool, std::uint64_t size, std::string description, std::string bitmap);
  [[nodiscard]] Result<std::vector<Extent>> extents(const std::string& context, bool want_set, std::uint32_t mask) const;

  std::unique_ptr<Pool> pool_;
  std::uint64_t size_;
  std::string description_;
  std::string bitmap_context_;
};

}  // namespace evos::backup
