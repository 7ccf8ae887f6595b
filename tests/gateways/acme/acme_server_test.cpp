// The ACME server's per-profile settings, pending-orders limit, dns-01 and the outbound guard
// (challenges pointing at loopback refused with a generic problem unless allowed) end to end,
// against the built certctl-server (a subprocess on loopback) with the in-test ACME client, an
// in-test DNS server as the configured resolver and an in-test http-01 responder.
#define BOOST_TEST_MODULE gateways_acme_server
#include <boost/test/unit_test.hpp>

#include <httplib.h>

#include <atomic>
#include <thread>

#include "gateways/acme/dns01.hpp"
#include "infra/crypto/jwk.hpp"
#include "infra/crypto/sha256.hpp"
#include "infra/net/outbound_guard.hpp"
#include "tests/gateways/acme/dns_test_server.hpp"
#include "tests/integration/acme_client.hpp"
#include "tests/integration/api.hpp"

using namespace certctl;
using namespace certctl::integration;

namespace {

server_options acme_on(std::map<std::string, std::string> env = {}) {
  server_options o;
  o.keygen_mode = "agent";
  o.extra_env = std::move(env);
  o.extra_env["CERTCTL_ACME_SERVER_ENABLED"] = "true";
  return o;
}

std::string str_of(const rapidjson::Value& v, const char* k) {
  return v.HasMember(k) && v[k].IsString() ? v[k].GetString() : "";
}

/// Creates a profile and waits until the read model (which the ACME server reads) has it.
std::string make_profile(api& admin, const std::string& body) {
  auto made = admin.post("/api/v1/profiles", body);
  BOOST_REQUIRE_MESSAGE(made.status == 201, made.describe());
  const std::string id = str(made.json(), "id");
  auto seen = admin.get("/api/v1/profiles/" + id, made.position());
  BOOST_REQUIRE_MESSAGE(seen.status == 200, seen.describe());
  return id;
}

acme_response new_order(acme_client& c, const std::vector<std::string>& names) {
  std::string ids;
  for (const auto& n : names)
    ids += std::string(ids.empty() ? "" : ",") + R"({"type":"dns","value":")" + n + "\"}";
  return c.post(c.directory_url("newOrder"), R"({"identifiers":[)" + ids + "]}");
}

/// The thumbprint of `c`'s key (the second half of a key authorization).
std::string thumbprint(const acme_client& c) {
  auto jwk = crypto::jwk_of_private_key(c.key_pem());
  BOOST_REQUIRE(jwk.ok());
  return jwk->thumbprint;
}

/// An http-01 responder on loopback that answers every token with `key_auth` once set, and
/// counts the requests that reached it.
struct http01_responder {
  httplib::Server http;
  int port = 0;
  std::atomic<int> hits{0};
  std::string thumb;
  std::thread thread;
  explicit http01_responder(std::string thumbprint) : thumb(std::move(thumbprint)) {
    http.Get(R"(/.well-known/acme-challenge/([A-Za-z0-9_-]+))",
             [this](const httplib::Request& req, httplib::Response& res) {
               ++hits;
               res.set_content(req.matches[1].str() + "." + thumb, "text/plain");
             });
    port = http.bind_to_any_port("127.0.0.1");
    // Bound and listening already: a request before the loop runs waits in the backlog.
    thread = std::thread([this] { http.listen_after_bind(); });
  }
  ~http01_responder() {
    http.stop();
    thread.join();
  }
};

/// Starts `type` on a fresh single-name order and returns the authorization once it left
/// pending (its final JSON).
rapidjson::Document validate_one(acme_client& c, const std::string& name, const std::string& type) {
  auto made = new_order(c, {name});
  BOOST_REQUIRE_MESSAGE(made.status == 201, made.describe());
  const std::string az_url = made.json()["authorizations"][0].GetString();
  auto az = c.post(az_url, "").json();
  std::string url;
  for (const auto& ch : az["challenges"].GetArray())
    if (std::string(ch["type"].GetString()) == type) url = ch["url"].GetString();
  BOOST_REQUIRE(!url.empty());
  BOOST_REQUIRE(c.post(url, "{}").status == 200);
  for (int i = 0; i < 400; ++i) {
    auto now = c.post(az_url, "").json();
    if (str_of(now, "status") != "pending") return now;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  BOOST_FAIL("authorization stayed pending");
  return {};
}

std::string challenge_error(const rapidjson::Document& az, const std::string& type) {
  for (const auto& ch : az["challenges"].GetArray())
    if (std::string(ch["type"].GetString()) == type && ch.HasMember("error"))
      return str_of(ch["error"], "detail");
  return "";
}

server_options challenge_on(int http01_port, int tlsalpn01_port, const std::string& allow) {
  std::map<std::string, std::string> env{
      {"CERTCTL_ACME_SERVER_AUTH_MODE", "challenge"},
      {"CERTCTL_ACME_SERVER_HTTP01_HOST", "127.0.0.1"},
      {"CERTCTL_ACME_SERVER_HTTP01_PORT", std::to_string(http01_port)},
      {"CERTCTL_ACME_SERVER_TLSALPN01_HOST", "127.0.0.1"},
      {"CERTCTL_ACME_SERVER_TLSALPN01_PORT", std::to_string(tlsalpn01_port)},
      {"CERTCTL_ACME_SERVER_VALIDATION_TIMEOUT", "3"}};
  if (!allow.empty()) env["CERTCTL_OUTBOUND_ALLOW_CIDRS"] = allow;
  return acme_on(env);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(acme_outbound_guard)

BOOST_AUTO_TEST_CASE(a_challenge_pointing_at_loopback_is_refused_and_the_problem_names_nothing) {
  temp_dir dir;
  // Started before the client exists: the responder needs the thumbprint, so it is filled in
  // below; a refused validation never reaches it anyway.
  http01_responder web("");
  const int closed_port = [] {
    httplib::Server probe;
    return probe.bind_to_any_port("127.0.0.1");  // closed again when probe goes
  }();
  server_process server(dir.path + "/data", challenge_on(web.port, closed_port, ""));
  acme_client c(server, crypto::key_type::ecdsa_p256);
  BOOST_REQUIRE(c.register_account().status == 201);
  web.thumb = thumbprint(c);

  const std::string generic = net::outbound_error::public_message();
  auto http = validate_one(c, "h.example.test", "http-01");
  BOOST_TEST(str_of(http, "status") == "invalid");
  const std::string http_err = challenge_error(http, "http-01");
  BOOST_TEST(http_err == "http-01: " + generic);
  BOOST_TEST(web.hits.load() == 0);  // refused before any connection

  // tls-alpn-01 at a closed loopback port: the same text as any other refusal, so a client
  // cannot tell a closed port from a forbidden address (no port-scan oracle).
  auto tls = validate_one(c, "t.example.test", "tls-alpn-01");
  BOOST_TEST(str_of(tls, "status") == "invalid");
  const std::string tls_err = challenge_error(tls, "tls-alpn-01");
  BOOST_TEST(tls_err == "tls-alpn-01: " + generic);
  for (const auto& e : {http_err, tls_err}) {
    BOOST_TEST(e.find("127.0.0.1") == std::string::npos, e);
    BOOST_TEST(e.find(std::to_string(web.port)) == std::string::npos, e);
    BOOST_TEST(e.find(std::to_string(closed_port)) == std::string::npos, e);
  }
}

BOOST_AUTO_TEST_CASE(the_allow_list_lets_the_same_challenge_through) {
  temp_dir dir;
  http01_responder web("");
  server_process server(dir.path + "/data", challenge_on(web.port, 1, "127.0.0.1/32"));
  acme_client c(server, crypto::key_type::ecdsa_p256);
  BOOST_REQUIRE(c.register_account().status == 201);
  web.thumb = thumbprint(c);
  auto az = validate_one(c, "h.example.test", "http-01");
  BOOST_TEST(str_of(az, "status") == "valid", challenge_error(az, "http-01"));
  BOOST_TEST(web.hits.load() >= 1);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(acme_profiles_and_limits)

BOOST_AUTO_TEST_CASE(profile_acme_settings_are_checked_at_the_rest_edge) {
  temp_dir dir;
  server_process server(dir.path + "/data", acme_on());
  api admin(server);
  for (const char* body :
       {R"({"name":"p","acme_auth_mode":"http-01"})", R"({"name":"p","acme_auth_mode":7})",
        R"({"name":"p","acme_eab_required":"yes"})"}) {
    auto r = admin.post("/api/v1/profiles", body);
    BOOST_TEST(r.status == 400, body << ": " << r.describe());
  }
  const std::string id = make_profile(admin, R"({"name":"p","acme_auth_mode":"challenge"})");
  BOOST_TEST(admin.put("/api/v1/profiles/" + id, R"({"acme_auth_mode":"none"})").status == 400);
  auto ok = admin.put("/api/v1/profiles/" + id, R"({"acme_auth_mode":"trust_authenticated"})");
  BOOST_TEST(ok.status == 200, ok.describe());
}

BOOST_AUTO_TEST_CASE(a_profile_requiring_eab_enforces_it_only_under_its_own_directory) {
  temp_dir dir;
  server_process server(dir.path + "/data", acme_on());
  api admin(server);
  const std::string id = make_profile(admin, R"({"name":"eab","acme_eab_required":true})");
  acme_client plain(server);
  acme_client strict(server, crypto::key_type::ecdsa_p256, "/acme/profile/" + id + "/directory");
  BOOST_TEST(!plain.get(plain.base() + "/acme/directory")
                  .json()["meta"]["externalAccountRequired"]
                  .GetBool());
  BOOST_TEST(strict.get(strict.base() + "/acme/profile/" + id + "/directory")
                 .json()["meta"]["externalAccountRequired"]
                 .GetBool());

  BOOST_TEST(plain.register_account().status == 201);
  auto refused = strict.register_account();
  BOOST_TEST(refused.problem_type() == "externalAccountRequired", refused.describe());
  BOOST_TEST(refused.status == 403);

  auto key = admin.post("/api/v1/admin/acme/eab-keys", "{}").json();
  const std::string url = strict.directory_url("newAccount");
  auto r = strict.post(
      url,
      R"({"termsOfServiceAgreed":true,"externalAccountBinding":)" +
          eab_for(strict, key["key_id"].GetString(), key["hmac_key"].GetString(), url) + "}",
      true);
  BOOST_TEST(r.status == 201, r.describe());
}

BOOST_AUTO_TEST_CASE(pending_orders_beyond_the_limit_are_rate_limited_until_one_finishes) {
  temp_dir dir;
  server_process server(dir.path + "/data",
                        acme_on({{"CERTCTL_ACME_SERVER_AUTH_MODE", "challenge"},
                                 {"CERTCTL_ACME_SERVER_PENDING_ORDERS_MAX", "2"}}));
  acme_client c(server);
  BOOST_REQUIRE(c.register_account().status == 201);
  auto first = new_order(c, {"one.example.test"});
  BOOST_REQUIRE_MESSAGE(first.status == 201, first.describe());
  BOOST_REQUIRE(new_order(c, {"two.example.test"}).status == 201);
  auto third = new_order(c, {"three.example.test"});
  BOOST_TEST(third.status == 429, third.describe());
  BOOST_TEST(third.problem_type() == "rateLimited");
  BOOST_TEST(!third.header("Retry-After").empty());

  // Another account has its own budget.
  acme_client other(server);
  BOOST_REQUIRE(other.register_account().status == 201);
  BOOST_TEST(new_order(other, {"three.example.test"}).status == 201);

  // Abandoning the first order (deactivating its authorization) makes it invalid: a slot.
  auto order = first.json();
  const std::string authz = order["authorizations"][0].GetString();
  auto gone = c.post(authz, R"({"status":"deactivated"})");
  BOOST_REQUIRE_MESSAGE(gone.status == 200, gone.describe());
  auto fourth = new_order(c, {"three.example.test"});
  BOOST_TEST(fourth.status == 201, fourth.describe());
}

BOOST_AUTO_TEST_CASE(dns01_validates_wildcards_through_the_configured_resolver) {
  testing::dns_test_server dns;
  temp_dir dir;
  server_process server(dir.path + "/data",
                        acme_on({{"CERTCTL_ACME_SERVER_DNS_RESOLVER", dns.address()},
                                 {"CERTCTL_ACME_SERVER_VALIDATION_TIMEOUT", "3"}}));
  api admin(server);
  // The server-wide mode stays trust_authenticated; this profile asks for challenges.
  const std::string id = make_profile(admin, R"({"name":"ch","acme_auth_mode":"challenge"})");
  acme_client c(server, crypto::key_type::ecdsa_p256, "/acme/profile/" + id + "/directory");
  BOOST_REQUIRE(c.register_account().status == 201);
  auto made = new_order(c, {"*.w.example.test", "v.example.test", "bad.example.test"});
  BOOST_REQUIRE_MESSAGE(made.status == 201, made.describe());
  auto order = made.json();
  BOOST_TEST(str_of(order, "status") == "pending");

  std::vector<std::string> dns_challenges;
  std::string bad_challenge, bad_authz;
  for (const auto& az_url : order["authorizations"].GetArray()) {
    auto az = c.post(az_url.GetString(), "").json();
    const std::string name = az["identifier"]["value"].GetString();
    const bool wildcard = az.HasMember("wildcard") && az["wildcard"].GetBool();
    std::vector<std::string> types;
    for (const auto& ch : az["challenges"].GetArray()) {
      types.push_back(ch["type"].GetString());
      if (types.back() != "dns-01") continue;
      const std::string key_auth = std::string(ch["token"].GetString()) + "." + thumbprint(c);
      if (name == "bad.example.test") {
        dns.set_txt("_acme-challenge." + name, {gateways::acme::dns01_txt_value("wrong")});
        bad_challenge = ch["url"].GetString();
        bad_authz = az_url.GetString();
      } else {
        dns.set_txt("_acme-challenge." + name, {gateways::acme::dns01_txt_value(key_auth)});
        dns_challenges.push_back(ch["url"].GetString());
      }
    }
    if (name == "w.example.test") {
      // RFC 8555 §7.1.3: the base domain, flagged wildcard, with dns-01 only.
      BOOST_TEST(wildcard);
      BOOST_TEST(types == std::vector<std::string>{"dns-01"});
    } else {
      BOOST_TEST(!wildcard);
      BOOST_TEST(types.size() == 3u);
    }
  }
  BOOST_REQUIRE(dns_challenges.size() == 2u);
  for (const auto& url : dns_challenges) {
    auto r = c.post(url, "{}");
    BOOST_TEST(r.status == 200, r.describe());
  }
  BOOST_REQUIRE(!bad_challenge.empty());
  BOOST_TEST(c.post(bad_challenge, "{}").status == 200);

  auto wait_status = [&](const std::string& url, const std::string& from) {
    std::string s = from;
    for (int i = 0; i < 200 && s == from; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
      s = str_of(c.post(url, "").json(), "status");
    }
    return s;
  };
  for (const auto& az_url : order["authorizations"].GetArray())
    if (az_url.GetString() != bad_authz)
      BOOST_TEST(wait_status(az_url.GetString(), "pending") == "valid");
  BOOST_TEST(wait_status(bad_authz, "pending") == "invalid");
  auto bad = c.post(bad_authz, "").json();
  for (const auto& ch : bad["challenges"].GetArray())
    if (std::string(ch["type"].GetString()) == "dns-01")
      BOOST_TEST(std::string(ch["error"]["detail"].GetString()).find("expected digest") !=
                 std::string::npos);
  BOOST_TEST(dns.udp_queries.load() >= 3);

  // Without the failing name the same flow reaches ready.
  auto good = new_order(c, {"*.w.example.test"});
  BOOST_REQUIRE(good.status == 201);
  auto gd = good.json();
  auto az = c.post(gd["authorizations"][0].GetString(), "").json();
  const auto& ch = az["challenges"][0];
  dns.set_txt("_acme-challenge.w.example.test",
              {gateways::acme::dns01_txt_value(std::string(ch["token"].GetString()) + "." +
                                               thumbprint(c))});
  BOOST_TEST(c.post(ch["url"].GetString(), "{}").status == 200);
  const std::string order_url = good.header("Location");
  BOOST_TEST(wait_status(order_url, "pending") == "ready");
}

BOOST_AUTO_TEST_SUITE_END()
