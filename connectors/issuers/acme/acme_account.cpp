// The ACME issuer's account (key in the key store, EAB), revocation, self test and ARI: the
// calls that are about the account and issued certificates rather than one order.
#include <mutex>

#include "connectors/issuers/acme/acme_issuer.hpp"
#include "connectors/issuers/acme/acme_util.hpp"
#include "events/time.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/jwk.hpp"
#include "infra/crypto/key_store.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::connectors::acme {

certctl::result<std::string, issuer_error> acme_issuer::eab_binding(
    const account& a, const std::string& new_account_url) {
  std::string kid = config_.eab_kid, hmac = config_.eab_hmac;
  if (kid.empty() && !config_.eab_fetch_url.empty()) {
    // ZeroSSL-style: the CA hands out EAB credentials for an email address. Only when the
    // operator configured the endpoint; the credentials stay in memory.
    if (config_.email.empty()) return invalid("eab_fetch_url needs email");
    auto r = transport_.post(config_.eab_fetch_url, "application/x-www-form-urlencoded",
                             "email=" + config_.email);
    if (!r) return r.error();
    const auto j = r->json();
    if (r->status != 200 || !j.boolean("success", true) || j.str("eab_kid").empty())
      return issuer_error{
          issuer_errc::unavailable,
          "EAB fetch from " + config_.eab_fetch_url + " failed: HTTP " + std::to_string(r->status)};
    kid = j.str("eab_kid");
    hmac = j.str("eab_hmac_key");
  }
  if (kid.empty()) return std::string();
  auto key = crypto::base64url_decode(hmac);
  if (!key || key->empty()) return invalid("eab_hmac is not base64url");
  // RFC 8555 §7.3.4: an HS256 JWS over the account's public JWK, keyed by the EAB MAC key.
  events::json_object prot;
  prot.set("alg", "HS256").set("kid", kid).set("url", new_account_url);
  const std::string p64 = crypto::base64url_encode(prot.dump());
  const std::string b64 = crypto::base64url_encode(a.signer->public_key().canonical_json);
  const auto mac = crypto::hmac_sha256(*key, p64 + "." + b64);
  const std::string sig = crypto::base64url_encode(
      std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
  return "{\"protected\":" + quoted(p64) + ",\"payload\":" + quoted(b64) +
         ",\"signature\":" + quoted(sig) + "}";
}

certctl::result<acme_issuer::account, issuer_error> acme_issuer::ensure_account() {
  std::lock_guard<std::mutex> lock(mu_);
  if (account_) return *account_;
  if (env_.keys == nullptr || env_.guard == nullptr)
    return internal("the ACME connector has no key store or outbound guard");
  const std::string key_id = "acme-account-" + id_;
  if (!crypto::valid_key_id(key_id)) return invalid("issuer id unusable as a key id");
  std::string pem;
  // Several connector instances may serve one issuer (issuance, tests, revocation): the first
  // to need an account key makes it, the others must find that one, never replace it.
  static std::mutex key_creation;
  std::lock_guard<std::mutex> creating(key_creation);
  if (env_.keys->contains(key_id)) {
    auto got = env_.keys->get(key_id);
    if (!got) return internal("ACME account key unreadable: " + got.error().message);
    pem = std::move(got).value();
  } else {
    auto made = crypto::generate_key(crypto::key_type::ecdsa_p256);
    if (!made) return internal("ACME account key generation failed");
    if (auto put = env_.keys->put(key_id, made->pem); !put)
      return internal("storing the ACME account key failed: " + put.error().message);
    pem = made->pem;
  }
  auto signer = crypto::jws_signer::make(pem);
  if (!signer) return internal("ACME account key unusable");
  account a{std::move(signer).value(), ""};
  auto dir = transport_.directory(config_.directory_url);
  if (!dir) return dir.error();
  // An account for this key may exist already (earlier run): look it up first, so EAB
  // credentials (single-use at some CAs) are spent only once.
  auto found =
      transport_.signed_post(*a.signer, "", dir->new_account, "{\"onlyReturnExisting\":true}");
  if (!found) return found.error();
  if (found->status == 200 && !found->location().empty()) {
    a.url = found->location();
    account_ = a;
    return a;
  }
  events::json_object body;
  body.set("termsOfServiceAgreed", true);
  if (!config_.email.empty())
    body.set("contact", std::vector<std::string>{"mailto:" + config_.email});
  auto eab = eab_binding(a, dir->new_account);
  if (!eab) return eab.error();
  if (!eab->empty()) body.set_raw("externalAccountBinding", *eab);
  if (eab->empty() && dir->eab_required)
    return invalid("the ACME CA requires external account binding: set eab_kid and eab_hmac");
  auto made = transport_.signed_post(*a.signer, "", dir->new_account, body.dump());
  if (!made) return made.error();
  if (made->status != 200 && made->status != 201) return problem_error("ACME newAccount", *made);
  a.url = made->location();
  if (a.url.empty()) return invalid("ACME newAccount answered without a Location");
  account_ = a;
  return a;
}

certctl::result<done, issuer_error> acme_issuer::revoke(const revocation_request& req) {
  const auto code = reason_code(req.reason);
  if (!code) return invalid("unknown revocation reason '" + req.reason + "'");
  if (!env_.certificate_by_serial)
    return internal("the ACME connector cannot look certificates up by serial");
  // RFC 8555 §7.6 wants the certificate, not its serial: the one we stored when it was issued.
  auto pem = env_.certificate_by_serial(req.serial_hex);
  if (!pem)
    return invalid("certificate with serial " + req.serial_hex +
                   " is not in this server's inventory; ACME revocation needs the certificate "
                   "issued through certctl");
  auto acct = ensure_account();
  if (!acct) return acct.error();
  auto dir = transport_.directory(config_.directory_url);
  if (!dir) return dir.error();
  if (dir->revoke_cert.empty()) return issuer_error{issuer_errc::unsupported, "no revokeCert"};
  const std::string body = "{\"certificate\":" + quoted(pem_body_b64url(*pem)) +
                           ",\"reason\":" + std::to_string(*code) + "}";
  auto r = transport_.signed_post(*acct->signer, acct->url, dir->revoke_cert, body);
  if (!r) return r.error();
  if (r->status == 200) return done{};
  const std::string type = r->json().str("type");
  if (type == "urn:ietf:params:acme:error:alreadyRevoked") return done{};
  return problem_error("ACME revokeCert", *r);
}

certctl::result<issuer_test_report, issuer_error> acme_issuer::self_test() {
  // Directory and a nonce: reachability and trust, without creating anything at the CA.
  auto dir = transport_.directory(config_.directory_url);
  if (!dir) return dir.error();
  auto nonce = transport_.get(dir->new_nonce);
  if (!nonce) return nonce.error();
  if (nonce->header("replay-nonce").empty()) return problem_error("ACME newNonce", *nonce);
  issuer_test_report report;
  report.message = "ACME directory " + config_.directory_url + " reachable" +
                   (dir->renewal_info.empty() ? "" : "; renewalInfo (ARI) offered") +
                   (dir->eab_required ? "; external account binding required" : "");
  return report;
}

certctl::result<std::string, issuer_error> acme_issuer::ari_cert_id(const std::string& cert_pem) {
  auto info = crypto::parse_certificate(cert_pem);
  if (!info) return invalid("certificate unreadable: " + info.error().message);
  if (info->authority_key_id_hex.empty()) return invalid("certificate has no AKI (RFC 9773)");
  std::string serial = hex_to_bytes(info->serial_hex);
  if (!serial.empty() && (static_cast<unsigned char>(serial.front()) & 0x80))
    serial.insert(0, 1, '\0');
  return crypto::base64url_encode(hex_to_bytes(info->authority_key_id_hex)) + "." +
         crypto::base64url_encode(serial);
}

certctl::result<std::optional<renewal_window>, issuer_error> acme_issuer::renewal_window_of(
    const std::string& cert_pem) {
  if (!config_.ari_enabled) return std::optional<renewal_window>{};
  auto dir = transport_.directory(config_.directory_url);
  if (!dir) return dir.error();
  if (dir->renewal_info.empty()) return std::optional<renewal_window>{};
  auto id = ari_cert_id(cert_pem);
  if (!id) return id.error();
  std::string base = dir->renewal_info;
  if (!base.empty() && base.back() != '/') base += '/';
  auto r = transport_.get(base + *id);
  if (!r) return r.error();
  if (r->status == 404) return std::optional<renewal_window>{};  // fall back to thresholds
  if (r->status != 200) return problem_error("ACME renewalInfo", *r);
  const auto j = r->json();
  const auto w =
      events::json_object::parse(j.raw("suggestedWindow")).value_or(events::json_object{});
  auto start = events::parse_rfc3339(w.str("start"));
  auto end = events::parse_rfc3339(w.str("end"));
  if (!start || !end || *end < *start) return invalid("ACME renewalInfo window malformed");
  return std::optional<renewal_window>(renewal_window{*start, *end, j.str("explanationURL")});
}

}  // namespace certctl::connectors::acme
