#include "connectors/issuers/acme/acme_issuer.hpp"

#include <algorithm>
#include <thread>

#include "connectors/issuers/acme/challenge_solvers.hpp"
#include "events/time.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/jwk.hpp"
#include "infra/crypto/key_store.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::connectors::acme {
namespace {

issuer_error invalid(std::string m) {
  return {issuer_errc::invalid_request, std::move(m)};
}
issuer_error internal(std::string m) {
  return {issuer_errc::internal, std::move(m)};
}

std::string quoted(const std::string& s) {
  events::json_object o;
  o.set("v", s);
  const std::string d = o.dump();  // {"v":"..."}
  return d.substr(5, d.size() - 6);
}

/// base64url of the DER inside a PEM block (the first one).
std::string pem_body_b64url(const std::string& pem) {
  std::string b64;
  bool inside = false;
  size_t pos = 0;
  while (pos < pem.size()) {
    size_t end = pem.find('\n', pos);
    if (end == std::string::npos) end = pem.size();
    std::string line = pem.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    pos = end + 1;
    if (line.rfind("-----BEGIN", 0) == 0) {
      inside = true;
      continue;
    }
    if (line.rfind("-----END", 0) == 0) break;
    if (inside) b64 += line;
  }
  std::string out;
  for (char c : b64) {
    if (c == '+')
      out += '-';
    else if (c == '/')
      out += '_';
    else if (c != '=')
      out += c;
  }
  return out;
}

std::string hex_to_bytes(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

/// RFC 5280 §5.3.1 reason codes; the reference accepts camelCase, snake_case and CAPS.
std::optional<int> reason_code(const std::string& reason) {
  std::string k;
  for (char c : reason)
    if (c != '_' && c != '-') k += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::map<std::string, int> codes = {{"", 0},
                                                   {"unspecified", 0},
                                                   {"keycompromise", 1},
                                                   {"cacompromise", 2},
                                                   {"affiliationchanged", 3},
                                                   {"superseded", 4},
                                                   {"cessationofoperation", 5},
                                                   {"certificatehold", 6},
                                                   {"removefromcrl", 8},
                                                   {"privilegewithdrawn", 9},
                                                   {"aacompromise", 10}};
  auto it = codes.find(k);
  if (it == codes.end()) return std::nullopt;
  return it->second;
}

std::string kind_of(const std::string& challenge_type) {
  return challenge_type == "http-01" ? "http" : "dns";
}

}  // namespace

acme_issuer::acme_issuer(std::string id, acme_config config, acme_environment env)
    : id_(std::move(id)), config_(std::move(config)), env_(std::move(env)), transport_([&] {
        acme_transport::settings s;
        s.guard = env_.guard;
        s.tls.ca_bundle_path = config_.ca_bundle;
        s.limits.max_response_bytes = 1024 * 1024;
        return s;
      }()) {}

issuer_capabilities acme_issuer::capabilities() const {
  issuer_capabilities c;
  c.renew = true;
  c.revoke = true;
  c.async_orders = true;
  c.static_ca_chain = false;
  return c;
}

certctl::result<acme_response, issuer_error> acme_issuer::post_as_get(const account& a,
                                                                      const std::string& url) {
  return transport_.signed_post(*a.signer, a.url, url, "");
}

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

std::string acme_issuer::order_key(const std::string& order_url) const {
  return "acme-order-" + crypto::to_hex(crypto::sha256_of(id_ + "\n" + order_url)).substr(0, 40);
}

certctl::result<issued_certificate, issuer_error> acme_issuer::issue(const issuance_request& req) {
  auto acct = ensure_account();
  if (!acct) return acct.error();
  auto dir = transport_.directory(config_.directory_url);
  if (!dir) return dir.error();
  std::vector<std::string> dns = req.sans.dns, ips = req.sans.ip;
  if (dns.empty() && ips.empty()) {
    auto csr = crypto::parse_csr(req.csr_pem);
    if (!csr) return issuer_error{issuer_errc::bad_csr, "CSR rejected: " + csr.error().message};
    dns = csr->dns_names;
    ips = csr->ip_addresses;
  }
  if (dns.empty() && ips.empty()) return invalid("ACME needs at least one DNS name or IP address");
  if (!req.sans.email.empty() || !req.sans.uri.empty())
    return invalid("ACME certifies DNS names and IP addresses only, not emails or URIs");
  std::string ids;
  for (const auto& d : dns)
    ids += std::string(ids.empty() ? "" : ",") + "{\"type\":\"dns\",\"value\":" + quoted(d) + "}";
  for (const auto& ip : ips)  // RFC 8738
    ids += std::string(ids.empty() ? "" : ",") + "{\"type\":\"ip\",\"value\":" + quoted(ip) + "}";
  std::string payload = "{\"identifiers\":[" + ids + "]";
  if (!config_.profile.empty()) payload += ",\"profile\":" + quoted(config_.profile);
  payload += "}";
  auto order = transport_.signed_post(*acct->signer, acct->url, dir->new_order, payload);
  if (!order) return order.error();
  if (order->status != 201 && order->status != 200) return problem_error("ACME newOrder", *order);
  const std::string order_url = order->location();
  if (order_url.empty()) return invalid("ACME newOrder answered without a Location");
  // Kept for finalize, which may come after a restart (get_order_status).
  if (auto put = env_.keys->put(order_key(order_url), req.csr_pem); !put)
    return internal("keeping the CSR of " + order_url + " failed: " + put.error().message);
  const auto o = order->json();
  for (const auto& authz : o.str_array("authorizations")) {
    auto worked = work_authorization(*acct, authz, false);
    if (!worked) return worked.error();
  }
  issued_certificate pending;
  pending.order_id = order_url;
  return pending;
}

certctl::result<done, issuer_error> acme_issuer::work_authorization(const account& a,
                                                                    const std::string& authz_url,
                                                                    bool answer_pending_only) {
  auto r = post_as_get(a, authz_url);
  if (!r) return r.error();
  if (r->status != 200) return problem_error("ACME authorization", *r);
  const auto az = r->json();
  if (az.str("status") != "pending") return done{};
  const auto ident =
      events::json_object::parse(az.raw("identifier")).value_or(events::json_object{});
  const std::string domain = ident.str("value");
  std::string want = config_.challenge_type;
  auto challenges = az.object_array("challenges");
  auto pick = [&](const std::string& type) -> const events::json_object* {
    for (const auto& c : challenges)
      if (c.str("type") == type) return &c;
    return nullptr;
  };
  const events::json_object* ch = pick(want);
  if (ch == nullptr && want == "dns-persist-01") {
    want = "dns-01";  // the reference: fall back when the CA has no dns-persist-01 yet
    ch = pick(want);
  }
  if (ch == nullptr) return invalid("the ACME CA offers no " + want + " challenge for " + domain);
  const std::string token = ch->str("token");
  if (!is_valid_token(token)) return invalid("ACME challenge token malformed");
  const std::string key_authz = token + "." + a.signer->public_key().thumbprint;
  const std::string status = ch->str("status");
  if (status != "pending" && status != "processing") return done{};
  // Present (again: after a restart the responder forgot its tokens).
  if (want == "http-01") {
    if (!config_.webroot.empty()) {
      if (auto w = webroot_present(config_.webroot, token, key_authz); !w)
        return issuer_error{issuer_errc::unavailable, w.error()};
    } else {
      auto responder = http01_responder::on(config_.http_address, config_.http_port);
      if (!responder) return issuer_error{issuer_errc::unavailable, responder.error()};
      (*responder)->add(token, key_authz);
    }
  } else if (status == "pending") {  // DNS records are created once, before answering
    dns_hook_env env;
    env.domain = domain;
    env.token = token;
    if (want == "dns-persist-01") {
      env.fqdn = "_validation-persist." + domain;
      env.value = config_.dns_persist_issuer_domain + "; accounturi=" + a.url;
    } else {
      env.fqdn = "_acme-challenge." + domain;
      const auto digest = crypto::sha256_of(key_authz);
      env.value = crypto::base64url_encode(
          std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
    }
    auto ran = run_dns_hook(config_.dns_present_script, env,
                            std::chrono::seconds(config_.hook_timeout_seconds));
    if (!ran) return issuer_error{issuer_errc::unavailable, ran.error()};
    if (config_.dns_propagation_wait > 0)
      std::this_thread::sleep_for(std::chrono::seconds(config_.dns_propagation_wait));
  }
  if (status == "processing" || (answer_pending_only && status != "pending")) return done{};
  auto answered = transport_.signed_post(*a.signer, a.url, ch->str("url"), "{}");
  if (!answered) return answered.error();
  if (answered->status != 200) return problem_error("ACME challenge " + want, *answered);
  return done{};
}

void acme_issuer::cleanup_authorization(const account& a, const std::string& authz_url) {
  auto r = post_as_get(a, authz_url);
  if (!r || r->status != 200) return;
  const auto az = r->json();
  const auto ident =
      events::json_object::parse(az.raw("identifier")).value_or(events::json_object{});
  for (const auto& c : az.object_array("challenges")) {
    const std::string type = c.str("type"), token = c.str("token");
    if (!is_valid_token(token)) continue;
    if (type == "http-01" && config_.challenge_type == "http-01") {
      if (!config_.webroot.empty())
        webroot_cleanup(config_.webroot, token);
      else if (auto responder = http01_responder::on(config_.http_address, config_.http_port))
        (*responder)->remove(token);
    } else if (type == "dns-01" && kind_of(config_.challenge_type) == "dns" &&
               !config_.dns_cleanup_script.empty()) {
      const std::string key_authz = token + "." + a.signer->public_key().thumbprint;
      const auto digest = crypto::sha256_of(key_authz);
      dns_hook_env env{ident.str("value"), "_acme-challenge." + ident.str("value"),
                       crypto::base64url_encode(std::string_view(
                           reinterpret_cast<const char*>(digest.data()), digest.size())),
                       token};
      run_dns_hook(config_.dns_cleanup_script, env,
                   std::chrono::seconds(config_.hook_timeout_seconds));
    }
  }
}

certctl::result<issued_certificate, issuer_error> acme_issuer::download(const account& a,
                                                                        const std::string& url) {
  auto r = post_as_get(a, url);
  if (!r) return r.error();
  if (r->status != 200) return problem_error("ACME certificate download", *r);
  auto pems = crypto::split_pem_chain(r->body);
  if (!pems || pems->empty()) return invalid("ACME certificate download gave no PEM chain");
  auto leaf = crypto::parse_certificate(pems->front());
  if (!leaf) return invalid("ACME certificate unreadable: " + leaf.error().message);
  issued_certificate out;
  out.cert_pem = pems->front();
  for (size_t i = 1; i < pems->size(); ++i) out.chain_pem += (*pems)[i];
  out.serial_hex = leaf->serial_hex;
  out.not_before_us = leaf->not_before * 1000000;
  out.not_after_us = leaf->not_after * 1000000;
  out.fingerprint_sha256_hex = leaf->fingerprint_sha256_hex;
  return out;
}

certctl::result<order_status, issuer_error> acme_issuer::get_order_status(
    const std::string& order_url) {
  auto acct = ensure_account();
  if (!acct) return acct.error();
  auto r = post_as_get(*acct, order_url);
  if (!r) return r.error();
  order_status out;
  out.order_id = order_url;
  if (r->status == 404) {
    out.state = order_state::invalid;
    out.message = "the ACME CA does not know this order";
    return out;
  }
  if (r->status != 200) return problem_error("ACME order", *r);
  const auto o = r->json();
  const std::string status = o.str("status");
  const auto authzs = o.str_array("authorizations");
  auto finish = [&] {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!cleaned_.insert(order_url).second) return;
    }
    for (const auto& az : authzs) cleanup_authorization(*acct, az);
  };
  if (status == "pending") {
    for (const auto& az : authzs)
      if (auto w = work_authorization(*acct, az, true); !w) out.message = w.error().message;
    if (out.message.empty()) out.message = "awaiting challenge validation";
    return out;
  }
  if (status == "ready") {
    finish();
    auto csr = env_.keys->get(order_key(order_url));
    if (!csr) return internal("the CSR of order " + order_url + " is gone");
    const std::string body = "{\"csr\":" + quoted(pem_body_b64url(*csr)) + "}";
    auto fin = transport_.signed_post(*acct->signer, acct->url, o.str("finalize"), body);
    if (!fin) return fin.error();
    if (fin->status != 200) {
      auto e = problem_error("ACME finalize", *fin);
      if (e.code != issuer_errc::unavailable) {
        out.state = order_state::invalid;
        out.message = e.message;
        return out;
      }
      return e;
    }
    const auto after = fin->json();
    if (after.str("status") != "valid") {
      out.message = "finalized; the CA is issuing";
      return out;
    }
    auto cert = download(*acct, after.str("certificate"));
    if (!cert) return cert.error();
    env_.keys->remove(order_key(order_url));
    out.state = order_state::valid;
    out.certificate = std::move(cert).value();
    return out;
  }
  if (status == "processing") {
    out.message = "the CA is issuing";
    return out;
  }
  if (status == "valid") {
    finish();
    auto cert = download(*acct, o.str("certificate"));
    if (!cert) return cert.error();
    env_.keys->remove(order_key(order_url));
    out.state = order_state::valid;
    out.certificate = std::move(cert).value();
    return out;
  }
  finish();
  env_.keys->remove(order_key(order_url));
  out.state = status == "expired" ? order_state::expired : order_state::invalid;
  std::string why;
  if (o.is_object("error")) {
    auto e = events::json_object::parse(o.raw("error")).value_or(events::json_object{});
    why = e.str("detail");
  }
  // The order's own error is often empty; the failed challenge says why.
  for (const auto& az : authzs) {
    if (!why.empty()) break;
    auto a = post_as_get(*acct, az);
    if (!a || a->status != 200) continue;
    for (const auto& c : a->json().object_array("challenges")) {
      if (c.str("status") != "invalid" || !c.is_object("error")) continue;
      auto e = events::json_object::parse(c.raw("error")).value_or(events::json_object{});
      why = c.str("type") + ": " + e.str("detail");
      break;
    }
  }
  out.message = "order " + status + (why.empty() ? "" : ": " + why.substr(0, 400));
  return out;
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
