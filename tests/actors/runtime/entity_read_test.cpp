// Reading an entity through the runtime: its view in any state, nothing appended, and through
// the router for an entity owned elsewhere.
#include <boost/test/unit_test.hpp>

#include <future>
#include <string>
#include <vector>

#include "actors/runtime/entity_runtime.hpp"
#include "infra/store/memory_store.hpp"

using namespace certctl;

namespace {

actors::command_result exec(actors::entity_runtime& rt, const std::string& kind,
                            const std::string& name, const std::string& id,
                            const std::string& body = "{}") {
  domain::command c;
  c.name = name;
  c.entity_id = id;
  c.body = events::json_object::parse(body).value();
  c.principal = "apikey:test";
  return rt.execute(kind, std::move(c));
}

const char* certificate = R"({"name":"web","common_name":"web.example.com",)"
                          R"("renewal_policy_id":"rp-1","issuer_id":"iss-local",)"
                          R"("owner_id":"o-1","team_id":"t-1"})";

/// Owns every stream except team t-remote's; answers what it forwards with a canned view.
struct answering_router : actors::command_router {
  bool is_local(const std::string& stream) const override { return stream != "team-t-remote"; }
  void forward(const std::string& kind, domain::command cmd,
               actors::command_callback done) override {
    forwarded.push_back(kind + "/" + cmd.entity_id + "/" + cmd.name);
    events::json_object view;
    view.set("id", cmd.entity_id).set("name", "remote");
    done(actors::command_outcome{view, 0, 7, false});
  }
  std::vector<std::string> forwarded;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(entity_read)

BOOST_AUTO_TEST_CASE(a_read_answers_the_current_view_and_version_and_appends_nothing) {
  auto store = store::make_memory_store();
  infra::manual_clock clock(1790000000000000);
  actors::entity_runtime rt(*store, clock);
  BOOST_REQUIRE(exec(rt, "team", "team.create", "t-1", R"({"name":"Platform"})").ok());
  BOOST_REQUIRE(exec(rt, "team", "team.update", "t-1", R"({"description":"infra"})").ok());
  auto r = rt.read("team", "t-1");
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->view.str("name") == "Platform");
  BOOST_TEST(r->view.str("description") == "infra");
  BOOST_TEST(r->stream_version == 2);
  BOOST_TEST(r->position == 0);
  BOOST_TEST(!r->duplicate);
  BOOST_TEST(*store->head_position() == 2);
}

BOOST_AUTO_TEST_CASE(an_archived_certificate_can_be_read) {
  auto store = store::make_memory_store();
  infra::manual_clock clock(1790000000000000);
  actors::entity_runtime rt(*store, clock);
  BOOST_REQUIRE(exec(rt, "certificate", "certificate.create", "mc-1", certificate).ok());
  BOOST_REQUIRE(exec(rt, "certificate", "certificate.archive", "mc-1").ok());
  // The empty update the call sites used before is refused for an Archived certificate...
  auto update = exec(rt, "certificate", "certificate.update", "mc-1");
  BOOST_REQUIRE(!update.ok());
  BOOST_TEST(update.error().code == domain::domain_errc::conflict);
  // ...a read is not.
  auto r = rt.read("certificate", "mc-1");
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->view.str("status") == "Archived");
  BOOST_TEST(r->view.str("common_name") == "web.example.com");
  BOOST_TEST(r->stream_version == 2);
  BOOST_TEST(*store->head_position() == 2);
}

BOOST_AUTO_TEST_CASE(reading_an_entity_that_does_not_exist_is_not_found_and_writes_nothing) {
  auto store = store::make_memory_store();
  infra::manual_clock clock(1790000000000000);
  actors::entity_runtime rt(*store, clock);
  auto r = rt.read("certificate", "mc-missing");
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().code == domain::domain_errc::not_found);
  BOOST_TEST(r.error().message == "certificate mc-missing not found");
  BOOST_TEST(*store->head_position() == 0);
  // A read is not a command the store records, so it cannot shadow a later command id.
  BOOST_TEST(!store->read_stream("certificate-mc-missing")->size());
}

BOOST_AUTO_TEST_CASE(reads_of_unknown_kinds_or_invalid_ids_are_refused_as_invalid) {
  auto store = store::make_memory_store();
  infra::manual_clock clock(1790000000000000);
  actors::entity_runtime rt(*store, clock);
  BOOST_TEST(rt.read("spaceship", "x").error().code == domain::domain_errc::invalid);
  BOOST_TEST(rt.read("team", "../etc").error().code == domain::domain_errc::invalid);
}

BOOST_AUTO_TEST_CASE(an_asynchronous_read_answers_through_its_callback_after_earlier_commands) {
  auto store = store::make_memory_store();
  infra::manual_clock clock(1790000000000000);
  actors::entity_runtime rt(*store, clock);
  std::promise<actors::command_result> created, read;
  domain::command c;
  c.name = "team.create";
  c.entity_id = "t-1";
  c.body = events::json_object::parse(R"({"name":"Platform"})").value();
  rt.submit("team", std::move(c),
            [&](actors::command_result r) { created.set_value(std::move(r)); });
  // Queued behind the create on the same entity, so it sees it.
  rt.read_async("team", "t-1", [&](actors::command_result r) { read.set_value(std::move(r)); });
  BOOST_REQUIRE(created.get_future().get().ok());
  auto r = read.get_future().get();
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->view.str("name") == "Platform");
  BOOST_TEST(r->stream_version == 1);
}

BOOST_AUTO_TEST_CASE(a_read_for_an_entity_owned_elsewhere_goes_through_the_router) {
  auto store = store::make_memory_store();
  infra::manual_clock clock(1790000000000000);
  actors::entity_runtime rt(*store, clock);
  answering_router router;
  rt.set_router(&router);
  BOOST_REQUIRE(exec(rt, "team", "team.create", "t-local", R"({"name":"here"})").ok());
  auto local = rt.read("team", "t-local");
  BOOST_REQUIRE(local.ok());
  BOOST_TEST(local->view.str("name") == "here");
  auto remote = rt.read("team", "t-remote");
  BOOST_REQUIRE(remote.ok());
  BOOST_TEST(remote->view.str("name") == "remote");
  BOOST_TEST(remote->stream_version == 7);
  std::promise<actors::command_result> async_remote;
  rt.read_async("team", "t-remote",
                [&](actors::command_result r) { async_remote.set_value(std::move(r)); });
  BOOST_TEST(async_remote.get_future().get().ok());
  BOOST_TEST(router.forwarded == (std::vector<std::string>{"team/t-remote/runtime.read",
                                                           "team/t-remote/runtime.read"}),
             boost::test_tools::per_element());
  rt.set_router(nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
