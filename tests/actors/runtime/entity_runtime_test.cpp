// The CAF runtime over a real store: recovery, ordering, idempotency and conflict handling.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

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
  infra::manual_clock clock(1790000000000000);
  actors::runtime_options opts;
  opts.idle_timeout = std::chrono::minutes(5);  // the periodic look never comes during the test
  actors::entity_runtime rt(*store, clock, opts);
  BOOST_REQUIRE(rt.execute("team", make("team.create", "t-1", team)).ok());
  // Idleness is measured on the injected clock: not yet idle, it stays.
  clock.advance(std::chrono::minutes(4));
  BOOST_REQUIRE(rt.sweep_idle());
  BOOST_TEST(rt.resident_entities() == 1u);
  clock.advance(std::chrono::minutes(1));
  BOOST_REQUIRE(rt.sweep_idle());
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
  // No wait: both messages are enqueued in the registry's mailbox by this thread, in order,
  // and a CAF mailbox hands normal messages out in the order they were enqueued.
  BOOST_TEST(rt.resident_entities() == 1u);
  auto again = rt.execute("team", make("team.update", "t-1", R"({"name":"Renamed"})"));
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(again->stream_version == 2);
  BOOST_TEST(again->view.str("name") == "Renamed");
}

namespace {

/// A memory store whose asynchronous appends can be held back: the entity then never hears
/// from its append, as with a store that hangs.
struct holding_store : store::event_store {
  std::unique_ptr<store::event_store> inner = store::make_memory_store();
  std::mutex mu;
  bool hold = false;
  std::vector<std::pair<store::append_request, append_callback>> held;

  void release() {
    std::vector<std::pair<store::append_request, append_callback>> go;
    {
      std::lock_guard<std::mutex> lock(mu);
      hold = false;
      go.swap(held);
    }
    // Synchronously, so the appends have committed when release() returns.
    for (auto& [req, done] : go) done(inner->append(std::move(req)));
  }

  store::store_result<store::append_result> append(store::append_request req) override {
    return inner->append(std::move(req));
  }
  void append_async(store::append_request req, append_callback done) override {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (hold) {
        held.emplace_back(std::move(req), std::move(done));
        return;
      }
    }
    inner->append_async(std::move(req), std::move(done));
  }
  store::store_result<std::vector<events::recorded_event>> read_stream(const std::string& stream,
                                                                       std::int64_t from,
                                                                       size_t max) override {
    return inner->read_stream(stream, from, max);
  }
  store::store_result<std::vector<events::recorded_event>> read_all(std::int64_t from,
                                                                    size_t max) override {
    return inner->read_all(from, max);
  }
  store::store_result<std::int64_t> head_position() override { return inner->head_position(); }
  std::unique_ptr<store::subscription> subscribe(std::int64_t from,
                                                 store::event_handler handler) override {
    return inner->subscribe(from, std::move(handler));
  }
  std::unique_ptr<store::commit_watch> watch_commits(std::function<void()> on_commit) override {
    return inner->watch_commits(std::move(on_commit));
  }
  store::store_result<done> save_snapshot(const store::snapshot& s) override {
    return inner->save_snapshot(s);
  }
  store::store_result<std::optional<store::snapshot>> load_snapshot(
      const std::string& stream) override {
    return inner->load_snapshot(stream);
  }
  store::store_result<store::command_record> record_command(
      const store::command_record& rec) override {
    return inner->record_command(rec);
  }
  store::store_result<std::optional<store::command_record>> find_command(
      const std::string& id) override {
    return inner->find_command(id);
  }
  std::string backend() const override { return "holding"; }
};

}  // namespace

BOOST_AUTO_TEST_CASE(commands_nobody_answers_time_out_and_late_answers_are_dropped) {
  holding_store store;
  infra::system_clock clock;
  actors::runtime_options opts;
  opts.command_timeout = std::chrono::milliseconds(200);
  actors::entity_runtime rt(store, clock, opts);
  store.hold = true;

  std::atomic<int> calls{0};
  std::promise<actors::command_result> submitted;
  rt.submit("team", make("team.create", "t-2", team), [&](actors::command_result r) {
    if (calls++ == 0) submitted.set_value(std::move(r));
  });
  const auto start = std::chrono::steady_clock::now();
  auto r = rt.execute("team", make("team.create", "t-1", team));
  const auto waited_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now() - start)
                             .count();
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().code == domain::domain_errc::unavailable);
  BOOST_TEST(r.error().message.find("team t-1 did not answer") != std::string::npos);
  BOOST_TEST(waited_ms >= 200);
  BOOST_TEST(waited_ms < 5000);

  auto f = submitted.get_future();
  BOOST_REQUIRE(f.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
  auto sr = f.get();
  BOOST_REQUIRE(!sr.ok());
  BOOST_TEST(sr.error().code == domain::domain_errc::unavailable);

  // The store comes back: both commands commit after all, nobody is told twice, and the
  // entities carry on.
  store.release();
  BOOST_TEST(store.inner->head_position().value() == 2);
  auto next = rt.execute("team", make("team.update", "t-1", R"({"name":"Renamed"})"));
  BOOST_REQUIRE(next.ok());
  BOOST_TEST(next->stream_version == 2);
  BOOST_REQUIRE(rt.execute("team", make("team.update", "t-2", R"({"name":"Renamed"})")).ok());
  BOOST_TEST(calls.load() == 1);
}

BOOST_AUTO_TEST_CASE(every_submit_is_answered_once_and_in_order_per_entity) {
  auto store = store::make_memory_store();
  infra::system_clock clock;
  actors::entity_runtime rt(*store, clock);
  constexpr int threads_n = 8, per_thread = 500, entities = 3;
  for (int e = 0; e < entities; ++e)
    BOOST_REQUIRE(rt.execute("team", make("team.create", "t-" + std::to_string(e), team)).ok());

  std::vector<std::atomic<int>> calls(threads_n * per_thread);
  std::atomic<int> answered{0}, failures{0};
  std::mutex mu;
  std::condition_variable all_answered;
  std::map<int, std::vector<std::int64_t>> versions_by_entity;  // in delivery order
  std::map<std::pair<int, int>, std::vector<std::int64_t>> versions_by_sender;
  std::vector<std::thread> threads;
  for (int t = 0; t < threads_n; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        const int e = (t + i) % entities, n = t * per_thread + i;
        rt.submit("team",
                  make("team.update", "t-" + std::to_string(e),
                       "{\"name\":\"n" + std::to_string(n) + "\"}"),
                  [&, t, e, n](actors::command_result r) {
                    ++calls[static_cast<size_t>(n)];
                    if (!r.ok()) {
                      ++failures;
                    } else {
                      std::lock_guard<std::mutex> lock(mu);
                      versions_by_entity[e].push_back(r->stream_version);
                      versions_by_sender[{t, e}].push_back(r->stream_version);
                    }
                    if (++answered == threads_n * per_thread) {
                      std::lock_guard<std::mutex> lock(mu);
                      all_answered.notify_all();
                    }
                  });
      }
    });
  for (auto& th : threads) th.join();
  {
    // Waits for the entities' answers, not for a timer: the bound only guards a broken build.
    std::unique_lock<std::mutex> lock(mu);
    all_answered.wait_for(lock, std::chrono::seconds(60),
                          [&] { return answered.load() == threads_n * per_thread; });
  }
  // A read queues behind every command of its entity and is answered only after their
  // callbacks ran on the entity's thread: a second call from the entity would show now.
  for (int e = 0; e < entities; ++e) BOOST_REQUIRE(rt.read("team", "t-" + std::to_string(e)).ok());

  BOOST_TEST(answered.load() == threads_n * per_thread);
  BOOST_TEST(failures.load() == 0);
  int not_once = 0;
  for (auto& c : calls)
    if (c.load() != 1) ++not_once;
  BOOST_TEST(not_once == 0);
  std::lock_guard<std::mutex> lock(mu);
  std::int64_t total = 0;
  for (const auto& [e, versions] : versions_by_entity) {
    // Each entity answers in its own order: versions 2, 3, ... with no gap or repeat.
    bool in_order = true;
    for (size_t k = 0; k < versions.size(); ++k)
      if (versions[k] != static_cast<std::int64_t>(k) + 2) in_order = false;
    BOOST_TEST(in_order, "entity t-" << e);
    total += static_cast<std::int64_t>(versions.size());
  }
  BOOST_TEST(total == threads_n * per_thread);
  // And commands from one thread to one entity take effect in the order they were submitted.
  for (const auto& [key, versions] : versions_by_sender)
    BOOST_TEST(std::is_sorted(versions.begin(), versions.end()),
               "thread " << key.first << " entity " << key.second);
  BOOST_TEST(store->head_position().value() == entities + threads_n * per_thread);
}

BOOST_AUTO_TEST_CASE(submits_the_registry_refuses_are_answered_through_the_callback) {
  auto store = store::make_memory_store();
  infra::system_clock clock;
  actors::entity_runtime rt(*store, clock);
  std::promise<actors::command_result> kind, id;
  rt.submit("spaceship", make("spaceship.create", "x", "{}"),
            [&](actors::command_result r) { kind.set_value(std::move(r)); });
  rt.submit("team", make("team.create", "../etc", team),
            [&](actors::command_result r) { id.set_value(std::move(r)); });
  auto k = kind.get_future().get();
  auto i = id.get_future().get();
  BOOST_REQUIRE(!k.ok());
  BOOST_TEST(k.error().code == domain::domain_errc::invalid);
  BOOST_REQUIRE(!i.ok());
  BOOST_TEST(i.error().code == domain::domain_errc::invalid);
}

BOOST_AUTO_TEST_SUITE_END()
