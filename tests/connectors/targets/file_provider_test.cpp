// Traefik and Envoy, whose daemons are not packaged here: both pick certificates up from
// files on their own (Traefik's file provider, Envoy's file-based SDS), so these tests check
// exactly what the daemon would read. Traefik's dynamic configuration is parsed as YAML
// (python3-yaml) and must name files that hold a matching certificate and key; Envoy's
// sds.json must have the DiscoveryResponse shape with one v3 tls_certificate Secret whose
// filenames hold a matching pair.
#define BOOST_TEST_MODULE connectors_targets_file_provider
#include <boost/test/unit_test.hpp>

#include "events/json.hpp"
#include "infra/crypto/certificate.hpp"
#include "tests/connectors/targets/target_fixture.hpp"
#include "tests/support/subprocess.hpp"

using namespace certctl;
using namespace certctl::testing::targets;
using certctl::testing::run_shell;
using certctl::testing::shell_quote;

namespace {

/// certFile/keyFile pairs of a Traefik dynamic config: "tls.certificates[i]" and
/// "default" lines, "<cert>\t<key>" each, as YAML sees them.
std::string traefik_pairs(const std::string& yml_path) {
  const std::string script =
      "import sys, yaml\n"
      "d = yaml.safe_load(open(sys.argv[1]))\n"
      "for c in d['tls']['certificates']:\n"
      "    print(c['certFile'] + '\\t' + c['keyFile'])\n"
      "s = d['tls'].get('stores', {}).get('default', {}).get('defaultCertificate')\n"
      "if s: print('default\\t' + s['certFile'] + '\\t' + s['keyFile'])\n";
  auto r = run_shell("python3 -c " + shell_quote(script) + " " + shell_quote(yml_path), true);
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "YAML does not parse: " + r.err);
  return r.out;
}

/// The first certificate of `cert_file` belongs to the key in `key_file` and is `expected`.
void check_pair(const std::string& cert_file, const std::string& key_file,
                const test_certificate& expected) {
  const std::string cert = slurp(cert_file), key = slurp(key_file);
  auto info = crypto::parse_certificate(cert);
  BOOST_REQUIRE(info.ok());
  BOOST_TEST(info->fingerprint_sha256_hex == expected.fingerprint);
  BOOST_TEST(crypto::check_key_matches_certificate(key, cert).ok());
  BOOST_TEST(mode_of(key_file) == 0600);
  BOOST_TEST(mode_of(cert_file) == 0644);
}

}  // namespace

BOOST_AUTO_TEST_CASE(traefik_gets_cert_key_and_a_dynamic_config_naming_them) {
  scratch_dir d;
  auto t = make_target("Traefik", "edge/1",
                       R"({"cert_dir":")" + d.path + R"(","default_certificate":true})",
                       &loopback_guard());
  BOOST_REQUIRE(t->validate().ok());
  const auto a = make_certificate("a.test"), b = make_certificate("b.test");
  auto first = t->deploy(request_for(a));
  BOOST_REQUIRE_MESSAGE(first.ok(), (first.ok() ? "" : first.error().message));
  const std::string yml = d.path + "/certctl-edge_1.yml";
  const std::string pairs = traefik_pairs(yml);
  const std::string cert = d.path + "/site.crt", key = d.path + "/site.key";
  BOOST_TEST(pairs == cert + "\t" + key + "\ndefault\t" + cert + "\t" + key + "\n");
  check_pair(cert, key, a);
  BOOST_TEST(slurp(cert) == a.cert_pem + a.chain_pem);

  auto second = t->deploy(request_for(b));
  BOOST_REQUIRE(second.ok());
  check_pair(cert, key, b);
  BOOST_TEST(t->deploy(request_for(b))->unchanged);
  auto v = t->verify({"mc", b.serial_hex});
  BOOST_REQUIRE(v.ok());
  BOOST_TEST(v->valid);  // read from the file: no verify endpoint configured

  BOOST_REQUIRE(t->rollback(second->deployment_id).ok());
  check_pair(cert, key, a);
  BOOST_TEST(traefik_pairs(yml) == pairs);
}

BOOST_AUTO_TEST_CASE(traefik_paths_with_yaml_syntax_are_quoted_and_read_back_unchanged) {
  scratch_dir d;
  const std::string odd = d.path + "/a: b #c";
  BOOST_REQUIRE(run_shell("mkdir " + shell_quote(odd)).exit_code == 0);
  auto t = make_target("Traefik", "t", R"({"cert_dir":")" + odd + R"(","cert_file":"x \"y\".crt"})",
                       &loopback_guard());
  BOOST_REQUIRE(t->deploy(request_for(make_certificate("a.test"))).ok());
  BOOST_TEST(traefik_pairs(odd + "/certctl-t.yml") == odd + "/x \"y\".crt\t" + odd + "/site.key\n");
}

BOOST_AUTO_TEST_CASE(envoy_sds_json_has_the_shape_envoy_reads) {
  scratch_dir d;
  auto t = make_target(
      "Envoy", "t-envoy",
      R"({"cert_dir":")" + d.path +
          R"(","chain_filename":"chain.pem","sds_config":true,"sds_secret_name":"edge"})",
      &loopback_guard());
  const auto a = make_certificate("a.test"), b = make_certificate("b.test");
  BOOST_REQUIRE(t->deploy(request_for(a)).ok());
  auto doc = events::json_object::parse(slurp(d.path + "/sds.json"));
  BOOST_REQUIRE(doc.has_value());
  BOOST_TEST(doc->keys() == std::vector<std::string>{"resources"});
  auto resources = doc->object_array("resources");
  BOOST_REQUIRE(resources.size() == 1u);
  const auto& secret = resources[0];
  BOOST_TEST(secret.str("@type") ==
             "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret");
  BOOST_TEST(secret.str("name") == "edge");
  auto tls = events::json_object::parse(secret.raw("tls_certificate"));
  BOOST_REQUIRE(tls.has_value());
  auto chain = events::json_object::parse(tls->raw("certificate_chain"));
  auto key = events::json_object::parse(tls->raw("private_key"));
  BOOST_REQUIRE((chain.has_value() && key.has_value()));
  BOOST_TEST(chain->str("filename") == d.path + "/cert.pem");
  BOOST_TEST(key->str("filename") == d.path + "/key.pem");
  check_pair(chain->str("filename"), key->str("filename"), a);
  BOOST_TEST(slurp(d.path + "/chain.pem") == a.chain_pem);
  BOOST_TEST(slurp(d.path + "/cert.pem") == a.cert_pem);

  // A new certificate rewrites sds.json too (same bytes, moved into place), which is what
  // Envoy's watcher reacts to.
  const std::string sds_before = slurp(d.path + "/sds.json");
  auto second = t->deploy(request_for(b));
  BOOST_REQUIRE(second.ok());
  check_pair(d.path + "/cert.pem", d.path + "/key.pem", b);
  BOOST_TEST(slurp(d.path + "/sds.json") == sds_before);
  // The backup this deployment made of sds.json shows the file was replaced, not skipped.
  BOOST_TEST(slurp(d.path + "/sds.json.certctl-bak." + second->deployment_id) == sds_before);
}

BOOST_AUTO_TEST_CASE(envoy_without_sds_appends_the_chain_and_writes_no_sds_json) {
  scratch_dir d;
  auto t =
      make_target("Envoy", "t-envoy", R"({"cert_dir":")" + d.path + R"("})", &loopback_guard());
  const auto a = make_certificate("a.test");
  BOOST_REQUIRE(t->deploy(request_for(a)).ok());
  BOOST_TEST(slurp(d.path + "/cert.pem") == a.cert_pem + a.chain_pem);
  BOOST_TEST(mode_of(d.path + "/sds.json") == -1);
  BOOST_CHECK_THROW(make_target("Envoy", "t", R"({"cert_dir":"/x","key_filename":"sub/key.pem"})",
                                &loopback_guard()),
                    std::runtime_error);
}
