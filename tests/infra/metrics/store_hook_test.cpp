// The event store's observer hooks see every committed batch and every answered append.
#include <boost/test/unit_test.hpp>

#include <future>
#include <mutex>
#include <vector>

#include "infra/metrics/metrics.hpp"
#include "infra/store/memory_store.hpp"

using namespace certctl;

namespace {

store::append_request one_event(const std::string& stream,
                                store::expected_version ev = store::expected_version::any()) {
  store::append_request req;
  req.stream_id = stream;
  req.expected = ev;
  events::proposed_event e;
  e.type = "thing.happened";
  e.payload = "{}";
  e.occurred_at = 1790000000000000;
  req.events.push_back(e);
  return req;
}

/// Records what the hooks report; the hooks run on the store's writer thread.
struct recorder {
  std::mutex mu;
  std::vector<size_t> batches;
  std::vector<std::chrono::microseconds> latencies;

  void attach(store::store_options& o) {
    o.on_batch_committed = [this](size_t n, std::chrono::microseconds) {
      std::lock_guard<std::mutex> lock(mu);
      batches.push_back(n);
    };
    o.on_append_completed = [this](std::chrono::microseconds d) {
      std::lock_guard<std::mutex> lock(mu);
      latencies.push_back(d);
    };
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(store_hooks)

BOOST_AUTO_TEST_CASE(each_blocking_append_is_its_own_batch_of_one) {
  recorder rec;
  store::store_options o;
  rec.attach(o);
  auto s = store::make_memory_store(o);
  for (int i = 0; i < 3; ++i) BOOST_REQUIRE(s->append(one_event("s-" + std::to_string(i))).ok());
  std::lock_guard<std::mutex> lock(rec.mu);
  BOOST_TEST(rec.batches == std::vector<size_t>({1, 1, 1}), boost::test_tools::per_element());
  BOOST_TEST(rec.latencies.size() == 3u);
}

BOOST_AUTO_TEST_CASE(concurrent_appends_are_reported_as_one_group_commit) {
  recorder rec;
  store::store_options o;
  o.max_batch = 4;
  // The writer lingers until four appends are queued, so the batch size is deterministic;
  // the wait is only an upper bound and ends as soon as the fourth arrives.
  o.max_batch_wait_us = 5000000;
  rec.attach(o);
  auto s = store::make_memory_store(o);
  std::vector<std::future<store::store_result<store::append_result>>> answers;
  for (int i = 0; i < 4; ++i) {
    auto p = std::make_shared<std::promise<store::store_result<store::append_result>>>();
    answers.push_back(p->get_future());
    s->append_async(
        one_event("s-" + std::to_string(i)),
        [p](store::store_result<store::append_result> r) { p->set_value(std::move(r)); });
  }
  for (auto& a : answers) BOOST_TEST(a.get().ok());
  std::lock_guard<std::mutex> lock(rec.mu);
  BOOST_TEST(rec.batches == std::vector<size_t>({4}), boost::test_tools::per_element());
  BOOST_TEST(rec.latencies.size() == 4u);
}

BOOST_AUTO_TEST_CASE(a_rejected_append_is_still_answered_and_timed) {
  recorder rec;
  store::store_options o;
  rec.attach(o);
  auto s = store::make_memory_store(o);
  BOOST_REQUIRE(s->append(one_event("s-1")).ok());
  auto conflict = s->append(one_event("s-1", store::expected_version::no_stream()));
  BOOST_REQUIRE(!conflict.ok());
  BOOST_TEST(conflict.error().code == store::store_errc::wrong_expected_version);
  std::lock_guard<std::mutex> lock(rec.mu);
  BOOST_TEST(rec.latencies.size() == 2u);
}

BOOST_AUTO_TEST_CASE(hooks_wired_to_the_registry_fill_the_store_histograms) {
  infra::manual_clock clock(1790000000000000);
  infra::metrics m(clock);
  store::store_options o;
  o.on_batch_committed = [&m](size_t n, std::chrono::microseconds d) {
    m.observe_store_batch(n, d);
  };
  o.on_append_completed = [&m](std::chrono::microseconds d) { m.observe_store_append(d); };
  auto s = store::make_memory_store(o);
  for (int i = 0; i < 5; ++i) BOOST_REQUIRE(s->append(one_event("s-1")).ok());
  const std::string text = m.render_prometheus();
  BOOST_TEST(text.find("\ncertctl_event_store_batch_size_count 5\n") != std::string::npos);
  BOOST_TEST(text.find("\ncertctl_event_store_batch_size_sum 5\n") != std::string::npos);
  BOOST_TEST(text.find("\ncertctl_event_store_append_seconds_count 5\n") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
