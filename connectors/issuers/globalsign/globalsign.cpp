#include "connectors/issuers/globalsign/globalsign.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <mutex>

#include "connectors/issuers/external_ca.hpp"

namespace certctl::connectors::globalsign {
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

bool hex_serial(const std::string& s) {
  return !s.empty() && s.size() <= 64 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

std::string words_of(const ext::http_reply& r) {
  return r.json.str("description");
}

class globalsign_issuer final : public issuer {
 public:
  globalsign_issuer(std::string id, ext::https_client client, std::string key, std::string secret,
                    std::int64_t token_lifetime, std::int64_t max_wait, int validity_days)
      : id_(std::move(id)),
        who_("issuer " + id_ + " (GlobalSign Atlas)"),
        client_(std::move(client)),
        key_(std::move(key)),
        secret_(std::move(secret)),
        token_lifetime_(token_lifetime),
        max_wait_(max_wait),
        validity_days_(validity_days) {}

  std::string_view type() const override { return "GlobalSign"; }
  const std::string& id() const override { return id_; }
  std::string ca_chain_pem() const override { return {}; }

  issuer_capabilities capabilities() const override {
    issuer_capabilities c;
    c.revoke = true;
    c.async_orders = true;
    c.static_ca_chain = false;
    return c;
  }

  certctl::result<issued_certificate, issuer_error> issue(const issuance_request& r) override {
    auto csr = ext::check_csr(r);
    if (!csr) return csr.error();
    std::string cn = r.common_name.empty() ? csr->common_name : r.common_name;
    std::vector<std::string> dns = r.sans.dns, ips = r.sans.ip;
    if (dns.empty() && ips.empty()) {
      dns = csr->dns_names;
      ips = csr->ip_addresses;
    }
    if (cn.empty() && !dns.empty()) cn = dns.front();
    const std::int64_t now = now_seconds();
    const std::int64_t lifetime =
        ext::requested_lifetime_seconds(r, std::int64_t{validity_days_} * 86400);
    events::json_object validity, subject, san, body;
    validity.set("not_before", now).set("not_after", now + lifetime);
    subject.set("common_name", cn);
    if (!r.organization.empty()) subject.set("organization", r.organization);
    if (!dns.empty()) san.set("dns_names", dns);
    if (!ips.empty()) san.set("ip_addresses", ips);
    body.set_raw("validity", validity.dump())
        .set_raw("subject_dn", subject.dump())
        .set_raw("san", san.dump())
        .set("csr", r.csr_pem);
    auto reply = call("POST", "/certificates", body.dump());
    if (!reply) return reply.error();
    if (reply->status != 201 && reply->status != 202)
      return ext::http_error(*reply, who_, "certificate request", words_of(*reply));
    std::string location = ext::header_value(*reply, "location");
    const std::string serial = location.substr(location.rfind('/') + 1);
    if (!hex_serial(serial))
      return fail(issuer_errc::unavailable, who_ + ": the CA answered without a usable Location (" +
                                                ext::excerpt(location, 100) + ")");
    const std::string order = serial + "@" + std::to_string(now);
    auto status = fetch(order, serial, now);
    // Atlas took the request: whatever the first look says, the order is followed (an error
    // here must not make the job place a second, billed order).
    if (!status || status->state == order_state::pending) {
      issued_certificate pending;
      pending.order_id = order;
      return pending;
    }
    if (status->state != order_state::valid)
      return fail(issuer_errc::policy_violation, who_ + ": " + status->message);
    // Issued at once: the key match and validity cap are checked while the CSR is at hand.
    auto cert = ext::accept_certificate(*csr, r, status->certificate.cert_pem,
                                        status->certificate.chain_pem, "GlobalSign Atlas");
    if (cert) cert->order_id = order;
    return cert;
  }

  certctl::result<order_status, issuer_error> get_order_status(const std::string& order) override {
    const size_t at = order.rfind('@');
    const std::string serial = order.substr(0, at);
    if (at == std::string::npos || !hex_serial(serial))
      return fail(issuer_errc::invalid_request,
                  who_ + ": order id '" + ext::excerpt(order, 80) + "' is not <serial>@<time>");
    return fetch(order, serial, std::atoll(order.c_str() + at + 1));
  }

  certctl::result<done, issuer_error> revoke(const revocation_request& r) override {
    auto serial = ext::normalise_serial(r.serial_hex);
    if (!serial) return serial.error();
    if (auto reason = ext::check_reason(r.reason); !reason) return reason.error();
    auto reply = call("DELETE", "/certificates/" + *serial, {});
    if (!reply) return reply.error();
    if (reply->status != 204 && reply->status != 200)
      return ext::http_error(*reply, who_, "revoke", words_of(*reply));
    return done{};
  }

  certctl::result<issuer_test_report, issuer_error> self_test() override {
    auto chain = trust_chain();
    if (!chain) return chain.error();
    size_t count = 0;
    for (size_t at = chain->find("BEGIN CERTIFICATE"); at != std::string::npos;
         at = chain->find("BEGIN CERTIFICATE", at + 1))
      ++count;
    issuer_test_report report;
    report.message =
        "GlobalSign Atlas reachable with the client certificate and API key; trust chain of " +
        std::to_string(count) + " certificate(s)";
    return report;
  }

  int logins() const {
    std::lock_guard<std::mutex> lock(mu_);
    return logins_;
  }

 private:
  /// One poll: the certificate if issued, pending while Atlas does not have it yet.
  certctl::result<order_status, issuer_error> fetch(const std::string& order,
                                                    const std::string& serial,
                                                    std::int64_t placed) {
    order_status out;
    out.order_id = order;
    out.updated_at_us = now_seconds() * 1000000;
    auto reply = call("GET", "/certificates/" + serial, {});
    if (!reply) return reply.error();
    if (reply->status == 404) {
      if (now_seconds() - placed > max_wait_) {
        out.state = order_state::expired;
        out.message = "certificate " + serial + " still not available after " +
                      std::to_string(max_wait_) + " s (poll_max_wait_seconds)";
      } else {
        out.message = "GlobalSign Atlas has not issued certificate " + serial + " yet";
      }
      return out;
    }
    if (reply->status != 200)
      return ext::http_error(*reply, who_, "certificate status", words_of(*reply));
    const std::string status = reply->json.str("status");
    if (status != "ISSUED") {
      out.state = order_state::invalid;
      out.message = "certificate " + serial + " is " + ext::excerpt(status, 40);
      return out;
    }
    auto chain = trust_chain();
    if (!chain) return chain.error();
    auto cert = ext::certificate_of_order(reply->json.str("certificate"), *chain, who_);
    if (!cert) return cert.error();
    out.state = order_state::valid;
    out.certificate = std::move(cert).value();
    out.certificate.order_id = order;
    return out;
  }

  certctl::result<std::string, issuer_error> trust_chain() {
    auto reply = call("GET", "/trustchain", {});
    if (!reply) return reply.error();
    if (reply->status != 200) return ext::http_error(*reply, who_, "trustchain", words_of(*reply));
    // The body is a JSON array of PEM strings; wrap it to read it with the object parser.
    auto doc = events::json_object::parse("{\"c\":" + reply->body + "}");
    if (!doc || !doc->is_string_array("c"))
      return fail(issuer_errc::unavailable, who_ + ": trustchain is not a list of PEM strings");
    std::string out;
    for (const auto& pem : doc->str_array("c")) out += pem;
    return out;
  }

  /// A call with the bearer token; a 401 logs in again and repeats the call once.
  certctl::result<ext::http_reply, issuer_error> call(const std::string& method,
                                                      const std::string& path,
                                                      const std::string& body) {
    for (int attempt = 0;; ++attempt) {
      auto token = access_token(attempt > 0);
      if (!token) return token.error();
      auto reply = client_.call(method, path, body, {{"Authorization", "Bearer " + *token}});
      if (!reply || reply->status != 401 || attempt > 0) return reply;
    }
  }

  certctl::result<std::string, issuer_error> access_token(bool fresh) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!fresh && !token_.empty() && now_seconds() < token_expiry_) return token_;
    token_.clear();
    events::json_object body;
    body.set("api_key", key_).set("api_secret", secret_);
    auto reply = client_.call("POST", "/login", body.dump());
    if (!reply) return reply.error();
    if (reply->status != 200) return ext::http_error(*reply, who_, "login", words_of(*reply));
    const std::string token = reply->json.str("access_token");
    if (token.empty()) return fail(issuer_errc::unavailable, who_ + ": login gave no access_token");
    ++logins_;
    token_ = token;
    token_expiry_ = now_seconds() + token_lifetime_ - 30;
    return token_;
  }

  std::string id_, who_;
  ext::https_client client_;
  std::string key_, secret_;
  std::int64_t token_lifetime_, max_wait_;
  int validity_days_;
  mutable std::mutex mu_;
  std::string token_;
  std::int64_t token_expiry_ = 0;
  int logins_ = 0;
};

}  // namespace

int logins_of(const issuer& i) {
  auto* g = dynamic_cast<const globalsign_issuer*>(&i);
  return g == nullptr ? -1 : g->logins();
}

config_schema globalsign_schema() {
  return config_schema{{
      {"api_url", field_type::string, true, false,
       "Atlas HVCA API URL of the region, e.g. https://emea.api.hvca.globalsign.com:8443/v2 "
       "(CERTCTL_GLOBALSIGN_API_URL)"},
      {"api_key", field_type::string, true, true, "API key (CERTCTL_GLOBALSIGN_API_KEY)"},
      {"api_secret", field_type::string, true, true, "API secret (CERTCTL_GLOBALSIGN_API_SECRET)"},
      {"client_cert_path", field_type::string, true, false,
       "mTLS client certificate PEM (CERTCTL_GLOBALSIGN_CLIENT_CERT_PATH)"},
      {"client_key_path", field_type::string, true, false,
       "mTLS client key PEM, mode 0600 (CERTCTL_GLOBALSIGN_CLIENT_KEY_PATH)"},
      {"server_ca_path", field_type::string, false, false,
       "PEM bundle trusted for the API's TLS certificate (CERTCTL_GLOBALSIGN_SERVER_CA_PATH; "
       "default: system store)"},
      {"poll_max_wait_seconds", field_type::integer, false, false,
       "an order not issued after this is expired, 60..604800 (default 600; "
       "CERTCTL_GLOBALSIGN_POLL_MAX_WAIT_SECONDS)"},
      {"token_lifetime_seconds", field_type::integer, false, false,
       "how long a login token is used, 60..3600 (default 600, Atlas's token lifetime)"},
      {"validity_days", field_type::integer, false, false,
       "lifetime asked for when the request names none (default 90)"},
      {"timeout_seconds", field_type::integer, false, false, "per request, 1..300 (default 30)"},
  }};
}

certctl::result<std::shared_ptr<issuer>, issuer_error> make_globalsign_issuer(
    const connector_settings& s, const builtin_context& context) {
  const auto& c = s.config;
  const std::string who = "issuer " + s.id;
  auto bad = [&](const std::string& why) {
    return fail(issuer_errc::invalid_request, who + ": " + why);
  };
  auto url = ext::parse_https_url(c.str("api_url"), "api_url");
  if (!url) return url.error();
  if (c.str("api_key").empty() || c.str("api_secret").empty())
    return bad("api_key and api_secret are required");
  if (auto ok =
          ext::check_client_identity(who, c.str("client_cert_path"), c.str("client_key_path"));
      !ok)
    return ok.error();
  const std::int64_t timeout = c.has("timeout_seconds") ? c.int64("timeout_seconds") : 30;
  if (timeout < 1 || timeout > 300) return bad("timeout_seconds must be 1..300");
  const std::int64_t wait = c.has("poll_max_wait_seconds") ? c.int64("poll_max_wait_seconds") : 600;
  if (wait < 60 || wait > 604800) return bad("poll_max_wait_seconds must be 60..604800");
  const std::int64_t life =
      c.has("token_lifetime_seconds") ? c.int64("token_lifetime_seconds") : 600;
  if (life < 60 || life > 3600) return bad("token_lifetime_seconds must be 60..3600");
  const std::int64_t days = c.has("validity_days") ? c.int64("validity_days") : 90;
  if (days < 1 || days > 3650) return bad("validity_days must be 1..3650");
  ext::http_options o;
  o.allow = context.outbound_allow;
  o.ca_bundle_path = c.str("server_ca_path");
  o.timeout = std::chrono::seconds(timeout);
  o.client_cert_path = c.str("client_cert_path");
  o.client_key_path = c.str("client_key_path");
  return std::shared_ptr<issuer>(std::make_shared<globalsign_issuer>(
      s.id, ext::https_client(*url, o, who + " (GlobalSign Atlas)"), c.str("api_key"),
      c.str("api_secret"), life, wait, static_cast<int>(days)));
}

}  // namespace certctl::connectors::globalsign

namespace certctl::connectors {

certctl::result<done, std::string> register_globalsign_connector(connector_registry& registry,
                                                                 const builtin_context& context) {
  issuer_registration r;
  r.type = "GlobalSign";
  r.description = "GlobalSign Atlas HVCA API v2: mutual TLS plus an API key/secret login token";
  r.schema = globalsign::globalsign_schema();
  r.make = [context](const connector_settings& s) {
    return globalsign::make_globalsign_issuer(s, context);
  };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
