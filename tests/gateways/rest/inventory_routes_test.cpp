// GET /api/v1/audit/inventory (the point-in-time fold over the log) and GET /api/v1/audit/verify
// (the hash chain), over an in-process runtime on a memory store with a manual clock.
#include <boost/test/unit_test.hpp>

#include "actors/runtime/entity_runtime.hpp"
#include "events/json.hpp"
#include "events/time.hpp"
#include "gateways/rest/inventory_routes.hpp"
#include "infra/store/memory_store.hpp"

using namespace certctl;
namespace rest = gateways::rest;
namespace http = gateways::http;

namespace {

constexpr events::timestamp_us t0 = 1790000000000000;
constexpr events::timestamp_us second = 1000000;

domain::command cmd(const std::string& name, const std::string& id, events::json_object body) {
  domain::command c;
  c.name = name;
  c.entity_id = id;
  c.body = std::move(body);
  c.principal = "apikey:test";
  return c;
}

http::raw_request get(const std::string& path, http::query_map query = {},
                      const std::string& token = "viewer-token") {
  http::raw_request r;
  r.method = "GET";
  r.path = path;
  r.query = std::move(query);
  r.remote_addr = "127.0.0.1";
  if (!token.empty()) r.headers.emplace("Authorization", "Bearer " + token);
  return r;
}

/// mc-1 created at t0 and archived at t0+10s; mc-2 created at t0+20s.
struct fixture {
  fixture()
      : store(store::make_memory_store()),
        runtime(*store, clock),
        router(http::key_store::from_named_keys(
            {{"auditor", "viewer-token", http::role::viewer, {}}})) {
    for (const char* id : {"mc-1", "mc-2"}) {
      if (std::string(id) == "mc-2") clock.set(t0 + 20 * second);
      events::json_object cert;
      cert.set("name", id)
          .set("common_name", std::string(id) + ".example.com")
          .set("renewal_policy_id", "rp-1")
          .set("issuer_id", "iss-local")
          .set("owner_id", "o-1")
          .set("team_id", "t-1");
      BOOST_REQUIRE(runtime.execute("certificate", cmd("certificate.create", id, cert)).ok());
      if (std::string(id) == "mc-1") {
        clock.set(t0 + 10 * second);
        BOOST_REQUIRE(runtime.execute("certificate", cmd("certificate.archive", id, {})).ok());
      }
    }
    rest::add_inventory_routes(router, ctx);
    BOOST_REQUIRE(!router.registration_error());
  }

  /// The inventory document as of `t` (RFC 3339), parsed; fails the test on a non-200.
  events::json_object as_of(events::timestamp_us t, const std::string& kind = "") {
    http::query_map q{{"as_of", events::format_rfc3339(t)}};
    if (!kind.empty()) q.emplace("kind", kind);
    auto resp = router.handle(get("/api/v1/audit/inventory", q));
    BOOST_REQUIRE_MESSAGE(resp.status == 200, resp.body);
    return events::json_object::parse(resp.body).value();
  }

  infra::manual_clock clock{t0};
  std::unique_ptr<store::event_store> store;
  actors::entity_runtime runtime;
  http::router router;
  rest::inventory_context ctx{*store};
};

std::vector<std::string> statuses(const events::json_object& doc) {
  std::vector<std::string> out;
  for (const auto& c : doc.object_array("certificates"))
    out.push_back(c.str("id") + "=" + c.str("status"));
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(inventory_routes)

BOOST_FIXTURE_TEST_CASE(the_inventory_as_of_an_instant_shows_the_state_then, fixture) {
  auto before = as_of(t0 - 1);
  BOOST_TEST(before.int64("total") == 0);
  BOOST_TEST(before.int64("position") == 0);

  auto created = as_of(t0 + 5 * second);
  BOOST_TEST(created.str("kind") == "certificate");
  BOOST_TEST(created.str("as_of") == events::format_rfc3339(t0 + 5 * second));
  BOOST_TEST(created.int64("total") == 1);
  BOOST_TEST(statuses(created) == std::vector<std::string>{"mc-1=Pending"},
             boost::test_tools::per_element());

  auto later = as_of(t0 + 30 * second);
  BOOST_TEST(later.int64("total") == 2);
  BOOST_TEST(statuses(later) == (std::vector<std::string>{"mc-1=Archived", "mc-2=Pending"}),
             boost::test_tools::per_element());
  BOOST_TEST(later.int64("position") > created.int64("position"));
}

BOOST_FIXTURE_TEST_CASE(other_kinds_are_replayed_by_name, fixture) {
  auto jobs = as_of(t0 + 30 * second, "job");
  BOOST_TEST(jobs.str("kind") == "job");
  BOOST_TEST(jobs.has("jobs"));
  BOOST_TEST(jobs.int64("total") == 0);
}

BOOST_FIXTURE_TEST_CASE(bad_parameters_are_400_and_a_key_is_required, fixture) {
  BOOST_TEST(router.handle(get("/api/v1/audit/inventory")).status == 400);
  BOOST_TEST(router.handle(get("/api/v1/audit/inventory", {{"as_of", "yesterday"}})).status == 400);
  auto unknown = router.handle(
      get("/api/v1/audit/inventory", {{"as_of", "2026-01-01T00:00:00Z"}, {"kind", "widget"}}));
  BOOST_TEST(unknown.status == 400);
  BOOST_TEST(unknown.body.find("unknown kind") != std::string::npos, unknown.body);
  BOOST_TEST(router.handle(get("/api/v1/audit/inventory", {{"as_of", "2026-01-01T00:00:00Z"}}, ""))
                 .status == 401);
  BOOST_TEST(router.handle(get("/api/v1/audit/verify", {}, "")).status == 401);
}

BOOST_FIXTURE_TEST_CASE(the_chain_of_an_untouched_log_verifies, fixture) {
  auto resp = router.handle(get("/api/v1/audit/verify"));
  BOOST_REQUIRE(resp.status == 200);
  auto doc = events::json_object::parse(resp.body).value();
  BOOST_TEST(doc.str("status") == "intact");
  BOOST_TEST(doc.int64("events_checked") == store->head_position().value());
  BOOST_TEST(doc.str("head_hash").size() == 64u);
  BOOST_TEST(!doc.has("first_bad_position"));
}

BOOST_FIXTURE_TEST_CASE(walks_beyond_the_limit_get_503_with_retry_after, fixture) {
  ctx.running = ctx.max_concurrent;  // as if that many walks were under way
  auto resp = router.handle(get("/api/v1/audit/verify"));
  BOOST_TEST(resp.status == 503);
  bool retry_after = false;
  for (const auto& [name, value] : resp.headers) retry_after |= name == "Retry-After";
  BOOST_TEST(retry_after);
  ctx.running = 0;
  BOOST_TEST(router.handle(get("/api/v1/audit/verify")).status == 200);
}

BOOST_AUTO_TEST_SUITE_END()
