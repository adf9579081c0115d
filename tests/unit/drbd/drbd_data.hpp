// Test data for the drbd parsers: literal tool output under tests/data/drbd/.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace evos::drbd::test {

inline std::string read_data(const std::string& name) {
  const std::string path = std::string(EVOS_TEST_DATA_DIR) + "/drbd/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open test data " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace evos::drbd::test
