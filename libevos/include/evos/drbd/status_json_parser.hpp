// `drbdsetup status --json [resource|all]` (drbd-utils user/v9/drbdsetup.c, resource_status_json
// and friends) read into the same state model events2 builds. DRBD 9.0 to 9.2 shapes: keys a
// version lacks (open, tls, paths, suspended-*) default, keys this parser does not know are
// ignored, and a known key of the wrong JSON type is an error naming its JSON pointer.
#pragma once

#include <evos/drbd/state.hpp>
#include <evos/error.hpp>

#include <string_view>
#include <vector>

namespace evos::drbd {

// The deepest nesting accepted (drbdsetup's is 5); deeper input is rejected before parsing.
inline constexpr int max_status_json_depth = 32;
inline constexpr std::size_t max_status_json_bytes = 16u << 20;

// Errors are invalid_argument: "status --json: /0/connections/0/peer-node-id: expected an
// integer, found string", or the JSON syntax error with its line and column.
Result<std::vector<ResourceState>> parse_status_json(std::string_view text);

}  // namespace evos::drbd
