// First-start admin key generation and the hashed key file.
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>

#include "gateways/http/key_file.hpp"
#include "tests/gateways/http/server_fixture.hpp"

using namespace certctl::gateways::http;
using certctl::gateways::http::testing::temp_dir;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(key_file)

BOOST_AUTO_TEST_CASE(first_start_generates_an_admin_key_and_stores_only_its_hash_0600) {
  temp_dir dir;
  const std::string data_dir = dir.path + "/data/sub";
  auto first = bootstrap_keys("", data_dir);
  BOOST_REQUIRE_MESSAGE(first.ok(), (first.ok() ? "" : first.error().message));
  BOOST_REQUIRE(first->generated_key.has_value());
  const std::string key = *first->generated_key;
  BOOST_TEST(key.rfind("cc_", 0) == 0u);
  BOOST_TEST(key.size() == 3u + 64u);
  BOOST_TEST(first->source == key_file_path(data_dir));

  struct stat st {};
  BOOST_REQUIRE(::stat(first->source.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
  struct stat dst {};
  BOOST_REQUIRE(::stat(data_dir.c_str(), &dst) == 0);
  BOOST_TEST((dst.st_mode & 0777) == 0700u);
  const std::string text = slurp(first->source);
  BOOST_TEST(text.find(key) == std::string::npos);
  BOOST_TEST(text.find(key.substr(3)) == std::string::npos);
  BOOST_TEST(text.find("\"role\":\"admin\"") != std::string::npos);

  const auto who = first->store.authenticate(key);
  BOOST_REQUIRE(who.has_value());
  BOOST_TEST(who->name == "admin");
  BOOST_TEST((who->level == role::admin));
}

BOOST_AUTO_TEST_CASE(a_restart_loads_the_key_file_and_never_reveals_the_key_again) {
  temp_dir dir;
  auto first = bootstrap_keys("", dir.path);
  BOOST_REQUIRE(first.ok());
  const std::string key = *first->generated_key;
  auto second = bootstrap_keys("  ", dir.path);
  BOOST_REQUIRE(second.ok());
  BOOST_TEST(!second->generated_key.has_value());
  BOOST_TEST(second->source == key_file_path(dir.path));
  BOOST_TEST(second->store.authenticate(key).has_value());
  BOOST_TEST(!second->store.authenticate("cc_" + std::string(64, '0')).has_value());
}

BOOST_AUTO_TEST_CASE(configured_keys_take_precedence_over_the_key_file) {
  temp_dir dir;
  auto configured = bootstrap_keys("ci:ci-key-1:operator", dir.path);
  BOOST_REQUIRE(configured.ok());
  BOOST_TEST(configured->source == "CERTCTL_API_KEYS_NAMED");
  BOOST_TEST(!configured->generated_key.has_value());
  BOOST_TEST(configured->store.authenticate("ci-key-1").has_value());
  struct stat st {};
  BOOST_TEST(::stat(key_file_path(dir.path).c_str(), &st) != 0);  // nothing written

  auto bad = bootstrap_keys("ci:ci-key-1:superuser", dir.path);
  BOOST_TEST(!bad.ok());
}

BOOST_AUTO_TEST_CASE(a_key_file_writable_by_others_or_malformed_is_refused) {
  temp_dir dir;
  auto first = bootstrap_keys("", dir.path);
  BOOST_REQUIRE(first.ok());
  const std::string path = key_file_path(dir.path);
  BOOST_REQUIRE(::chmod(path.c_str(), 0666) == 0);
  auto loose = bootstrap_keys("", dir.path);
  BOOST_REQUIRE(!loose.ok());
  BOOST_TEST(loose.error().message.find("chmod 600") != std::string::npos);

  BOOST_REQUIRE(::chmod(path.c_str(), 0600) == 0);
  {
    std::ofstream out(path, std::ios::trunc);
    out << R"({"format":"certctl-api-keys","version":1,"keys":[{"name":"x","role":"admin"}]})";
  }
  auto broken = load_key_file(path);
  BOOST_REQUIRE(!broken.ok());
  BOOST_TEST(broken.error().message.find("field 'salt' must be a string") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_key_file_round_trips_every_record) {
  std::vector<api_key_record> records{hash_key({"a", "ka", role::viewer, {}}),
                                      hash_key({"b", "kb", role::admin, {}})};
  auto parsed = parse_key_file(render_key_file(records), "mem");
  BOOST_REQUIRE(parsed.ok());
  BOOST_TEST(parsed->size() == 2u);
  BOOST_TEST((parsed->authenticate("ka")->level == role::viewer));
  BOOST_TEST((parsed->authenticate("kb")->level == role::admin));
  temp_dir dir;
  const std::string path = dir.path + "/keys.json";
  auto created = create_key_file(path, records);
  BOOST_REQUIRE(created.ok());
  BOOST_TEST(*created);
  auto again = create_key_file(path, records);
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(!*again);  // never replaces
}

BOOST_AUTO_TEST_SUITE_END()
