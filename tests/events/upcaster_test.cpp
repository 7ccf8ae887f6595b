// Schema evolution (DESIGN §3): an old event kept as a fixture still loads, as the current
// version, through the registered upcasters; and it still verifies against its stored hash.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>

#include "events/canonical_json.hpp"
#include "events/time.hpp"
#include "events/upcaster.hpp"
#include "infra/crypto/sha256.hpp"

using namespace certctl;
using events::recorded_event;
using events::upcast_error;
using events::upcaster_registry;

namespace {

std::string fixture_path(const std::string& name) {
  return std::string(CERTCTL_SOURCE_DIR) + "/tests/events/fixtures/" + name;
}

std::string to_text(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

/// Reads an event stored in the export format (events::to_json), as `certctl-audit export`
/// wrote it at the time.
recorded_event load_fixture(const std::string& name) {
  std::ifstream in(fixture_path(name));
  BOOST_REQUIRE_MESSAGE(in, "missing fixture " + fixture_path(name));
  std::stringstream text;
  text << in.rdbuf();
  rapidjson::Document d;
  d.Parse(text.str().c_str());
  BOOST_REQUIRE_MESSAGE(!d.HasParseError() && d.IsObject(), "fixture is not a JSON object");
  recorded_event e;
  e.position = d["position"].GetInt64();
  e.stream_id = d["stream_id"].GetString();
  e.stream_version = d["stream_version"].GetInt64();
  e.event_id = d["event_id"].GetString();
  e.type = d["type"].GetString();
  e.schema_version = d["schema_version"].GetInt();
  auto at = events::parse_rfc3339(d["occurred_at"].GetString());
  BOOST_REQUIRE(at.has_value());
  e.occurred_at = *at;
  e.principal = d["principal"].GetString();
  e.source_address = d["source_address"].GetString();
  e.correlation_id = d["correlation_id"].GetString();
  e.causation_id = d["causation_id"].GetString();
  auto payload = events::canonicalize_json(to_text(d["payload"]));
  BOOST_REQUIRE(payload.ok());
  e.payload = *payload;
  e.prev_hash = d["prev_hash"].GetString();
  e.hash = d["hash"].GetString();
  return e;
}

/// Edits a payload as a document and returns its canonical text.
template <class Edit>
result<std::string, upcast_error> edit_payload(const std::string& payload, Edit edit) {
  rapidjson::Document d;
  d.Parse(payload.c_str());
  if (d.HasParseError() || !d.IsObject()) return upcast_error{"payload is not a JSON object"};
  if (auto err = edit(d)) return upcast_error{*err};
  auto canonical = events::canonicalize_json(to_text(d));
  if (!canonical) return upcast_error{canonical.error().message};
  return *canonical;
}

/// certificate.requested v1 -> v2 renamed "common_name" to "subject_cn".
result<std::string, upcast_error> requested_v1_to_v2(const std::string& payload) {
  return edit_payload(payload, [](rapidjson::Document& d) -> std::optional<std::string> {
    auto it = d.FindMember("common_name");
    if (it == d.MemberEnd()) return "v1 certificate.requested without common_name";
    rapidjson::Value value(it->value, d.GetAllocator());
    d.RemoveMember(it);
    d.AddMember("subject_cn", value, d.GetAllocator());
    return std::nullopt;
  });
}

/// certificate.requested v2 -> v3 added "key_type", which v2 requests always meant as RSA.
result<std::string, upcast_error> requested_v2_to_v3(const std::string& payload) {
  return edit_payload(payload, [](rapidjson::Document& d) -> std::optional<std::string> {
    if (!d.HasMember("key_type")) d.AddMember("key_type", "rsa-2048", d.GetAllocator());
    return std::nullopt;
  });
}

upcaster_registry current_registry() {
  upcaster_registry r;
  r.add("certificate.requested", 1, requested_v1_to_v2);
  r.add("certificate.requested", 2, requested_v2_to_v3);
  return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(upcasters)

BOOST_AUTO_TEST_CASE(the_stored_v1_fixture_still_verifies_against_its_hash) {
  const auto e = load_fixture("certificate_requested_v1.json");
  crypto::sha256 h;
  h.update(e.prev_hash);
  h.update(events::canonical_bytes(e));
  BOOST_TEST(crypto::to_hex(h.finish()) == e.hash);
}

BOOST_AUTO_TEST_CASE(a_stored_v1_event_loads_as_the_current_version) {
  auto e = load_fixture("certificate_requested_v1.json");
  BOOST_REQUIRE(e.schema_version == 1);
  const auto registry = current_registry();
  BOOST_TEST(registry.current_version("certificate.requested") == 3);
  auto up = registry.upcast(e);
  BOOST_REQUIRE_MESSAGE(up.ok(), (up.ok() ? "" : up.error().message));
  BOOST_TEST(e.schema_version == 3);
  BOOST_TEST(e.payload ==
             R"({"issuer_id":"local","key_type":"rsa-2048","profile":"tls-server",)"
             R"("sans":["example.com","www.example.com"],"subject_cn":"www.example.com"})");
  // Only the payload and its version change; the envelope is the stored one.
  BOOST_TEST(e.event_id == "7d1c0a4e-9a8b-4c2e-8f61-3b2a9e5d0c11");
  BOOST_TEST(e.position == 17);
}

BOOST_AUTO_TEST_CASE(a_current_event_passes_unchanged_and_unknown_types_are_version_1) {
  const auto registry = current_registry();
  recorded_event e;
  e.type = "certificate.requested";
  e.schema_version = 3;
  e.payload = R"({"subject_cn":"x"})";
  BOOST_REQUIRE(registry.upcast(e).ok());
  BOOST_TEST(e.payload == R"({"subject_cn":"x"})");
  BOOST_TEST(registry.current_version("certificate.revoked") == 1);
  recorded_event other;
  other.type = "certificate.revoked";
  other.payload = "{}";
  BOOST_TEST(registry.upcast(other).ok());
}

BOOST_AUTO_TEST_CASE(a_version_newer_than_this_build_knows_is_an_error) {
  const auto registry = current_registry();
  recorded_event e;
  e.event_id = "e-4";
  e.type = "certificate.requested";
  e.schema_version = 4;
  e.payload = "{}";
  auto up = registry.upcast(e);
  BOOST_REQUIRE(!up.ok());
  BOOST_TEST(up.error().message.find("newer") != std::string::npos);
  BOOST_TEST(e.schema_version == 4);
}

BOOST_AUTO_TEST_CASE(a_missing_step_is_an_error) {
  // v2 -> v3 registered, v1 -> v2 forgotten: a v1 event cannot reach v3.
  upcaster_registry registry;
  registry.add("certificate.requested", 2, requested_v2_to_v3);
  auto e = load_fixture("certificate_requested_v1.json");
  auto up = registry.upcast(e);
  BOOST_REQUIRE(!up.ok());
  BOOST_TEST(up.error().message.find("no upcaster for certificate.requested v1") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_failing_step_is_reported_and_the_event_is_not_half_upcast) {
  auto registry = current_registry();
  recorded_event e;
  e.type = "certificate.requested";
  e.schema_version = 1;
  e.payload = R"({"sans":[]})";  // v1 always had common_name; this one is damaged
  auto up = registry.upcast(e);
  BOOST_REQUIRE(!up.ok());
  BOOST_TEST(up.error().message.find("common_name") != std::string::npos);
  BOOST_TEST(e.schema_version == 1);
  BOOST_TEST(e.payload == R"({"sans":[]})");
}

BOOST_AUTO_TEST_SUITE_END()
