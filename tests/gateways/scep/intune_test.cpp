// Intune dynamic challenge validation (gateways/scep/intune) with injected time: signature
// algorithms, time bounds and skew, audience, claim binding, version, replay, per-device rate
// limit, and trust reloads that keep the old pool on a bad file.
#define BOOST_TEST_MODULE gateways_scep_intune
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gateways/scep/intune.hpp"
#include "infra/crypto/jws.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/scep_message.hpp"

using namespace certctl;
using namespace certctl::gateways::scep;

namespace certctl::gateways::scep {
std::ostream& operator<<(std::ostream& os, intune_outcome o) {
  return os << to_string(o);
}
}  // namespace certctl::gateways::scep

namespace {

constexpr std::int64_t t0 = 1800000000;
constexpr const char* aud = "https://scep.example.test/scep/intune";

struct signer {
  std::string key_pem, cert_pem;
};
signer make_signer(crypto::key_type type, const std::string& cn) {
  auto key = crypto::generate_key(type);
  BOOST_REQUIRE(static_cast<bool>(key));
  auto cert = crypto::self_signed_certificate(key->pem, cn, 3650);
  BOOST_REQUIRE(static_cast<bool>(cert));
  return {key->pem, *cert};
}

/// Compact JWS over `claims` from sign_jws's flattened JSON.
std::string compact(const std::string& key_pem, const std::string& claims) {
  auto flat = crypto::sign_jws(key_pem, "", "", "", claims);
  BOOST_REQUIRE(static_cast<bool>(flat));
  auto field = [&](const std::string& k) {
    const auto at = flat->find("\"" + k + "\":\"") + k.size() + 4;
    return flat->substr(at, flat->find('"', at) - at);
  };
  return field("protected") + "." + field("payload") + "." + field("signature");
}

std::string claims(const std::string& sub, std::int64_t iat, std::int64_t exp,
                   const std::string& extra = "") {
  return "{\"iss\":\"connector\",\"sub\":\"" + sub + "\",\"aud\":\"" + aud +
         "\",\"iat\":" + std::to_string(iat) + ",\"exp\":" + std::to_string(exp) + extra + "}";
}

struct fixture {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("certctl-intune-" + std::to_string(::getpid()));
  signer rsa = make_signer(crypto::key_type::rsa_2048, "connector rsa");
  signer ec = make_signer(crypto::key_type::ecdsa_p256, "connector ec");
  std::string pool = (dir / "pool.pem").string();
  std::unique_ptr<intune_validator> v;
  int n = 0;

  fixture() {
    std::filesystem::create_directories(dir);
    std::ofstream(pool) << rsa.cert_pem << ec.cert_pem;
    intune_settings s;
    s.trust_path = pool;
    s.audience = aud;
    s.challenge_validity_s = 3600;
    s.clock_skew_s = 60;
    s.rate_limit_24h = 3;
    auto made = intune_validator::make(s, t0);
    BOOST_REQUIRE_MESSAGE(made.ok(), (made.ok() ? "" : made.error()));
    v = std::move(*made);
  }
  ~fixture() { std::filesystem::remove_all(dir); }

  intune_outcome check(const std::string& token, std::int64_t now = t0,
                       const std::string& cn = "dev", const std::vector<std::string>& dns = {}) {
    std::string why;
    return v->check(token, cn, dns, now, why);
  }
  /// A fresh device id per call, so the rate limit stays out of the way.
  std::string dev() { return "device-" + std::to_string(++n); }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(intune, fixture)

BOOST_AUTO_TEST_CASE(rs256_and_es256_tokens_from_the_pool_are_accepted) {
  BOOST_TEST(check(compact(rsa.key_pem, claims(dev(), t0, t0 + 600))) == intune_outcome::success);
  BOOST_TEST(check(compact(ec.key_pem, claims(dev(), t0, t0 + 600))) == intune_outcome::success);
  BOOST_TEST(looks_like_intune_token(compact(rsa.key_pem, claims(dev(), t0, t0 + 600))));
  BOOST_TEST(!looks_like_intune_token("plain-password"));
}

BOOST_AUTO_TEST_CASE(untrusted_keys_alg_none_and_tampering_are_signature_invalid) {
  const auto stranger = make_signer(crypto::key_type::rsa_2048, "stranger");
  BOOST_TEST(check(compact(stranger.key_pem, claims(dev(), t0, t0 + 600))) ==
             intune_outcome::signature_invalid);
  // {"alg":"none"} . claims . (empty signature)
  BOOST_TEST(check("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.") != intune_outcome::success);
  BOOST_TEST(check("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.AAAA") ==
             intune_outcome::signature_invalid);
  std::string t = compact(rsa.key_pem, claims(dev(), t0, t0 + 600));
  t[t.find('.') + 5] ^= 1;  // a claim byte: the signature no longer covers it
  BOOST_TEST(check(t) != intune_outcome::success);
  BOOST_TEST(check("not-a-token") == intune_outcome::malformed);
}

BOOST_AUTO_TEST_CASE(time_bounds_allow_the_skew_and_no_more) {
  BOOST_TEST(check(compact(rsa.key_pem, claims(dev(), t0 + 50, t0 + 600))) ==
             intune_outcome::success);
  BOOST_TEST(check(compact(rsa.key_pem, claims(dev(), t0 + 120, t0 + 600))) ==
             intune_outcome::not_yet_valid);
  BOOST_TEST(check(compact(rsa.key_pem, claims(dev(), t0 - 600, t0 - 30))) ==
             intune_outcome::success);
  BOOST_TEST(check(compact(rsa.key_pem, claims(dev(), t0 - 600, t0 - 61))) ==
             intune_outcome::expired);
  // A long-lived token is still capped by the challenge validity (1 h + skew).
  BOOST_TEST(check(compact(rsa.key_pem, claims(dev(), t0 - 3700, t0 + 86400))) ==
             intune_outcome::expired);
  BOOST_TEST(check(compact(rsa.key_pem,
                           claims(dev(), t0, t0 + 600, ",\"nbf\":" + std::to_string(t0 + 300)))) ==
             intune_outcome::not_yet_valid);
}

BOOST_AUTO_TEST_CASE(audience_version_and_claims_are_checked) {
  const std::string wrong = "{\"iss\":\"c\",\"sub\":\"" + dev() +
                            "\",\"aud\":\"https://other\",\"iat\":" + std::to_string(t0) +
                            ",\"exp\":" + std::to_string(t0 + 600) + "}";
  BOOST_TEST(check(compact(rsa.key_pem, wrong)) == intune_outcome::wrong_audience);
  const std::string listed = "{\"iss\":\"c\",\"sub\":\"" + dev() + "\",\"aud\":[\"x\",\"" + aud +
                             "\"],\"iat\":" + std::to_string(t0) +
                             ",\"exp\":" + std::to_string(t0 + 600) + "}";
  BOOST_TEST(check(compact(rsa.key_pem, listed)) == intune_outcome::success);
  BOOST_TEST(check(compact(rsa.key_pem, claims(dev(), t0, t0 + 600, ",\"ver\":\"2\""))) ==
             intune_outcome::unknown_version);
  BOOST_TEST(check(compact(rsa.key_pem, "{\"iat\":" + std::to_string(t0) +
                                            ",\"exp\":" + std::to_string(t0 + 600) + "}")) ==
             intune_outcome::malformed);
  BOOST_TEST(check(compact(rsa.key_pem, claims(dev(), t0, t0 + 600, ",\"device_name\":\"dev\"")),
                   t0, "dev") == intune_outcome::success);
  BOOST_TEST(check(compact(rsa.key_pem, claims(dev(), t0, t0 + 600, ",\"device_name\":\"dev\"")),
                   t0, "other") == intune_outcome::claim_mismatch);
  BOOST_TEST(
      check(compact(rsa.key_pem, claims(dev(), t0, t0 + 600, ",\"dns_names\":[\"a.example\"]")), t0,
            "dev", {"a.example", "b.example"}) == intune_outcome::claim_mismatch);
}

BOOST_AUTO_TEST_CASE(a_token_is_used_once_and_a_device_three_times_a_day) {
  const std::string d = dev();
  const auto once = compact(rsa.key_pem, claims(d, t0, t0 + 600, ",\"jti\":\"j1\""));
  BOOST_TEST(check(once) == intune_outcome::success);
  BOOST_TEST(check(once) == intune_outcome::replay);
  BOOST_TEST(check(compact(rsa.key_pem, claims(d, t0, t0 + 600, ",\"jti\":\"j2\""))) ==
             intune_outcome::success);
  BOOST_TEST(check(compact(rsa.key_pem, claims(d, t0, t0 + 600, ",\"jti\":\"j3\""))) ==
             intune_outcome::success);
  BOOST_TEST(check(compact(rsa.key_pem, claims(d, t0, t0 + 600, ",\"jti\":\"j4\""))) ==
             intune_outcome::rate_limited);
  const std::int64_t later = t0 + 86400 + 1;
  BOOST_TEST(check(compact(rsa.key_pem, claims(d, later, later + 600, ",\"jti\":\"j5\"")), later) ==
             intune_outcome::success);
  const std::string stats = v->stats_json(t0);
  BOOST_TEST(stats.find("\"replay\":1") != std::string::npos, stats);
  BOOST_TEST(stats.find("\"rate_limited\":1") != std::string::npos, stats);
  BOOST_TEST(stats.find("\"success\":4") != std::string::npos, stats);
}

BOOST_AUTO_TEST_CASE(a_bad_trust_file_keeps_the_old_pool) {
  std::ofstream(pool, std::ios::trunc) << "garbage\n";
  BOOST_TEST(!v->reload(t0).ok());
  BOOST_TEST(check(compact(rsa.key_pem, claims(dev(), t0, t0 + 600))) == intune_outcome::success);
  std::ofstream(pool, std::ios::trunc) << ec.cert_pem;
  auto n = v->reload(t0);
  BOOST_REQUIRE(n.ok());
  BOOST_TEST(*n == 1u);
  BOOST_TEST(check(compact(rsa.key_pem, claims(dev(), t0, t0 + 600))) ==
             intune_outcome::signature_invalid);
  BOOST_TEST(check(compact(ec.key_pem, claims(dev(), t0, t0 + 600))) == intune_outcome::success);
  // Every anchor expired by then: refused, at start as on reload.
  BOOST_TEST(!v->reload(t0 + 20LL * 365 * 86400).ok());
  intune_settings s;
  s.trust_path = (dir / "missing.pem").string();
  BOOST_TEST(!intune_validator::make(s, t0).ok());
}

BOOST_AUTO_TEST_SUITE_END()
