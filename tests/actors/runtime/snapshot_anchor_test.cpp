// Snapshots carry the chain position and hash they fold up to; recovery uses a snapshot only
// when the log confirms both, else it replays the entity's events.
#include <boost/test/unit_test.hpp>

#include "actors/runtime/entity_runtime.hpp"
#include "infra/store/memory_store.hpp"

using namespace certctl;

namespace {

domain::command make(const std::string& name, const std::string& id, const std::string& body) {
  domain::command c;
  c.name = name;
  c.entity_id = id;
  c.body = events::json_object::parse(body).value();
  c.principal = "apikey:test";
  c.correlation_id = "req-1";
  return c;
}

/// A team with two events and a snapshot after each (snapshot_every = 1), then passivated, so
/// the next command recovers from the store.
struct snapshotted_team {
  std::unique_ptr<store::event_store> store = store::make_memory_store();
  infra::manual_clock clock{1790000000000000};
  std::unique_ptr<actors::entity_runtime> rt;

  snapshotted_team() {
    actors::runtime_options opts;
    opts.snapshot_every = 1;
    opts.idle_timeout = std::chrono::minutes(5);
    rt = std::make_unique<actors::entity_runtime>(*store, clock, opts);
    BOOST_REQUIRE(rt->execute("team", make("team.create", "t-1", R"({"name":"Platform"})")).ok());
    BOOST_REQUIRE(
        rt->execute("team", make("team.update", "t-1", R"({"description":"infra"})")).ok());
  }

  store::snapshot saved() {
    auto s = store->load_snapshot("team-t-1");
    BOOST_REQUIRE(s.ok() && s->has_value());
    return **s;
  }

  /// Overwrites the stored snapshot with `s` whose state says description = "forged" (a
  /// state the events never produced, so the test sees which source recovery used).
  void plant(store::snapshot s) {
    // The team aggregate's snapshot is {"view": <the entity's view>, "deleted": ...}.
    auto state = events::json_object::parse(s.state);
    BOOST_REQUIRE(state.has_value());
    auto view = events::json_object::parse(state->raw("view"));
    BOOST_REQUIRE(view.has_value());
    BOOST_REQUIRE(view->str("description") == "infra");
    view->set("description", "forged");
    state->set_raw("view", view->dump());
    s.state = state->dump();
    BOOST_REQUIRE(store->save_snapshot(s).ok());
  }

  std::string description_after_recovery() {
    clock.advance(std::chrono::minutes(5));
    BOOST_REQUIRE(rt->sweep_idle());
    BOOST_REQUIRE(rt->resident_entities() == 0u);
    auto r = rt->execute("team", make(std::string(actors::read_command_name), "t-1", "{}"));
    BOOST_REQUIRE(r.ok());
    return r->view.str("description");
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(snapshot_anchor)

BOOST_AUTO_TEST_CASE(a_snapshot_records_the_position_and_hash_of_its_last_event) {
  snapshotted_team t;
  const auto s = t.saved();
  BOOST_TEST(s.stream_version == 2);
  auto events = t.store->read_stream("team-t-1", 2, 1);
  BOOST_REQUIRE(events.ok() && events->size() == 1u);
  BOOST_TEST(s.position == events->front().position);
  BOOST_TEST(s.hash == events->front().hash);
  BOOST_TEST(!s.hash.empty());
}

BOOST_AUTO_TEST_CASE(a_snapshot_whose_anchor_matches_the_log_is_used) {
  snapshotted_team t;
  t.plant(t.saved());
  // The planted state is what recovery restored: proof the snapshot path is taken at all,
  // which the two refusals below depend on.
  BOOST_TEST(t.description_after_recovery() == "forged");
}

BOOST_AUTO_TEST_CASE(a_snapshot_whose_hash_differs_from_the_log_is_ignored_and_events_replayed) {
  snapshotted_team t;
  auto s = t.saved();
  s.hash = std::string(64, '0');
  t.plant(s);
  BOOST_TEST(t.description_after_recovery() == "infra");
}

BOOST_AUTO_TEST_CASE(a_snapshot_whose_position_differs_from_the_log_is_ignored) {
  snapshotted_team t;
  auto s = t.saved();
  s.position += 1;
  t.plant(s);
  BOOST_TEST(t.description_after_recovery() == "infra");
}

BOOST_AUTO_TEST_CASE(an_unanchored_snapshot_is_ignored) {
  snapshotted_team t;
  auto s = t.saved();
  s.position = 0;
  s.hash.clear();
  t.plant(s);
  BOOST_TEST(t.description_after_recovery() == "infra");
}

BOOST_AUTO_TEST_SUITE_END()
