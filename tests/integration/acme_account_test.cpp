// ACME account management end to end: key-change (RFC 8555 §7.3.5) with its negative cases,
// the old key's retirement and the conflict with a key that already serves an account.
#include <boost/test/unit_test.hpp>

#include "infra/crypto/jwk.hpp"
#include "infra/crypto/jws.hpp"
#include "infra/crypto/sha256.hpp"
#include "tests/integration/acme_client.hpp"
#include "tests/integration/api.hpp"

using namespace certctl;
using namespace certctl::integration;

namespace {

server_options acme_on() {
  server_options o;
  o.keygen_mode = "agent";
  o.extra_env["CERTCTL_ACME_SERVER_ENABLED"] = "true";
  return o;
}

std::string fresh_key_pem() {
  auto k = crypto::generate_key(crypto::key_type::ecdsa_p256);
  BOOST_REQUIRE(k.ok());
  return k->pem;
}

/// The inner JWS of key-change: signed by `signer_pem` (embedded as jwk), no nonce, payload
/// {account, oldKey = the public key of `old_pem`}.
std::string inner_jws(const std::string& signer_pem, const std::string& url,
                      const std::string& account, const std::string& old_pem) {
  auto old_jwk = crypto::jwk_of_private_key(old_pem);
  BOOST_REQUIRE(old_jwk.ok());
  const std::string payload =
      R"({"account":")" + account + R"(","oldKey":)" + old_jwk->canonical_json + "}";
  auto jws = crypto::sign_jws(signer_pem, "", url, "", payload);
  BOOST_REQUIRE(jws.ok());
  return *jws;
}

/// `jws` with the signature of `other` (same layout from sign_jws): a signature by a wrong key.
std::string with_signature_of(const std::string& jws, const std::string& other) {
  const std::string marker = "\"signature\":\"";
  return jws.substr(0, jws.find(marker)) + other.substr(other.find(marker));
}

acme_response new_account_with(acme_client& c, const std::string& eab) {
  return c.post(c.directory_url("newAccount"),
                R"({"termsOfServiceAgreed":true,"externalAccountBinding":)" + eab + "}", true);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(acme_accounts)

BOOST_AUTO_TEST_CASE(external_account_binding_admits_one_account_per_admin_issued_key) {
  temp_dir dir;
  auto o = acme_on();
  o.extra_env["CERTCTL_ACME_SERVER_EAB_REQUIRED"] = "true";
  server_process server(dir.path + "/data", o);
  acme_client c(server);
  auto directory = c.get(c.base() + "/acme/directory").json();
  BOOST_TEST(directory["meta"]["externalAccountRequired"].GetBool());

  // Only admins issue EAB keys; the HMAC key is in the answer and nowhere in the event log.
  api admin(server), viewer(server, viewer_key);
  BOOST_TEST(viewer.post("/api/v1/admin/acme/eab-keys", "{}").status == 403);
  auto made = admin.post("/api/v1/admin/acme/eab-keys", "{}");
  BOOST_REQUIRE_MESSAGE(made.status == 201, made.describe());
  auto key = made.json();
  const std::string kid = key["key_id"].GetString(), hmac = key["hmac_key"].GetString();
  auto other = admin.post("/api/v1/admin/acme/eab-keys", "{}").json();
  const std::string other_hmac = other["hmac_key"].GetString();

  const std::string url = c.directory_url("newAccount");
  auto r = c.register_account();
  BOOST_TEST(r.problem_type() == "externalAccountRequired", r.describe());
  r = new_account_with(c, eab_for(c, kid, other_hmac, url));
  BOOST_TEST(r.problem_type() == "unauthorized", "wrong MAC: " << r.describe());
  r = new_account_with(c, eab_for(c, "eab-unknown", hmac, url));
  BOOST_TEST(r.problem_type() == "unauthorized", "unknown kid: " << r.describe());
  r = new_account_with(c, eab_for(c, kid, hmac, url + "x"));
  BOOST_TEST(r.problem_type() == "malformed", "url: " << r.describe());
  acme_client d(server);
  r = new_account_with(c, eab_for(d, kid, hmac, url));
  BOOST_TEST(r.problem_type() == "malformed", "another key: " << r.describe());

  r = new_account_with(c, eab_for(c, kid, hmac, url));
  BOOST_REQUIRE_MESSAGE(r.status == 201, r.describe());
  // The same account again is fine; another account with the same key id is not.
  BOOST_TEST(new_account_with(c, eab_for(c, kid, hmac, url)).status == 200);
  r = new_account_with(d, eab_for(d, kid, hmac, url));
  BOOST_TEST(r.problem_type() == "unauthorized", "reuse: " << r.describe());

  auto log = viewer.get("/api/v1/events?limit=1000");
  BOOST_TEST(log.status == 200);
  BOOST_TEST(log.body.find(kid) != std::string::npos);
  BOOST_TEST(log.body.find(hmac) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(key_change_moves_the_account_to_the_new_key_and_retires_the_old_one) {
  temp_dir dir;
  server_process server(dir.path + "/data", acme_on());
  acme_client c(server);
  BOOST_REQUIRE_MESSAGE(c.register_account().status == 201, "account");
  const std::string kc = c.directory_url("keyChange");
  const std::string old_pem = c.key_pem(), new_pem = fresh_key_pem();

  // One broken thing at a time; the account keeps its key throughout.
  auto r = c.post(kc, inner_jws(new_pem, kc + "x", c.kid(), old_pem));
  BOOST_TEST(r.problem_type() == "malformed", "inner url: " << r.describe());
  r = c.post(kc, inner_jws(new_pem, kc, c.kid(), new_pem));
  BOOST_TEST(r.problem_type() == "malformed", "oldKey: " << r.describe());
  r = c.post(kc, inner_jws(new_pem, kc, c.kid() + "0", old_pem));
  BOOST_TEST(r.problem_type() == "malformed", "account: " << r.describe());
  const std::string wrong = inner_jws(fresh_key_pem(), kc, c.kid(), old_pem);
  r = c.post(kc, with_signature_of(inner_jws(new_pem, kc, c.kid(), old_pem), wrong));
  BOOST_TEST(r.problem_type() == "malformed", "inner signature: " << r.describe());
  auto with_nonce = crypto::sign_jws(new_pem, "n", kc, "", R"({"account":")" + c.kid() + "\"}");
  r = c.post(kc, *with_nonce);
  BOOST_TEST(r.problem_type() == "malformed", "inner nonce: " << r.describe());
  BOOST_TEST(c.post(c.kid(), "").status == 200);

  // The real thing.
  r = c.post(kc, inner_jws(new_pem, kc, c.kid(), old_pem));
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
  BOOST_TEST(r.header("Location") == c.kid());
  // The old key no longer signs for the account, nor finds it by new-account.
  r = c.post(c.kid(), "");
  BOOST_TEST(r.status == 400, r.describe());
  r = c.post(c.directory_url("newAccount"), R"({"onlyReturnExisting":true})", true);
  BOOST_TEST(r.problem_type() == "unauthorized", r.describe());
  // The new key does both, and orders with it.
  c.set_key(new_pem);
  BOOST_TEST(c.post(c.kid(), "").status == 200);
  r = c.post(c.directory_url("newAccount"), R"({"onlyReturnExisting":true})", true);
  BOOST_TEST(r.status == 200, r.describe());
  BOOST_TEST(r.header("Location") == c.kid());
  r = c.post(c.directory_url("newOrder"), R"({"identifiers":[{"type":"dns","value":"k.test"}]})");
  BOOST_TEST(r.status == 201, r.describe());

  // Another account may not take a key that is (or was) this account's: 409 with its URL.
  acme_client d(server);
  BOOST_REQUIRE(d.register_account().status == 201);
  for (const auto& taken : {new_pem, old_pem}) {
    r = d.post(kc, inner_jws(taken, kc, d.kid(), d.key_pem()));
    BOOST_TEST(r.status == 409, r.describe());
    BOOST_TEST(r.header("Location") == c.kid());
  }
  BOOST_TEST(d.post(d.kid(), "").status == 200);
}

BOOST_AUTO_TEST_SUITE_END()
