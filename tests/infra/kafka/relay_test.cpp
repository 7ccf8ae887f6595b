// The relay against an in-process mock cluster: everything arrives, in stream order, with the
// CloudEvents headers; an outage of every broker loses nothing; a restart resumes after the
// checkpoint.
#include <boost/test/unit_test.hpp>
#include <thread>

#include "infra/kafka/mock_cluster.hpp"
#include "infra/kafka/relay.hpp"
#include "tests/infra/kafka/kafka_fixture.hpp"

using namespace certctl;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<kafka::mock_cluster> start_cluster(const std::string& topic) {
  auto c = kafka::mock_cluster::start(3);
  BOOST_REQUIRE_MESSAGE(c, (c ? "" : c.error().message));
  BOOST_REQUIRE((*c)->create_topic(topic, 4));
  return std::move(c).value();
}

std::unique_ptr<kafka::relay> make_relay(store::event_store& s, std::shared_ptr<sql::database> db,
                                         const kafka::relay_options& o) {
  auto r = kafka::relay::create(s, std::move(db), o);
  BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  auto started = (*r)->start();
  BOOST_REQUIRE_MESSAGE(started, (started ? "" : started.error().message));
  return std::move(r).value();
}

std::int64_t head(store::event_store& s) {
  auto h = s.head_position();
  BOOST_REQUIRE(h);
  return *h;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(relay)

BOOST_AUTO_TEST_CASE(publishes_history_and_live_events_with_cloudevents_headers) {
  auto cluster = start_cluster("certctl.events");
  auto s = store::open_event_store("memory:");
  BOOST_REQUIRE(s);
  auto db = sql::database::open("memory:");
  BOOST_REQUIRE(db);
  testing::append_script(**s, 7, 40);  // history: committed before the relay starts
  auto r = make_relay(**s, *db,
                      testing::test_relay_options(cluster->bootstrap_servers(), "certctl.events"));
  testing::append_script(**s, 7, 60);  // live
  BOOST_REQUIRE(r->wait_for_confirmed(head(**s), 30s));
  const auto expected = testing::all_events(**s);
  BOOST_REQUIRE_EQUAL(expected.size(), 100u);
  const auto got =
      testing::read_until_complete(cluster->bootstrap_servers(), "certctl.events", expected);
  BOOST_CHECK_EQUAL(testing::check_published(got, expected, "certctl://test"), 0u);
  r->stop();
  auto cp = kafka::load_relay_checkpoint(**db, "kafka");
  BOOST_REQUIRE(cp);
  BOOST_CHECK_EQUAL(*cp, 100);
  BOOST_CHECK_EQUAL(r->status().failures, 0u);
}

BOOST_AUTO_TEST_CASE(an_outage_of_every_broker_delays_delivery_and_loses_nothing) {
  auto cluster = start_cluster("events.outage");
  auto s = store::open_event_store("memory:");
  BOOST_REQUIRE(s);
  auto db = sql::database::open("memory:");
  BOOST_REQUIRE(db);
  auto r = make_relay(**s, *db,
                      testing::test_relay_options(cluster->bootstrap_servers(), "events.outage"));
  testing::append_script(**s, 5, 20);
  BOOST_REQUIRE(r->wait_for_confirmed(20, 30s));

  BOOST_REQUIRE(cluster->set_down(-1));
  testing::append_script(**s, 5, 50);
  // Nothing can be confirmed while every broker is down, and the checkpoint must not move.
  BOOST_CHECK(!r->wait_for_confirmed(21, 1500ms));
  BOOST_CHECK_EQUAL(r->status().confirmed, 20);
  BOOST_CHECK_EQUAL(r->status().produced, 70);
  auto cp = kafka::load_relay_checkpoint(**db, "kafka");
  BOOST_REQUIRE(cp);
  BOOST_CHECK_EQUAL(*cp, 20);

  BOOST_REQUIRE(cluster->set_up(-1));
  BOOST_REQUIRE(r->wait_for_confirmed(70, 60s));
  const auto expected = testing::all_events(**s);
  const auto got =
      testing::read_until_complete(cluster->bootstrap_servers(), "events.outage", expected);
  const size_t duplicates = testing::check_published(got, expected, "certctl://test");
  BOOST_TEST_MESSAGE("duplicates after the outage: " << duplicates);
  BOOST_CHECK_EQUAL(r->status().failures, 0u);
}

BOOST_AUTO_TEST_CASE(a_restart_resumes_after_the_checkpoint_in_the_logs_database) {
  auto cluster = start_cluster("events.restart");
  testing::temp_dir dir;
  const std::string url = "sqlite://" + (dir.path / "log.db").string();
  auto s = store::open_event_store(url);
  BOOST_REQUIRE_MESSAGE(s, (s ? "" : s.error().message));
  const auto options = testing::test_relay_options(cluster->bootstrap_servers(), "events.restart");
  {
    auto db = sql::database::open(url);
    BOOST_REQUIRE(db);
    auto r = make_relay(**s, *db, options);
    testing::append_script(**s, 4, 40);
    BOOST_REQUIRE(r->wait_for_confirmed(40, 30s));
    r->stop();
  }
  testing::append_script(**s, 4, 30);  // committed while no relay runs
  {
    // A fresh database handle: the checkpoint comes from the table, not from memory.
    auto db = sql::database::open(url);
    BOOST_REQUIRE(db);
    auto cp = kafka::load_relay_checkpoint(**db, "kafka");
    BOOST_REQUIRE(cp);
    BOOST_CHECK_EQUAL(*cp, 40);
    auto r = make_relay(**s, *db, options);
    BOOST_CHECK_EQUAL(r->status().confirmed, 40);
    BOOST_REQUIRE(r->wait_for_confirmed(70, 30s));
    r->stop();
    BOOST_CHECK_EQUAL(r->status().stored, 70);
  }
  const auto expected = testing::all_events(**s);
  const auto got =
      testing::read_until_complete(cluster->bootstrap_servers(), "events.restart", expected);
  // A clean stop confirmed everything it produced, so nothing is published twice.
  BOOST_CHECK_EQUAL(testing::check_published(got, expected, "certctl://test"), 0u);
  BOOST_CHECK_EQUAL(got.size(), 70u);
}

BOOST_AUTO_TEST_CASE(a_refused_record_stalls_the_relay_and_is_retried_not_skipped) {
  auto cluster = start_cluster("events.refused");
  auto s = store::open_event_store("memory:");
  BOOST_REQUIRE(s);
  auto db = sql::database::open("memory:");
  BOOST_REQUIRE(db);
  auto options = testing::test_relay_options(cluster->bootstrap_servers(), "events.refused");
  // A producer limit smaller than one record: each attempt fails permanently.
  options.properties.push_back({"message.max.bytes", "1000"});
  options.max_retry_backoff = 200ms;
  auto r = make_relay(**s, *db, options);
  testing::append_script(**s, 2, 3);
  store::append_request big;
  big.stream_id = "certificate-big";
  events::proposed_event e;
  e.type = "certificate.created";
  e.payload = "{\"pem\":\"" + std::string(2000, 'A') + "\"}";
  big.events.push_back(e);
  BOOST_REQUIRE((*s)->append(big));
  testing::append_script(**s, 2, 2);
  BOOST_REQUIRE(r->wait_for_confirmed(3, 30s));
  // Each attempt recreates the producer (about a second here); wait for a second attempt.
  for (int i = 0; i < 100 && r->status().failures < 2; ++i) std::this_thread::sleep_for(100ms);
  const auto st = r->status();
  BOOST_CHECK_EQUAL(st.confirmed, 3);  // stuck before position 4, never past it
  BOOST_CHECK_GE(st.failures, 2u);     // and retrying
  BOOST_CHECK_NE(st.last_error.find("position 4"), std::string::npos);
  BOOST_TEST_MESSAGE("last error: " << st.last_error);
}

BOOST_AUTO_TEST_CASE(create_refuses_bad_options) {
  auto s = store::open_event_store("memory:");
  BOOST_REQUIRE(s);
  auto db = sql::database::open("memory:");
  BOOST_REQUIRE(db);
  kafka::relay_options o;
  BOOST_CHECK(!kafka::relay::create(**s, *db, o));  // no bootstrap servers
  o.bootstrap_servers = "127.0.0.1:1";
  o.properties = {{"no.such.property", "1"}};
  auto r = kafka::relay::create(**s, *db, o);
  BOOST_REQUIRE(!r);
  BOOST_CHECK_NE(r.error().message.find("no.such.property"), std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
