// ACME renewal information (RFC 9773) end to end: a certificate issued over ACME gets a
// suggested window inside its validity (from the renewal policy's window), a revoked one a
// window in the past, and unknown or malformed certificate ids their problem documents.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <thread>

#include "events/time.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/jwk.hpp"
#include "tests/integration/acme_client.hpp"
#include "tests/integration/api.hpp"

using namespace certctl;
using namespace certctl::integration;

namespace {

server_options ari_server() {
  server_options o;
  o.keygen_mode = "agent";
  o.extra_env["CERTCTL_ACME_SERVER_ENABLED"] = "true";
  return o;
}

std::string str_of(const rapidjson::Value& v, const char* k) {
  return v.HasMember(k) && v[k].IsString() ? v[k].GetString() : "";
}

std::string bytes_of_hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

/// RFC 9773 §4.1: base64url(AKI keyIdentifier) "." base64url(serial DER content octets).
std::string ari_id(const crypto::certificate_info& info) {
  std::string serial = bytes_of_hex(info.serial_hex);
  if (!serial.empty() && (static_cast<unsigned char>(serial.front()) & 0x80))
    serial.insert(0, 1, '\0');
  return crypto::base64url_encode(bytes_of_hex(info.authority_key_id_hex)) + "." +
         crypto::base64url_encode(serial);
}

/// Orders, finalizes and downloads a certificate for `name`; returns its chain.
std::string issue(acme_client& c, const std::string& name) {
  auto order = c.post(c.directory_url("newOrder"),
                      R"({"identifiers":[{"type":"dns","value":")" + name + "\"}]}");
  BOOST_REQUIRE_MESSAGE(order.status == 201, order.describe());
  const std::string order_url = order.header("Location");
  auto csr = make_acme_csr({name});
  auto r = c.post(str_of(order.json(), "finalize"), R"({"csr":")" + csr.der_b64url + "\"}");
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
  for (int i = 0; i < 200; ++i) {
    auto polled = c.post(order_url, "");
    BOOST_REQUIRE_MESSAGE(polled.status == 200, polled.describe());
    auto d = polled.json();
    if (str_of(d, "status") == "valid") {
      auto cert = c.post(str_of(d, "certificate"), "");
      BOOST_REQUIRE_MESSAGE(cert.status == 200, cert.describe());
      return cert.body;
    }
    BOOST_REQUIRE(str_of(d, "status") == "processing");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  BOOST_FAIL("order stayed processing");
  return {};
}

/// GET renewal-info/{id}, retried while the read model has not caught up (404).
acme_response renewal_info(acme_client& c, const std::string& id) {
  acme_response r;
  for (int i = 0; i < 100; ++i) {
    r = c.get(c.directory_url("renewalInfo") + "/" + id);
    if (r.status != 404) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return r;
}

std::int64_t seconds_of(const std::string& rfc3339) {
  auto t = events::parse_rfc3339(rfc3339);
  BOOST_REQUIRE_MESSAGE(t.has_value(), rfc3339);
  return *t / 1000000;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(acme_renewal_info)

BOOST_AUTO_TEST_CASE(suggests_a_window_from_the_policy_and_an_immediate_one_once_revoked) {
  temp_dir dir;
  server_process server(dir.path + "/data", ari_server());
  acme_client c(server);
  BOOST_REQUIRE(c.register_account().status == 201);
  const std::string chain = issue(c, "ari.example.test");
  auto info = crypto::parse_certificate(chain);
  BOOST_REQUIRE(info.ok());
  BOOST_REQUIRE(!info->authority_key_id_hex.empty());
  const std::string id = ari_id(*info);

  // Inside the validity: start = notAfter - 30 days (the default window), a third of the rest.
  auto r = renewal_info(c, id);
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
  BOOST_TEST(r.header("Retry-After") == "21600");
  auto doc = r.json();
  BOOST_REQUIRE(doc.HasMember("suggestedWindow"));
  const auto start = seconds_of(str_of(doc["suggestedWindow"], "start"));
  const auto end = seconds_of(str_of(doc["suggestedWindow"], "end"));
  const std::int64_t expected_start =
      std::max(info->not_before, info->not_after - std::int64_t{30} * 86400);
  BOOST_TEST(start == expected_start);
  BOOST_TEST(end > start);
  BOOST_TEST(end <= info->not_after);
  BOOST_TEST(end - start == (info->not_after - start) / 3);

  // The same serial under another issuer's key id, an unknown serial: 404 problems.
  std::string other_aki = info->authority_key_id_hex;
  other_aki[0] = other_aki[0] == '0' ? '1' : '0';
  crypto::certificate_info other = *info;
  other.authority_key_id_hex = other_aki;
  auto wrong_ca = c.get(c.directory_url("renewalInfo") + "/" + ari_id(other));
  BOOST_TEST(wrong_ca.status == 404, wrong_ca.describe());
  BOOST_TEST(wrong_ca.header("Content-Type").find("application/problem+json") == 0u);
  other = *info;
  other.serial_hex = "0123456789ABCDEF";
  auto unknown = c.get(c.directory_url("renewalInfo") + "/" + ari_id(other));
  BOOST_TEST(unknown.status == 404, unknown.describe());

  // Malformed ids: no dot, two dots, not base64url, padding, empty halves.
  for (const std::string bad : {"abc", "YQ.YQ.YQ", "!!.YQ", "YQ==.YQ", ".YQ", "YQ."}) {
    auto m = c.get(c.directory_url("renewalInfo") + "/" + bad);
    BOOST_TEST(m.status == 400, bad << ": " << m.describe());
    BOOST_TEST(m.problem_type() == "malformed", bad);
  }

  // Revoked: a window in the past, so clients renew at once.
  write_file(dir.path + "/chain.pem", chain);
  auto der = run_command("openssl x509 -outform DER -in " +
                         testing::shell_quote(dir.path + "/chain.pem") + " | base64 -w0");
  std::string raw = der.out;
  while (!raw.empty() && (raw.back() == '\n' || raw.back() == '=')) raw.pop_back();
  for (auto& ch : raw) ch = ch == '+' ? '-' : ch == '/' ? '_' : ch;
  auto revoked = c.post(c.directory_url("revokeCert"), R"({"certificate":")" + raw + "\"}");
  BOOST_REQUIRE_MESSAGE(revoked.status == 200, revoked.describe());
  r = renewal_info(c, id);
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
  doc = r.json();
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  BOOST_TEST(seconds_of(str_of(doc["suggestedWindow"], "end")) < now);
  BOOST_TEST(seconds_of(str_of(doc["suggestedWindow"], "start")) <
             seconds_of(str_of(doc["suggestedWindow"], "end")));
}

BOOST_AUTO_TEST_SUITE_END()
