// The CAF runtime over a real store: recovery, ordering, idempotency and conflict handling.
#include <boost/test/unit_test.hpp>

#include <future>
#include <thread>

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

const char* team = R"({"name":"Platform"})";

}  // namespace

BOOST_AUTO_TEST_SUITE(entity_runtime)

BOOST_AUTO_TEST_CASE(a_command_is_decided_appended_and_answered_with_the_new_state) {
  auto store = store::make_memory_store();
  infra::manual_clock clock(1790000000000000);
  actors::entity_runtime rt(*store, clock);
  auto r = rt.execute("team", make("team.create", "t-1", team));
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->view.str("name") == "Platform");
  BOOST_TEST(r->position == 1);
  BOOST_TEST(r->stream_version == 1);
  auto stored = store->read_stream("team-t-1");
  BOOST_REQUIRE(stored->size() == 1u);
  BOOST_TEST(stored->front().type == "team.created");
  BOOST_TEST(stored->front().principal == "apikey:test");
  BOOST_TEST(stored->front().correlation_id == "req-1");
  BOOST_TEST(stored->front().occurred_at == 1790000000000000);
}

BOOST_AUTO_TEST_CASE(a_rejected_command_writes_nothing) {
  auto store = store::make_memory_store();
  infra::system_clock clock;
  actors::entity_runtime rt(*store, clock);
  auto r = rt.execute("team", make("team.update", "t-missing", team));
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().code == domain::domain_errc::not_found);
  BOOST_TEST(*store->head_position() == 0);
}

BOOST_AUTO_TEST_CASE(an_entity_recovers_its_state_from_the_log_after_passivation) {
  auto store = store::make_memory_store();
  infra::system_clock clock;
  actors::runtime_options opts;
  opts.idle_timeout = std::chrono::milliseconds(50);
  actors::entity_runtime rt(*store, clock, opts);
  BOOST_REQUIRE(rt.execute("team", make("team.create", "t-1", team)).ok());
  // Passivation is driven by CAF's idle timer; wait for it rather than assume it.
  for (int i = 0; i < 200 && rt.resident_entities() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  BOOST_TEST(rt.resident_entities() == 0u);
  auto r = rt.execute("team", make("team.update", "t-1", R"({"description":"infra"})"));
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->view.str("name") == "Platform");
  BOOST_TEST(r->stream_version == 2);
}

BOOST_AUTO_TEST_CASE(a_stale_entity_catches_up_when_another_writer_moved_the_stream) {
  auto store = store::make_memory_store();
  infra::system_clock clock;
  actors::entity_runtime rt(*store, clock);
  BOOST_REQUIRE(rt.execute("team", make("team.create", "t-1", team)).ok());
  // Another node appends behind this runtime's back.
  store::append_request other;
  other.stream_id = "team-t-1";
  other.expected = store::expected_version::exact(1);
  events::proposed_event e;
  e.type = "team.updated";
  e.payload = R"({"description":"from another node"})";
  other.events.push_back(e);
  BOOST_REQUIRE(store->append(other).ok());
  auto r = rt.execute("team", make("team.update", "t-1", R"({"name":"Renamed"})"));
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->stream_version == 3);
  BOOST_TEST(r->view.str("description") == "from another node");
}

BOOST_AUTO_TEST_CASE(a_retried_command_id_has_one_effect) {
  auto store = store::make_memory_store();
  infra::system_clock clock;
  actors::entity_runtime rt(*store, clock);
  auto cmd = make("team.create", "t-1", team);
  cmd.command_id = "cmd-1";
  BOOST_REQUIRE(rt.execute("team", cmd).ok());
  auto update = make("team.update", "t-1", R"({"name":"B"})");
  update.command_id = "cmd-2";
  auto first = rt.execute("team", update);
  auto second = rt.execute("team", update);
  BOOST_REQUIRE(first.ok());
  BOOST_REQUIRE(second.ok());
  BOOST_TEST(second->duplicate);
  BOOST_TEST(*store->head_position() == 2);
}

BOOST_AUTO_TEST_CASE(concurrent_commands_to_one_entity_are_applied_in_sequence) {
  auto store = store::make_memory_store();
  infra::system_clock clock;
  actors::entity_runtime rt(*store, clock);
  BOOST_REQUIRE(
      rt.execute("renewal_policy", make("renewal_policy.create", "rp-1", R"({"name":"p"})")).ok());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        auto r = rt.execute("renewal_policy",
                            make("renewal_policy.update", "rp-1",
                                 "{\"name\":\"p" + std::to_string(t * 100 + i) + "\"}"));
        if (!r.ok()) ++failures;
      }
    });
  for (auto& th : threads) th.join();
  BOOST_TEST(failures.load() == 0);
  BOOST_TEST(store->read_stream("renewal_policy-rp-1")->size() == 201u);
}

BOOST_AUTO_TEST_CASE(unknown_kinds_and_bad_ids_are_rejected_at_the_registry) {
  auto store = store::make_memory_store();
  infra::system_clock clock;
  actors::entity_runtime rt(*store, clock);
  BOOST_TEST(rt.execute("spaceship", make("spaceship.create", "x", "{}")).error().code ==
             domain::domain_errc::invalid);
  BOOST_TEST(rt.execute("team", make("team.create", "../etc", team)).error().code ==
             domain::domain_errc::invalid);
}

namespace {

/// Owns every stream except those of team t-remote; records what it was asked to forward.
struct fake_router : actors::command_router {
  bool is_local(const std::string& stream) const override { return stream != "team-t-remote"; }
  void forward(const std::string& kind, domain::command cmd,
               actors::command_callback done) override {
    forwarded.push_back(kind + "/" + cmd.entity_id + "/" + cmd.name);
    done(domain::domain_error{domain::domain_errc::unavailable, "forwarded"});
  }
  std::vector<std::string> forwarded;
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_router_sends_commands_for_foreign_entities_away_and_keeps_the_rest) {
  auto store = store::make_memory_store();
  infra::manual_clock clock(1790000000000000);
  actors::entity_runtime rt(*store, clock);
  fake_router router;
  rt.set_router(&router);

  auto local = rt.execute("team", make("team.create", "t-local", team));
  BOOST_TEST(local.ok());
  auto remote = rt.execute("team", make("team.create", "t-remote", team));
  BOOST_REQUIRE(!remote.ok());
  BOOST_TEST(remote.error().message == "forwarded");
  // Invalid ids and kinds fail here, the same way on every node, without a round trip.
  BOOST_TEST(!rt.execute("team", make("team.create", "bad id!", team)).ok());
  BOOST_TEST(!rt.execute("no-such-kind", make("x.create", "t-remote", team)).ok());
  BOOST_TEST(router.forwarded == std::vector<std::string>{"team/t-remote/team.create"});
  BOOST_TEST(!store->read_stream("team-t-remote")->size());

  // What a router delivers here runs here, whoever the router thinks owns it.
  std::promise<actors::command_result> answered;
  rt.submit_local("team", make("team.create", "t-remote", team),
                  [&](actors::command_result r) { answered.set_value(std::move(r)); });
  BOOST_TEST(answered.get_future().get().ok());
  BOOST_TEST(store->read_stream("team-t-remote")->size() == 1u);
  rt.set_router(nullptr);
}

BOOST_AUTO_TEST_CASE(released_entities_recover_from_the_store_on_their_next_command) {
  auto store = store::make_memory_store();
  infra::manual_clock clock(1790000000000000);
  actors::entity_runtime rt(*store, clock);
  BOOST_REQUIRE(rt.execute("team", make("team.create", "t-1", team)).ok());
  BOOST_REQUIRE(rt.execute("team", make("team.create", "t-2", team)).ok());
  BOOST_TEST(rt.resident_entities() == 2u);
  rt.release_where([](const std::string& stream) { return stream == "team-t-1"; });
  for (int i = 0; i < 200 && rt.resident_entities() != 1u; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  BOOST_TEST(rt.resident_entities() == 1u);
  auto again = rt.execute("team", make("team.update", "t-1", R"({"name":"Renamed"})"));
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(again->stream_version == 2);
  BOOST_TEST(again->view.str("name") == "Renamed");
}

BOOST_AUTO_TEST_SUITE_END()
