// External forms of a recorded event: the JSON object of exports and the API, and CSV rows.
#include <rapidjson/document.h>

#include <boost/test/unit_test.hpp>
#include <vector>

#include "events/canonical_json.hpp"
#include "events/event_codec.hpp"

using namespace certctl::events;

namespace {

recorded_event sample() {
  recorded_event e;
  e.position = 42;
  e.stream_id = "certificate-mc-42";
  e.stream_version = 3;
  e.event_id = "0b8e4f7a-0000-4000-8000-000000000001";
  e.type = "certificate.issued";
  e.schema_version = 2;
  e.occurred_at = 1795767166LL * 1000000 + 7;
  e.principal = "apikey:ops";
  e.source_address = "10.0.0.7";
  e.correlation_id = "req-9";
  e.causation_id = "cmd-9";
  e.payload = R"({"sans":["a.example","b.example"],"serial":"0a1b"})";
  e.prev_hash = std::string(64, 'a');
  e.hash = std::string(64, 'b');
  return e;
}

/// Splits one RFC 4180 row into unquoted fields (enough for the tests' rows).
std::vector<std::string> split_csv(const std::string& row) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < row.size(); ++i) {
    const char c = row[i];
    if (quoted) {
      if (c == '"' && i + 1 < row.size() && row[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(event_codec)

BOOST_AUTO_TEST_CASE(to_json_writes_every_envelope_field_in_a_fixed_order) {
  const std::string json = to_json(sample());
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  BOOST_REQUIRE(!doc.HasParseError());
  BOOST_REQUIRE(doc.IsObject());
  const std::vector<std::string> expected_keys = {
      "position",       "stream_id",    "stream_version",
      "event_id",       "type",         "schema_version",
      "occurred_at",    "principal",    "source_address",
      "correlation_id", "causation_id", "payload",
      "prev_hash",      "hash"};
  std::vector<std::string> keys;
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it)
    keys.emplace_back(it->name.GetString());
  BOOST_TEST(keys == expected_keys, boost::test_tools::per_element());
  BOOST_TEST(doc["position"].GetInt64() == 42);
  BOOST_TEST(doc["stream_version"].GetInt64() == 3);
  BOOST_TEST(doc["schema_version"].GetInt() == 2);
  BOOST_TEST(std::string(doc["occurred_at"].GetString()) == "2026-11-27T08:12:46.000007Z");
  // The payload is embedded as a JSON value, not as a string holding JSON.
  BOOST_REQUIRE(doc["payload"].IsObject());
  BOOST_TEST(doc["payload"]["serial"].GetString() == std::string("0a1b"));
  BOOST_TEST(doc["hash"].GetString() == std::string(64, 'b'));
}

BOOST_AUTO_TEST_CASE(to_json_is_one_line_and_escapes_envelope_strings) {
  auto e = sample();
  e.principal = "agent \"edge\"\n\\1";
  const std::string json = to_json(e);
  BOOST_TEST(json.find('\n') == std::string::npos);
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  BOOST_REQUIRE(!doc.HasParseError());
  BOOST_TEST(doc["principal"].GetString() == e.principal);
}

BOOST_AUTO_TEST_CASE(csv_header_and_row_have_the_same_columns) {
  const auto header = split_csv(csv_header());
  const auto row = split_csv(to_csv_row(sample()));
  BOOST_TEST(header.size() == 14u);
  BOOST_TEST(row.size() == header.size());
  BOOST_TEST(header.front() == "position");
  BOOST_TEST(row[0] == "42");
  BOOST_TEST(row[6] == "2026-11-27T08:12:46.000007Z");
  BOOST_TEST(row[11] == sample().payload);
}

BOOST_AUTO_TEST_CASE(csv_quotes_fields_with_separators_quotes_or_line_breaks) {
  auto e = sample();
  e.principal = "plain value";
  e.source_address = "a,b";
  e.correlation_id = "say \"hi\"";
  e.causation_id = "line\nbreak";
  e.stream_id = "cr\rhere";
  const std::string row = to_csv_row(e);
  BOOST_TEST(row.find(",plain value,") != std::string::npos);  // no needless quotes
  BOOST_TEST(row.find(",\"a,b\",") != std::string::npos);
  BOOST_TEST(row.find(",\"say \"\"hi\"\"\",") != std::string::npos);
  BOOST_TEST(row.find(",\"line\nbreak\",") != std::string::npos);
  BOOST_TEST(row.find(",\"cr\rhere\",") != std::string::npos);
  // The payload has commas and quotes: quoted, quotes doubled, and it reads back exactly.
  BOOST_TEST(row.find(R"("{""sans"":[""a.example"",""b.example""],""serial"":""0a1b""}")") !=
             std::string::npos);
  const auto fields = split_csv(row);
  BOOST_REQUIRE(fields.size() == 14u);
  BOOST_TEST(fields[1] == e.stream_id);
  BOOST_TEST(fields[7] == e.principal);
  BOOST_TEST(fields[8] == e.source_address);
  BOOST_TEST(fields[9] == e.correlation_id);
  BOOST_TEST(fields[10] == e.causation_id);
  BOOST_TEST(fields[11] == e.payload);
}

BOOST_AUTO_TEST_CASE(canonical_bytes_cover_every_field_but_the_hashes_in_sorted_order) {
  const auto e = sample();
  BOOST_TEST(canonical_bytes(e) ==
             R"({"causation_id":"cmd-9","correlation_id":"req-9",)"
             R"("event_id":"0b8e4f7a-0000-4000-8000-000000000001","occurred_at":1795767166000007,)"
             R"("payload":{"sans":["a.example","b.example"],"serial":"0a1b"},"position":42,)"
             R"("principal":"apikey:ops","schema_version":2,"source_address":"10.0.0.7",)"
             R"("stream_id":"certificate-mc-42","stream_version":3,"type":"certificate.issued"})");
  auto other = e;
  other.hash = "x";
  other.prev_hash = "y";
  BOOST_TEST(canonical_bytes(other) == canonical_bytes(e));
}

BOOST_AUTO_TEST_CASE(canonical_parts_surround_exactly_the_position_digits) {
  auto e = sample();
  // A payload that spells the key too: the cut is at the envelope's key, not a search.
  e.payload = R"({"note":"\"position\":7"})";
  for (std::int64_t position :
       {std::int64_t{1}, std::int64_t{42}, std::int64_t{9007199254740993}}) {
    e.position = position;
    const auto parts = canonical_bytes_around_position(e);
    BOOST_TEST(parts.before_position + std::to_string(position) + parts.after_position ==
               canonical_bytes(e));
    BOOST_TEST(parts.before_position.substr(parts.before_position.size() - 11) == R"("position":)");
  }
}

BOOST_AUTO_TEST_SUITE_END()
