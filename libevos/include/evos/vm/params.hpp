// The VM agent's parameters: declared once (specs), read into a typed struct.
#pragma once

#include <evos/error.hpp>
#include <evos/ocf/params.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace evos::vm {

enum class ShutdownMode { hypervisor_default, acpi, agent, initctl, signal, paravirt };

struct MigrationSettings {
  std::string remote_hypervisor;  // template, %n = target node
  std::string migration_uri;      // template, %n = target node; "" = libvirt chooses
  std::string migration_network;  // suffix for the target's first name label
  std::chrono::milliseconds max_downtime{0};      // 0 = hypervisor default
  std::chrono::milliseconds max_downtime_cap{0};  // how far a migration that does not converge raises it
  unsigned long long bandwidth_mib_s = 0;         // 0 = unlimited
  bool postcopy = false;
  bool auto_converge = false;
  bool tls = false;
  bool unsafe = false;
};

struct Params {
  std::string config;      // path of the domain XML
  std::string domain;      // explicit domain name, or "" to read it from config
  std::string hypervisor;  // libvirt URI
  MigrationSettings migration;
  std::chrono::seconds shutdown_timeout{0};  // 0 = derived from the stop timeout
  ShutdownMode shutdown_mode = ShutdownMode::hypervisor_default;
  bool force_stop = false;
  std::string evosd_socket;  // where a monitor asks evosd first (docs/evosd.md)

  static Result<Params> from(const ocf::ParamValues& values);
};

const std::vector<ocf::ParamSpec>& param_specs();

// The destination URIs of a migration to `node` (the %n and suffix substitutions).
struct MigrationTarget {
  std::string node;
  std::string dest_uri;       // libvirt connection URI of the destination
  std::string migration_uri;  // data channel; "" = libvirt's choice
};
Result<MigrationTarget> migration_target(const MigrationSettings& settings, const std::string& node);

// How long a stop waits for a graceful shutdown before destroying: the parameter, or what the
// stop's own budget leaves after keeping time for destroy.
std::chrono::milliseconds graceful_stop_budget(std::chrono::seconds configured, std::chrono::milliseconds stop_budget);

}  // namespace evos::vm
