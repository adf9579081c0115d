#include <evos/snapshot/execute.hpp>

#include <fmt/core.h>

namespace evos::snapshot {
namespace {

std::vector<std::string> files_of(const std::vector<NewOverlay>& overlays) {
  std::vector<std::string> out;
  for (const auto& o : overlays) out.push_back(o.file);
  return out;
}

}  // namespace

Result<CreateOutcome> execute_create(CreatePlan& plan, const Place& place, Actions& a) {
  CreateOutcome out;
  if (place.running) {
    // Freeze, snapshot, thaw: the same guest-agent freeze the backups use (VSS on Windows). The
    // thaw runs whatever the snapshot did: a guest left frozen hangs every writer in it.
    auto frozen = place.paused ? Result<bool>(false) : a.freeze();
    if (!frozen) return std::move(frozen).error();
    auto taken = a.live_snapshot(live_snapshot_xml(plan.after.snapshots.back().name, plan.overlays));
    if (*frozen)
      if (auto t = a.thaw(); !t) {
        if (!taken) return taken.error();
        // The VM writes the new overlays already: the snapshot must be recorded all the same.
        out.warnings.push_back(fmt::format("the guest's file systems may still be frozen (thaw failed: {}); "
                                           "`virsh domfsthaw` thaws them", t.error().message()));
      }
    if (!taken) return taken.error();
    out.consistency = *frozen ? Consistency::frozen : Consistency::crash_consistent;
  } else {
    // Not running where evos looked: nothing may write the images that become the snapshot's
    // (`qemu-img create -b` itself opens its backing file without taking the image lock).
    if (auto r = a.check_not_in_use(plan.after.snapshots.back().disks); !r) return r.error();
    if (auto r = a.make_overlays(plan.overlays); !r) return r.error();
    out.consistency = Consistency::offline;
  }
  plan.after.snapshots.back().consistency = out.consistency;
  // The definition first, then the catalogue: interrupted in between, the VM is on the new
  // overlay and the old image is merely not listed yet (check_definition then says so). The other
  // order could start the VM on the snapshot's image and write into it.
  if (auto r = a.write_definition(plan.definition_xml); !r) {
    if (!place.running) {
      a.remove_files(files_of(plan.overlays));
      return r.error();
    }
    return std::move(r).error().context(
        fmt::format("the VM already writes {}; write its definition file", files_of(plan.overlays).front()));
  }
  if (!place.ha_resource)
    if (auto r = a.redefine(plan.definition_xml); !r)
      return std::move(r).error().context("the snapshot was taken and the definition file updated; redefine the domain");
  if (auto r = a.save_catalogue(plan.after); !r) return r.error();
  return out;
}

Result<bool> execute_revert(const RevertPlan& plan, const Catalogue& before, const Place& place, Actions& a) {
  // A running VM is stopped, reverted and started again, as libvirt >= 9.9 does it: its state is
  // what the revert throws away, so a hard stop loses nothing that would be kept. An HA VM only
  // through Pacemaker (target-role), never behind its back.
  const bool was_running = place.running;
  if (was_running) {
    if (place.ha_resource) {
      if (auto r = a.set_ha_role(*place.ha_resource, "Stopped", false, true); !r) {
        // Not stopped in time: Pacemaker gets its previous target back; nothing was reverted.
        (void)a.set_ha_role(*place.ha_resource, place.target_role, true, false);
        return std::move(r).error().context(fmt::format("stop {} for the revert (nothing was reverted)", *place.ha_resource));
      }
    } else if (auto r = a.stop_vm(); !r) {
      return std::move(r).error().context("stop the VM for the revert");
    }
  }
  auto restart = [&]() -> Result<void> {
    if (!was_running) return {};
    if (place.ha_resource) return a.set_ha_role(*place.ha_resource, place.target_role, true, true);
    return a.start_vm();
  };
  auto fail = [&](Error e) -> Error {
    if (auto r = restart(); !r)
      return Error(e.code(), fmt::format("{} (and starting the VM again failed: {})", e.message(), r.error().message()));
    return e;
  };
  // Nothing may still write the images being dropped (the VM running where evos did not look).
  if (auto r = a.check_not_in_use(before.current); !r) return fail(r.error());
  if (auto r = a.make_overlays(plan.overlays); !r) return fail(r.error());
  if (auto r = a.write_definition(plan.definition_xml); !r) {
    a.remove_files(files_of(plan.overlays));
    return fail(r.error());
  }
  if (!place.ha_resource)
    if (auto r = a.redefine(plan.definition_xml); !r) return fail(r.error());
  if (auto r = a.save_catalogue(plan.after); !r) return fail(r.error());
  a.remove_files(plan.remove);
  if (auto r = restart(); !r) return std::move(r).error().context("reverted, but starting the VM again failed");
  return was_running;
}

}  // namespace evos::snapshot
