// Test data for the drbd parsers: literal tool output under tests/data/drbd/.
#pragma once

#include "test_data.hpp"

#include <string>

namespace evos::drbd::test {

inline std::string read_data(const std::string& name) { return evos::test::read_data("drbd", name); }

}  // namespace evos::drbd::test
