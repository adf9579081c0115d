// evos::virt::LibvirtEventSource: follows one libvirt connection's domain lifecycle events
// (virConnectDomainEventRegisterAny, VIR_DOMAIN_EVENT_ID_LIFECYCLE) on libvirt's default event
// loop, the one the library already runs for keepalive. Its own thread opens the connection
// (read-only: evosd never changes a domain), registers the callbacks, lists every domain so no
// change made while it was disconnected is missed, then proves the connection alive with a
// cheap call every heartbeat. When libvirtd closes the connection (virConnectRegisterCloseCallback:
// a restart, keepalive) or a call fails, it reconnects with a doubling backoff. Nothing of it
// blocks the sink's owner: a hung libvirtd blocks only this thread.
#pragma once

#include <evos/daemon/node_state.hpp>
#include <evos/deadline.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace evos::virt {

struct DomainEvent {
  std::string name;
  std::string uuid;
  int type = 0;    // virDomainEventType
  int detail = 0;  // virDomainEvent*DetailType
  std::uint64_t seq = 0;
};

struct DomainListing {
  std::vector<daemon::NodeState::Listed> domains;
  std::uint64_t started_seq = 0;  // the event sequence when the listing began
};

// Where the source reports. Calls come from two threads (libvirt's event loop for events, the
// source's own for the rest); implementations queue and return at once, and never throw.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void connected(bool reconnect) = 0;
  virtual void disconnected(const std::string& problem) = 0;
  virtual void event(DomainEvent event) = 0;
  virtual void listing(DomainListing listing) = 0;
  virtual void heartbeat() = 0;
};

struct EventSourceOptions {
  std::string uri = "qemu:///system";
  Millis heartbeat{1000};
  Millis reconnect_min{100};
  Millis reconnect_max{5000};
};

class LibvirtEventSource {
 public:
  LibvirtEventSource(EventSourceOptions options, EventSink& sink);
  ~LibvirtEventSource();  // stop()
  LibvirtEventSource(const LibvirtEventSource&) = delete;
  LibvirtEventSource& operator=(const LibvirtEventSource&) = delete;

  void start();
  // Ends the thread within `grace`; a thread still blocked in libvirt after that is left to the
  // process's exit (false), since no libvirt call can be interrupted from outside.
  bool stop(Millis grace = Millis(3000));

  struct Impl;  // public only so libvirt's C callbacks in the .cpp can name it

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace evos::virt
