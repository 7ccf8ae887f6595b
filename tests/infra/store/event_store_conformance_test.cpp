// One conformance suite, run against every backend (DESIGN §4). Each case is a sentence.
#define BOOST_TEST_MODULE infra_store
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "infra/store/hash_chain.hpp"
#include "tests/infra/store/store_fixture.hpp"

namespace bdata = boost::unit_test::data;
using namespace certctl;
using store::expected_version;
using testing::make_event;
using testing::store_fixture;

namespace {

store::append_request one(const std::string& stream, expected_version ev,
                          const std::string& payload = "{\"n\":1}") {
  store::append_request r;
  r.stream_id = stream;
  r.expected = ev;
  r.events.push_back(make_event("thing.happened", payload));
  return r;
}

std::int64_t head(store::event_store& s) {
  auto h = s.head_position();
  BOOST_REQUIRE_MESSAGE(h.ok(), (h.ok() ? std::string() : h.error().message));
  return *h;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(event_store_conformance)

BOOST_DATA_TEST_CASE(a_new_stream_accepts_no_stream_once,
                     bdata::make(testing::conformance_backends()), backend) {
  store_fixture f(backend);
  auto first = f.store().append(one("certificate-a", expected_version::no_stream()));
  BOOST_REQUIRE(first.ok());
  BOOST_TEST(first->stream_version == 1);
  BOOST_TEST(first->first_position == 1);
  auto again = f.store().append(one("certificate-a", expected_version::no_stream()));
  BOOST_REQUIRE(!again.ok());
  BOOST_TEST(again.error().code == store::store_errc::wrong_expected_version);
  BOOST_TEST(head(f.store()) == 1);
}

BOOST_DATA_TEST_CASE(an_exact_expected_version_must_match_and_a_conflict_writes_nothing,
                     bdata::make(testing::conformance_backends()), backend) {
  store_fixture f(backend);
  BOOST_REQUIRE(f.store().append(one("s", expected_version::no_stream())).ok());
  BOOST_REQUIRE(f.store().append(one("s", expected_version::exact(1))).ok());
  auto stale = f.store().append(one("s", expected_version::exact(1)));
  BOOST_REQUIRE(!stale.ok());
  BOOST_TEST(stale.error().code == store::store_errc::wrong_expected_version);
  BOOST_TEST(stale.error().message.find("version 2") != std::string::npos);
  BOOST_TEST(head(f.store()) == 2);
  auto any = f.store().append(one("s", expected_version::any()));
  BOOST_REQUIRE(any.ok());
  BOOST_TEST(any->stream_version == 3);
}

BOOST_DATA_TEST_CASE(a_multi_event_append_is_atomic, bdata::make(testing::conformance_backends()),
                     backend) {
  store_fixture f(backend);
  store::append_request r;
  r.stream_id = "job-1";
  r.expected = expected_version::no_stream();
  for (int i = 0; i < 5; ++i)
    r.events.push_back(make_event("job.step", "{\"i\":" + std::to_string(i) + "}"));
  auto ok = f.store().append(r);
  BOOST_REQUIRE(ok.ok());
  BOOST_TEST(ok->first_position == 1);
  BOOST_TEST(ok->last_position == 5);
  BOOST_TEST(ok->stream_version == 5);

  // Second event reuses the first's id: the whole append must fail, nothing lands.
  store::append_request bad;
  bad.stream_id = "job-2";
  bad.events.push_back(make_event("job.step"));
  bad.events.push_back(make_event("job.step"));
  bad.events[0].event_id = bad.events[1].event_id = "11111111-1111-4111-8111-111111111111";
  auto failed = f.store().append(bad);
  BOOST_REQUIRE(!failed.ok());
  BOOST_TEST(head(f.store()) == 5);
  BOOST_TEST(f.store().read_stream("job-2")->empty());
}

BOOST_DATA_TEST_CASE(read_stream_starts_at_the_requested_version,
                     bdata::make(testing::conformance_backends()), backend) {
  store_fixture f(backend);
  for (int i = 0; i < 10; ++i) {
    BOOST_REQUIRE(
        f.store()
            .append(one("a", expected_version::any(), "{\"i\":" + std::to_string(i) + "}"))
            .ok());
    BOOST_REQUIRE(f.store().append(one("b", expected_version::any())).ok());
  }
  auto from4 = f.store().read_stream("a", 4);
  BOOST_REQUIRE(from4.ok());
  BOOST_REQUIRE(from4->size() == 7u);
  BOOST_TEST(from4->front().stream_version == 4);
  BOOST_TEST(from4->front().payload == "{\"i\":3}");
  BOOST_TEST(from4->back().stream_version == 10);
  auto limited = f.store().read_stream("a", 1, 3);
  BOOST_TEST(limited->size() == 3u);
  BOOST_TEST(f.store().read_stream("missing")->empty());
}

BOOST_DATA_TEST_CASE(read_all_starts_at_a_position_and_honours_the_maximum,
                     bdata::make(testing::conformance_backends()), backend) {
  store_fixture f(backend);
  for (int i = 0; i < 20; ++i)
    BOOST_REQUIRE(f.store().append(one("s" + std::to_string(i % 3), expected_version::any())).ok());
  auto page = f.store().read_all(5, 10);
  BOOST_REQUIRE(page.ok());
  BOOST_REQUIRE(page->size() == 10u);
  for (size_t i = 0; i < page->size(); ++i)
    BOOST_TEST((*page)[i].position == 5 + static_cast<std::int64_t>(i));
  BOOST_TEST(f.store().read_all(21, 10)->empty());
  BOOST_TEST(f.store().read_all(15, 100)->size() == 6u);
}

BOOST_DATA_TEST_CASE(subscribe_delivers_history_then_live_events_without_gaps_or_duplicates,
                     bdata::make(testing::conformance_backends()), backend) {
  store_fixture f(backend);
  for (int i = 0; i < 50; ++i)
    BOOST_REQUIRE(f.store().append(one("h", expected_version::any())).ok());
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::int64_t> seen;
  auto sub = f.store().subscribe(10, [&](const events::recorded_event& e) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(e.position);
    cv.notify_all();
  });
  for (int i = 0; i < 50; ++i)
    BOOST_REQUIRE(f.store().append(one("live", expected_version::any())).ok());
  {
    std::unique_lock<std::mutex> lock(mu);
    BOOST_REQUIRE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return seen.size() >= 91; }));
  }
  sub->stop();
  BOOST_REQUIRE(seen.size() == 91u);
  for (size_t i = 0; i < seen.size(); ++i) BOOST_TEST(seen[i] == 10 + static_cast<std::int64_t>(i));
}

// The projector's wake-up: called before the append is answered, so a caller that then waits
// for the projector cannot miss it; never called once stopped.
BOOST_DATA_TEST_CASE(a_commit_watch_is_called_before_each_append_is_answered_until_stopped,
                     bdata::make(testing::conformance_backends()), backend) {
  store_fixture f(backend);
  std::atomic<int> calls{0};
  auto watch = f.store().watch_commits([&] { ++calls; });
  for (int i = 1; i <= 3; ++i) {
    BOOST_REQUIRE(f.store().append(one("w", expected_version::any())).ok());
    BOOST_TEST(calls.load() >= i);  // at least one per commit (the poll adds more)
  }
  watch->stop();
  const int stopped_at = calls.load();
  BOOST_REQUIRE(f.store().append(one("w", expected_version::any())).ok());
  BOOST_TEST(calls.load() == stopped_at);
}

// The interface's default, for stores that only wrap another: a subscription from the head
// whose events trigger the callback (on the subscription's thread, so waited for here).
BOOST_DATA_TEST_CASE(the_default_commit_watch_is_called_for_new_events_only,
                     bdata::make(testing::conformance_backends()), backend) {
  store_fixture f(backend);
  BOOST_REQUIRE(f.store().append(one("old", expected_version::any())).ok());
  std::mutex mu;
  std::condition_variable cv;
  int calls = 0;
  auto watch = f.store().event_store::watch_commits([&] {
    std::lock_guard<std::mutex> lock(mu);
    ++calls;
    cv.notify_all();
  });
  BOOST_REQUIRE(f.store().append(one("new", expected_version::any())).ok());
  BOOST_REQUIRE(f.store().append(one("new", expected_version::any())).ok());
  {
    std::unique_lock<std::mutex> lock(mu);
    BOOST_REQUIRE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return calls >= 2; }));
  }
  watch->stop();
  std::lock_guard<std::mutex> lock(mu);
  BOOST_TEST(calls == 2);  // one per event after the head, none for the older one
}

BOOST_DATA_TEST_CASE(snapshots_round_trip_and_never_go_backwards,
                     bdata::make(testing::conformance_backends()), backend) {
  store_fixture f(backend);
  BOOST_TEST(!f.store().load_snapshot("certificate-x")->has_value());
  BOOST_REQUIRE(
      f.store().save_snapshot({"certificate-x", 7, 2, "{\"status\":\"Active\"}", 0, ""}).ok());
  BOOST_REQUIRE(
      f.store().save_snapshot({"certificate-x", 5, 2, "{\"status\":\"old\"}", 0, ""}).ok());
  auto loaded = f.store().load_snapshot("certificate-x");
  BOOST_REQUIRE(loaded.ok() && loaded->has_value());
  BOOST_TEST((*loaded)->stream_version == 7);
  BOOST_TEST((*loaded)->schema_version == 2);
  BOOST_TEST((*loaded)->state == "{\"status\":\"Active\"}");
}

BOOST_DATA_TEST_CASE(a_command_id_is_executed_once_and_answered_on_retry,
                     bdata::make(testing::conformance_backends()), backend) {
  store_fixture f(backend);
  auto req = one("certificate-c", expected_version::no_stream());
  req.command_id = "cmd-42";
  req.command_outcome = "{\"id\":\"mc-1\",\"status\":201}";
  auto first = f.store().append(req);
  BOOST_REQUIRE(first.ok());
  BOOST_TEST(!first->duplicate_command);
  auto retry = f.store().append(req);
  BOOST_REQUIRE(retry.ok());
  BOOST_TEST(retry->duplicate_command);
  BOOST_TEST(retry->command_outcome == "{\"id\":\"mc-1\",\"status\":201}");
  BOOST_TEST(retry->last_position == first->last_position);
  BOOST_TEST(head(f.store()) == 1);

  auto found = f.store().find_command("cmd-42");
  BOOST_REQUIRE(found.ok() && found->has_value());
  BOOST_TEST((*found)->position == 1);
  auto rec = f.store().record_command({"cmd-rejected", "{\"error\":\"denied\"}", 0});
  BOOST_REQUIRE(rec.ok());
  auto again = f.store().record_command({"cmd-rejected", "{\"error\":\"other\"}", 0});
  BOOST_TEST(again->outcome == "{\"error\":\"denied\"}");
  BOOST_TEST(!f.store().find_command("never")->has_value());
}

BOOST_DATA_TEST_CASE(one_mebibyte_payloads_and_non_ascii_text_round_trip,
                     bdata::make(testing::conformance_backends()), backend) {
  store_fixture f(backend);
  const std::string text = "Zertifikat für Ωmega — 証明書 ✓ \\\"quoted\\\"";
  std::string big =
      "{\"blob\":\"" + std::string(1024 * 1024, 'x') + "\",\"text\":\"" + text + "\"}";
  auto r = one("big", expected_version::any(), big);
  r.events[0].principal = "ключ-api";
  BOOST_REQUIRE(f.store().append(r).ok());
  auto back = f.store().read_stream("big");
  BOOST_REQUIRE(back.ok() && back->size() == 1u);
  BOOST_TEST(back->front().payload.size() > 1024u * 1024u);
  BOOST_TEST(back->front().payload.find("für Ωmega — 証明書 ✓") != std::string::npos);
  BOOST_TEST(back->front().principal == "ключ-api");
  auto chain = store::verify_chain(f.store());
  BOOST_REQUIRE(chain.ok());
  BOOST_TEST(!chain->first_bad_position.has_value());
}

BOOST_DATA_TEST_CASE(bad_appends_get_clear_errors_and_write_nothing,
                     bdata::make(testing::conformance_backends()), backend) {
  store::store_options small;
  small.max_payload_bytes = 1000;
  store_fixture f(backend, small);
  auto too_big = f.store().append(
      one("s", expected_version::any(), "{\"x\":\"" + std::string(2000, 'y') + "\"}"));
  BOOST_REQUIRE(!too_big.ok());
  BOOST_TEST(too_big.error().code == store::store_errc::payload_too_large);
  BOOST_TEST(too_big.error().message.find("1000") != std::string::npos);
  auto not_json = f.store().append(one("s", expected_version::any(), "{\"x\":"));
  BOOST_REQUIRE(!not_json.ok());
  BOOST_TEST(not_json.error().code == store::store_errc::invalid_argument);
  auto not_object = f.store().append(one("s", expected_version::any(), "[1,2]"));
  BOOST_TEST(!not_object.ok());
  auto bad_utf8 = f.store().append(one("s", expected_version::any(), "{\"x\":\"\xff\xfe\"}"));
  BOOST_TEST(!bad_utf8.ok());
  auto no_stream_id = f.store().append(one("", expected_version::any()));
  BOOST_TEST(!no_stream_id.ok());
  BOOST_TEST(head(f.store()) == 0);
}

BOOST_DATA_TEST_CASE(eight_threads_appending_to_distinct_streams_all_land,
                     bdata::make(testing::conformance_backends()), backend) {
  store_fixture f(backend);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        auto r = f.store().append(one("writer-" + std::to_string(t), expected_version::exact(i)));
        if (!r.ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  BOOST_TEST(failures.load() == 0);
  BOOST_TEST(head(f.store()) == 8000);
  for (int t = 0; t < 8; ++t)
    BOOST_TEST(f.store().read_stream("writer-" + std::to_string(t))->size() == 1000u);
  auto chain = store::verify_chain(f.store());
  BOOST_REQUIRE(chain.ok());
  BOOST_TEST(chain->events_checked == 8000);
  BOOST_TEST(!chain->first_bad_position.has_value());
}

BOOST_DATA_TEST_CASE(eight_threads_racing_on_one_stream_win_exactly_once_per_version,
                     bdata::make(testing::conformance_backends()), backend) {
  store_fixture f(backend);
  // Separate store objects where the backend allows, so the race crosses writers too.
  std::vector<std::unique_ptr<store::event_store>> others;
  std::vector<store::event_store*> stores;
  for (int t = 0; t < 8; ++t) {
    auto another = t % 2 ? f.open_another() : nullptr;
    stores.push_back(another ? another.get() : &f.store());
    if (another) others.push_back(std::move(another));
  }
  constexpr int versions = 100;
  std::vector<std::atomic<int>> wins(versions + 1);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int v = 0; v < versions; ++v) {
        auto r = stores[t]->append(one("contended", expected_version::exact(v)));
        if (r.ok())
          ++wins[static_cast<size_t>(v + 1)];
        else if (r.error().code != store::store_errc::wrong_expected_version)
          wins[0] += 1000;
      }
    });
  }
  for (auto& th : threads) th.join();
  BOOST_TEST(wins[0].load() == 0);
  for (int v = 1; v <= versions; ++v) BOOST_TEST(wins[static_cast<size_t>(v)].load() <= 1);
  auto events = f.store().read_stream("contended");
  BOOST_REQUIRE(events.ok());
  for (size_t i = 0; i < events->size(); ++i)
    BOOST_TEST((*events)[i].stream_version == static_cast<std::int64_t>(i + 1));
}

BOOST_DATA_TEST_CASE(a_reader_following_read_all_never_skips_while_eight_writers_append,
                     bdata::make(testing::conformance_backends()), backend) {
  store_fixture f(backend);
  std::vector<std::unique_ptr<store::event_store>> writers;
  for (int t = 0; t < 8; ++t) writers.push_back(f.open_another());
  constexpr int per_writer = 300;
  std::atomic<bool> writing{true};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto& s = writers[t] ? *writers[t] : f.store();
      for (int i = 0; i < per_writer; ++i)
        s.append(one("w" + std::to_string(t), expected_version::any()));
    });
  }
  std::int64_t next = 1;
  bool gap = false;
  std::thread reader([&] {
    while (writing.load() || next <= 8 * per_writer) {
      auto page = f.store().read_all(next, 100);
      if (!page.ok()) continue;
      for (const auto& e : *page) {
        if (e.position != next) gap = true;
        next = e.position + 1;
      }
      if (next > 8 * per_writer) break;
    }
  });
  for (auto& th : threads) th.join();
  writing = false;
  reader.join();
  BOOST_TEST(!gap);
  BOOST_TEST(next == 8 * per_writer + 1);
  auto chain = store::verify_chain(f.store());
  BOOST_REQUIRE(chain.ok());
  BOOST_TEST(!chain->first_bad_position.has_value());
}

BOOST_DATA_TEST_CASE(one_callers_conflict_does_not_fail_another_caller_in_the_same_batch,
                     bdata::make(testing::conformance_backends()), backend) {
  store::store_options lingering;
  lingering.max_batch_wait_us = 200000;  // makes the three appends share one transaction
  store_fixture f(backend, lingering);
  BOOST_REQUIRE(f.store().append(one("x", expected_version::no_stream())).ok());
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::optional<store::store_result<store::append_result>>> results(3);
  int answered = 0;
  auto collect = [&](size_t i) {
    return [&, i](store::store_result<store::append_result> r) {
      std::lock_guard<std::mutex> lock(mu);
      results[i].emplace(std::move(r));
      ++answered;
      cv.notify_all();
    };
  };
  f.store().append_async(one("y", expected_version::no_stream()), collect(0));
  f.store().append_async(one("x", expected_version::no_stream()), collect(1));  // conflicts
  f.store().append_async(one("z", expected_version::no_stream()), collect(2));
  std::unique_lock<std::mutex> lock(mu);
  BOOST_REQUIRE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return answered == 3; }));
  BOOST_TEST(results[0]->ok());
  BOOST_REQUIRE(!results[1]->ok());
  BOOST_TEST(results[1]->error().code == store::store_errc::wrong_expected_version);
  BOOST_TEST(results[2]->ok());
  BOOST_TEST((*results[2])->first_position == 3);
}

BOOST_DATA_TEST_CASE(a_large_batch_is_answered_in_commit_order_and_closing_answers_every_caller,
                     bdata::make(testing::conformance_backends()), backend) {
  // 32 appends in one batch: SQLite answers them on its answer thread, the others on the
  // writer. Either way each caller gets its own answer, in the order of the log.
  store::store_options lingering;
  lingering.max_batch_wait_us = 200000;
  store_fixture f(backend, lingering);
  constexpr size_t callers = 32;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::int64_t> positions;  // in the order the answers came
  size_t failed = 0;
  auto collect = [&](store::store_result<store::append_result> r) {
    std::lock_guard<std::mutex> lock(mu);
    if (r.ok())
      positions.push_back(r->first_position);
    else
      ++failed;
    cv.notify_all();
  };
  for (size_t i = 0; i < callers; ++i)
    f.store().append_async(one("s" + std::to_string(i), expected_version::no_stream()), collect);
  {
    std::unique_lock<std::mutex> lock(mu);
    BOOST_REQUIRE(cv.wait_for(lock, std::chrono::seconds(30),
                              [&] { return positions.size() + failed == callers; }));
  }
  BOOST_TEST(failed == 0u);
  for (size_t i = 0; i < positions.size(); ++i)
    BOOST_TEST(positions[i] == static_cast<std::int64_t>(i + 1));

  // A store closed with appends queued and answers on their way has answered every caller
  // (with the outcome, or "closed") by the time it is gone.
  auto closing = f.open_another(lingering);
  if (!closing) return;  // the in-memory backend has one store object only
  std::atomic<size_t> answered{0};
  for (size_t i = 0; i < callers; ++i)
    closing->append_async(one("t" + std::to_string(i), expected_version::no_stream()),
                          [&](store::store_result<store::append_result>) { ++answered; });
  closing.reset();
  BOOST_TEST(answered.load() == callers);
}

BOOST_DATA_TEST_CASE(every_event_carries_a_verifiable_hash_chain,
                     bdata::make(testing::conformance_backends()), backend) {
  store_fixture f(backend);
  for (int i = 0; i < 25; ++i)
    BOOST_REQUIRE(f.store().append(one("c" + std::to_string(i % 4), expected_version::any())).ok());
  auto all = f.store().read_all(1, 100);
  BOOST_REQUIRE(all.ok());
  BOOST_TEST(all->front().prev_hash == events::genesis_hash());
  for (size_t i = 1; i < all->size(); ++i) BOOST_TEST((*all)[i].prev_hash == (*all)[i - 1].hash);
  auto chain = store::verify_chain(f.store());
  BOOST_REQUIRE(chain.ok());
  BOOST_TEST(chain->events_checked == 25);
  BOOST_TEST(chain->head_hash == all->back().hash);
}

BOOST_DATA_TEST_CASE(changing_one_stored_payload_byte_is_detected_at_that_position,
                     bdata::make(std::vector<std::string>{"sqlite", "postgres"}), backend) {
  store_fixture f(backend);
  for (int i = 0; i < 12; ++i)
    BOOST_REQUIRE(f.store().append(one("t", expected_version::any(), "{\"amount\":100}")).ok());
  f.exec_sql_unguarded("UPDATE events SET payload = '{\"amount\":900}' WHERE position = 7");
  auto chain = store::verify_chain(f.store());
  BOOST_REQUIRE(chain.ok());
  BOOST_REQUIRE(chain->first_bad_position.has_value());
  BOOST_TEST(*chain->first_bad_position == 7);
  BOOST_TEST(chain->events_checked == 6);
}

BOOST_AUTO_TEST_SUITE_END()
