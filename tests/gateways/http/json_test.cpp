// JSON body parsing and typed fields, pagination parameters, position headers.
#include <boost/test/unit_test.hpp>

#include "events/json_depth.hpp"
#include "gateways/http/json.hpp"
#include "gateways/http/pagination.hpp"
#include "gateways/http/position.hpp"

using namespace certctl::gateways::http;

BOOST_AUTO_TEST_SUITE(json_bodies)

BOOST_AUTO_TEST_CASE(malformed_bodies_give_the_offset_and_the_reason) {
  auto r = parse_json(R"({"a": 1,})");
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().status == 400);
  BOOST_TEST(r.error().message.rfind("invalid JSON at offset 8: ", 0) == 0u, r.error().message);
  BOOST_TEST(parse_json("").error().message == "request body is empty (expected JSON)");
  BOOST_TEST(!parse_json("{} {}").ok());  // trailing content
  BOOST_TEST(!parse_json("{\"a\": NaN}").ok());
  BOOST_TEST(!parse_json("\"\xff\xfe\"").ok());  // invalid UTF-8
}

BOOST_AUTO_TEST_CASE(bodies_over_the_limit_are_413) {
  auto r = parse_json(R"({"a": "0123456789"})", 10);
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().status == 413);
}

namespace {

/// `depth` nested arrays: [[...]].
std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

/// `depth` nested objects: {"a":{"a":...{}}}.
std::string nested_objects(std::size_t depth) {
  std::string s;
  for (std::size_t i = 1; i < depth; ++i) s += "{\"a\":";
  s += "{}";
  s += std::string(depth - 1, '}');
  return s;
}

constexpr std::size_t cap = certctl::events::max_untrusted_json_depth;

}  // namespace

// Before the cap, a body of 200,000 '[' parsed (iteratively) and then crashed whatever walked
// it recursively; now it is refused before parsing, with a message a client can act on.
BOOST_AUTO_TEST_CASE(deep_nesting_is_refused_before_parsing_without_exhausting_the_stack) {
  for (const auto& deep : {nested_arrays(200000), nested_objects(200000)}) {
    auto r = parse_json(deep, deep.size());
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().status == 400);
    BOOST_TEST(r.error().message ==
               "request body nests arrays/objects deeper than " + std::to_string(cap) + " levels");
    auto o = parse_json_object(deep, deep.size());
    BOOST_REQUIRE(!o.ok());
    BOOST_TEST(o.error().status == 400);
    BOOST_TEST(o.error().message == r.error().message);
  }
}

BOOST_AUTO_TEST_CASE(nesting_at_the_cap_is_accepted_and_one_level_more_is_not) {
  BOOST_TEST(parse_json(nested_arrays(cap)).ok());
  BOOST_TEST(parse_json(nested_objects(cap)).ok());
  BOOST_TEST(parse_json_object(nested_objects(cap)).ok());
  BOOST_TEST(parse_json_object("{\"a\":" + nested_arrays(cap - 1) + "}").ok());
  BOOST_TEST(parse_json(nested_arrays(cap + 1)).error().status == 400);
  BOOST_TEST(parse_json(nested_objects(cap + 1)).error().status == 400);
  BOOST_TEST(parse_json_object(nested_objects(cap + 1)).error().status == 400);
  BOOST_TEST(parse_json_object("{\"a\":" + nested_arrays(cap) + "}").error().status == 400);
}

BOOST_AUTO_TEST_CASE(brackets_inside_strings_do_not_count_as_nesting) {
  // An escaped quote in the middle must not end the string for the scan.
  const std::string text =
      "{\"s\":\"" + std::string(1000, '[') + "\\\"" + std::string(1000, '{') + "\"}";
  auto o = parse_json_object(text);
  BOOST_REQUIRE(o.ok());
  BOOST_TEST(o->str("s").size() == 2001u);
  BOOST_TEST(!certctl::events::json_deeper_than(text, 1));
  BOOST_TEST(certctl::events::json_deeper_than("{\"s\":\"\\\\\",\"t\":[[]]}", 2));
}

BOOST_AUTO_TEST_CASE(command_bodies_are_objects_and_an_empty_body_is_an_empty_object) {
  auto empty = parse_json_object("");
  BOOST_REQUIRE(empty.ok());
  BOOST_TEST(empty->keys().empty());
  auto list = parse_json_object("[1]");
  BOOST_REQUIRE(!list.ok());
  BOOST_TEST(list.error().message == "request body is not a JSON object: expected a JSON object");
  BOOST_TEST(parse_json_object(R"({"a": "0123456789"})", 10).error().status == 413);
}

// The parser behind every command, event and view: iterative, and capped well above what a
// request body may nest, so JSON the server wrote around an accepted body still loads.
BOOST_AUTO_TEST_CASE(json_object_parse_is_iterative_and_capped) {
  BOOST_TEST(certctl::events::json_object::parse(nested_objects(certctl::events::max_json_depth))
                 .has_value());
  std::string why;
  BOOST_TEST(!certctl::events::json_object::parse(nested_objects(200000), &why).has_value());
  BOOST_TEST(why == "JSON nests arrays/objects deeper than " +
                        std::to_string(certctl::events::max_json_depth) + " levels");
  certctl::events::json_object o;
  o.set_raw("deep", nested_arrays(200000));  // ignored like any other invalid value
  BOOST_TEST(!o.has("deep"));
}

BOOST_AUTO_TEST_CASE(typed_fields_are_read_and_the_first_problem_is_reported) {
  auto doc = parse_json(R"({"cn": "a.example", "days": 90, "auto": true, "sans": ["x", "y"],
                            "owner": null, "subject": {"o": "Acme"}, "extra": 1})");
  BOOST_REQUIRE(doc.ok());
  field_reader in(*doc);
  BOOST_TEST(in.required_string("cn") == "a.example");
  BOOST_TEST(in.required_int("days") == 90);
  BOOST_TEST(in.optional_bool("auto").value_or(false));
  BOOST_TEST(in.string_array("sans").size() == 2u);
  BOOST_TEST(!in.optional_string("owner").has_value());  // null counts as absent
  BOOST_TEST(!in.optional_string("missing").has_value());
  const auto* subject = in.optional_object("subject");
  BOOST_REQUIRE(subject);
  field_reader sub(*subject, "subject.");
  BOOST_TEST(sub.required_string("o") == "Acme");
  sub.required_string("cn");
  BOOST_TEST(sub.error()->message == "field 'subject.cn' is required");
  BOOST_TEST(in.ok());
  in.reject_unknown({"cn", "days", "auto", "sans", "owner", "subject"});
  BOOST_REQUIRE(!in.ok());
  BOOST_TEST(in.error()->message == "unknown field 'extra' (a number)");
}

BOOST_AUTO_TEST_CASE(wrong_types_are_rejected_with_the_field_name) {
  auto check = [](const char* body, auto read, const std::string& expected) {
    auto doc = parse_json(body);
    BOOST_REQUIRE(doc.ok());
    field_reader in(*doc);
    read(in);
    BOOST_REQUIRE(in.error().has_value());
    BOOST_TEST(in.error()->status == 400);
    BOOST_TEST(in.error()->message == expected);
  };
  check(R"({"common_name": 5})", [](field_reader& f) { f.required_string("common_name"); },
        "field 'common_name' must be a string");
  check(R"({"days": 1.5})", [](field_reader& f) { f.optional_int("days"); },
        "field 'days' must be an integer");
  check(R"({"sans": ["a", 1]})", [](field_reader& f) { f.string_array("sans"); },
        "field 'sans' must be an array of strings");
  check(R"({"auto": "yes"})", [](field_reader& f) { f.optional_bool("auto"); },
        "field 'auto' must be a boolean");
  check(R"({"a": "x", "a": "y"})", [](field_reader& f) { f.optional_string("a"); },
        "field 'a' appears more than once");
  check(R"([1])", [](field_reader& f) {}, "request body must be a JSON object");
  check(R"({})", [](field_reader& f) { f.required_int("days"); }, "field 'days' is required");
}

BOOST_AUTO_TEST_CASE(the_writer_escapes_and_embeds_raw_values) {
  json_writer w;
  w.begin_object().field("s", "a\"b\n").field("n", std::int64_t{-3}).field("b", false);
  w.key("raw").raw(R"({"x":[1,2]})").end_object();
  BOOST_TEST(w.str() == R"({"s":"a\"b\n","n":-3,"b":false,"raw":{"x":[1,2]}})");
  BOOST_TEST(json_object_of("status", "ok") == R"({"status":"ok"})");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(pagination)

BOOST_AUTO_TEST_CASE(defaults_are_page_1_of_50) {
  auto p = parse_page_params({});
  BOOST_REQUIRE(p.ok());
  BOOST_TEST(p->page == 1);
  BOOST_TEST(p->per_page == 50);
  BOOST_TEST(p->offset() == 0);
  auto empty = parse_page_params({{"page", ""}, {"per_page", ""}});
  BOOST_REQUIRE(empty.ok());
  BOOST_TEST(empty->per_page == 50);
}

BOOST_AUTO_TEST_CASE(per_page_above_500_is_clamped_and_offsets_follow) {
  auto p = parse_page_params({{"page", "4"}, {"per_page", "99999999999999999999999"}});
  BOOST_REQUIRE(p.ok());
  BOOST_TEST(p->per_page == 500);
  BOOST_TEST(p->offset() == 1500);
}

BOOST_AUTO_TEST_CASE(non_numbers_and_values_below_1_are_400) {
  for (const char* bad : {"abc", "-1", "0", "1.5", " 2", "+3", "0x10"}) {
    auto p = parse_page_params({{"per_page", bad}});
    BOOST_TEST(!p.ok(), bad);
    auto q = parse_page_params({{"page", bad}});
    BOOST_TEST(!q.ok(), bad);
    if (!q.ok()) BOOST_TEST(q.error().status == 400);
  }
  BOOST_TEST(!parse_page_params({{"page", "99999999999"}}).ok());
}

BOOST_AUTO_TEST_CASE(the_envelope_has_the_spec_field_names) {
  page_params p{2, 10};
  BOOST_TEST(render_page(std::vector<std::string>{R"({"id":"a"})", R"({"id":"b"})"}, 12, p) ==
             R"({"data":[{"id":"a"},{"id":"b"}],"total":12,"page":2,"per_page":10})");
  BOOST_TEST(render_page(std::vector<std::string>{}, 0, p) ==
             R"({"data":[],"total":0,"page":2,"per_page":10})");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(positions)

BOOST_AUTO_TEST_CASE(position_headers_are_written_and_parsed_strictly) {
  response r;
  set_position(r, 1234);
  BOOST_REQUIRE(r.headers.size() == 1u);
  BOOST_TEST(r.headers[0].first == "X-Certctl-Position");
  BOOST_TEST(r.headers[0].second == "1234");
  BOOST_TEST(parse_position("0").value_or(-1) == 0);
  BOOST_TEST(parse_position("9223372036854775807").has_value());
  BOOST_TEST(!parse_position("9223372036854775808").has_value());
  BOOST_TEST(!parse_position("-1").has_value());
  BOOST_TEST(!parse_position("").has_value());
  header_map h{{"x-certctl-wait-for-position", "17"}};
  auto wanted = requested_position(h);
  BOOST_REQUIRE(wanted.ok());
  BOOST_TEST(wanted->value_or(0) == 17);
  BOOST_TEST(!requested_position(header_map{{"X-Certctl-Wait-For-Position", "x"}}).ok());
  BOOST_TEST(!requested_position(header_map{})->has_value());
}

BOOST_AUTO_TEST_SUITE_END()
