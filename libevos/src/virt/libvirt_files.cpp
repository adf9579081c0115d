// LibvirtHypervisor::directory_files: what files a node's file system has in a directory, asked
// through that node's libvirtd (`cluster check`), because libvirt is the one API every node
// already serves to its peer. libvirt shows a node's files only as volumes of a storage pool
// (libvirt-storage.h): an active pool on the directory is refreshed and listed; otherwise a
// transient dir pool is made for the one listing and destroyed at once (a transient pool leaves
// no definition behind; `virsh pool-list` shows it only meanwhile).
#include "libvirt_internal.hpp"

#include <pugixml.hpp>

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <sstream>

namespace evos::virt {
namespace {

struct PoolFree {
  void operator()(virStoragePoolPtr p) const noexcept { virStoragePoolFree(p); }
};
using PoolPtr = std::unique_ptr<virStoragePool, PoolFree>;
struct VolFree {
  void operator()(virStorageVolPtr v) const noexcept { virStorageVolFree(v); }
};
using VolPtr = std::unique_ptr<virStorageVol, VolFree>;

// Destroys the transient pool on every way out, so a failed listing leaves nothing on the node.
struct TransientPool {
  PoolPtr pool;
  ~TransientPool() {
    if (pool) virStoragePoolDestroy(pool.get());
  }
};

std::string transient_pool_xml(const std::string& dir) {
  static std::atomic<unsigned> counter{0};
  pugi::xml_document doc;
  auto pool = doc.append_child("pool");
  pool.append_attribute("type") = "dir";
  pool.append_child("name").text() = fmt::format("evos-check-{}-{}", ::getpid(), counter++).c_str();
  pool.append_child("target").append_child("path").text() = dir.c_str();
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw | pugi::format_no_declaration);
  return out.str();
}

Result<std::set<std::string>> volume_names(virStoragePoolPtr pool, const std::string& dir) {
  virStorageVolPtr* raw = nullptr;
  const int n = virStoragePoolListAllVolumes(pool, &raw, 0);
  if (n < 0) return detail::last_error(fmt::format("list the files of {}", dir));
  std::vector<VolPtr> vols;
  for (int i = 0; i < n; ++i) vols.emplace_back(raw[i]);
  std::free(raw);
  std::set<std::string> out;
  for (const auto& v : vols)
    if (const char* name = virStorageVolGetName(v.get())) out.insert(name);
  return out;
}

}  // namespace

Result<std::set<std::string>> LibvirtHypervisor::directory_files(const std::string& dir) {
  Activity a(fmt::format("libvirt: list the files of {} on {} (storage pool)", dir, uri_));
  PoolPtr existing(virStoragePoolLookupByTargetPath(impl_->conn.get(), dir.c_str()));
  if (existing) {
    const int active = virStoragePoolIsActive(existing.get());
    if (active < 0) return detail::last_error(fmt::format("is the storage pool on {} active", dir));
    // libvirt refuses a second pool on the same path, so an inactive one is a dead end.
    if (active == 0)
      return make_error(Errc::backend, "the storage pool '{}' on {} is defined but not active, so its files cannot be listed",
                        virStoragePoolGetName(existing.get()), dir);
    if (virStoragePoolRefresh(existing.get(), 0) < 0) return detail::last_error(fmt::format("refresh the storage pool on {}", dir));
    return volume_names(existing.get(), dir);
  }
  TransientPool t{PoolPtr(virStoragePoolCreateXML(impl_->conn.get(), transient_pool_xml(dir).c_str(), 0))};
  if (!t.pool) return detail::last_error(fmt::format("open {}", dir));
  return volume_names(t.pool.get(), dir);
}

}  // namespace evos::virt
