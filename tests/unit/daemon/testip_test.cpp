#include <evos/daemon/testip.hpp>

#include <catch2/catch.hpp>

using namespace evos::daemon;
using evos::net::HostResult;
using evos::net::ProbeState;

TEST_CASE("a round becomes node state records and an attribute value only on a change") {
  std::vector<HostResult> results(2);
  results[0].host = "198.18.1.254";
  results[0].state = ProbeState::ok;
  results[0].sent = results[0].received = 1;
  results[0].avg_rtt = std::chrono::microseconds(250);
  results[1].host = "198.18.1.253";
  results[1].weight = 2;
  results[1].state = ProbeState::lost;
  results[1].sent = 2;
  const auto recs = records_of(results);
  REQUIRE(recs.size() == 2);
  CHECK(recs[0].reachable);
  CHECK(recs[0].rtt == std::chrono::microseconds(250));
  CHECK_FALSE(recs[1].reachable);
  const auto summary = evos::net::summarize(results, 1000);
  CHECK(summary.score == 1000);
  CHECK(value_to_publish(std::nullopt, summary) == "1000");
  CHECK_FALSE(value_to_publish(1000, summary));
  CHECK(value_to_publish(3000, summary) == "1000");
}
