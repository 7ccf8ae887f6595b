// Agent health over the real read models: silence turns an agent Offline, once.
#include <boost/test/unit_test.hpp>

#include "actors/schedulers/agent_health.hpp"
#include "tests/actors/schedulers/scheduler_fixture.hpp"

using namespace certctl;
using namespace certctl::test;

BOOST_AUTO_TEST_SUITE(agent_health)

BOOST_AUTO_TEST_CASE(an_agent_without_heartbeats_goes_offline_and_back) {
  scheduler_fixture f;
  BOOST_REQUIRE(f.exec("agent", "agent.register", "agent-1", R"({"name":"web-1"})").ok());
  f.at(t0 + 2 * us_per_minute);
  BOOST_REQUIRE(f.exec("agent", "agent.heartbeat", "agent-1").ok());
  f.project();
  schedulers::agent_health loop(f.runtime, f.source);  // offline after 5 min

  BOOST_TEST(loop.tick(f.at(t0 + 7 * us_per_minute)).actions.empty());
  auto r = loop.tick(f.at(t0 + 7 * us_per_minute + us_per_second));
  BOOST_TEST(r.count("agent.mark_offline") == 1u);
  BOOST_TEST(schedulers::summary(r) == "agents: 1 agent.mark_offline");
  BOOST_TEST(f.view("agent", "agent-1").str("status") == "Offline");
  // Ticked again before the read model caught up: no second event.
  loop.tick(f.at(t0 + 8 * us_per_minute));
  f.project();
  loop.tick(f.at(t0 + 9 * us_per_minute));
  auto offline = f.events_of("agent.marked_offline");
  BOOST_REQUIRE(offline.size() == 1u);
  BOOST_TEST(offline[0].principal == "system:agents");

  // It comes back, then falls silent again: a new silence, a new event.
  BOOST_REQUIRE(f.exec("agent", "agent.heartbeat", "agent-1").ok());
  f.project();
  BOOST_TEST(f.view("agent", "agent-1").str("status") == "Online");
  loop.tick(f.at(t0 + 15 * us_per_minute));
  BOOST_TEST(f.events_of("agent.marked_offline").size() == 2u);
}

BOOST_AUTO_TEST_CASE(retired_agents_are_left_alone) {
  scheduler_fixture f;
  BOOST_REQUIRE(f.exec("agent", "agent.register", "agent-1", R"({"name":"web-1"})").ok());
  BOOST_REQUIRE(f.exec("agent", "agent.retire", "agent-1").ok());
  f.project();
  schedulers::agent_health loop(f.runtime, f.source);
  BOOST_TEST(loop.tick(f.at(t0 + us_per_hour)).actions.empty());
}

BOOST_AUTO_TEST_SUITE_END()
