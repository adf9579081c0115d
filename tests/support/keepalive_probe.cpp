// Test program for tests/integration/libvirt_hung_real.sh: opens a connection through
// evos::virt::connect_libvirt, says "connected", waits for a line on stdin (the test freezes
// libvirtd meanwhile), then lists the domains and prints how that ended. With keepalive, the
// list on a frozen daemon fails ("keepalive timeout") instead of blocking for good.
#include <evos/virt/libvirt_hypervisor.hpp>

#include <fmt/core.h>

#include <cstdio>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 2) {
    fmt::print(stderr, "usage: keepalive_probe URI\n");
    return 2;
  }
  auto hv = evos::virt::connect_libvirt(argv[1], evos::virt::Access::read_only);
  if (!hv) {
    fmt::print("connect failed: {}\n", hv.error().message());
    return 1;
  }
  fmt::print("connected\n");
  std::fflush(stdout);
  std::string line;
  std::getline(std::cin, line);
  auto domains = (*hv)->list();
  if (domains)
    fmt::print("list answered: {} domains\n", domains->size());
  else
    fmt::print("list failed: {}\n", domains.error().message());
  return domains ? 0 : 1;
}
