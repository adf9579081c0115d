// evos::virt::LibvirtHypervisor: the Hypervisor port over the libvirt C API, one connection per
// object. Handles are owned from the moment libvirt returns them (RAII); every call names its
// activity so the agent's watchdog can say what hung.
#pragma once

#include <evos/backup/vm_host.hpp>
#include <evos/network/host.hpp>
#include <evos/vm/hypervisor.hpp>

#include <evos/deadline.hpp>

#include <memory>
#include <optional>
#include <set>
#include <string>

namespace evos::virt {

class LibvirtHypervisor;

enum class Access { read_write, read_only };

// Opens a connection (virConnectOpen, or virConnectOpenReadOnly for checks that change nothing:
// cheaper for libvirtd, and a monitor cannot alter a domain by mistake). libvirtd being down is
// Errc::backend. With `keep_trying`, a daemon whose socket is missing or refuses (starting,
// restarting) is asked again every 100 ms until then (vm::hypervisor_wait says how long).
Result<std::unique_ptr<LibvirtHypervisor>> connect_libvirt(const std::string& uri, Access access = Access::read_write,
                                                          std::optional<Deadline> keep_trying = std::nullopt);

// A connector for the service's migration destination.
vm::HypervisorConnector libvirt_connector();

// Also the backup port (backup::VmHost), implemented in libvirt_backup_host.cpp, and the network
// port (network::NetworkHost), in libvirt_networks.cpp.
class LibvirtHypervisor final : public vm::Hypervisor, public backup::VmHost, public network::NetworkHost {
 public:
  ~LibvirtHypervisor() override;
  LibvirtHypervisor(const LibvirtHypervisor&) = delete;
  LibvirtHypervisor& operator=(const LibvirtHypervisor&) = delete;

  [[nodiscard]] const std::string& uri() const { return uri_; }

  Result<vm::DomainState> state(const std::string& domain) override;
  Result<vm::DeepCheck> deep_check(const std::string& domain) override;
  Result<vm::DomainSummary> summary(const std::string& domain) override;
  Result<std::vector<vm::DomainSummary>> list() override;
  Result<void> define(const std::string& xml) override;
  Result<void> start(const std::string& domain) override;
  Result<void> resume(const std::string& domain) override;
  Result<void> request_shutdown(const std::string& domain, vm::ShutdownMode mode) override;
  Result<void> destroy(const std::string& domain, bool graceful) override;
  Result<vm::MigrationStats> migrate(const std::string& domain, const vm::MigrationRequest& request, Deadline deadline,
                                     const vm::MigrationSupervisor& supervise) override;
  Result<std::optional<vm::MigrationStats>> completed_migration(const std::string& domain) override;
  Result<std::vector<vm::SnapshotMetadata>> snapshots(const std::string& domain) override;
  Result<void> drop_snapshot_metadata(const std::string& domain, const std::string& snapshot) override;
  Result<void> redefine_snapshot(const std::string& domain, const vm::SnapshotMetadata& snapshot) override;
  Result<bool> backup_running(const std::string& domain) override;
  Result<void> abort_job(const std::string& domain) override;
  // Removes the persistent definition of a domain that is not running, with its managed save,
  // snapshot and checkpoint metadata (`vm delete`; src/virt/libvirt_vm_admin.cpp). An unknown
  // domain is Errc::not_found.
  Result<void> undefine(const std::string& domain);
  Result<vm::NetworkPresence> network_presence(const std::string& name) override;
  // The names of the regular files in a directory of this node's file system, through a storage
  // pool (src/virt/libvirt_files.cpp; `cluster check`). Needs a read-write connection when no
  // active pool is on the directory. A directory the node lacks or cannot read is Errc::backend
  // with libvirt's reason.
  Result<std::set<std::string>> directory_files(const std::string& dir);

  Result<backup::VmRunState> run_state(const std::string& vm) override;
  Result<std::string> domain_xml(const std::string& vm, bool inactive) override;
  Result<std::optional<std::string>> run_token(const std::string& vm) override;
  Result<void> set_run_token(const std::string& vm, const std::string& token) override;
  Result<bool> freeze(const std::string& vm) override;
  Result<void> thaw(const std::string& vm) override;
  Result<void> pause(const std::string& vm) override;
  Result<std::vector<std::string>> checkpoints(const std::string& vm) override;
  Result<void> redefine_checkpoint(const std::string& vm, const std::string& xml) override;
  Result<std::string> checkpoint_xml(const std::string& vm, const std::string& name) override;
  Result<void> delete_checkpoint(const std::string& vm, const std::string& name) override;
  Result<void> begin_backup(const std::string& vm, const std::string& backup_xml, const std::string& checkpoint_xml) override;

  Result<std::vector<network::NetworkInfo>> networks() override;
  Result<void> define_network(const std::string& xml) override;
  Result<void> start_network(const std::string& name) override;
  Result<void> set_network_autostart(const std::string& name, bool on) override;
  Result<void> stop_network(const std::string& name) override;
  Result<void> undefine_network(const std::string& name) override;
  Result<std::vector<network::DomainDefinitions>> domain_definitions() override;
  Result<std::optional<std::set<std::string>>> host_bridges() override;

 private:
  struct Impl;
  explicit LibvirtHypervisor(std::string uri, std::unique_ptr<Impl> impl);
  friend Result<std::unique_ptr<LibvirtHypervisor>> connect_libvirt(const std::string& uri, Access access,
                                                                   std::optional<Deadline> keep_trying);

  std::string uri_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace evos::virt
