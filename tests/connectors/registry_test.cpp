// The connector registry, config schemas, sealing and redaction of secret fields, and the
// fakes of the four interfaces.
#define BOOST_TEST_MODULE connectors_registry
#include <boost/test/unit_test.hpp>

#include "connectors/builtin.hpp"
#include "connectors/config_service.hpp"
#include "connectors/fakes.hpp"
#include "connectors/issuers/local/local_ca_connector.hpp"
#include "connectors/registry.hpp"

using namespace certctl;
using namespace certctl::connectors;

namespace {

events::json_object json(const std::string& text) {
  auto j = events::json_object::parse(text);
  BOOST_REQUIRE_MESSAGE(j.has_value(), text);
  return *j;
}

config_schema sample_schema() {
  return {{{"url", field_type::string, true, false, "the CA's URL"},
           {"api_key", field_type::string, true, true, "the CA's credential"},
           {"retries", field_type::integer, false, false, "attempts"},
           {"verify_tls", field_type::boolean, false, false, "check the peer"},
           {"roots", field_type::string_array, false, false, "trusted roots"},
           {"extra", field_type::object, false, false, "vendor options"}}};
}

std::string field_of(const config_schema& s, const std::string& config) {
  auto r = validate_config(s, json(config));
  return r ? std::string("<ok>") : r.error().field;
}

struct fake_world {
  fake_world() { BOOST_REQUIRE(fakes::register_fake_connectors(registry, journal).ok()); }
  std::shared_ptr<fakes::journal> journal = std::make_shared<fakes::journal>();
  connector_registry registry;
};

crypto::aead_key test_key() {
  crypto::aead_key k{};
  for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(i * 7 + 1);
  return k;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(registry)

BOOST_AUTO_TEST_CASE(a_registered_type_is_found_by_kind_and_listed_sorted) {
  fake_world w;
  BOOST_TEST(w.registry.find_issuer("FakeCA") != nullptr);
  BOOST_TEST(w.registry.find_issuer("FakeTarget") == nullptr);  // another kind's name
  BOOST_TEST(w.registry.find_target("FakeTarget") != nullptr);
  BOOST_TEST(w.registry.find_notifier("FakeNotifier") != nullptr);
  BOOST_TEST(w.registry.find_discovery("FakeDiscovery") != nullptr);
  BOOST_TEST(w.registry.schema(connector_kind::issuer, "ACME") == nullptr);
  BOOST_TEST(w.registry.schema(connector_kind::issuer, "FakeCA")->find("api_key")->secret);
  issuer_registration second = fakes::fake_issuer_registration(w.journal);
  second.type = "AnotherCA";
  BOOST_REQUIRE(w.registry.add(std::move(second)).ok());
  BOOST_TEST((w.registry.types(connector_kind::issuer) ==
              std::vector<std::string>{"AnotherCA", "FakeCA"}));
}

BOOST_AUTO_TEST_CASE(bad_registrations_fail_naming_the_type) {
  fake_world w;
  auto twice = w.registry.add(fakes::fake_issuer_registration(w.journal));
  BOOST_REQUIRE(!twice.ok());
  BOOST_TEST(twice.error().find("FakeCA is registered twice") != std::string::npos);

  issuer_registration no_factory;
  no_factory.type = "Nothing";
  BOOST_TEST(w.registry.add(no_factory).error().find("Nothing") != std::string::npos);

  issuer_registration bad_schema = fakes::fake_issuer_registration(w.journal);
  bad_schema.type = "BadSchema";
  bad_schema.schema.fields.push_back({"url", field_type::string, false, false, "again"});
  BOOST_TEST(w.registry.add(bad_schema).error().find("'url' is declared twice") !=
             std::string::npos);
  bad_schema.schema = {{{"port", field_type::integer, false, true, "a secret integer"}}};
  BOOST_TEST(w.registry.add(bad_schema).error().find("secret but not a string") !=
             std::string::npos);

  issuer_registration unnamed = fakes::fake_issuer_registration(w.journal);
  unnamed.type.clear();
  BOOST_TEST(!w.registry.add(unnamed).ok());
}

BOOST_AUTO_TEST_CASE(the_builtin_list_needs_the_local_ca_and_registers_generic_ca) {
  connector_registry r;
  auto missing = register_builtin_connectors(r, {});
  BOOST_REQUIRE(!missing.ok());
  BOOST_TEST(missing.error().find("local CA") != std::string::npos);
  BOOST_TEST(r.types(connector_kind::issuer).empty());
  // The schema GenericCA registers (the CA itself is exercised in issuer_routes_test).
  const config_schema s = local_ca_schema();
  BOOST_TEST(field_of(s, R"({})") == "<ok>");
  BOOST_TEST(field_of(s, R"({"intermediate_id":"ica-1"})") == "<ok>");
  BOOST_TEST(field_of(s, R"({"intermediate_id":5})") == "intermediate_id");
  BOOST_TEST(field_of(s, R"({"a":"b"})") == "a");
  BOOST_TEST(s.secret_fields().empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(schema_validation)

BOOST_AUTO_TEST_CASE(a_config_that_fits_passes) {
  BOOST_TEST(field_of(sample_schema(), R"({"url":"https://ca","api_key":"k"})") == "<ok>");
  BOOST_TEST(field_of(sample_schema(),
                      R"({"url":"u","api_key":"k","retries":3,"verify_tls":false,
                          "roots":["a","b"],"extra":{"x":1}})") == "<ok>");
  // null is absent, as in the domain
  BOOST_TEST(field_of(sample_schema(), R"({"url":"u","api_key":"k","retries":null})") == "<ok>");
}

BOOST_AUTO_TEST_CASE(a_missing_required_field_is_named) {
  auto r = validate_config(sample_schema(), json(R"({"url":"https://ca"})"));
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().field == "api_key");
  BOOST_TEST(r.error().message == "config field 'api_key' is required (the CA's credential)");
  BOOST_TEST(field_of(sample_schema(), R"({"url":"","api_key":"k"})") == "url");
  BOOST_TEST(field_of(sample_schema(), R"({"url":null,"api_key":"k"})") == "url");
}

BOOST_AUTO_TEST_CASE(a_field_of_the_wrong_type_is_named_with_the_type_expected) {
  auto r = validate_config(sample_schema(), json(R"({"url":"u","api_key":"k","retries":"3"})"));
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message == "config field 'retries' must be an integer");
  BOOST_TEST(field_of(sample_schema(), R"({"url":"u","api_key":"k","verify_tls":1})") ==
             "verify_tls");
  BOOST_TEST(field_of(sample_schema(), R"({"url":"u","api_key":"k","roots":["a",1]})") == "roots");
  BOOST_TEST(field_of(sample_schema(), R"({"url":"u","api_key":"k","extra":[]})") == "extra");
  BOOST_TEST(field_of(sample_schema(), R"({"url":1,"api_key":"k"})") == "url");
}

BOOST_AUTO_TEST_CASE(an_unknown_field_is_refused_by_name) {
  auto r = validate_config(sample_schema(), json(R"({"url":"u","api_key":"k","api_tokn":"x"})"));
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().field == "api_tokn");
  BOOST_TEST(r.error().message == "config field 'api_tokn' is not known to this connector type");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sealing_and_redaction)

BOOST_AUTO_TEST_CASE(secrets_are_sealed_for_storage_and_opened_for_the_connector) {
  fake_world w;
  config_service svc(w.registry, test_key());
  auto stored = svc.prepare(connector_kind::issuer, "FakeCA", "iss-f",
                            json(R"({"url":"https://ca.test","api_key":"s3cr3t-value"})"));
  BOOST_REQUIRE(stored.ok());
  const std::string text = stored->dump();
  BOOST_TEST(text.find("s3cr3t-value") == std::string::npos, text);
  BOOST_TEST(stored->str("api_key").rfind(std::string(sealed_prefix), 0) == 0u);
  BOOST_TEST(stored->str("url") == "https://ca.test");  // not a secret: as given

  auto clear = svc.open(connector_kind::issuer, "FakeCA", "iss-f", *stored);
  BOOST_REQUIRE(clear.ok());
  BOOST_TEST(clear->str("api_key") == "s3cr3t-value");

  // Bound to its place: another entity, or another master key, cannot open it.
  auto elsewhere = svc.open(connector_kind::issuer, "FakeCA", "iss-other", *stored);
  BOOST_REQUIRE(!elsewhere.ok());
  BOOST_TEST(elsewhere.error().field == "api_key");
  crypto::aead_key other = test_key();
  other[0] ^= 1;
  config_service other_server(w.registry, other);
  BOOST_TEST(!other_server.open(connector_kind::issuer, "FakeCA", "iss-f", *stored).ok());
}

BOOST_AUTO_TEST_CASE(sealing_twice_gives_different_ciphertexts) {
  fake_world w;
  config_service svc(w.registry, test_key());
  const auto config = json(R"({"url":"u","api_key":"same"})");
  auto a = svc.prepare(connector_kind::issuer, "FakeCA", "iss-f", config);
  auto b = svc.prepare(connector_kind::issuer, "FakeCA", "iss-f", config);
  BOOST_REQUIRE(a.ok() && b.ok());
  BOOST_TEST(a->str("api_key") != b->str("api_key"));  // fresh nonce each time
}

BOOST_AUTO_TEST_CASE(an_unregistered_type_is_refused_never_replaced) {
  fake_world w;
  config_service svc(w.registry, test_key());
  auto r = svc.prepare(connector_kind::issuer, "ACME", "iss-a", json("{}"));
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().field == "type");
  BOOST_TEST(r.error().message == "no connector for issuer type ACME on this server");
  auto made = svc.make_issuer("iss-a", "ACME", json("{}"));
  BOOST_REQUIRE(!made.ok());
  BOOST_TEST(made.error().message == "no connector for issuer type ACME on this server");
  BOOST_TEST(w.journal->settings().empty());  // no factory ran
}

BOOST_AUTO_TEST_CASE(the_redacted_placeholder_keeps_the_stored_secret_on_update) {
  fake_world w;
  config_service svc(w.registry, test_key());
  auto first = svc.prepare(connector_kind::issuer, "FakeCA", "iss-f",
                           json(R"({"url":"u","api_key":"original"})"));
  BOOST_REQUIRE(first.ok());
  const events::json_object shown = svc.redact(connector_kind::issuer, "FakeCA", *first);
  BOOST_TEST(shown.str("api_key") == std::string(redacted_value));
  BOOST_TEST(shown.str("url") == "u");

  // What a GET showed, sent back with another URL: the secret stays what it was.
  events::json_object edited = shown;
  edited.set("url", "u2");
  auto second = svc.prepare(connector_kind::issuer, "FakeCA", "iss-f", edited, &*first);
  BOOST_REQUIRE(second.ok());
  BOOST_TEST(second->str("api_key") == first->str("api_key"));
  BOOST_TEST(svc.open(connector_kind::issuer, "FakeCA", "iss-f", *second)->str("api_key") ==
             "original");

  // Without a stored secret there is nothing to keep; a sealed value from elsewhere is refused.
  auto nothing = svc.prepare(connector_kind::issuer, "FakeCA", "iss-f", shown);
  BOOST_REQUIRE(!nothing.ok());
  BOOST_TEST(nothing.error().field == "api_key");
  events::json_object forged = shown;
  forged.set("api_key", std::string(sealed_prefix) + "AAAA");
  auto refused = svc.prepare(connector_kind::issuer, "FakeCA", "iss-f", forged, &*first);
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.error().message.find("'api_key'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(sealed_values_are_redacted_in_any_json_text) {
  const std::string sealed = std::string(sealed_prefix) + "QUJD-_x";
  const std::string page = R"({"data":[{"id":"iss-1","config":{"api_key":")" + sealed +
                           R"(","url":"u"}},{"id":"iss-2","config":{"list":[")" + sealed +
                           R"("]},"note":"mentions \"sealed:v1:xyz\" in passing"}],"total":2})";
  const std::string shown = redact_sealed_values(page);
  BOOST_TEST(shown.find(sealed) == std::string::npos, shown);
  BOOST_TEST(shown.find(R"("api_key":"********")") != std::string::npos, shown);
  BOOST_TEST(shown.find(R"("list":["********"])") != std::string::npos, shown);
  // An escaped quote inside another string is not the start of a value: left alone.
  BOOST_TEST(shown.find(R"(mentions \"sealed:v1:xyz\" in passing)") != std::string::npos, shown);
  BOOST_TEST(events::json_object::parse(shown).has_value(), shown);
  BOOST_TEST(redact_sealed_values("no secrets here") == "no secrets here");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(fakes_of_the_four_interfaces)

BOOST_AUTO_TEST_CASE(the_fake_issuer_issues_revokes_follows_orders_and_tests) {
  fake_world w;
  config_service svc(w.registry, test_key());
  auto stored = svc.prepare(connector_kind::issuer, "FakeCA", "iss-f",
                            json(R"({"url":"https://ca.test","api_key":"k1","async":true})"));
  BOOST_REQUIRE(stored.ok());
  auto ca = svc.make_issuer("iss-f", "FakeCA", *stored);
  BOOST_REQUIRE(ca.ok());
  BOOST_TEST(w.journal->settings().at(0).config.str("api_key") == "k1");  // opened for it
  BOOST_TEST((*ca)->capabilities().async_orders);
  BOOST_TEST((*ca)->capabilities().revoke);

  issuance_request req;
  req.common_name = "www.example.test";
  auto pending = (*ca)->issue(req);
  BOOST_REQUIRE(pending.ok());
  BOOST_TEST(pending->cert_pem.empty());
  BOOST_TEST(pending->order_id == "order-1");
  auto status = (*ca)->get_order_status(pending->order_id);
  BOOST_REQUIRE(status.ok());
  BOOST_TEST((status->state == order_state::valid));
  BOOST_TEST(!status->certificate.cert_pem.empty());

  BOOST_TEST((*ca)->revoke({"1", "keyCompromise"}).ok());
  BOOST_TEST((*ca)->self_test()->message == "fake CA at https://ca.test answered");
  w.journal->fail_next("CA is down");
  auto down = (*ca)->self_test();
  BOOST_REQUIRE(!down.ok());
  BOOST_TEST((down.error().code == issuer_errc::unavailable));
  BOOST_TEST(
      (w.journal->calls() ==
       std::vector<std::string>{"issue iss-f www.example.test", "order iss-f order-1",
                                "revoke iss-f 1 keyCompromise", "test iss-f", "test iss-f"}));
}

BOOST_AUTO_TEST_CASE(the_default_issuer_operations_say_unsupported) {
  fake_world w;
  config_service svc(w.registry, test_key());
  auto stored =
      svc.prepare(connector_kind::issuer, "FakeCA", "iss-s", json(R"({"url":"u","api_key":"k"})"));
  auto ca = svc.make_issuer("iss-s", "FakeCA", *stored);
  BOOST_REQUIRE(ca.ok());
  BOOST_TEST(!(*ca)->capabilities().async_orders);
  auto order = (*ca)->get_order_status("order-1");  // synchronous: no orders
  BOOST_TEST(!order.ok());
  auto renewed = (*ca)->renew(renewal_request{});  // default: a fresh issue()
  BOOST_REQUIRE(renewed.ok());
  BOOST_TEST(!renewed->cert_pem.empty());
}

BOOST_AUTO_TEST_CASE(the_fake_target_deploys_verifies_and_rolls_back) {
  fake_world w;
  const auto* reg = w.registry.find_target("FakeTarget");
  BOOST_REQUIRE(reg != nullptr);
  BOOST_TEST(!reg->make({"t-1", json(R"({"path":"/x","location":"moon"})")}).ok());
  auto t = reg->make({"t-1", json(R"({"path":"/etc/ssl/x","location":"proxy_agent"})")});
  BOOST_REQUIRE(t.ok());
  BOOST_TEST((to_string((*t)->location()) == "proxy_agent"));
  BOOST_TEST((*t)->validate().ok());
  deployment_request d;
  d.certificate_id = "mc-1";
  d.metadata["serial_hex"] = "AA";
  auto first = (*t)->deploy(d);
  BOOST_REQUIRE(first.ok());
  BOOST_TEST((*t)->verify({"mc-1", "AA"})->valid);
  d.metadata["serial_hex"] = "BB";
  auto second = (*t)->deploy(d);
  BOOST_REQUIRE(second.ok());
  BOOST_TEST(!(*t)->verify({"mc-1", "AA"})->valid);
  BOOST_TEST((*t)->rollback(second->deployment_id).ok());
  BOOST_TEST((*t)->verify({"mc-1", "AA"})->valid);
  BOOST_TEST((*t)->deploy(d)->unchanged == false);
  BOOST_TEST((*t)->deploy(d)->unchanged == true);  // same bytes again
}

BOOST_AUTO_TEST_CASE(the_fake_notifier_sends_on_its_channel_only) {
  fake_world w;
  auto n = w.registry.find_notifier("FakeNotifier")->make({"n-1", json(R"({"channel":"Email"})")});
  BOOST_REQUIRE(n.ok());
  BOOST_TEST((*n)->channel() == "Email");
  notification msg;
  msg.channel = "Slack";
  msg.subject = "expiring";
  msg.level = severity::warning;
  auto wrong = (*n)->send(msg);
  BOOST_REQUIRE(!wrong.ok());
  BOOST_TEST((wrong.error().code == connector_errc::invalid_request));
  msg.channel = "Email";
  auto sent = (*n)->send(msg);
  BOOST_REQUIRE(sent.ok());
  BOOST_TEST(sent->message_id == "msg-1");
  BOOST_TEST(w.journal->calls().back() == "send n-1 warning expiring");
}

BOOST_AUTO_TEST_CASE(the_fake_discovery_source_lists_what_its_config_names) {
  fake_world w;
  auto d = w.registry.find_discovery("FakeDiscovery")
               ->make({"d-1", json(R"({"locations":["10.0.0.5:443|www","bad"]})")});
  BOOST_REQUIRE(d.ok());
  auto page = (*d)->list();
  BOOST_REQUIRE(page.ok());
  BOOST_REQUIRE(page->certificates.size() == 1u);
  BOOST_TEST(page->certificates[0].location == "10.0.0.5:443");
  BOOST_TEST(page->certificates[0].common_name == "www");
  BOOST_TEST(page->warnings.size() == 1u);
  w.journal->fail_next("unreachable");
  BOOST_TEST(!(*d)->list().ok());
}

BOOST_AUTO_TEST_SUITE_END()
