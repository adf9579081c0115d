// noop_cxx.cpp - a C++ program that returns at once, linked only to the C++ runtime (libstdc++,
// libm, libgcc_s, libc): the least a monitor front end without libvirt would load (bench/evosd).
#include <string>

int main(int argc, char** argv) {
  const std::string name = argc > 0 ? argv[0] : "";
  return name.empty() ? 1 : 0;
}
