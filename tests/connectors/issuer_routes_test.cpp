// The issuer config edge over the REST routes: types come from the connector registry, configs
// are checked against the connector's schema (400 naming the field), secrets are sealed before
// any event and redacted in every answer, and the issuer test calls the registered connector.
// In-process: memory store, entity runtime, real read models, the local CA in a temp dir.
#define BOOST_TEST_MODULE connectors_issuer_routes
#include <boost/test/unit_test.hpp>

#include "actors/runtime/entity_runtime.hpp"
#include "actors/workflows/issuance_service.hpp"
#include "actors/workflows/issuer_resolver.hpp"
#include "connectors/builtin.hpp"
#include "connectors/config_service.hpp"
#include "connectors/fakes.hpp"
#include "connectors/issuers/local/local_ca.hpp"
#include "events/json.hpp"
#include "gateways/rest/connector_routes.hpp"
#include "gateways/rest/read_routes.hpp"
#include "gateways/rest/write_routes.hpp"
#include "infra/crypto/key_store.hpp"
#include "infra/store/memory_store.hpp"
#include "projections/entity_projections.hpp"
#include "tests/infra/crypto/test_support.hpp"

using namespace certctl;
namespace rest = gateways::rest;
namespace http = gateways::http;
using certctl::test::temp_dir;

namespace {

constexpr const char* secret = "tok-9f8e7d6c5b4a";

struct fixture {
  fixture()
      : store(store::make_memory_store()),
        runtime(*store, clock),
        db(sql::database::open("memory:").value()),
        projector(*store, db),
        master(crypto::load_or_create_master_key(tmp.file("master.key")).value()),
        keys(crypto::key_store::open(tmp.file("keys"), master).value()),
        ca(open_ca(tmp, clock)),
        issuance(runtime, *ca, keys, 1),
        configs(registry, master),
        router(http::key_store{}, no_auth()) {
    BOOST_REQUIRE(projections::register_entity_projections(projector).ok());
    register_builtins_but_one(registry, ca.get());
    BOOST_REQUIRE(connectors::fakes::register_fake_connectors(registry, journal).ok());
    writes.hooks["issuer"] = rest::issuer_config_hook(configs, runtime);
    rest::add_write_routes(router, writes);
    rest::add_read_routes(router, reads);
    rest::add_connector_routes(router, connectors_ctx);
    BOOST_REQUIRE(!router.registration_error());
    domain::command seed;
    seed.name = "issuer.create";
    seed.entity_id = "iss-local";
    seed.body.set("name", "Local CA").set("type", "GenericCA");
    seed.principal = "system:bootstrap";
    BOOST_REQUIRE(runtime.execute("issuer", seed).ok());
  }

  static http::router_options no_auth() {
    http::router_options o;
    o.auth_enabled = false;
    return o;
  }

  static std::unique_ptr<connectors::local_ca> open_ca(const temp_dir& tmp,
                                                       const infra::clock& clock) {
    connectors::local_ca_config c;
    c.data_dir = tmp.file("ca");
    c.clock = &clock;
    return connectors::open_local_ca(c).value();
  }

  http::response call(const std::string& method, const std::string& path,
                      const std::string& body = "") {
    http::raw_request r;
    r.method = method;
    r.path = path;
    r.body = body;
    r.remote_addr = "127.0.0.1";
    if (!body.empty()) r.headers.emplace("Content-Type", "application/json");
    return router.handle(r);
  }

  http::response get(const std::string& path) {
    BOOST_REQUIRE(projector.catch_up().ok());
    return call("GET", path);
  }

  /// Every payload in the log, one text.
  std::string whole_log() {
    auto all = store->read_all(0, 100000);
    BOOST_REQUIRE(all.ok());
    std::string text;
    for (const auto& e : *all) text += e.type + " " + e.payload + "\n";
    return text;
  }

  /// An issuer type the API accepts that no connector on this server serves: every built-in
  /// connector is registered except this one's, as on a server built without it.
  static constexpr const char* unserved_issuer_type = "EJBCA";
  std::string unserved_type() const { return unserved_issuer_type; }

  static void register_builtins_but_one(connectors::connector_registry& into,
                                        connectors::local_ca* ca) {
    connectors::connector_registry all;
    BOOST_REQUIRE(connectors::register_builtin_connectors(all, {ca, nullptr}).ok());
    for (const auto& t : all.types(connectors::connector_kind::issuer))
      if (t != unserved_issuer_type) BOOST_REQUIRE(into.add(*all.find_issuer(t)).ok());
    for (const auto& t : all.types(connectors::connector_kind::target))
      BOOST_REQUIRE(into.add(*all.find_target(t)).ok());
    for (const auto& t : all.types(connectors::connector_kind::notifier))
      BOOST_REQUIRE(into.add(*all.find_notifier(t)).ok());
    for (const auto& t : all.types(connectors::connector_kind::discovery))
      BOOST_REQUIRE(into.add(*all.find_discovery(t)).ok());
  }

  /// A legacy issuer of a type no connector serves, as an older server could have recorded it.
  void legacy_issuer(const std::string& id, const std::string& type) {
    domain::command c;
    c.name = "issuer.create";
    c.entity_id = id;
    c.body.set("name", "legacy").set("type", type);
    c.principal = "test";
    BOOST_REQUIRE(runtime.execute("issuer", c).ok());
  }

  temp_dir tmp;
  infra::system_clock clock;
  std::unique_ptr<store::event_store> store;
  actors::entity_runtime runtime;
  std::shared_ptr<sql::database> db;
  projections::projector projector;
  crypto::aead_key master;
  crypto::key_store keys;
  std::unique_ptr<connectors::local_ca> ca;
  actors::issuance_service issuance;
  std::shared_ptr<connectors::fakes::journal> journal =
      std::make_shared<connectors::fakes::journal>();
  connectors::connector_registry registry;
  connectors::config_service configs;
  http::router router;
  rest::write_context writes{runtime, issuance, {}};
  rest::read_context reads{*db, projector, clock};
  rest::connector_context connectors_ctx{runtime, *db, configs};
};

events::json_object json_of(const http::response& r) {
  auto j = events::json_object::parse(r.body);
  BOOST_REQUIRE_MESSAGE(j.has_value(), r.body);
  return *j;
}

std::string error_of(const http::response& r) {
  if (r.error) return *r.error;
  return json_of(r).str("error");
}

events::json_object config_of(const http::response& r) {
  return events::json_object::parse(json_of(r).raw("config")).value();
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(issuer_routes, fixture)

BOOST_AUTO_TEST_CASE(an_issuer_type_without_a_connector_is_a_400_naming_the_type) {
  const std::string unserved = unserved_type();
  auto acme = call("POST", "/api/v1/issuers",
                   R"({"id":"iss-dc","name":"Unserved","type":")" + unserved + R"("})");
  BOOST_TEST(acme.status == 400);
  BOOST_TEST(error_of(acme) == "no connector for issuer type " + unserved + " on this server");
  BOOST_TEST(call("POST", "/api/v1/issuers", R"({"name":"x","type":"Mystery"})").status == 400);
  // Nothing recorded: the entity does not exist.
  BOOST_TEST(call("POST", "/api/v1/issuers/iss-acme/test").status == 404);
  BOOST_TEST(whole_log().find("iss-acme") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_configs_are_a_400_naming_the_field_on_create_and_update) {
  auto missing = call("POST", "/api/v1/issuers",
                      R"({"name":"f","type":"FakeCA","config":{"url":"https://ca.test"}})");
  BOOST_TEST(missing.status == 400);
  BOOST_TEST(error_of(missing).find("'api_key' is required") != std::string::npos,
             error_of(missing));
  auto wrong = call("POST", "/api/v1/issuers",
                    R"({"name":"f","type":"FakeCA","config":{"url":5,"api_key":"k"}})");
  BOOST_TEST(error_of(wrong) == "config field 'url' must be a string");
  auto unknown =
      call("POST", "/api/v1/issuers", R"({"name":"f","type":"GenericCA","config":{"a":"b"}})");
  BOOST_TEST(unknown.status == 400);
  BOOST_TEST(error_of(unknown) == "config field 'a' is not known to this connector type");

  auto ok = call("POST", "/api/v1/issuers",
                 R"({"id":"iss-f","name":"f","type":"FakeCA",
                     "config":{"url":"https://ca.test","api_key":"k"}})");
  BOOST_REQUIRE_MESSAGE(ok.status == 201, ok.body);
  auto bad_update = call("PUT", "/api/v1/issuers/iss-f", R"({"config":{"url":"https://ca.test"}})");
  BOOST_TEST(bad_update.status == 400);
  BOOST_TEST(error_of(bad_update).find("'api_key'") != std::string::npos);
  // Changing the type checks the stored config against the new type's schema.
  auto retype = call("PUT", "/api/v1/issuers/iss-f", R"({"type":"GenericCA"})");
  BOOST_TEST(retype.status == 400);
  BOOST_TEST(error_of(retype).find("'url' is not known") != std::string::npos, error_of(retype));
  // No stored config to seal against: the update is not sent at all.
  BOOST_TEST(call("PUT", "/api/v1/issuers/iss-none",
                  R"({"type":"FakeCA","config":{"url":"u","api_key":"k"}})")
                 .status == 404);
  // A change that leaves the connector alone needs no check.
  BOOST_TEST(call("PUT", "/api/v1/issuers/iss-f", R"({"enabled":false})").status == 200);
}

BOOST_AUTO_TEST_CASE(secrets_never_enter_an_event_and_every_answer_redacts_them) {
  auto created = call("POST", "/api/v1/issuers",
                      std::string(R"({"id":"iss-f","name":"f","type":"FakeCA",
                          "config":{"url":"https://ca.test","api_key":")") +
                          secret + "\"}}");
  BOOST_REQUIRE_MESSAGE(created.status == 201, created.body);
  BOOST_TEST(config_of(created).str("api_key") == "********");
  BOOST_TEST(config_of(created).str("url") == "https://ca.test");
  BOOST_TEST(created.body.find(secret) == std::string::npos);
  const std::string log = whole_log();
  BOOST_TEST(log.find(secret) == std::string::npos, log);
  BOOST_TEST(log.find("sealed:v1:") != std::string::npos, log);

  auto one = get("/api/v1/issuers/iss-f");
  BOOST_REQUIRE(one.status == 200);
  BOOST_TEST(config_of(one).str("api_key") == "********", one.body);
  auto page = get("/api/v1/issuers");
  BOOST_REQUIRE(page.status == 200);
  BOOST_TEST(page.body.find("sealed:v1:") == std::string::npos, page.body);
  BOOST_TEST(page.body.find("\"api_key\":\"********\"") != std::string::npos, page.body);

  // Round trip: what the GET showed goes back with a new URL; the secret is kept.
  auto edited = call("PUT", "/api/v1/issuers/iss-f",
                     R"({"config":{"url":"https://ca2.test","api_key":"********"}})");
  BOOST_REQUIRE_MESSAGE(edited.status == 200, edited.body);
  BOOST_TEST(config_of(edited).str("api_key") == "********");
  BOOST_REQUIRE(call("POST", "/api/v1/issuers/iss-f/test").status == 200);
  BOOST_TEST(journal->settings().back().config.str("api_key") == secret);
  BOOST_TEST(journal->settings().back().config.str("url") == "https://ca2.test");

  // A new secret replaces it, sealed again.
  BOOST_REQUIRE(call("PUT", "/api/v1/issuers/iss-f",
                     R"({"config":{"url":"https://ca2.test","api_key":"rotated-key-1"}})")
                    .status == 200);
  BOOST_REQUIRE(call("POST", "/api/v1/issuers/iss-f/test").status == 200);
  BOOST_TEST(journal->settings().back().config.str("api_key") == "rotated-key-1");
  BOOST_TEST(whole_log().find("rotated-key-1") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_test_calls_the_registered_connector) {
  auto local = call("POST", "/api/v1/issuers/iss-local/test");
  BOOST_REQUIRE_MESSAGE(local.status == 200, local.body);
  BOOST_TEST(json_of(local).str("status") == "success");
  BOOST_TEST(json_of(local).str("message").find("the local CA signed a test certificate") == 0u);
  BOOST_TEST(!json_of(local).str("ca_not_after").empty());
  const std::string before = whole_log();

  BOOST_REQUIRE(call("POST", "/api/v1/issuers",
                     R"({"id":"iss-f","name":"f","type":"FakeCA",
                         "config":{"url":"https://ca.test","api_key":"k"}})")
                    .status == 201);
  auto fake = call("POST", "/api/v1/issuers/iss-f/test");
  BOOST_REQUIRE_MESSAGE(fake.status == 200, fake.body);
  BOOST_TEST(json_of(fake).str("message") == "fake CA at https://ca.test answered");
  journal->fail_next("CA is down");
  auto down = call("POST", "/api/v1/issuers/iss-f/test");
  BOOST_TEST(down.status == 500);
  BOOST_TEST(error_of(down).find("CA is down") != std::string::npos);
  // The tests recorded nothing: the log grew only by the issuer's creation.
  const std::string after = whole_log();
  BOOST_TEST(after.substr(0, before.size()) == before);
  BOOST_TEST(after.find("certificate.") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_legacy_issuer_of_an_unserved_type_never_falls_back_to_the_local_ca) {
  const std::string unserved = unserved_type();
  legacy_issuer("iss-old", unserved);
  auto test = call("POST", "/api/v1/issuers/iss-old/test");
  BOOST_TEST(test.status == 400);
  BOOST_TEST(error_of(test) == "no connector for issuer type " + unserved + " on this server");
  // It can still be disabled; its config cannot be changed while no connector serves it.
  BOOST_TEST(call("PUT", "/api/v1/issuers/iss-old", R"({"enabled":false})").status == 200);
  BOOST_TEST(call("PUT", "/api/v1/issuers/iss-old", R"({"config":{}})").status == 400);

  // A config recorded before the schema existed is checked again by the test: 400 naming it.
  domain::command c;
  c.name = "issuer.create";
  c.entity_id = "iss-spare";
  c.body = events::json_object::parse(R"({"name":"spare","type":"GenericCA","config":{"a":"b"}})")
               .value();
  c.principal = "test";
  BOOST_REQUIRE(runtime.execute("issuer", c).ok());
  auto stale = call("POST", "/api/v1/issuers/iss-spare/test");
  BOOST_TEST(stale.status == 400);
  BOOST_TEST(error_of(stale) == "config field 'a' is not known to this connector type");
}

BOOST_AUTO_TEST_CASE(issuance_resolves_the_registered_connector_and_fails_closed) {
  auto resolve = actors::make_issuer_resolver(runtime, configs);
  auto task_for = [](const std::string& issuer_id) {
    actors::issuance_task t;
    t.certificate.set("issuer_id", issuer_id);
    return t;
  };
  std::string error;
  BOOST_TEST(resolve(actors::issuance_task{}, error) == nullptr);  // no issuer: the default
  BOOST_TEST(error.empty());

  auto* local = resolve(task_for("iss-local"), error);
  BOOST_TEST(local == static_cast<connectors::issuer*>(ca.get()));
  BOOST_TEST(error.empty());

  BOOST_REQUIRE(call("POST", "/api/v1/issuers",
                     R"({"id":"iss-f","name":"f","type":"FakeCA",
                         "config":{"url":"https://ca.test","api_key":"k"}})")
                    .status == 201);
  auto* fake = resolve(task_for("iss-f"), error);
  BOOST_REQUIRE(fake != nullptr);
  BOOST_TEST(fake->type() == "FakeCA");
  BOOST_TEST(resolve(task_for("iss-f"), error) == fake);  // built once per config
  BOOST_REQUIRE(call("PUT", "/api/v1/issuers/iss-f",
                     R"({"config":{"url":"https://ca2.test","api_key":"********"}})")
                    .status == 200);
  auto* edited = resolve(task_for("iss-f"), error);
  BOOST_REQUIRE(edited != nullptr);
  BOOST_TEST(edited != fake);
  BOOST_TEST(journal->settings().back().config.str("url") == "https://ca2.test");

  const std::string unserved = unserved_type();
  legacy_issuer("iss-old", unserved);
  BOOST_TEST(resolve(task_for("iss-old"), error) == nullptr);
  BOOST_TEST(error ==
             "issuer iss-old: no connector for issuer type " + unserved + " on this server");
}

BOOST_AUTO_TEST_SUITE_END()
