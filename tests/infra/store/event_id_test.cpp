#include <boost/test/unit_test.hpp>

#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "infra/store/event_id.hpp"
#include "infra/store/memory_store.hpp"

using namespace certctl::store;

BOOST_AUTO_TEST_SUITE(event_ids)

// The example of RFC 9562 appendix A.6: unix_ts_ms 0x017F22E279B0, rand_a 0xCC3,
// rand_b 0x18C4DC0C0C07398F.
BOOST_AUTO_TEST_CASE(the_layout_matches_the_rfc_example) {
  BOOST_TEST(format_uuid_v7(0x017F22E279B0ull, 0xCC3, 0x18C4DC0C0C07398Full) ==
             "017f22e2-79b0-7cc3-98c4-dc0c0c07398f");
}

BOOST_AUTO_TEST_CASE(ids_carry_version_7_the_variant_and_the_current_millisecond) {
  const auto before =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  const auto id = new_event_id();
  BOOST_REQUIRE(id.size() == 36u);
  BOOST_TEST(id[14] == '7');
  BOOST_TEST((id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b'));
  const std::string ms_hex = id.substr(0, 8) + id.substr(9, 4);
  const auto ms = std::stoull(ms_hex, nullptr, 16);
  BOOST_TEST(ms >= before);
  BOOST_TEST(ms <= before + 1000);  // the counter may run ahead only under a flood of ids
}

// Strictly increasing within a process, across threads, so index inserts stay at the right
// edge; and no two alike.
BOOST_AUTO_TEST_CASE(ids_from_many_threads_are_unique_and_each_thread_sees_them_rise) {
  std::mutex mu;
  std::set<std::string> all;
  bool each_rising = true;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      std::vector<std::string> mine;
      for (int i = 0; i < 5000; ++i) mine.push_back(new_event_id());
      bool rising = true;
      for (size_t i = 1; i < mine.size(); ++i) rising = rising && mine[i - 1] < mine[i];
      std::lock_guard<std::mutex> lock(mu);
      each_rising = each_rising && rising;
      all.insert(mine.begin(), mine.end());
    });
  for (auto& t : threads) t.join();
  BOOST_TEST(each_rising);
  BOOST_TEST(all.size() == 40000u);
}

BOOST_AUTO_TEST_CASE(the_store_fills_a_missing_event_id_with_a_v7_id) {
  auto store = make_memory_store();
  append_request req;
  req.stream_id = "s-1";
  certctl::events::proposed_event e;
  e.type = "t";
  e.payload = "{}";
  req.events.push_back(e);
  auto r = store->append(req);
  BOOST_REQUIRE(r.ok());
  auto read = store->read_stream("s-1", 1, 10);
  BOOST_REQUIRE(read.ok());
  BOOST_REQUIRE(read->size() == 1u);
  BOOST_TEST(read->front().event_id.size() == 36u);
  BOOST_TEST(read->front().event_id[14] == '7');
}

BOOST_AUTO_TEST_SUITE_END()
