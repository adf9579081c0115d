// libvirt's domain lifecycle events (virConnectDomainEventRegisterAny with
// VIR_DOMAIN_EVENT_ID_LIFECYCLE) in evos terms: what the domain's state is after one. The numbers
// are libvirt's virDomainEventType and virDomainEvent*DetailType values, part of its stable ABI
// (libvirt-domain.h); the adapter (src/virt/libvirt_events.cpp) checks them at compile time, so
// this stays pure and testable without libvirt.
#pragma once

#include <evos/vm/domain_state.hpp>

#include <optional>
#include <string>

namespace evos::daemon {

enum class LifecycleType : int {
  defined = 0,
  undefined = 1,
  started = 2,
  suspended = 3,
  resumed = 4,
  stopped = 5,
  shutdown = 6,
  pmsuspended = 7,
  crashed = 8,
};

struct LifecycleChange {
  // The state the event puts the domain in; nullopt when it says nothing about its power
  // (defined, undefined, an event type newer than evos).
  std::optional<vm::DomainState> state;
  // The definition was removed: a shut-off domain is gone, a running one goes on as transient.
  bool undefined = false;
};

LifecycleChange lifecycle_change(int type, int detail);

// "stopped (crashed)", "started (migrated)", "type 42 detail 0" for logs.
std::string describe_lifecycle(int type, int detail);

}  // namespace evos::daemon
