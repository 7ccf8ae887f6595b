// The cluster's wire format for forwarded commands and replies, and the partition hash.
#define BOOST_TEST_MODULE actors_cluster
#include <boost/test/unit_test.hpp>

#include "actors/cluster/command_codec.hpp"
#include "actors/cluster/partitioning.hpp"

using namespace certctl;

namespace {

domain::command sample() {
  domain::command c;
  c.name = "certificate.create";
  c.entity_id = "mc-1";
  c.body = events::json_object::parse(R"({"name":"web","sans":["a.example","b.example"]})").value();
  c.principal = "apikey:ops";
  c.source_address = "127.0.0.1";
  c.correlation_id = "req-9";
  c.command_id = "fwd-1";
  return c;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_command_survives_the_round_trip) {
  auto decoded = cluster::decode_command(cluster::encode_command("certificate", sample()));
  BOOST_REQUIRE_MESSAGE(decoded.ok(), (decoded.ok() ? std::string() : decoded.error()));
  BOOST_TEST(decoded->kind == "certificate");
  BOOST_TEST(decoded->cmd.name == "certificate.create");
  BOOST_TEST(decoded->cmd.entity_id == "mc-1");
  BOOST_TEST(decoded->cmd.body.dump() == sample().body.dump());
  BOOST_TEST(decoded->cmd.principal == "apikey:ops");
  BOOST_TEST(decoded->cmd.source_address == "127.0.0.1");
  BOOST_TEST(decoded->cmd.correlation_id == "req-9");
  BOOST_TEST(decoded->cmd.command_id == "fwd-1");
}

BOOST_AUTO_TEST_CASE(malformed_commands_are_refused_with_a_reason) {
  const std::string good = cluster::encode_command("certificate", sample());
  const std::vector<std::string> cases{
      std::string("not json"),
      std::string("[]"),
      std::string("{}"),
      std::string(R"({"v":2,"kind":"certificate"})"),
      R"({"v":1,"kind":"certificate","name":"x","entity_id":"mc-1","body":[],"principal":"",)"
      R"("source_address":"","correlation_id":"","command_id":""})",
      R"({"v":1,"kind":"","name":"x","entity_id":"mc-1","body":{},"principal":"",)"
      R"("source_address":"","correlation_id":"","command_id":""})",
      good.substr(0, good.size() / 2),
      std::string(cluster::max_forwarded_bytes + 1, ' ')};
  for (const auto& bad : cases) {
    auto decoded = cluster::decode_command(bad);
    BOOST_TEST(!decoded.ok(), bad.substr(0, 80));
    if (!decoded.ok()) BOOST_TEST(!decoded.error().empty());
  }
}

BOOST_AUTO_TEST_CASE(outcomes_and_errors_survive_the_round_trip) {
  actors::command_outcome out{events::json_object::parse(R"({"id":"mc-1"})").value(), 42, 3, true};
  auto ok = cluster::decode_result(cluster::encode_result(out));
  BOOST_REQUIRE(ok.ok());
  BOOST_TEST(ok->view.str("id") == "mc-1");
  BOOST_TEST(ok->position == 42);
  BOOST_TEST(ok->stream_version == 3);
  BOOST_TEST(ok->duplicate);

  for (auto code : {domain::domain_errc::invalid, domain::domain_errc::not_found,
                    domain::domain_errc::conflict, domain::domain_errc::forbidden,
                    domain::domain_errc::internal, domain::domain_errc::unavailable}) {
    auto err = cluster::decode_result(cluster::encode_result(domain::domain_error{code, "why"}));
    BOOST_REQUIRE(!err.ok());
    BOOST_TEST(static_cast<int>(err.error().code) == static_cast<int>(code));
    BOOST_TEST(err.error().message == "why");
  }
}

BOOST_AUTO_TEST_CASE(an_unreadable_reply_is_unavailable_not_a_crash) {
  for (const char* bad :
       {"", "{", R"({"v":1})", R"({"v":1,"ok":false,"code":"nope","message":"x"})",
        R"({"v":1,"ok":true,"view":{}})"}) {
    auto r = cluster::decode_result(bad);
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(static_cast<int>(r.error().code) ==
               static_cast<int>(domain::domain_errc::unavailable));
  }
}

BOOST_AUTO_TEST_CASE(partitions_are_stable_and_in_range) {
  // Fixed values: every node (and every version of the code) must agree on them.
  BOOST_TEST(cluster::partition_of("certificate-mc-1", 12) ==
             cluster::partition_of("certificate-mc-1", 12));
  std::vector<int> counts(12, 0);
  for (int i = 0; i < 12000; ++i) {
    const int p = cluster::partition_of("certificate-mc-" + std::to_string(i), 12);
    BOOST_REQUIRE(p >= 0);
    BOOST_REQUIRE(p < 12);
    ++counts[static_cast<size_t>(p)];
  }
  // Spread: no partition gets less than half or more than twice its share.
  for (int n : counts) {
    BOOST_TEST(n > 500);
    BOOST_TEST(n < 2000);
  }
  BOOST_TEST(cluster::partition_of("", 1) == 0);
}
