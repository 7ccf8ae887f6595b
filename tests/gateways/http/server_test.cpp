// The REST server end to end over loopback sockets, once over plain HTTP and once over HTTPS.
#include <rapidjson/document.h>

#include <atomic>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <thread>

#include "tests/gateways/http/server_fixture.hpp"

using namespace certctl::gateways::http;
using namespace certctl::gateways::http::testing;
namespace bdata = boost::unit_test::data;

namespace {

const auto transports = bdata::make({false, true});

httplib::Headers bearer(const char* key) {
  return {{"Authorization", std::string("Bearer ") + key}};
}

rapidjson::Document parse(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str());
  BOOST_REQUIRE_MESSAGE(!d.HasParseError() && d.IsObject(), "not a JSON object: " << body);
  return d;
}

/// Asserts the spec's ErrorResponse shape, exactly {error, request_id}, and returns the message.
std::string expect_error(const httplib::Result& res, int status) {
  BOOST_REQUIRE(res);
  BOOST_TEST(res->status == status);
  BOOST_TEST(res->get_header_value("Content-Type") == "application/json");
  const auto d = parse(res->body);
  BOOST_TEST(d.MemberCount() == 2u);
  BOOST_REQUIRE(d.HasMember("error") && d["error"].IsString());
  BOOST_REQUIRE(d.HasMember("request_id") && d["request_id"].IsString());
  BOOST_TEST(d["request_id"].GetString() == res->get_header_value("X-Request-Id"));
  BOOST_TEST(!std::string(d["request_id"].GetString()).empty());
  return d["error"].GetString();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rest_server)

BOOST_DATA_TEST_CASE(health_ready_and_version_are_public_and_shaped_like_the_spec, transports,
                     tls) {
  test_server s(tls);
  auto c = s.client();
  auto health = c->Get("/health");
  BOOST_REQUIRE(health);
  BOOST_TEST(health->status == 200);
  BOOST_TEST(std::string(parse(health->body)["status"].GetString()) == "healthy");

  auto ready = c->Get("/ready");
  BOOST_REQUIRE(ready);
  BOOST_TEST(ready->status == 200);
  BOOST_TEST(std::string(parse(ready->body)["status"].GetString()) == "ready");

  auto version = c->Get("/api/v1/version");
  BOOST_REQUIRE(version);
  BOOST_TEST(version->status == 200);
  const auto v = parse(version->body);
  BOOST_TEST(std::string(v["version"].GetString()) == "v9.9.9");
  BOOST_TEST(v["commit"].IsString());
  BOOST_TEST(v["modified"].IsBool());
  BOOST_TEST(v["build_time"].IsString());
  BOOST_TEST(v["go_version"].IsString());
  BOOST_TEST(s.auth_events().empty());
}

BOOST_DATA_TEST_CASE(ready_answers_503_with_the_reason_when_not_ready, transports, tls) {
  test_server s(tls);
  s.set_ready(false, "event store unreachable");
  auto res = s.client()->Get("/ready");
  BOOST_TEST(expect_error(res, 503) == "not ready: event store unreachable");
}

BOOST_DATA_TEST_CASE(a_protected_route_without_a_key_is_401_and_is_observed, transports, tls) {
  test_server s(tls);
  auto res = s.client()->Get("/api/v1/things");
  expect_error(res, 401);
  BOOST_TEST(res->get_header_value("WWW-Authenticate") == "Bearer");
  const auto events = s.auth_events();
  BOOST_REQUIRE(events.size() == 1u);
  BOOST_TEST((events[0].reason == auth_failure::missing_credentials));
  BOOST_TEST(events[0].principal.empty());
  BOOST_TEST(events[0].remote_addr == "127.0.0.1");
  BOOST_TEST(events[0].method == "GET");
  BOOST_TEST(events[0].path == "/api/v1/things");
  BOOST_TEST(events[0].request_id == res->get_header_value("X-Request-Id"));
}

BOOST_DATA_TEST_CASE(a_wrong_key_is_401_and_is_observed, transports, tls) {
  test_server s(tls);
  auto res = s.client()->Get("/api/v1/things", bearer("not-a-key"));
  BOOST_TEST(expect_error(res, 401) == "invalid API key");
  BOOST_TEST(res->get_header_value("WWW-Authenticate") == "Bearer");
  auto basic = s.client()->Get("/api/v1/things", {{"Authorization", "Basic dXNlcjpwYXNz"}});
  expect_error(basic, 401);
  const auto events = s.auth_events();
  BOOST_REQUIRE(events.size() == 2u);
  BOOST_TEST((events[0].reason == auth_failure::invalid_credentials));
  BOOST_TEST((events[1].reason == auth_failure::invalid_credentials));
}

BOOST_DATA_TEST_CASE(a_viewer_key_on_an_admin_route_is_403_and_is_observed, transports, tls) {
  test_server s(tls);
  auto res = s.client()->Delete("/api/v1/things/t-1", bearer(viewer_key));
  BOOST_TEST(expect_error(res, 403) == "role 'viewer' may not do this; allowed: admin");
  auto op = s.client()->Post("/api/v1/things", bearer(viewer_key), "{}", "application/json");
  expect_error(op, 403);
  const auto events = s.auth_events();
  BOOST_REQUIRE(events.size() == 2u);
  BOOST_TEST((events[0].reason == auth_failure::insufficient_role));
  BOOST_TEST(events[0].principal == "dash");
  BOOST_TEST(events[0].method == "DELETE");
  BOOST_TEST(events[0].path == "/api/v1/things/t-1");
}

BOOST_DATA_TEST_CASE(the_right_key_is_served_and_higher_roles_include_lower_ones, transports, tls) {
  test_server s(tls);
  auto c = s.client();
  auto viewer = c->Get("/api/v1/things/t-7", bearer(viewer_key));
  BOOST_REQUIRE(viewer);
  BOOST_TEST(viewer->status == 200);
  const auto v = parse(viewer->body);
  BOOST_TEST(std::string(v["id"].GetString()) == "t-7");
  BOOST_TEST(std::string(v["principal"].GetString()) == "dash");
  auto admin_read = c->Get("/api/v1/things/t-7", bearer(admin_key));
  BOOST_REQUIRE(admin_read);
  BOOST_TEST(admin_read->status == 200);
  auto admin_delete = c->Delete("/api/v1/things/t-7", bearer(admin_key));
  BOOST_REQUIRE(admin_delete);
  BOOST_TEST(admin_delete->status == 204);
  BOOST_TEST(s.auth_events().empty());
}

BOOST_DATA_TEST_CASE(unknown_paths_are_404_and_wrong_methods_405_with_error_bodies, transports,
                     tls) {
  test_server s(tls);
  auto c = s.client();
  BOOST_TEST(expect_error(c->Get("/api/v1/nothing-here", bearer(admin_key)), 404) == "not found");
  expect_error(c->Get("/api/v1/things/", bearer(admin_key)), 404);
  auto wrong = c->Put("/api/v1/things", bearer(admin_key), "{}", "application/json");
  BOOST_TEST(expect_error(wrong, 405) == "method PUT not allowed");
  BOOST_TEST(wrong->get_header_value("Allow") == "GET, HEAD, POST");
}

BOOST_DATA_TEST_CASE(an_oversized_body_is_413_with_an_error_body, transports, tls) {
  test_server s(tls, 1024);
  const std::string body = "{\"common_name\":\"" + std::string(2000, 'a') + "\"}";
  auto res = s.client()->Post("/api/v1/things", bearer(operator_key), body, "application/json");
  expect_error(res, 413);
  BOOST_TEST(res->get_header_value("X-Content-Type-Options") == "nosniff");
}

BOOST_DATA_TEST_CASE(malformed_json_and_wrong_types_are_400_with_clear_messages, transports, tls) {
  test_server s(tls);
  auto c = s.client();
  auto bad = c->Post("/api/v1/things", bearer(operator_key), "{\"common_name\" \"x\"}",
                     "application/json");
  BOOST_TEST(expect_error(bad, 400).rfind("invalid JSON at offset 15: ", 0) == 0u);
  auto typed =
      c->Post("/api/v1/things", bearer(operator_key), "{\"common_name\": 7}", "application/json");
  BOOST_TEST(expect_error(typed, 400) == "field 'common_name' must be a string");
  auto good = c->Post("/api/v1/things", bearer(operator_key),
                      R"({"common_name": "a.example", "sans": ["b.example"]})", "application/json");
  BOOST_REQUIRE(good);
  BOOST_TEST(good->status == 201);
  BOOST_TEST(good->get_header_value("X-Certctl-Position") == "42");
}

BOOST_DATA_TEST_CASE(pagination_has_defaults_a_clamp_and_rejects_non_numbers, transports, tls) {
  test_server s(tls);
  auto c = s.client();
  auto defaults = c->Get("/api/v1/things", bearer(viewer_key));
  BOOST_REQUIRE(defaults);
  const auto d = parse(defaults->body);
  BOOST_TEST(d["data"].IsArray());
  BOOST_TEST(d["total"].GetInt64() == 1);
  BOOST_TEST(d["page"].GetInt64() == 1);
  BOOST_TEST(d["per_page"].GetInt64() == 50);
  auto clamped = c->Get("/api/v1/things?page=3&per_page=10000", bearer(viewer_key));
  BOOST_REQUIRE(clamped);
  const auto cl = parse(clamped->body);
  BOOST_TEST(cl["page"].GetInt64() == 3);
  BOOST_TEST(cl["per_page"].GetInt64() == 500);
  BOOST_TEST(expect_error(c->Get("/api/v1/things?page=abc", bearer(viewer_key)), 400) ==
             "query parameter 'page' must be a positive integer");
  expect_error(c->Get("/api/v1/things?per_page=0", bearer(viewer_key)), 400);
  expect_error(c->Get("/api/v1/things?page=-1", bearer(viewer_key)), 400);
}

BOOST_DATA_TEST_CASE(a_sane_request_id_is_echoed_and_an_unsafe_one_replaced, transports, tls) {
  test_server s(tls);
  auto c = s.client();
  auto echoed = c->Get("/health", {{"X-Request-Id", "trace-42.abc_DEF"}});
  BOOST_REQUIRE(echoed);
  BOOST_TEST(echoed->get_header_value("X-Request-Id") == "trace-42.abc_DEF");
  auto replaced = c->Get("/nope", {{"X-Request-Id", "bad id with spaces"}});
  const auto message = expect_error(replaced, 404);
  BOOST_TEST(replaced->get_header_value("X-Request-Id").size() == 36u);  // a UUID
  auto generated = c->Get("/health");
  BOOST_REQUIRE(generated);
  BOOST_TEST(generated->get_header_value("X-Request-Id").size() == 36u);
}

BOOST_DATA_TEST_CASE(a_throwing_handler_is_a_500_that_leaks_nothing, transports, tls) {
  test_server s(tls);
  auto res = s.client()->Get("/api/v1/boom", bearer(viewer_key));
  BOOST_TEST(expect_error(res, 500) == "internal server error");
  BOOST_TEST(res->body.find("secret") == std::string::npos);
  const auto log = s.log_entries();
  BOOST_REQUIRE(!log.empty());
  BOOST_TEST(log.back().internal_error == "secret internal detail");
  BOOST_TEST(log.back().status == 500);
  BOOST_TEST(log.back().principal == "dash");
}

BOOST_DATA_TEST_CASE(every_response_carries_security_headers_and_the_log_hook_sees_it, transports,
                     tls) {
  test_server s(tls);
  auto res = s.client()->Get("/api/v1/things", bearer(viewer_key));
  BOOST_REQUIRE(res);
  BOOST_TEST(res->get_header_value("Cache-Control") == "no-store");
  BOOST_TEST(res->get_header_value("X-Content-Type-Options") == "nosniff");
  BOOST_TEST(res->get_header_value("X-Frame-Options") == "DENY");
  BOOST_TEST(res->has_header("Strict-Transport-Security") == tls);
  const auto log = s.log_entries();
  BOOST_REQUIRE(log.size() == 1u);
  BOOST_TEST(log[0].method == "GET");
  BOOST_TEST(log[0].path == "/api/v1/things");
  BOOST_TEST(log[0].status == 200);
  BOOST_TEST(log[0].principal == "dash");
  BOOST_TEST(log[0].request_id == res->get_header_value("X-Request-Id"));
}

BOOST_DATA_TEST_CASE(a_very_long_path_is_an_ordinary_404, transports, tls) {
  test_server s(tls);
  auto res = s.client()->Get("/" + std::string(8000, 'x'));
  expect_error(res, 404);
}

BOOST_AUTO_TEST_CASE(head_is_served_by_get_routes_without_a_body) {
  test_server s(false);
  auto res = s.client()->Head("/health");
  BOOST_REQUIRE(res);
  BOOST_TEST(res->status == 200);
  BOOST_TEST(res->body.empty());
}

BOOST_AUTO_TEST_CASE(keep_alive_connections_serve_many_requests) {
  test_server s(false);
  auto c = s.client();
  c->set_keep_alive(true);
  for (int i = 0; i < 50; ++i) {
    auto res = c->Get("/health");
    BOOST_REQUIRE(res);
    BOOST_TEST(res->status == 200);
  }
}

BOOST_AUTO_TEST_CASE(concurrent_keep_alive_clients_are_served_by_the_pool) {
  test_server s(false);
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {  // the fixture's pool has 4 threads: one per connection
    clients.emplace_back([&s, &ok] {
      auto c = s.client();
      c->set_keep_alive(true);
      for (int i = 0; i < 25; ++i) {
        auto res = c->Get("/api/v1/things/t-1", bearer(viewer_key));
        if (res && res->status == 200) ++ok;
      }
    });
  }
  for (auto& t : clients) t.join();
  BOOST_TEST(ok.load() == 100);
}

BOOST_AUTO_TEST_SUITE_END()
