// The audit checkpoint loop: count and time triggers on a manual clock, no checkpoint of an
// idle log, resumption from the log after a restart, the key kept in the key store.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <thread>

#include "actors/schedulers/audit_checkpoint.hpp"
#include "infra/crypto/random.hpp"
#include "infra/store/checkpoint.hpp"
#include "infra/store/memory_store.hpp"

using namespace certctl;

namespace {

struct checkpoint_fixture {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("certctl-cploop-" + crypto::random_hex(6));
  std::unique_ptr<store::event_store> store = store::make_memory_store();
  infra::manual_clock clock{1790000000000000};
  crypto::key_store keys =
      crypto::key_store::open((dir / "keys").string(), crypto::generate_aead_key()).value();

  checkpoint_fixture() { BOOST_REQUIRE(schedulers::ensure_checkpoint_key(keys).ok()); }
  ~checkpoint_fixture() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  void fill(int n) {
    for (int i = 0; i < n; ++i) {
      store::append_request r;
      r.stream_id = "team-t";
      r.expected = store::expected_version::any();
      events::proposed_event e;
      e.event_id = crypto::uuid_v4();
      e.type = "team.updated";
      e.payload = "{}";
      r.events.push_back(std::move(e));
      BOOST_REQUIRE(store->append(std::move(r)).ok());
    }
  }
  /// The position the tick's checkpoint covered; 0 when it took none.
  std::int64_t tick(schedulers::checkpoint_loop& loop) {
    auto r = loop.tick();
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error()));
    return r->value_or(0);
  }
};

schedulers::checkpoint_options by_count(std::int64_t n) {
  schedulers::checkpoint_options o;
  o.every_events = n;
  o.interval = std::chrono::seconds(0);
  return o;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(audit_checkpoint_loop, checkpoint_fixture)

BOOST_AUTO_TEST_CASE(a_checkpoint_is_taken_every_n_events) {
  schedulers::checkpoint_loop loop(*store, clock, keys, by_count(5));
  fill(4);
  BOOST_TEST(tick(loop) == 0);
  fill(1);
  BOOST_TEST(tick(loop) == 5);  // event 6 is the checkpoint
  fill(4);                      // 7..10: 4 since the checkpoint
  BOOST_TEST(tick(loop) == 0);
  fill(1);
  BOOST_TEST(tick(loop) == 11);
  auto cps = store::read_checkpoints(*store);
  BOOST_REQUIRE(cps.ok());
  BOOST_TEST(cps->size() == 2u);
  BOOST_TEST(store::check_signature(cps->back(), {}) == "");
}

BOOST_AUTO_TEST_CASE(a_checkpoint_is_taken_after_the_interval_but_never_for_an_idle_log) {
  schedulers::checkpoint_options o;
  o.every_events = 0;
  o.interval = std::chrono::seconds(60);
  schedulers::checkpoint_loop loop(*store, clock, keys, o);
  fill(1);
  BOOST_TEST(tick(loop) == 0);
  clock.advance(std::chrono::seconds(59));
  BOOST_TEST(tick(loop) == 0);
  clock.advance(std::chrono::seconds(1));
  BOOST_TEST(tick(loop) == 1);
  clock.advance(std::chrono::minutes(10));
  BOOST_TEST(tick(loop) == 0);
  BOOST_TEST(*store->head_position() == 2);
}

BOOST_AUTO_TEST_CASE(a_restarted_loop_resumes_from_the_last_checkpoint_in_the_log) {
  {
    schedulers::checkpoint_loop first(*store, clock, keys, by_count(3));
    fill(3);
    BOOST_REQUIRE(tick(first) == 3);
  }
  schedulers::checkpoint_loop second(*store, clock, keys, by_count(3));
  fill(2);
  BOOST_TEST(tick(second) == 0);
  fill(1);
  BOOST_TEST(tick(second) == 7);
}

BOOST_AUTO_TEST_CASE(the_key_is_created_once_and_its_public_half_is_stable) {
  auto a = schedulers::ensure_checkpoint_key(keys);
  auto b = schedulers::ensure_checkpoint_key(keys);
  BOOST_REQUIRE(a.ok() && b.ok());
  BOOST_TEST(*a == *b);
  BOOST_TEST(a->find("BEGIN PUBLIC KEY") != std::string::npos);
  BOOST_TEST(keys.contains(schedulers::checkpoint_key_id));
  schedulers::checkpoint_loop loop(*store, clock, keys, by_count(1));
  fill(1);
  BOOST_REQUIRE(tick(loop) == 1);
  auto cps = store::read_checkpoints(*store);
  BOOST_REQUIRE(cps.ok() && cps->size() == 1u);
  BOOST_TEST(store::check_signature(cps->front(), {*a}) == "");
}

BOOST_AUTO_TEST_CASE(the_thread_takes_checkpoints_and_stops) {
  auto o = by_count(2);
  o.poll = std::chrono::milliseconds(10);
  o.file = (dir / "checkpoints.jsonl").string();
  schedulers::checkpoint_loop loop(*store, clock, keys, o);
  loop.start();
  fill(2);
  // Waits for the outcome, whatever the machine's speed; gives up only after a minute.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (*store->head_position() < 3 && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  loop.stop();
  auto cps = store::read_checkpoints(*store);
  BOOST_REQUIRE(cps.ok());
  BOOST_REQUIRE(cps->size() == 1u);
  auto lines = store::read_checkpoint_file(o.file);
  BOOST_REQUIRE(lines.ok());
  BOOST_REQUIRE(lines->size() == 1u);
  BOOST_TEST(store::to_json(lines->front()) == store::to_json(cps->front()));
  loop.stop();  // idempotent
}

BOOST_AUTO_TEST_SUITE_END()
