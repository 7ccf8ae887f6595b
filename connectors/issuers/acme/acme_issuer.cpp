#include "connectors/issuers/acme/acme_issuer.hpp"

#include <algorithm>
#include <thread>

#include "connectors/issuers/acme/acme_util.hpp"
#include "connectors/issuers/acme/challenge_solvers.hpp"
#include "events/time.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/jwk.hpp"
#include "infra/crypto/key_store.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::connectors::acme {
namespace {

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

}  // namespace certctl::connectors::acme
