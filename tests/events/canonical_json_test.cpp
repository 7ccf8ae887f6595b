// Canonical JSON: the bytes the hash chain covers, so equal documents must give equal bytes.
#include <boost/test/unit_test.hpp>

#include "events/canonical_json.hpp"
#include "events/json.hpp"
#include "events/json_depth.hpp"

using certctl::events::canonicalize_json;

namespace {

std::string canon(const std::string& json) {
  auto r = canonicalize_json(json);
  BOOST_REQUIRE_MESSAGE(r.ok(), json + " was rejected: " + (r.ok() ? "" : r.error().message));
  return *r;
}

bool rejected(const std::string& json) {
  return !canonicalize_json(json).ok();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(canonical_json)

BOOST_AUTO_TEST_CASE(object_keys_are_sorted_by_byte_order) {
  BOOST_TEST(canon(R"({"b":1,"a":2})") == R"({"a":2,"b":1})");
  // Byte order, not locale order: upper case before '_' before lower case before UTF-8.
  BOOST_TEST(canon(R"({"é":3,"a":2,"_":4,"B":1})") == R"({"B":1,"_":4,"a":2,"é":3})");
  BOOST_TEST(canon(R"({"ab":1,"a":2})") == R"({"a":2,"ab":1})");
}

BOOST_AUTO_TEST_CASE(nested_objects_are_sorted_and_arrays_keep_their_order) {
  BOOST_TEST(canon(R"({"z":{"y":[3,{"d":1,"c":2},1],"x":null},"a":[]})") ==
             R"({"a":[],"z":{"x":null,"y":[3,{"c":2,"d":1},1]}})");
  BOOST_TEST(canon(R"([{"b":true,"a":false}])") == R"([{"a":false,"b":true}])");
}

BOOST_AUTO_TEST_CASE(insignificant_whitespace_is_dropped) {
  BOOST_TEST(canon(" {\n\t\"a\" : [ 1 , 2 ] ,\r\n \"b\" : { } }\n") == R"({"a":[1,2],"b":{}})");
  // Whitespace inside strings is data.
  BOOST_TEST(canon(R"({"a":" x  y "})") == R"({"a":" x  y "})");
}

BOOST_AUTO_TEST_CASE(escapes_are_minimal_and_equal_strings_give_equal_bytes) {
  BOOST_TEST(canon(R"(["\u00e9"])") == "[\"\xc3\xa9\"]");
  BOOST_TEST(canon("[\"\xc3\xa9\"]") == "[\"\xc3\xa9\"]");
  BOOST_TEST(canon(R"(["\ud83d\ude00"])") == "[\"\xf0\x9f\x98\x80\"]");
  BOOST_TEST(canon(R"(["\/"])") == R"(["/"])");
  BOOST_TEST(canon(R"(["\u0041\t\"\\"])") == R"(["A\t\"\\"])");
  // Control characters must stay escaped or the output would not be JSON.
  BOOST_TEST(canon(R"(["\u0001"])") == R"(["\u0001"])");
  BOOST_TEST(canon(R"({"a\u0000b":1})") == R"({"a\u0000b":1})");
}

BOOST_AUTO_TEST_CASE(numbers_are_written_the_same_way_every_time) {
  BOOST_TEST(canon("[1,-7,0]") == "[1,-7,0]");
  BOOST_TEST(canon("[9007199254740993]") == "[9007199254740993]");  // beyond double precision
  BOOST_TEST(canon("[18446744073709551615]") == "[18446744073709551615]");
  BOOST_TEST(canon("[-9223372036854775808]") == "[-9223372036854775808]");
  BOOST_TEST(canon("[1.5,0.1,1E-7]") == "[1.5,0.1,1e-7]");
  BOOST_TEST(canon("[1e2]") == canon("[100.0]"));
  BOOST_TEST(canon("[3.141592653589793238]") == "[3.141592653589793]");
  // Every canonical form is a fixed point, so re-canonicalising a stored payload is harmless.
  for (const char* doc : {"[1.0,1e300,-0.0,123456789012345678901234]", R"({"b":[{"y":1,"x":2}]})"})
    BOOST_TEST(canon(canon(doc)) == canon(doc));
}

BOOST_AUTO_TEST_CASE(duplicate_keys_are_rejected_at_any_depth) {
  BOOST_TEST(rejected(R"({"a":1,"a":2})"));
  BOOST_TEST(rejected(R"({"x":{"a":1,"b":2,"a":1}})"));
  BOOST_TEST(rejected(R"([{"k":[{"d":1,"d":1}]}])"));
  auto r = canonicalize_json(R"({"a":1,"a":2})");
  BOOST_TEST(r.error().message.find("duplicate") != std::string::npos);
  // The same key in sibling objects is fine.
  BOOST_TEST(canon(R"([{"a":1},{"a":2}])") == R"([{"a":1},{"a":2}])");
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_rejected) {
  BOOST_TEST(rejected("[\"\xff\"]"));
  BOOST_TEST(rejected("[\"\xc0\xaf\"]"));       // overlong '/'
  BOOST_TEST(rejected("[\"\xe2\x82\"]"));       // truncated sequence
  BOOST_TEST(rejected("[\"\xed\xa0\x80\"]"));   // UTF-8 encoded surrogate
  BOOST_TEST(rejected("{\"\xfe\":1}"));         // in a key
  BOOST_TEST(rejected(R"(["\ud800"])"));        // lone surrogate escape
  BOOST_TEST(rejected(R"(["\ude00\ud83d"])"));  // reversed pair
}

BOOST_AUTO_TEST_CASE(malformed_json_is_rejected_with_a_message) {
  for (const char* doc : {"", "{", "[1,2,]", "{\"a\":1,}", "NaN", "[Infinity]", "{'a':1}",
                          "{\"a\":1} x", "[01]", "{a:1}", "\"unterminated"}) {
    auto r = canonicalize_json(doc);
    BOOST_TEST(!r.ok(), "accepted: " << doc);
    if (!r.ok()) BOOST_TEST(!r.error().message.empty());
  }
}

BOOST_AUTO_TEST_CASE(a_lone_surrogate_escape_is_refused_not_written_as_invalid_utf8) {
  // Found by the canonical_json fuzz target: the parser accepts it, the bytes would be invalid.
  auto r = certctl::events::canonicalize_json("{\"s\":\"\\ud03d\\ude00\"}");
  BOOST_TEST(!r.ok());
  BOOST_TEST(!certctl::events::json_object::parse("{\"s\":\"\\ude00\"}").has_value());
  BOOST_TEST(certctl::events::canonicalize_json("{\"s\":\"\\ud83d\\ude00\"}").ok());
}

BOOST_AUTO_TEST_CASE(an_overlong_number_is_refused_before_it_reaches_the_parser) {
  // Found by the canonical_json fuzz target: RapidJSON 1.1's full-precision path read out of
  // bounds on a ~200-digit mantissa.
  const std::string digits = "1770" + std::string(40, '0') + std::string(40, '7') + "39.17574" +
                             std::string(60, '7') + std::string(30, '0');
  auto r = certctl::events::canonicalize_json("{\"n\":" + digits + "}");
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message.find("number longer than") != std::string::npos);
  // Long digit runs inside strings are text, not numbers.
  BOOST_TEST(certctl::events::canonicalize_json("{\"s\":\"" + digits + "\"}").ok());
  BOOST_TEST(certctl::events::canonicalize_json("{\"n\":1.7976931348623157e308}").ok());
}

BOOST_AUTO_TEST_CASE(nesting_past_the_cap_is_refused_without_exhausting_the_stack) {
  const std::size_t cap = certctl::events::max_json_depth;
  const auto nested = [](std::size_t levels) {
    return "{\"a\":" + std::string(levels - 1, '[') + std::string(levels - 1, ']') + "}";
  };
  BOOST_TEST(canonicalize_json(nested(cap)).ok());
  auto too_deep = canonicalize_json(nested(cap + 1));
  BOOST_REQUIRE(!too_deep.ok());
  BOOST_TEST(too_deep.error().message.find("deeper than") != std::string::npos);
  BOOST_TEST(!canonicalize_json(std::string(200000, '[')).ok());
}

BOOST_AUTO_TEST_CASE(a_zero_with_an_exponent_stays_zero) {
  // RapidJSON 1.1's full-precision parser turns these into huge numbers (rapidjson#1249).
  BOOST_TEST(canon("0e244") == canon("0.0"));
  BOOST_TEST(canon("{\"n\":0e308}") == canon("{\"n\":0.0}"));
  BOOST_TEST(canon("[-0.0E5,0.00e+1,0e-3]") == canon("[-0.0,0.0,0.0]"));
  BOOST_TEST(canon("{\"s\":\"0e244\"}") == "{\"s\":\"0e244\"}");  // strings are left alone
  BOOST_TEST(canon("[1e2,10e1]") == canon("[100.0,100.0]"));
  for (const char* invalid : {"00e1", "0.e1", "0e", "-e1"})
    BOOST_TEST(!canonicalize_json(invalid).ok(), invalid);
}

BOOST_AUTO_TEST_SUITE_END()
