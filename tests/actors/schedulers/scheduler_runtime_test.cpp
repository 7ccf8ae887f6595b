// The periodic driver: per-loop periods on the injected clock, and the actor's lifecycle.
#include <boost/test/unit_test.hpp>

#include <condition_variable>
#include <mutex>

#include "actors/schedulers/scheduler_runtime.hpp"
#include "tests/actors/schedulers/scheduler_fixture.hpp"

using namespace certctl;
using namespace certctl::test;

namespace {

std::vector<std::string> loops_of(const std::vector<schedulers::tick_report>& reports) {
  std::vector<std::string> out;
  for (const auto& r : reports) out.push_back(r.loop);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(scheduler_runtime)

BOOST_AUTO_TEST_CASE(each_loop_runs_when_its_own_period_has_passed) {
  scheduler_fixture f;
  schedulers::scheduler_options o;
  o.jobs_every = std::chrono::seconds(10);
  o.short_lived_every = std::chrono::seconds(10);
  o.renewal_every = std::chrono::minutes(5);
  o.timeouts_every = std::chrono::minutes(1);
  o.agents_every = std::chrono::minutes(1);
  o.orders_every = std::chrono::seconds(10);
  o.ari_every = std::chrono::minutes(5);
  schedulers::scheduler_runtime s(f.runtime, f.source, f.clock, {}, o);

  BOOST_TEST(loops_of(s.tick(t0)) == (std::vector<std::string>{"short-lived", "renewal", "timeouts",
                                                               "jobs", "agents", "orders", "ari"}),
             boost::test_tools::per_element());
  BOOST_TEST(s.tick(t0 + 5 * us_per_second).empty());
  BOOST_TEST(loops_of(s.tick(t0 + 10 * us_per_second)) ==
                 (std::vector<std::string>{"short-lived", "jobs", "orders"}),
             boost::test_tools::per_element());
  BOOST_TEST(loops_of(s.tick(t0 + us_per_minute)) ==
                 (std::vector<std::string>{"short-lived", "timeouts", "jobs", "agents", "orders"}),
             boost::test_tools::per_element());
  BOOST_TEST(loops_of(s.tick(t0 + 5 * us_per_minute)).size() == 7u);
}

BOOST_AUTO_TEST_CASE(the_actor_ticks_on_start_and_stops_cleanly) {
  scheduler_fixture f;
  BOOST_REQUIRE(f.exec("agent", "agent.register", "agent-1", R"({"name":"web-1"})").ok());
  f.project();
  f.at(t0 + us_per_hour);  // the agent has been silent for an hour

  std::mutex mu;
  std::condition_variable cv;
  std::vector<schedulers::tick_report> seen;
  schedulers::scheduler_options o;
  o.tick_interval = std::chrono::hours(1);  // only the first tick, which runs on start
  o.on_report = [&](const schedulers::tick_report& r) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(r);
    cv.notify_all();
  };
  schedulers::scheduler_runtime s(f.runtime, f.source, f.clock, {}, o);
  s.start();
  s.start();  // idempotent
  BOOST_TEST(s.running());
  {
    // Waits for the actor's report, not for a timer: the bound only guards a broken build.
    std::unique_lock<std::mutex> lock(mu);
    BOOST_REQUIRE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return !seen.empty(); }));
  }
  s.stop();
  BOOST_TEST(!s.running());
  BOOST_REQUIRE(seen.size() == 1u);
  BOOST_TEST(seen[0].loop == "agents");
  BOOST_TEST(seen[0].count("agent.mark_offline") == 1u);
  BOOST_TEST(f.view("agent", "agent-1").str("status") == "Offline");
  s.stop();   // idempotent
  s.start();  // restartable
  s.stop();
}

BOOST_AUTO_TEST_SUITE_END()
