// Two store objects on one log, as two server nodes on one database. Each writer decides its
// batches on its own view of the log (PostgreSQL checks that view and writes in one statement);
// these cases move the log under one writer's feet and check that it never decides on a stale
// view: conflicts, command ids and the hash chain stay exact.
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <map>
#include <mutex>
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
                          const std::string& command_id = "") {
  store::append_request r;
  r.stream_id = stream;
  r.expected = ev;
  r.command_id = command_id;
  if (!command_id.empty()) r.command_outcome = "{\"by\":\"" + command_id + "\"}";
  r.events.push_back(make_event("thing.happened", "{\"n\":1}"));
  return r;
}

std::vector<std::string> shared_backends() {
  return {"sqlite", "postgres"};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(shared_log_writers)

BOOST_DATA_TEST_CASE(a_writer_whose_view_went_stale_decides_on_the_log_not_on_its_view,
                     bdata::make(shared_backends()), backend) {
  store_fixture f(backend);
  auto& a = f.store();
  auto b = f.open_another();
  BOOST_REQUIRE(b);

  // A knows stream x at version 1; B moves it to 2 behind A's back.
  BOOST_REQUIRE(a.append(one("x", expected_version::no_stream())).ok());
  auto b_on_x = b->append(one("x", expected_version::exact(1)));
  BOOST_REQUIRE(b_on_x.ok());
  BOOST_TEST(b_on_x->stream_version == 2);
  BOOST_TEST(b_on_x->first_position == 2);

  // A appends elsewhere first: its head is stale, so this batch is decided again on the log.
  auto a_on_y = a.append(one("y", expected_version::no_stream()));
  BOOST_REQUIRE(a_on_y.ok());
  BOOST_TEST(a_on_y->first_position == 3);

  // A's own view said x is at 1; the log says 2. A duplicate (stream, version) row or a
  // success here would mean A trusted a version B had changed.
  auto stale = a.append(one("x", expected_version::exact(1)));
  BOOST_REQUIRE(!stale.ok());
  BOOST_TEST(stale.error().code == store::store_errc::wrong_expected_version);
  auto fresh = a.append(one("x", expected_version::exact(2)));
  BOOST_REQUIRE(fresh.ok());
  BOOST_TEST(fresh->stream_version == 3);
  BOOST_TEST(fresh->first_position == 4);

  // `any` takes the next version after B's appends, not after A's view.
  BOOST_REQUIRE(b->append(one("y", expected_version::exact(1))).ok());
  auto any = a.append(one("y", expected_version::any()));
  BOOST_REQUIRE(any.ok());
  BOOST_TEST(any->stream_version == 3);

  // A command recorded through B is answered as a duplicate through A, writing nothing.
  auto cmd = b->append(one("z", expected_version::no_stream(), "cmd-b"));
  BOOST_REQUIRE(cmd.ok());
  auto again = a.append(one("z", expected_version::no_stream(), "cmd-b"));
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(again->duplicate_command);
  BOOST_TEST(again->command_outcome == "{\"by\":\"cmd-b\"}");
  BOOST_TEST(again->last_position == cmd->last_position);

  auto chain = store::verify_chain(a);
  BOOST_REQUIRE(chain.ok());
  BOOST_TEST(!chain->first_bad_position.has_value());
  BOOST_TEST(chain->events_checked == 7);
  auto head = b->head_position();
  BOOST_REQUIRE(head.ok());
  BOOST_TEST(*head == 7);
}

BOOST_DATA_TEST_CASE(a_batch_is_chained_onto_a_head_another_writer_moved,
                     bdata::make(shared_backends()), backend) {
  store_fixture f(backend);
  auto& a = f.store();
  auto b = f.open_another();
  BOOST_REQUIRE(b);
  // The answer of an append must name the event the log holds at that position.
  auto holds = [&](const store::append_result& r, const std::string& stream) {
    auto events = b->read_all(r.last_position, 1);
    BOOST_REQUIRE(events.ok());
    BOOST_REQUIRE(events->size() == 1u);
    BOOST_TEST((*events)[0].position == r.last_position);
    BOOST_TEST((*events)[0].hash == r.last_hash);
    BOOST_TEST((*events)[0].stream_id == stream);
    BOOST_TEST((*events)[0].stream_version == r.stream_version);
  };

  // Each writer on its own streams (a cluster with affinity), the head moving between every
  // append of A: the first of A's stale batches is refused and decided again; the next ones
  // (PostgreSQL) are moved onto the head where they are written.
  for (int i = 1; i <= 6; ++i) {
    auto by_b = b->append(one("b-stream", expected_version::exact(i - 1)));
    BOOST_REQUIRE(by_b.ok());
    holds(*by_b, "b-stream");
    auto by_a =
        a.append(one("a-stream", expected_version::exact(i - 1), "cmd-a-" + std::to_string(i)));
    BOOST_REQUIRE(by_a.ok());
    BOOST_TEST(by_a->stream_version == i);
    BOOST_TEST(by_a->first_position == 2 * i);
    BOOST_TEST(by_a->last_position == 2 * i);
    holds(*by_a, "a-stream");
  }
  // The command records carry the positions the events were written at.
  auto again = b->append(one("a-stream", expected_version::exact(6), "cmd-a-4"));
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(again->duplicate_command);
  BOOST_TEST(again->last_position == 8);
  // A version conflict is still one, whatever the head did.
  BOOST_REQUIRE(b->append(one("a-stream", expected_version::exact(6))).ok());
  auto stale = a.append(one("a-stream", expected_version::exact(6)));
  BOOST_REQUIRE(!stale.ok());
  BOOST_TEST(stale.error().code == store::store_errc::wrong_expected_version);

  auto chain = store::verify_chain(a);
  BOOST_REQUIRE(chain.ok());
  BOOST_TEST(!chain->first_bad_position.has_value(), chain->problem);
  BOOST_TEST(chain->events_checked == 13);
}

BOOST_DATA_TEST_CASE(two_writers_racing_on_shared_streams_keep_versions_and_the_chain_exact,
                     bdata::make(shared_backends()), backend) {
  store_fixture f(backend);
  auto other = f.open_another();
  BOOST_REQUIRE(other);
  store::event_store* stores[] = {&f.store(), other.get()};
  constexpr int threads_per_store = 6;
  constexpr int appends_per_thread = 120;
  constexpr int streams = 4;  // few streams, so the two writers keep colliding

  std::atomic<int> written{0}, unexpected{0};
  std::mutex mu;
  std::string first_unexpected;
  std::vector<std::thread> threads;
  for (int s = 0; s < 2; ++s) {
    for (int t = 0; t < threads_per_store; ++t) {
      threads.emplace_back([&, s, t] {
        std::map<std::string, std::int64_t> seen;  // the version each stream last had for us
        for (int i = 0; i < appends_per_thread; ++i) {
          const std::string stream = "shared-" + std::to_string((t + i) % streams);
          // Mostly exact versions from our last answer (often stale), sometimes `any`.
          const auto ev =
              i % 5 == 0 ? expected_version::any() : expected_version::exact(seen[stream]);
          auto r = stores[s]->append(one(stream, ev));
          if (r.ok()) {
            ++written;
            seen[stream] = r->stream_version;
          } else if (r.error().code == store::store_errc::wrong_expected_version) {
            auto events = stores[s]->read_stream(stream);
            if (events.ok()) seen[stream] = static_cast<std::int64_t>(events->size());
          } else {
            std::lock_guard<std::mutex> lock(mu);
            if (unexpected++ == 0) first_unexpected = r.error().message;
          }
        }
      });
    }
  }
  for (auto& th : threads) th.join();
  BOOST_TEST(unexpected.load() == 0, first_unexpected);
  BOOST_TEST(written.load() > 0);

  auto chain = store::verify_chain(f.store());
  BOOST_REQUIRE(chain.ok());
  BOOST_TEST(!chain->first_bad_position.has_value(), chain->problem);
  BOOST_TEST(chain->events_checked == written.load());
  std::int64_t total = 0;
  for (int k = 0; k < streams; ++k) {
    auto events = other->read_stream("shared-" + std::to_string(k));
    BOOST_REQUIRE(events.ok());
    for (size_t i = 0; i < events->size(); ++i)
      BOOST_TEST((*events)[i].stream_version == static_cast<std::int64_t>(i + 1));
    total += static_cast<std::int64_t>(events->size());
  }
  BOOST_TEST(total == written.load());
}

BOOST_DATA_TEST_CASE(two_writers_on_their_own_streams_answer_where_the_log_holds_the_events,
                     bdata::make(shared_backends()), backend) {
  store_fixture f(backend);
  auto other = f.open_another();
  BOOST_REQUIRE(other);
  store::event_store* stores[] = {&f.store(), other.get()};
  constexpr int threads_per_store = 4;
  constexpr int appends_per_thread = 60;
  std::mutex mu;
  std::vector<std::pair<std::string, store::append_result>> answers;
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int s = 0; s < 2; ++s)
    for (int t = 0; t < threads_per_store; ++t)
      threads.emplace_back([&, s, t] {
        const std::string stream = "own-" + std::to_string(s) + "-" + std::to_string(t);
        for (int i = 0; i < appends_per_thread; ++i) {
          auto r = stores[s]->append(
              one(stream, expected_version::exact(i), stream + "-cmd-" + std::to_string(i)));
          if (!r.ok()) {
            ++failed;
            return;
          }
          std::lock_guard<std::mutex> lock(mu);
          answers.emplace_back(stream, *r);
        }
      });
  for (auto& th : threads) th.join();
  BOOST_TEST(failed.load() == 0);
  BOOST_TEST(answers.size() == size_t{2 * threads_per_store * appends_per_thread});

  auto all = f.store().read_all(1, 100000);
  BOOST_REQUIRE(all.ok());
  BOOST_REQUIRE(all->size() == answers.size());
  for (const auto& [stream, r] : answers) {
    const auto& e = (*all)[static_cast<size_t>(r.last_position - 1)];
    BOOST_TEST(e.stream_id == stream);
    BOOST_TEST(e.stream_version == r.stream_version);
    BOOST_TEST(e.hash == r.last_hash);
  }
  auto chain = store::verify_chain(f.store());
  BOOST_REQUIRE(chain.ok());
  BOOST_TEST(!chain->first_bad_position.has_value(), chain->problem);
}

BOOST_AUTO_TEST_SUITE_END()
