#include "tests/integration/issuer_steps.hpp"

#include <boost/test/unit_test.hpp>
#include <functional>

#include "tests/support/subprocess.hpp"

namespace certctl::integration {

using testing::run_shell;
using testing::shell_quote;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

server_options loopback_outbound() {
  server_options o;
  o.extra_env["CERTCTL_OUTBOUND_ALLOW_CIDRS"] = "127.0.0.1/32";
  return o;
}

api_response create_issuer(api& client, const std::string& id, const std::string& type,
                           const events::json_object& config) {
  events::json_object body;
  body.set("id", id)
      .set("name", type + " issuer")
      .set("type", type)
      .set_raw("config", config.dump());
  return client.post("/api/v1/issuers", body.dump());
}

std::string create_certificate(api& client, const std::string& cn, const std::string& issuer_id) {
  std::string body = certificate_body("cert " + cn, cn, {});
  body.replace(body.find("\"iss-local\""), 11, "\"" + issuer_id + "\"");
  body.replace(body.find("\"sans\":[]"), 9, "\"sans\":[\"" + cn + "\"]");
  auto r = client.post("/api/v1/certificates", body);
  BOOST_REQUIRE_MESSAGE(r.status == 201, r.describe());
  return str(r.json(), "id");
}

std::vector<std::string> chains_of(api& client, const std::string& id) {
  auto r = client.get("/api/v1/certificates/" + id + "/versions");
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
  auto doc = r.json();
  std::vector<std::string> out;
  for (const auto& v : doc["data"].GetArray()) out.push_back(str(v, "pem_chain"));
  return out;
}

void expect_chain_verifies(const std::string& dir, const std::string& pem_chain,
                           const std::string& root_path) {
  const std::string leaf = pem_chain.substr(0, pem_chain.find("-----END CERTIFICATE-----") + 25);
  const std::string file = dir + "/leaf-" + std::to_string(std::hash<std::string>{}(leaf)) + ".pem";
  BOOST_REQUIRE(
      run_shell("printf '%s\\n' " + shell_quote(leaf) + " > " + shell_quote(file)).exit_code == 0);
  auto v = run_shell("openssl verify -CAfile " + shell_quote(root_path) + " " + shell_quote(file));
  BOOST_TEST(v.exit_code == 0, v.out);
}

}  // namespace certctl::integration
