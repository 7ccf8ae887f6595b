// The router in-process: matching precedence, registration checks, position waits, auth modes.
#include <boost/test/unit_test.hpp>

#include "gateways/http/key_file.hpp"
#include "gateways/http/router.hpp"
#include "tests/gateways/http/server_fixture.hpp"

using namespace certctl::gateways::http;

namespace {

raw_request get(std::string path, std::string key = {}) {
  raw_request r;
  r.method = "GET";
  r.path = std::move(path);
  r.remote_addr = "10.0.0.1";
  if (!key.empty()) r.headers.emplace("authorization", "Bearer " + key);
  return r;
}

handler echo(std::string tag) {
  return [tag](request_context& ctx) {
    std::string body = tag;
    for (const auto& [k, v] : ctx.path_params) body += " " + k + "=" + v;
    response r = json_response(body);
    r.content_type = "text/plain";
    return r;
  };
}

key_store one_key(const char* spec) {
  return key_store::from_named_keys(*parse_named_keys(spec));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rest_router)

BOOST_AUTO_TEST_CASE(a_literal_segment_beats_a_parameter_and_params_are_extracted) {
  router r(key_store{});
  r.add("GET", "/agents/{id}", role::none, echo("by-id"));
  r.add("GET", "/agents/retired", role::none, echo("retired"));
  r.add("GET", "/agents/{id}/jobs/{job}", role::none, echo("job"));
  BOOST_REQUIRE(!r.registration_error());
  BOOST_TEST(r.handle(get("/agents/retired")).body == "retired");
  BOOST_TEST(r.handle(get("/agents/a-1")).body == "by-id id=a-1");
  BOOST_TEST(r.handle(get("/agents/a-1/jobs/j-2")).body == "job id=a-1 job=j-2");
  BOOST_TEST(r.handle(get("/agents/")).status == 404);
  BOOST_TEST(r.handle(get("/agents")).status == 404);
  BOOST_TEST(r.handle(get("agents")).status == 404);
}

BOOST_AUTO_TEST_CASE(a_more_specific_pattern_without_the_method_does_not_hide_another) {
  router r(key_store{});
  r.add("GET", "/agents/retired", role::none, echo("retired"));
  r.add("DELETE", "/agents/{id}", role::none, echo("delete"));
  auto req = get("/agents/retired");
  req.method = "DELETE";
  BOOST_TEST(r.handle(req).body == "delete id=retired");
  req.method = "POST";
  const auto denied = r.handle(req);
  BOOST_TEST(denied.status == 405);
}

BOOST_AUTO_TEST_CASE(bad_or_duplicate_registrations_are_reported) {
  router dup(key_store{});
  dup.add("GET", "/a/{x}", role::none, echo("1")).add("GET", "/a/{y}", role::none, echo("2"));
  BOOST_REQUIRE(dup.registration_error());
  BOOST_TEST(*dup.registration_error() == "route GET /a/{y}: duplicates /a/{x}");
  router bad(key_store{});
  bad.add("GET", "no-slash", role::none, echo("x"));
  BOOST_TEST(bad.registration_error().has_value());
  router braces(key_store{});
  braces.add("GET", "/a/x{y}", role::none, echo("x"));
  BOOST_TEST(braces.registration_error().has_value());
  router repeated(key_store{});
  repeated.add("GET", "/a/{y}/{y}", role::none, echo("x"));
  BOOST_TEST(repeated.registration_error().has_value());
}

BOOST_AUTO_TEST_CASE(reads_wait_for_the_requested_position_and_time_out_with_503) {
  std::vector<std::int64_t> asked;
  router_options o;
  o.max_position_wait = std::chrono::milliseconds(250);
  o.wait_for_position = [&](std::int64_t p, std::chrono::milliseconds max) {
    BOOST_TEST(max.count() == 250);
    asked.push_back(p);
    return p <= 100;
  };
  router r(key_store{}, o);
  r.add("GET", "/x", role::none, echo("read"));
  r.add("POST", "/x", role::none, echo("write"));

  auto ok = get("/x");
  ok.headers.emplace("X-Certctl-Wait-For-Position", "100");
  BOOST_TEST(r.handle(ok).body == "read");
  auto late = get("/x");
  late.headers.emplace("X-Certctl-Wait-For-Position", "101");
  const auto timed_out = r.handle(late);
  BOOST_TEST(timed_out.status == 503);
  BOOST_TEST(timed_out.body.find("waiting for log position 101") != std::string::npos);
  auto write = late;
  write.method = "POST";
  BOOST_TEST(r.handle(write).body == "write");  // writes never wait
  BOOST_TEST(asked == (std::vector<std::int64_t>{100, 101}));

  auto garbage = get("/x");
  garbage.headers.emplace("X-Certctl-Wait-For-Position", "soon");
  BOOST_TEST(r.handle(garbage).status == 400);
}

BOOST_AUTO_TEST_CASE(without_a_waiter_the_position_header_is_only_validated) {
  router r(key_store{});
  r.add("GET", "/x", role::none, echo("read"));
  auto req = get("/x");
  req.headers.emplace("X-Certctl-Wait-For-Position", "5");
  BOOST_TEST(r.handle(req).status == 200);
}

BOOST_AUTO_TEST_CASE(with_auth_disabled_protected_routes_run_as_anonymous_admin) {
  router_options o;
  o.auth_enabled = false;
  router r(key_store{}, o);
  r.add("GET", "/admin", role::admin, [](request_context& ctx) {
    return json_response(ctx.who.name + ":" + std::string(to_string(ctx.who.level)));
  });
  BOOST_TEST(r.handle(get("/admin")).body == "anonymous:admin");
}

BOOST_AUTO_TEST_CASE(failing_hooks_never_change_the_answer) {
  router_options o;
  o.on_auth_failure = [](const auth_event&) { throw std::runtime_error("audit down"); };
  o.on_request = [](const request_log_entry&) { throw std::runtime_error("log down"); };
  router r(one_key("a:key-a:viewer"), o);
  r.add("GET", "/p", role::admin, echo("p"));
  BOOST_TEST(r.handle(get("/p")).status == 401);
  BOOST_TEST(r.handle(get("/p", "key-a")).status == 403);
}

BOOST_AUTO_TEST_CASE(a_generated_first_start_key_authenticates_as_admin) {
  certctl::gateways::http::testing::temp_dir dir;
  auto boot = bootstrap_keys("", dir.path);
  BOOST_REQUIRE(boot.ok());
  router r(boot->store);
  r.add("DELETE", "/p", role::admin, echo("deleted"));
  auto req = get("/p", *boot->generated_key);
  req.method = "DELETE";
  BOOST_TEST(r.handle(req).body == "deleted");
}

BOOST_AUTO_TEST_CASE(handler_headers_override_the_default_cache_policy) {
  router r(key_store{});
  r.add("GET", "/crl", role::none, [](request_context&) {
    return json_response("{}").with_header("Cache-Control", "max-age=3600");
  });
  const auto res = r.handle(get("/crl"));
  int cache_headers = 0;
  for (const auto& [k, v] : res.headers) {
    if (k == "Cache-Control") {
      ++cache_headers;
      BOOST_TEST(v == "max-age=3600");
    }
  }
  BOOST_TEST(cache_headers == 1);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(route_access)

BOOST_AUTO_TEST_CASE(routes_lists_every_registration_with_its_access_rule_in_order) {
  router r(key_store{});
  r.add("get", "/health", role::none, echo("h"));
  r.add("POST", "/agents/{id}/heartbeat", access_rule::at_least(role::operator_).plus(role::agent),
        echo("hb"));
  r.add("DELETE", "/agents/{id}", role::admin, echo("d"));
  const auto listed = r.routes();
  BOOST_REQUIRE(listed.size() == 3u);
  BOOST_TEST(listed[0].method == "GET");
  BOOST_TEST(listed[0].pattern == "/health");
  BOOST_TEST(listed[0].rule.is_public());
  BOOST_TEST(listed[1].pattern == "/agents/{id}/heartbeat");
  BOOST_TEST(listed[1].rule.describe() == "operator|admin|agent");
  BOOST_TEST(listed[2].method == "DELETE");
  BOOST_TEST(listed[2].rule.describe() == "admin");
}

BOOST_AUTO_TEST_CASE(an_agent_key_reaches_agent_routes_and_is_403_everywhere_else) {
  std::vector<auth_event> seen;
  router_options o;
  o.on_auth_failure = [&seen](const auth_event& e) { seen.push_back(e); };
  router r(one_key("edge:key-e:agent"), o);
  r.add("POST", "/agents/{id}/heartbeat", access_rule::at_least(role::operator_).plus(role::agent),
        echo("hb"));
  r.add("GET", "/certificates", role::viewer, echo("list"));
  auto hb = get("/agents/a1/heartbeat", "key-e");
  hb.method = "POST";
  BOOST_TEST(r.handle(hb).body == "hb id=a1");
  const auto denied = r.handle(get("/certificates", "key-e"));
  BOOST_TEST(denied.status == 403);
  BOOST_TEST(denied.body.find("role 'agent' may not do this; allowed: viewer|operator|admin") !=
             std::string::npos);
  BOOST_REQUIRE(seen.size() == 1u);
  BOOST_TEST(seen[0].principal == "edge");
  BOOST_TEST((seen[0].reason == auth_failure::insufficient_role));
}

BOOST_AUTO_TEST_SUITE_END()
