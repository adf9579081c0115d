// Test data: literal output of other tools under tests/data/SUBDIR/ (EVOS_TEST_DATA_DIR).
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace evos::test {

inline std::string read_data(const std::string& subdir, const std::string& name) {
  const std::string path = std::string(EVOS_TEST_DATA_DIR) + "/" + subdir + "/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open test data " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace evos::test
