// What the DRBD fence handler's tests feed it: the environment DRBD gives a handler on alpha
// (node 0; its peer beta is node 1) and Pacemaker's view of the two nodes.
#pragma once

#include <evos/cluster/status.hpp>

#include <map>
#include <string>

namespace evos::testing {

inline std::map<std::string, std::string> drbd_env() {
  return {{"DRBD_RESOURCE", "r0"},    {"DRBD_MY_NODE_ID", "0"},   {"DRBD_PEER_NODE_ID", "1"},
          {"DRBD_NODE_ID_0", "alpha"}, {"DRBD_NODE_ID_1", "beta"}, {"UP_TO_DATE_NODES", "0x1"}};
}

inline cluster::PacemakerStatus peer_status(bool peer_online, bool peer_unclean, bool quorate = true,
                                            std::string dc = "alpha") {
  cluster::PacemakerStatus s;
  s.dc = std::move(dc);
  s.quorate = quorate;
  s.nodes.push_back({.name = "alpha", .online = true});
  s.nodes.push_back({.name = "beta", .online = peer_online, .unclean = peer_unclean});
  return s;
}

}  // namespace evos::testing
