// External account binding (RFC 8555 §7.3.4): the admin endpoint that issues EAB keys and the
// check of new-account's externalAccountBinding. HMAC keys live sealed in the key store under
// "acme-eab-<key id>"; events carry only the key id.
#include "gateways/acme/acme_impl.hpp"
#include "gateways/http/constant_time.hpp"
#include "infra/crypto/random.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::gateways::acme {
namespace {

std::string secret_id(const std::string& key_id) {
  return "acme-eab-" + key_id;
}

std::optional<std::string> member(const rapidjson::Value& v, const char* name) {
  if (!v.HasMember(name) || !v[name].IsString()) return std::nullopt;
  return std::string(v[name].GetString(), v[name].GetStringLength());
}

}  // namespace

http::response acme_server::impl::create_eab_key(http::request_context& c) {
  if (deps.secrets == nullptr) return http::error_response(503, "no key store for EAB keys");
  const auto id_bytes = crypto::random_bytes(12);
  const std::string key_id = "eab-" + crypto::to_hex(id_bytes.data(), id_bytes.size());
  const auto mac_key = crypto::random_bytes(32);
  const std::string hmac_key = crypto::base64url_encode(crypto::bytes(mac_key));
  if (auto put = deps.secrets->put(secret_id(key_id), hmac_key); !put)
    return http::error_response(500, "storing the EAB key failed");
  request r{c, "/acme", "", std::nullopt};
  auto made = exec("acme_eab", "acme_eab.create", key_id, {}, r, "apikey:" + c.who.name);
  if (!made) return render(from_domain(made.error()));
  http::json_writer w;
  w.begin_object().field("key_id", key_id).field("hmac_key", hmac_key).end_object();
  auto resp = json(w.str(), 201);
  resp.with_header("Cache-Control", "no-store");
  return resp;
}

std::optional<problem> acme_server::impl::bind_eab(const request& r, const authenticated& a,
                                                   const rapidjson::Value& eab,
                                                   const std::string& account_id) {
  const auto prot_b64 = member(eab, "protected"), payload_b64 = member(eab, "payload"),
             sig_b64 = member(eab, "signature");
  if (!prot_b64 || !payload_b64 || !sig_b64 || eab.MemberCount() != 3)
    return malformed("externalAccountBinding must be a flattened JWS");
  const auto prot = crypto::base64url_decode(*prot_b64);
  const auto payload = crypto::base64url_decode(*payload_b64);
  const auto sig = crypto::base64url_decode(*sig_b64);
  if (!prot || !payload || !sig) return malformed("externalAccountBinding: bad base64url");
  auto header = http::parse_json(*prot, 8 * 1024);
  if (!header || !header->IsObject())
    return malformed("externalAccountBinding: protected header is not a JSON object");
  const auto alg = member(*header, "alg"), kid = member(*header, "kid"),
             url = member(*header, "url");
  if (alg != std::optional<std::string>("HS256"))
    return malformed("externalAccountBinding: alg must be HS256");
  if (header->HasMember("nonce") || header->HasMember("jwk") || header->HasMember("crit"))
    return malformed("externalAccountBinding: nonce, jwk and crit are not allowed");
  if (!kid || !crypto::valid_key_id(secret_id(*kid)))
    return malformed("externalAccountBinding: kid is missing or malformed");
  if (url != a.jws.header.url)
    return malformed("externalAccountBinding: url does not match the request");
  auto bound_key = crypto::parse_jwk(*payload);
  if (!bound_key || bound_key->thumbprint != a.key.thumbprint)
    return malformed("externalAccountBinding: payload is not the account key");

  auto eab_key = deps.runtime.read("acme_eab", *kid);
  if (!eab_key || deps.secrets == nullptr) return unauthorized("unknown EAB key id " + *kid);
  auto secret = deps.secrets->get(secret_id(*kid));
  if (!secret) return problem{"serverInternal", 500, "EAB key " + *kid + " is unreadable"};
  const auto mac_key = crypto::base64url_decode(*secret);
  if (!mac_key) return problem{"serverInternal", 500, "EAB key " + *kid + " is unreadable"};
  const auto mac = crypto::hmac_sha256(*mac_key, *prot_b64 + "." + *payload_b64);
  if (!http::constant_time_equal(
          *sig, std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size())))
    return unauthorized("externalAccountBinding: the MAC does not verify");
  events::json_object cmd;
  cmd.set("account_id", account_id);
  auto bound = exec("acme_eab", "acme_eab.bind", *kid, cmd, r, "acme:" + account_id);
  if (!bound) {
    if (bound.error().code == domain::domain_errc::conflict)
      return unauthorized("EAB key " + *kid + " is already bound to another account");
    return from_domain(bound.error());
  }
  return std::nullopt;
}

}  // namespace certctl::gateways::acme
