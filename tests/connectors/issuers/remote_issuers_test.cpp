// The step-ca and Vault PKI issuers against local HTTPS servers that follow the vendors' APIs
// (tests/support/mock_issuers): what we send (token signature and claims, X-Vault-Token,
// AppRole), what we accept back (the CSR's key, the chain), the documented error shapes
// (401/403/400/503), a timeout, token renewal and its metric hook, root pinning, and the
// connectors' secrets sealed and redacted by the config service.
#define BOOST_TEST_MODULE connectors_remote_issuers
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <map>
#include <mutex>

#include "connectors/builtin.hpp"
#include "connectors/config_service.hpp"
#include "connectors/issuers/stepca/stepca.hpp"
#include "connectors/issuers/vault/vault_pki.hpp"
#include "infra/crypto/aead.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/jwk.hpp"
#include "infra/crypto/jwt.hpp"
#include "infra/crypto/key_store.hpp"
#include "infra/crypto/keys.hpp"
#include "tests/infra/crypto/test_support.hpp"
#include "tests/support/mock_issuers.hpp"

using namespace certctl;
using certctl::test::temp_dir;

namespace certctl::connectors {
std::ostream& operator<<(std::ostream& o, issuer_errc c) {
  return o << to_string(c);
}
}  // namespace certctl::connectors
namespace t = certctl::testing;

namespace {

// This binary's loopback ports (56300-56309).
constexpr int stepca_port = 56300;
constexpr int vault_port = 56301;

connectors::builtin_context loopback_context() {
  connectors::builtin_context c;
  c.outbound_allow = {*net::parse_cidr("127.0.0.1/32")};
  return c;
}

connectors::issuance_request request_for(const std::string& cn, std::vector<std::string> dns = {}) {
  if (dns.empty()) dns = {cn};
  auto made = crypto::generate_key_and_csr(crypto::key_type::ecdsa_p256, cn, {dns, {}, {}, {}});
  BOOST_REQUIRE(made.ok());
  connectors::issuance_request r;
  r.csr_pem = made->csr_pem;
  r.common_name = cn;
  r.sans.dns = dns;
  r.ttl_us = 7LL * 86400 * 1000000;
  return r;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

struct stepca_fixture {
  stepca_fixture() : ca(t::make_mock_ca(tmp.path(), "stepca")), server(ca, stepca_port) {
    auto key = crypto::generate_key(crypto::key_type::ecdsa_p256);
    BOOST_REQUIRE(key.ok());
    key_pem = key->pem;
    auto pub = crypto::jwk_of_private_key(key_pem);
    BOOST_REQUIRE(pub.ok());
    server.state().provisioner_public_jwk = pub->canonical_json;
    server.state().kid = pub->thumbprint;
  }

  events::json_object config() const {
    events::json_object c;
    c.set("ca_url", server.url())
        .set("provisioner_name", "certctl")
        .set("provisioner_key", key_pem)
        .set("root_cert_path", ca.root_path)
        .set("root_fingerprint", ca.root_fingerprint)
        .set("timeout_seconds", 5);
    return c;
  }

  std::shared_ptr<connectors::issuer> make(const events::json_object& c) {
    auto i = connectors::stepca::make_stepca_issuer({"iss-step", c}, loopback_context());
    BOOST_REQUIRE_MESSAGE(i.ok(), (i.ok() ? "" : i.error().message));
    return *i;
  }

  temp_dir tmp;
  t::mock_ca_material ca;
  t::mock_stepca server;
  std::string key_pem;
};

struct vault_fixture {
  vault_fixture() : ca(t::make_mock_ca(tmp.path(), "vault")), server(ca, vault_port) {
    server.state().tokens.insert(token);
  }

  events::json_object config() const {
    events::json_object c;
    c.set("address", server.url())
        .set("role", "web")
        .set("token", token)
        .set("ca_bundle_path", ca.root_path)
        .set("timeout_seconds", 5)
        .set("renew_token", false);
    return c;
  }

  std::shared_ptr<connectors::issuer> make(const events::json_object& c,
                                           connectors::builtin_context ctx = loopback_context()) {
    auto i = connectors::vault::make_vault_issuer({"iss-vault", c}, ctx);
    BOOST_REQUIRE_MESSAGE(i.ok(), (i.ok() ? "" : i.error().message));
    return *i;
  }

  const std::string token = "hvs.test-token-5ecret";
  temp_dir tmp;
  t::mock_ca_material ca;
  t::mock_vault server;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(stepca)

BOOST_FIXTURE_TEST_CASE(signs_through_a_verified_one_time_token_and_revokes_by_decimal_serial,
                        stepca_fixture) {
  auto issuer = make(config());
  auto req = request_for("app.example.test", {"app.example.test", "www.example.test"});
  auto cert = issuer->issue(req);
  BOOST_REQUIRE_MESSAGE(
      cert.ok(), (cert.ok() ? "" : cert.error().message + " / " + server.state().last_error));
  BOOST_TEST(server.state().sign_calls == 1);
  auto info = crypto::parse_certificate(cert->cert_pem);
  BOOST_REQUIRE(info.ok());
  BOOST_TEST(info->common_name == "app.example.test");
  BOOST_TEST(cert->serial_hex == info->serial_hex);
  BOOST_TEST(contains(cert->chain_pem, "BEGIN CERTIFICATE"));
  BOOST_TEST(cert->not_after_us - cert->not_before_us <= (7LL * 86400 + 120) * 1000000);

  auto revoked = issuer->revoke({cert->serial_hex, "keyCompromise"});
  BOOST_REQUIRE_MESSAGE(revoked.ok(), (revoked.ok() ? "" : revoked.error().message));
  BOOST_REQUIRE_EQUAL(server.state().revoked.size(), 1u);
  BOOST_TEST(server.state().revoked[0] == connectors::stepca::hex_to_decimal(cert->serial_hex));
  BOOST_TEST(server.state().revoke_reason_codes[0] == 1);

  auto report = issuer->self_test();
  BOOST_REQUIRE_MESSAGE(report.ok(), (report.ok() ? "" : report.error().message));
  BOOST_TEST(report->ca_not_after_us > 0);
}

BOOST_FIXTURE_TEST_CASE(an_encrypted_provisioner_key_as_step_writes_it_is_opened_with_the_password,
                        stepca_fixture) {
  // A private JWK (a fixed P-256 test key), encrypted as `step crypto jwk
  // create` stores it (JWE, PBES2-HS256+A128KW / A128GCM).
  const std::string private_jwk =
      R"({"kty":"EC","crv":"P-256","kid":"k1","x":"aqoiNipHVN7X3UFAbg_SLWLZMIk9GLKfA59qt5fH6pY","y":"n-VpVoH_5c0xDJdAa1Cqbz1XwI1aGUSB1y9jJF0tJZ8","d":"UfKKpJwPcdSPtcyrW2s8BX2_c0e_oJt3wIaiIWOw76g"})";
  auto pem = crypto::private_key_pem_of_jwk(private_jwk);
  BOOST_REQUIRE_MESSAGE(pem.ok(), (pem.ok() ? "" : pem.error().message));
  auto pub2 = crypto::jwk_of_private_key(*pem);
  BOOST_REQUIRE(pub2.ok());
  server.state().provisioner_public_jwk = pub2->canonical_json;
  server.state().kid = "k1";
  auto jwe = crypto::encrypt_pbes2_jwe(private_jwk, "pr0v-pa55", 1000);
  BOOST_REQUIRE(jwe.ok());

  auto c = config();
  c.set("provisioner_key", *jwe);
  auto without = connectors::stepca::make_stepca_issuer({"iss-step", c}, loopback_context());
  BOOST_REQUIRE(!without.ok());
  BOOST_TEST(contains(without.error().message, "provisioner_password"));
  c.set("provisioner_password", "wrong");
  BOOST_TEST(!connectors::stepca::make_stepca_issuer({"iss-step", c}, loopback_context()).ok());
  c.set("provisioner_password", "pr0v-pa55");
  auto issuer = make(c);
  auto cert = issuer->issue(request_for("jwe.example.test"));
  BOOST_TEST(cert.ok(),
             (cert.ok() ? "" : cert.error().message + " / " + server.state().last_error));
}

BOOST_FIXTURE_TEST_CASE(a_token_signed_with_another_key_is_refused_with_step_cas_401,
                        stepca_fixture) {
  auto other = crypto::generate_key(crypto::key_type::ecdsa_p256);
  BOOST_REQUIRE(other.ok());
  auto c = config();
  c.set("provisioner_key", other->pem);
  auto issuer = make(c);
  auto cert = issuer->issue(request_for("app.example.test"));
  BOOST_REQUIRE(!cert.ok());
  BOOST_TEST(contains(cert.error().message, "401"), cert.error().message);
  BOOST_TEST(server.state().sign_calls == 0);
}

BOOST_FIXTURE_TEST_CASE(the_root_fingerprint_is_pinned, stepca_fixture) {
  auto c = config();
  c.set("root_fingerprint", std::string(64, 'a'));
  auto made = connectors::stepca::make_stepca_issuer({"iss-step", c}, loopback_context());
  BOOST_REQUIRE(!made.ok());
  BOOST_TEST(contains(made.error().message, "root_fingerprint"));
  // A CA whose TLS certificate chains to another root is not reached at all.
  temp_dir other_dir;
  auto other = t::make_mock_ca(other_dir.path(), "other");
  c = config();
  c.set("root_cert_path", other.root_path).set("root_fingerprint", other.root_fingerprint);
  auto issuer = make(c);
  auto report = issuer->self_test();
  BOOST_REQUIRE(!report.ok());
  BOOST_TEST(report.error().code == connectors::issuer_errc::unavailable);
}

BOOST_FIXTURE_TEST_CASE(a_ca_slower_than_the_timeout_fails_the_call_as_unavailable,
                        stepca_fixture) {
  auto c = config();
  c.set("timeout_seconds", 1);
  auto issuer = make(c);
  server.state().delay = std::chrono::milliseconds(2500);
  auto cert = issuer->issue(request_for("slow.example.test"));
  BOOST_REQUIRE(!cert.ok());
  BOOST_TEST(cert.error().code == connectors::issuer_errc::unavailable);
  BOOST_TEST(contains(cert.error().message, "timed out"), cert.error().message);
}

BOOST_AUTO_TEST_CASE(hex_serials_become_step_cas_decimal_form) {
  BOOST_TEST(connectors::stepca::hex_to_decimal("0A") == "10");
  BOOST_TEST(connectors::stepca::hex_to_decimal("FF") == "255");
  // 2^128: longer than any integer type.
  BOOST_TEST(connectors::stepca::hex_to_decimal("0100000000000000000000000000000000") ==
             "340282366920938463463374607431768211456");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(vault)

BOOST_FIXTURE_TEST_CASE(signs_with_the_token_and_revokes_by_colon_serial, vault_fixture) {
  auto issuer = make(config());
  auto cert = issuer->issue(request_for("api.example.test"));
  BOOST_REQUIRE_MESSAGE(cert.ok(), (cert.ok() ? "" : cert.error().message));
  BOOST_TEST(server.state().sign_calls == 1);
  BOOST_TEST(server.state().seen_tokens.back() == token);
  auto info = crypto::parse_certificate(cert->cert_pem);
  BOOST_REQUIRE(info.ok());
  BOOST_TEST(info->sans.dns == std::vector<std::string>{"api.example.test"});
  BOOST_TEST(contains(cert->chain_pem, "BEGIN CERTIFICATE"));
  auto revoked = issuer->revoke({cert->serial_hex, "superseded"});
  BOOST_REQUIRE_MESSAGE(revoked.ok(), (revoked.ok() ? "" : revoked.error().message));
  BOOST_REQUIRE_EQUAL(server.state().revoked.size(), 1u);
  std::string plain = server.state().revoked[0];
  plain.erase(std::remove(plain.begin(), plain.end(), ':'), plain.end());
  std::string expected = cert->serial_hex;
  for (auto& ch : expected) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  BOOST_TEST(plain == expected);
  auto report = issuer->self_test();
  BOOST_TEST(report.ok(), (report.ok() ? "" : report.error().message));
}

BOOST_FIXTURE_TEST_CASE(vaults_documented_errors_come_back_in_vaults_words, vault_fixture) {
  // 400: the role does not allow the name.
  auto issuer = make(config());
  auto denied_name = issuer->issue(request_for("evil.other.test"));
  BOOST_REQUIRE(!denied_name.ok());
  BOOST_TEST(denied_name.error().code == connectors::issuer_errc::policy_violation);
  BOOST_TEST(contains(denied_name.error().message, "not allowed by this role"));
  // 403: a token Vault does not know.
  auto c = config();
  c.set("token", "hvs.revoked");
  auto bad_token = make(c)->issue(request_for("api.example.test"));
  BOOST_REQUIRE(!bad_token.ok());
  BOOST_TEST(contains(bad_token.error().message, "403"));
  BOOST_TEST(contains(bad_token.error().message, "permission denied"));
  // 503: sealed.
  server.state().sealed = true;
  auto sealed = issuer->issue(request_for("api.example.test"));
  BOOST_REQUIRE(!sealed.ok());
  BOOST_TEST(sealed.error().code == connectors::issuer_errc::unavailable);
  BOOST_TEST(contains(sealed.error().message, "Vault is sealed"));
  auto report = issuer->self_test();
  BOOST_REQUIRE(!report.ok());
  BOOST_TEST(contains(report.error().message, "sealed"));
  BOOST_TEST(server.state().sign_calls == 0);
}

BOOST_FIXTURE_TEST_CASE(approle_logs_in_and_logs_in_again_after_a_403, vault_fixture) {
  server.state().role_id = "role-123";
  server.state().secret_id = "s3cret-id";
  auto c = config();
  c.set("auth_method", "approle").set("role_id", "role-123").set("secret_id", "s3cret-id");
  c.set("token", "");
  auto issuer = make(c);
  BOOST_REQUIRE(issuer->issue(request_for("a.example.test")).ok());
  BOOST_TEST(server.state().logins == 1);
  server.state().tokens.clear();  // the login token expired
  auto again = issuer->issue(request_for("b.example.test"));
  BOOST_TEST(again.ok(), (again.ok() ? "" : again.error().message));
  BOOST_TEST(server.state().logins == 2);
}

BOOST_FIXTURE_TEST_CASE(token_renewal_reports_each_outcome_to_the_metric_hook, vault_fixture) {
  std::map<std::string, int> outcomes;
  std::mutex m;
  auto ctx = loopback_context();
  ctx.on_vault_token_renewal = [&](const std::string& r) {
    std::lock_guard<std::mutex> lock(m);
    ++outcomes[r];
  };
  auto issuer = make(config(), ctx);
  BOOST_REQUIRE(connectors::vault::renew_token_now(*issuer).ok());
  BOOST_TEST(server.state().renewals == 1);
  server.state().renewable = false;
  BOOST_REQUIRE(connectors::vault::renew_token_now(*issuer).ok());
  server.state().tokens.clear();
  BOOST_TEST(!connectors::vault::renew_token_now(*issuer).ok());
  std::lock_guard<std::mutex> lock(m);
  BOOST_TEST(outcomes["success"] == 1);
  BOOST_TEST(outcomes["not_renewable"] == 1);
  BOOST_TEST(outcomes["failure"] == 1);
}

BOOST_FIXTURE_TEST_CASE(a_vault_slower_than_the_timeout_fails_as_unavailable, vault_fixture) {
  auto c = config();
  c.set("timeout_seconds", 1);
  server.state().delay = std::chrono::milliseconds(2500);
  auto cert = make(c)->issue(request_for("slow.example.test"));
  BOOST_REQUIRE(!cert.ok());
  BOOST_TEST(cert.error().code == connectors::issuer_errc::unavailable);
  BOOST_TEST(contains(cert.error().message, "timed out"), cert.error().message);
}

BOOST_FIXTURE_TEST_CASE(the_outbound_guard_refuses_loopback_unless_allowed, vault_fixture) {
  auto cert = make(config(), connectors::builtin_context{})->issue(request_for("x.example.test"));
  BOOST_REQUIRE(!cert.ok());
  BOOST_TEST(contains(cert.error().message, "CERTCTL_OUTBOUND_ALLOW_CIDRS"), cert.error().message);
  BOOST_TEST(server.state().sign_calls == 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(secrets)

BOOST_AUTO_TEST_CASE(vault_and_step_ca_secrets_are_sealed_at_rest_and_redacted_when_shown) {
  temp_dir tmp;
  connectors::connector_registry only;
  BOOST_REQUIRE(connectors::register_vault_connector(only, loopback_context()).ok());
  BOOST_REQUIRE(connectors::register_stepca_connector(only, loopback_context()).ok());
  auto master = crypto::load_or_create_master_key(tmp.file("master.key"));
  BOOST_REQUIRE(master.ok());
  connectors::config_service configs(only, *master);
  struct secret_case {
    const char* type;
    events::json_object config;
    std::vector<std::string> secrets;
  };
  events::json_object v;
  v.set("address", "https://vault.example.test:8200")
      .set("role", "web")
      .set("auth_method", "approle")
      .set("role_id", "r1")
      .set("secret_id", "approle-s3cret-value")
      .set("token", "hvs.token-s3cret-value");
  events::json_object s;
  s.set("ca_url", "https://ca.example.test")
      .set("provisioner_name", "p")
      .set("provisioner_key", "{\"kty\":\"EC\",\"d\":\"provisioner-s3cret-d\"}")
      .set("provisioner_password", "provisioner-pa55word")
      .set("root_cert_path", "/nonexistent");
  for (const auto& c :
       {secret_case{"VaultPKI", v, {"approle-s3cret-value", "hvs.token-s3cret-value"}},
        secret_case{"StepCA", s, {"provisioner-s3cret-d", "provisioner-pa55word"}}}) {
    auto stored =
        configs.prepare(connectors::connector_kind::issuer, c.type, "iss-x", c.config, nullptr);
    BOOST_REQUIRE_MESSAGE(stored.ok(), (stored.ok() ? "" : stored.error().message));
    const std::string at_rest = stored->dump();
    const std::string shown =
        configs.redact(connectors::connector_kind::issuer, c.type, *stored).dump();
    for (const auto& secret : c.secrets) {
      BOOST_TEST(!contains(at_rest, secret), c.type << " stores " << secret << " in clear");
      BOOST_TEST(!contains(shown, secret), c.type << " shows " << secret);
    }
    BOOST_TEST(contains(at_rest, "sealed:v1:"));
    BOOST_TEST(contains(shown, "********"));
    auto opened = configs.open(connectors::connector_kind::issuer, c.type, "iss-x", *stored);
    BOOST_REQUIRE(opened.ok());
    for (const auto& secret : c.secrets) BOOST_TEST(contains(opened->dump(), secret));
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(jose)

BOOST_AUTO_TEST_CASE(a_private_jwk_whose_point_is_not_its_d_is_refused) {
  const std::string mixed =
      R"({"kty":"EC","crv":"P-256","x":"aqoiNipHVN7X3UFAbg_SLWLZMIk9GLKfA59qt5fH6pY","y":"n-VpVoH_5c0xDJdAa1Cqbz1XwI1aGUSB1y9jJF0tJZ8","d":"AfKKpJwPcdSPtcyrW2s8BX2_c0e_oJt3wIaiIWOw76g"})";
  BOOST_TEST(!crypto::private_key_pem_of_jwk(mixed).ok());
}

BOOST_AUTO_TEST_CASE(a_jwe_opens_only_with_its_password_and_unaltered) {
  auto jwe = crypto::encrypt_pbes2_jwe("{\"secret\":1}", "pw", 1000);
  BOOST_REQUIRE(jwe.ok());
  auto opened = crypto::decrypt_pbes2_jwe(*jwe, "pw");
  BOOST_REQUIRE(opened.ok());
  BOOST_TEST(*opened == "{\"secret\":1}");
  BOOST_TEST(!crypto::decrypt_pbes2_jwe(*jwe, "other").ok());
  std::string tampered = *jwe;
  tampered[tampered.rfind('.') - 2] = tampered[tampered.rfind('.') - 2] == 'A' ? 'B' : 'A';
  BOOST_TEST(!crypto::decrypt_pbes2_jwe(tampered, "pw").ok());
}

BOOST_AUTO_TEST_CASE(a_compact_token_verifies_only_with_its_key_and_unaltered) {
  auto key = crypto::generate_key(crypto::key_type::ecdsa_p256);
  auto other = crypto::generate_key(crypto::key_type::ecdsa_p256);
  BOOST_REQUIRE(key.ok() && other.ok());
  auto token = crypto::sign_compact_jws(key->pem, "kid-1", R"({"sub":"x"})");
  BOOST_REQUIRE(token.ok());
  auto pub = crypto::jwk_of_private_key(key->pem);
  auto other_pub = crypto::jwk_of_private_key(other->pem);
  auto parts = crypto::verify_compact_jws(*token, *pub);
  BOOST_REQUIRE(parts.ok());
  BOOST_TEST(parts->payload_json == R"({"sub":"x"})");
  BOOST_TEST(contains(parts->header_json, "\"kid\":\"kid-1\""));
  BOOST_TEST(!crypto::verify_compact_jws(*token, *other_pub).ok());
  std::string altered = *token;
  altered[altered.find('.') + 2] ^= 1;
  BOOST_TEST(!crypto::verify_compact_jws(altered, *pub).ok());
}

BOOST_AUTO_TEST_SUITE_END()
