// Internal to the libvirt adapter (src/virt/): the handle types, the error conversion and the
// connection shared by libvirt_hypervisor.cpp and libvirt_backup_host.cpp.
#pragma once

#include <evos/activity.hpp>
#include <evos/error.hpp>
#include <evos/virt/libvirt_hypervisor.hpp>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <memory>
#include <string_view>

namespace evos::virt {
namespace detail {

struct ConnectClose {
  void operator()(virConnectPtr c) const noexcept { virConnectClose(c); }
};
struct DomainFree {
  void operator()(virDomainPtr d) const noexcept { virDomainFree(d); }
};
using ConnectionPtr = std::unique_ptr<virConnect, ConnectClose>;
using DomainPtr = std::unique_ptr<virDomain, DomainFree>;

Errc errc_of(int code);
// The calling thread's last libvirt error, as an evos error with what was being done.
Error last_error(std::string_view doing);
int last_error_code();
// libvirt's default error printing off, once per process.
void silence_default_error_printing();
// Registers and runs libvirt's default event loop (one thread for the life of the process) before
// the first connection; false if it could not be registered. Keepalive and domain events need it.
bool ensure_event_loop();
// Keepalive on a connection (a ping after 5 s of silence, closed after 3 unanswered ones).
void start_keepalive(virConnectPtr conn);
// virDomainGetState in evos terms.
Result<vm::DomainState> state_of(virDomainPtr dom);

}  // namespace detail

using detail::ConnectionPtr;
using detail::DomainPtr;

struct LibvirtHypervisor::Impl {
  ConnectionPtr conn;

  Result<DomainPtr> lookup(const std::string& name) {
    Activity a(fmt::format("libvirt: look up domain '{}' (virDomainLookupByName)", name));
    DomainPtr dom(virDomainLookupByName(conn.get(), name.c_str()));
    if (!dom) return detail::last_error(fmt::format("look up domain '{}'", name));
    return dom;
  }
};

}  // namespace evos::virt
