#include "connectors/issuers/stepca/stepca.hpp"

#include <algorithm>
#include <chrono>

#include "connectors/issuers/external_ca.hpp"
#include "events/time.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/jwt.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/random.hpp"
#include "infra/crypto/secure_file.hpp"

namespace certctl::connectors::stepca {
namespace {

namespace ext = external_ca;

issuer_error fail(issuer_errc code, std::string message) {
  return issuer_error{code, std::move(message)};
}

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  s.erase(std::remove(s.begin(), s.end(), ':'), s.end());
  return s;
}

/// The provisioner's private key as PEM, from any of the forms step-ca tooling writes.
certctl::result<std::string, issuer_error> provisioner_key_pem(const std::string& who,
                                                               std::string key,
                                                               const std::string& password,
                                                               std::string& kid) {
  auto bad = [&](const std::string& why) {
    return fail(issuer_errc::invalid_request, who + ": provisioner key: " + why);
  };
  while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
  if (key.find("-----BEGIN") != std::string::npos) {
    auto k = crypto::parse_private_key(key, password);
    if (!k) return bad(k.error().message);
    return k->pem;
  }
  if (!key.empty() && key.front() != '{') {
    // Compact JWE: the encrypted JWK `step crypto jwk create` writes (the provisioner's
    // "encryptedKey" in ca.json).
    if (password.empty()) return bad("encrypted (JWE) key needs provisioner_password");
    auto plain = crypto::decrypt_pbes2_jwe(key, password);
    if (!plain) return bad(plain.error().message);
    key = *plain;
  }
  auto doc = events::json_object::parse(key);
  if (!doc) return bad("neither PEM, JWE nor JSON");
  if (kid.empty()) kid = doc->str("kid");
  auto pem = crypto::private_key_pem_of_jwk(key);
  if (!pem) return bad(pem.error().message);
  return *pem;
}

class stepca_issuer final : public issuer {
 public:
  stepca_issuer(std::string id, ext::https_client client, std::string ca_url,
                std::string provisioner, std::string kid, std::string key_pem, std::string root_pem,
                std::string root_fingerprint, int validity_days)
      : id_(std::move(id)),
        who_("issuer " + id_ + " (step-ca)"),
        client_(std::move(client)),
        ca_url_(std::move(ca_url)),
        provisioner_(std::move(provisioner)),
        kid_(std::move(kid)),
        key_pem_(std::move(key_pem)),
        root_pem_(std::move(root_pem)),
        root_fingerprint_(std::move(root_fingerprint)),
        validity_days_(validity_days) {}

  std::string_view type() const override { return "StepCA"; }
  const std::string& id() const override { return id_; }
  std::string ca_chain_pem() const override { return {}; }

  issuer_capabilities capabilities() const override {
    issuer_capabilities c;
    c.revoke = true;
    c.static_ca_chain = false;
    return c;
  }

  certctl::result<issued_certificate, issuer_error> issue(const issuance_request& r) override {
    auto csr = ext::check_csr(r);
    if (!csr) return csr.error();
    std::vector<std::string> sans = r.sans.dns;
    sans.insert(sans.end(), r.sans.ip.begin(), r.sans.ip.end());
    if (sans.empty()) {
      sans = csr->dns_names;
      sans.insert(sans.end(), csr->ip_addresses.begin(), csr->ip_addresses.end());
    }
    std::string cn = r.common_name.empty() ? csr->common_name : r.common_name;
    if (cn.empty() && !sans.empty()) cn = sans.front();
    events::json_object claims;
    claims.set("sans", sans);
    auto ott = token("/1.0/sign", cn, claims);
    if (!ott) return ott.error();
    const std::int64_t lifetime =
        ext::requested_lifetime_seconds(r, std::int64_t{validity_days_} * 86400);
    events::json_object body;
    body.set("csr", r.csr_pem)
        .set("ott", *ott)
        .set("notAfter", events::format_rfc3339((now_seconds() + lifetime) * 1000000));
    auto reply = client_.call("POST", "/1.0/sign", body.dump());
    if (!reply) return reply.error();
    if (reply->status != 201 && reply->status != 200) return mapped(*reply, "sign");
    // certChain is leaf first; "ca" is the issuing intermediate of older versions.
    auto chain = reply->json.str_array("certChain");
    std::string rest;
    for (size_t i = 1; i < chain.size(); ++i) rest += chain[i];
    if (rest.empty()) rest = reply->json.str("ca");
    return ext::accept_certificate(*csr, r, reply->json.str("crt"), rest, "step-ca");
  }

  certctl::result<done, issuer_error> revoke(const revocation_request& r) override {
    auto serial = ext::normalise_serial(r.serial_hex);
    if (!serial) return serial.error();
    auto reason = ext::check_reason(r.reason);
    if (!reason) return reason.error();
    const std::string decimal = hex_to_decimal(*serial);
    auto ott = token("/1.0/revoke", decimal, {});
    if (!ott) return ott.error();
    events::json_object body;
    body.set("serial", decimal)
        .set("ott", *ott)
        .set("reasonCode", static_cast<std::int64_t>(reason->second))
        .set("reason", reason->first)
        .set("passive", true);  // step-ca implements passive revocation only
    auto reply = client_.call("POST", "/1.0/revoke", body.dump());
    if (!reply) return reply.error();
    if (reply->status != 200) return mapped(*reply, "revoke");
    return done{};
  }

  certctl::result<issuer_test_report, issuer_error> self_test() override {
    auto health = client_.call("GET", "/health");
    if (!health) return health.error();
    if (health->status != 200 || health->json.str("status") != "ok")
      return mapped(*health, "health");
    auto roots = client_.call("GET", "/roots");
    if (!roots) return roots.error();
    if (roots->status != 200) return mapped(*roots, "roots");
    for (const auto& pem : roots->json.str_array("crts")) {
      auto c = crypto::parse_certificate(pem);
      if (!c || c->fingerprint_sha256_hex != root_fingerprint_) continue;
      issuer_test_report report;
      report.message = "step-ca healthy; root " + c->subject_dn + " matches the pinned fingerprint";
      report.ca_not_after_us = c->not_after * 1000000;
      // The token is signed here too, so a wrong key or password fails the test, not issuance.
      if (auto t = token("/1.0/sign", "self-test", {}); !t) return t.error();
      return report;
    }
    return fail(issuer_errc::unavailable,
                who_ + ": the CA does not serve the pinned root " + root_fingerprint_);
  }

 private:
  certctl::result<std::string, issuer_error> token(const std::string& path,
                                                   const std::string& subject,
                                                   events::json_object claims) const {
    const std::int64_t now = now_seconds();
    claims.set("iss", provisioner_)
        .set("aud", ca_url_ + path)
        .set("sub", subject)
        .set("sha", root_fingerprint_)
        .set("iat", now)
        .set("nbf", now - 30)
        .set("exp", now + 300)
        .set("jti", crypto::random_hex(16));
    auto t = crypto::sign_compact_jws(key_pem_, kid_, claims.dump());
    if (!t)
      return fail(issuer_errc::internal, who_ + ": cannot sign the token: " + t.error().message);
    return *t;
  }

  /// step-ca's error body {"status", "message"} in our terms.
  issuer_error mapped(const ext::http_reply& r, const std::string& op) const {
    std::string words = r.json.str("message");
    if (words.empty()) words = r.body;
    const std::string text =
        who_ + ": " + op + " answered " + std::to_string(r.status) + ": " + ext::excerpt(words);
    if (r.status == 400 || r.status == 403) return fail(issuer_errc::policy_violation, text);
    // The CA refuses our token: a wrong key, kid or provisioner name, which no retry fixes.
    if (r.status == 401)
      return fail(issuer_errc::invalid_request, text + " (check the provisioner)");
    return fail(issuer_errc::unavailable, text);
  }

  std::string id_, who_;
  ext::https_client client_;
  std::string ca_url_, provisioner_, kid_, key_pem_, root_pem_, root_fingerprint_;
  int validity_days_;
};

}  // namespace

std::string hex_to_decimal(const std::string& hex) {
  std::vector<int> digits{0};  // little-endian base 10
  for (char h : hex) {
    const int v = std::isdigit(static_cast<unsigned char>(h))
                      ? h - '0'
                      : std::tolower(static_cast<unsigned char>(h)) - 'a' + 10;
    int carry = v;
    for (int& d : digits) {
      const int x = d * 16 + carry;
      d = x % 10;
      carry = x / 10;
    }
    while (carry > 0) {
      digits.push_back(carry % 10);
      carry /= 10;
    }
  }
  std::string out;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) out += static_cast<char>('0' + *it);
  const size_t nz = out.find_first_not_of('0');
  return nz == std::string::npos ? "0" : out.substr(nz);
}

config_schema stepca_schema() {
  return config_schema{{
      {"ca_url", field_type::string, true, false, "step-ca URL, https://host:port"},
      {"provisioner_name", field_type::string, true, false, "JWK provisioner name"},
      {"provisioner_key", field_type::string, false, true,
       "the provisioner's private key: JWK JSON, encrypted JWE (as in ca.json) or PEM"},
      {"provisioner_key_path", field_type::string, false, false,
       "file holding the provisioner key instead of provisioner_key"},
      {"provisioner_password", field_type::string, false, true,
       "password of an encrypted provisioner key"},
      {"provisioner_kid", field_type::string, false, false,
       "key id for the token header (default: the JWK's kid)"},
      {"root_cert_path", field_type::string, true, false,
       "PEM of step-ca's root: the only trust anchor for the CA's TLS certificate"},
      {"root_fingerprint", field_type::string, false, false,
       "SHA-256 of the root (hex): pinned; must match root_cert_path"},
      {"validity_days", field_type::integer, false, false,
       "lifetime asked for when the request names none (default 90)"},
      {"timeout_seconds", field_type::integer, false, false, "per request, 1..300 (default 30)"},
  }};
}

certctl::result<std::shared_ptr<issuer>, issuer_error> make_stepca_issuer(
    const connector_settings& s, const builtin_context& context) {
  const auto& c = s.config;
  const std::string who = "issuer " + s.id;
  auto bad = [&](const std::string& why) {
    return fail(issuer_errc::invalid_request, who + ": " + why);
  };
  std::string ca_url = c.str("ca_url");
  while (!ca_url.empty() && ca_url.back() == '/') ca_url.pop_back();
  auto url = ext::parse_https_url(ca_url, "ca_url");
  if (!url) return url.error();
  const std::string provisioner = c.str("provisioner_name");
  if (provisioner.empty()) return bad("provisioner_name is required");
  std::string key = c.str("provisioner_key");
  if (key.empty() == c.str("provisioner_key_path").empty())
    return bad("give exactly one of provisioner_key and provisioner_key_path");
  if (key.empty()) {
    auto text = crypto::read_file(c.str("provisioner_key_path"), 64 * 1024);
    if (!text) return bad("provisioner_key_path: " + text.error().message);
    key = *text;
  }
  std::string kid = c.str("provisioner_kid");
  auto pem = provisioner_key_pem(who, key, c.str("provisioner_password"), kid);
  if (!pem) return pem.error();
  if (kid.empty()) {
    auto pub = crypto::jwk_of_private_key(*pem);
    if (!pub) return bad("provisioner key: " + pub.error().message);
    kid = pub->thumbprint;  // what `step crypto jwk create` puts in "kid"
  }
  auto root_text = crypto::read_file(c.str("root_cert_path"), crypto::max_certificate_pem);
  if (!root_text) return bad("root_cert_path: " + root_text.error().message);
  auto root = crypto::parse_certificate(*root_text);
  if (!root) return bad("root_cert_path: " + root.error().message);
  if (c.has("root_fingerprint") && lower(c.str("root_fingerprint")) != root->fingerprint_sha256_hex)
    return bad("root_cert_path does not match root_fingerprint (SHA-256 " +
               root->fingerprint_sha256_hex + ")");
  const std::int64_t timeout = c.has("timeout_seconds") ? c.int64("timeout_seconds") : 30;
  if (timeout < 1 || timeout > 300) return bad("timeout_seconds must be 1..300");
  const std::int64_t days = c.has("validity_days") ? c.int64("validity_days") : 90;
  if (days < 1 || days > 3650) return bad("validity_days must be 1..3650");
  ext::http_options o;
  o.allow = context.outbound_allow;
  o.ca_bundle_path = c.str("root_cert_path");
  o.timeout = std::chrono::seconds(timeout);
  return std::shared_ptr<issuer>(std::make_shared<stepca_issuer>(
      s.id, ext::https_client(*url, o, who + " (step-ca)"), ca_url, provisioner, kid, *pem,
      *root_text, root->fingerprint_sha256_hex, static_cast<int>(days)));
}

}  // namespace certctl::connectors::stepca

namespace certctl::connectors {

certctl::result<done, std::string> register_stepca_connector(connector_registry& registry,
                                                             const builtin_context& context) {
  issuer_registration r;
  r.type = "StepCA";
  r.description = "Smallstep step-ca through /1.0/sign and /1.0/revoke with a JWK provisioner";
  r.schema = stepca::stepca_schema();
  r.make = [context](const connector_settings& s) {
    return stepca::make_stepca_issuer(s, context);
  };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
