// CERTCTL_KAFKA_* configuration and the CloudEvents mapping helpers.
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <map>

#include "infra/config.hpp"
#include "infra/kafka/cloudevents.hpp"
#include "tests/infra/kafka/kafka_fixture.hpp"

using namespace certctl;

namespace {
using props = std::vector<std::pair<std::string, std::string>>;
}

BOOST_AUTO_TEST_SUITE(kafka_config)

BOOST_AUTO_TEST_CASE(inline_properties_are_semicolon_separated_pairs) {
  auto p = infra::parse_kafka_properties(" security.protocol=ssl ; linger.ms = 1;;sasl.x=a=b");
  BOOST_REQUIRE(p);
  BOOST_CHECK((*p == props{{"security.protocol", "ssl"}, {"linger.ms", "1"}, {"sasl.x", "a=b"}}));
  auto bad = infra::parse_kafka_properties("linger.ms=1;oops");
  BOOST_REQUIRE(!bad);
  BOOST_CHECK_NE(bad.error().message.find("oops"), std::string::npos);
  BOOST_CHECK_NE(bad.error().message.find("CERTCTL_KAFKA_PROPERTIES"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_properties_file_has_one_pair_per_line_and_comments) {
  testing::temp_dir dir;
  const auto file = (dir.path / "kafka.properties").string();
  std::ofstream(file) << "# credentials\nsasl.password=se;cret\n\n  acks = all  \n";
  auto p = infra::parse_kafka_properties("@" + file);
  BOOST_REQUIRE(p);
  BOOST_CHECK((*p == props{{"sasl.password", "se;cret"}, {"acks", "all"}}));
  auto missing = infra::parse_kafka_properties("@" + file + ".nope");
  BOOST_REQUIRE(!missing);
  BOOST_CHECK_NE(missing.error().message.find("cannot read"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(load_config_reads_the_kafka_variables) {
  std::map<std::string, std::string> env = {
      {"CERTCTL_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"},
      {"CERTCTL_KAFKA_PROPERTIES", "linger.ms=1"},
  };
  auto getenv_fn = [&](const char* n) -> const char* {
    auto it = env.find(n);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  auto c = infra::load_config(getenv_fn);
  BOOST_REQUIRE(c);
  BOOST_CHECK_EQUAL(c->kafka_bootstrap_servers, "127.0.0.1:9092");
  BOOST_CHECK_EQUAL(c->kafka_topic, "certctl.events");
  BOOST_CHECK((c->kafka_properties == props{{"linger.ms", "1"}}));
  env["CERTCTL_KAFKA_TOPIC"] = "audit.events";
  env["CERTCTL_KAFKA_PROPERTIES"] = "=1";
  auto bad = infra::load_config(getenv_fn);
  BOOST_REQUIRE(!bad);
  env["CERTCTL_KAFKA_PROPERTIES"] = "";
  BOOST_CHECK_EQUAL(infra::load_config(getenv_fn)->kafka_topic, "audit.events");
}

BOOST_AUTO_TEST_CASE(subject_is_the_entity_id_after_the_kind) {
  BOOST_CHECK_EQUAL(kafka::entity_id_of("certificate-mc-42"), "mc-42");
  BOOST_CHECK_EQUAL(kafka::entity_id_of("issuer-iss-local"), "iss-local");
  BOOST_CHECK_EQUAL(kafka::entity_id_of("orphan"), "orphan");
  BOOST_CHECK_EQUAL(kafka::entity_id_of("trailing-"), "trailing-");
}

BOOST_AUTO_TEST_SUITE_END()
