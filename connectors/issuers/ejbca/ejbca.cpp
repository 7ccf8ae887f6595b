#include "connectors/issuers/ejbca/ejbca.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <mutex>

#include "connectors/issuers/external_ca.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/random.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::connectors::ejbca {
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

/// Names the CSR's key in an order id: the first 32 hex digits of SHA-256 over its SPKI.
std::string key_id(const crypto::bytes& spki) {
  return crypto::to_hex(crypto::sha256_of(std::string_view(
                            reinterpret_cast<const char*>(spki.data()), spki.size())))
      .substr(0, 32);
}

std::string words_of(const ext::http_reply& r) {
  return r.json.str("error_message");
}

/// EJBCA answers base64 DER; PEM (what the rest of the system speaks) is the same base64
/// wrapped. A PEM answer is taken as it is.
std::string pem_of(const std::string& b64) {
  if (b64.find("-----BEGIN") != std::string::npos) return b64;
  std::string out = "-----BEGIN CERTIFICATE-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END CERTIFICATE-----\n";
}

/// RFC 5280 reason name -> EJBCA's RevocationReasons name.
std::string ejbca_reason(const std::string& rfc) {
  static const std::pair<const char*, const char*> names[] = {
      {"unspecified", "UNSPECIFIED"},
      {"keyCompromise", "KEY_COMPROMISE"},
      {"caCompromise", "CA_COMPROMISE"},
      {"affiliationChanged", "AFFILIATION_CHANGED"},
      {"superseded", "SUPERSEDED"},
      {"cessationOfOperation", "CESSATION_OF_OPERATION"},
      {"certificateHold", "CERTIFICATE_HOLD"},
      {"removeFromCRL", "REMOVE_FROM_CRL"},
      {"privilegeWithdrawn", "PRIVILEGES_WITHDRAWN"},
      {"aaCompromise", "AA_COMPROMISE"}};
  for (const auto& [ours, theirs] : names)
    if (rfc == ours) return theirs;
  return "UNSPECIFIED";
}

class ejbca_issuer final : public issuer {
 public:
  struct settings {
    std::string ca_name, cert_profile, ee_profile, username_prefix, bearer;
    std::int64_t max_wait = 600;
  };

  ejbca_issuer(std::string id, ext::https_client client, settings s)
      : id_(std::move(id)),
        who_("issuer " + id_ + " (EJBCA)"),
        client_(std::move(client)),
        s_(std::move(s)) {}

  std::string_view type() const override { return "EJBCA"; }
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
    if (cn.empty() && !csr->dns_names.empty()) cn = csr->dns_names.front();
    std::string username = s_.username_prefix;
    for (char c : cn)
      username += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-') ? c : '_';
    events::json_object body;
    body.set("certificate_request", r.csr_pem)
        .set("certificate_authority_name", s_.ca_name)
        .set("username", username)
        .set("password", crypto::random_hex(16))
        .set("include_chain", true)
        .set("response_format", "DER");
    if (!s_.cert_profile.empty()) body.set("certificate_profile_name", s_.cert_profile);
    if (!s_.ee_profile.empty()) body.set("end_entity_profile_name", s_.ee_profile);
    const std::int64_t placed = now_seconds();
    auto reply = call("POST", "/v1/certificate/pkcs10enroll", body.dump());
    if (!reply) return reply.error();
    if (reply->status == 202) {  // EJBCA approvals: the request waits for an administrator
      issued_certificate pending;
      pending.order_id =
          username + "@" + std::to_string(placed) + "@" + key_id(csr->public_key_der);
      return pending;
    }
    if (reply->status != 201 && reply->status != 200)
      return ext::http_error(*reply, who_, "pkcs10enroll", words_of(*reply));
    std::string chain;
    for (const auto& c : reply->json.str_array("certificate_chain")) chain += pem_of(c);
    return ext::accept_certificate(*csr, r, pem_of(reply->json.str("certificate")), chain, "EJBCA");
  }

  certctl::result<order_status, issuer_error> get_order_status(const std::string& order) override {
    const size_t key_at = order.rfind('@');
    const size_t at = key_at == std::string::npos || key_at == 0 ? std::string::npos
                                                                 : order.rfind('@', key_at - 1);
    if (at == std::string::npos || at == 0)
      return fail(issuer_errc::invalid_request, who_ + ": order id '" + ext::excerpt(order, 80) +
                                                    "' is not <username>@<time>@<key id>");
    const std::string username = order.substr(0, at);
    const std::int64_t placed = std::atoll(order.c_str() + at + 1);
    const std::string key = order.substr(key_at + 1);
    order_status out;
    out.order_id = order;
    out.updated_at_us = now_seconds() * 1000000;
    events::json_object user, ca;
    user.set("property", "QUERY").set("value", username).set("operation", "EQUAL");
    ca.set("property", "CA").set("value", s_.ca_name).set("operation", "EQUAL");
    const std::string body =
        R"({"max_number_of_results":25,"criteria":[)" + user.dump() + "," + ca.dump() + "]}";
    auto reply = call("POST", "/v1/certificate/search", body);
    if (!reply) return reply.error();
    if (reply->status != 200)
      return ext::http_error(*reply, who_, "certificate search", words_of(*reply));
    // The end entity's certificate for the order's key (EJBCA backdates notBefore, so the
    // key, not the time, tells the approved request's certificate from older ones).
    std::optional<issued_certificate> best;
    for (const auto& c : reply->json.object_array("certificates")) {
      const std::string pem = pem_of(c.str("certificate"));
      auto info = crypto::parse_certificate(pem);
      if (!info || key_id(info->public_key_der) != key) continue;
      std::string chain;
      for (const auto& p : c.str_array("certificate_chain")) chain += pem_of(p);
      auto cert = ext::certificate_of_order(pem, chain, who_);
      if (cert && (!best || cert->not_before_us > best->not_before_us))
        best = std::move(cert).value();
    }
    if (best) {
      out.state = order_state::valid;
      out.certificate = std::move(*best);
      out.certificate.order_id = order;
      return out;
    }
    if (now_seconds() - placed > s_.max_wait) {
      out.state = order_state::expired;
      out.message = "no certificate for end entity " + username + " after " +
                    std::to_string(s_.max_wait) +
                    " s (poll_max_wait_seconds): the approval was rejected or never given";
      return out;
    }
    out.message = "waiting for approval at EJBCA (end entity " + username + ")";
    return out;
  }

  certctl::result<done, issuer_error> revoke(const revocation_request& r) override {
    auto serial = ext::normalise_serial(r.serial_hex);
    if (!serial) return serial.error();
    auto reason = ext::check_reason(r.reason);
    if (!reason) return reason.error();
    auto dn = issuer_dn();
    if (!dn) return dn.error();
    auto reply = call("PUT",
                      "/v1/certificate/" + url_encode(*dn) + "/" + *serial +
                          "/revoke?reason=" + ejbca_reason(reason->first),
                      {});
    if (!reply) return reply.error();
    // 409 "already revoked": a retry of a revocation whose answer was lost is done, not failed.
    if (reply->status != 200 && reply->status != 409)
      return ext::http_error(*reply, who_, "revoke", words_of(*reply));
    return done{};
  }

  certctl::result<issuer_test_report, issuer_error> self_test() override {
    auto dn = issuer_dn(true);
    if (!dn) return dn.error();
    issuer_test_report report;
    report.message =
        "EJBCA reachable; CA " + s_.ca_name + " (" + ext::excerpt(*dn, 120) + ") available";
    return report;
  }

 private:
  /// The CA's subject DN from GET /v1/ca, looked up once.
  certctl::result<std::string, issuer_error> issuer_dn(bool fresh = false) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!fresh && !dn_.empty()) return dn_;
    }
    auto reply = call("GET", "/v1/ca", {});
    if (!reply) return reply.error();
    if (reply->status != 200) return ext::http_error(*reply, who_, "ca list", words_of(*reply));
    for (const auto& ca : reply->json.object_array("certificate_authorities"))
      if (ca.str("name") == s_.ca_name && !ca.str("subject_dn").empty()) {
        std::lock_guard<std::mutex> lock(mu_);
        dn_ = ca.str("subject_dn");
        return dn_;
      }
    return fail(issuer_errc::invalid_request,
                who_ + ": EJBCA lists no CA named '" + ext::excerpt(s_.ca_name, 80) + "'");
  }

  certctl::result<ext::http_reply, issuer_error> call(const std::string& method,
                                                      const std::string& path,
                                                      const std::string& body) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!s_.bearer.empty()) headers.emplace_back("Authorization", "Bearer " + s_.bearer);
    return client_.call(method, path, body, std::move(headers));
  }

  std::string id_, who_;
  ext::https_client client_;
  settings s_;
  std::mutex mu_;
  std::string dn_;
};

}  // namespace

std::string url_encode(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

config_schema ejbca_schema() {
  return config_schema{{
      {"api_url", field_type::string, true, false,
       "EJBCA REST base URL, https://host:8443/ejbca/ejbca-rest-api (CERTCTL_EJBCA_API_URL)"},
      {"auth_mode", field_type::string, false, false,
       "mtls (default) or oauth2 (CERTCTL_EJBCA_AUTH_MODE)"},
      {"client_cert_path", field_type::string, false, false,
       "mTLS client certificate PEM; required for mtls (CERTCTL_EJBCA_CLIENT_CERT_PATH)"},
      {"client_key_path", field_type::string, false, false,
       "mTLS client key PEM, mode 0600; required for mtls (CERTCTL_EJBCA_CLIENT_KEY_PATH)"},
      {"token", field_type::string, false, true,
       "OAuth2 bearer token; required for oauth2 (CERTCTL_EJBCA_TOKEN)"},
      {"ca_name", field_type::string, true, false, "EJBCA CA name (CERTCTL_EJBCA_CA_NAME)"},
      {"cert_profile", field_type::string, false, false,
       "certificate profile name (CERTCTL_EJBCA_CERT_PROFILE)"},
      {"ee_profile", field_type::string, false, false,
       "end entity profile name (CERTCTL_EJBCA_EE_PROFILE)"},
      {"username_prefix", field_type::string, false, false,
       "prefix of the end entity usernames (default \"certctl-\")"},
      {"server_ca_path", field_type::string, false, false,
       "PEM bundle trusted for EJBCA's TLS certificate (default: system store)"},
      {"poll_max_wait_seconds", field_type::integer, false, false,
       "an approval-pending order older than this is expired, 60..604800 (default 86400)"},
      {"timeout_seconds", field_type::integer, false, false, "per request, 1..300 (default 30)"},
  }};
}

certctl::result<std::shared_ptr<issuer>, issuer_error> make_ejbca_issuer(
    const connector_settings& s, const builtin_context& context) {
  const auto& c = s.config;
  const std::string who = "issuer " + s.id;
  auto bad = [&](const std::string& why) {
    return fail(issuer_errc::invalid_request, who + ": " + why);
  };
  auto url = ext::parse_https_url(c.str("api_url"), "api_url");
  if (!url) return url.error();
  const std::string mode = c.has("auth_mode") ? c.str("auth_mode") : "mtls";
  ext::http_options o;
  ejbca_issuer::settings st;
  if (mode == "mtls") {
    if (auto ok =
            ext::check_client_identity(who, c.str("client_cert_path"), c.str("client_key_path"));
        !ok)
      return ok.error();
    o.client_cert_path = c.str("client_cert_path");
    o.client_key_path = c.str("client_key_path");
  } else if (mode == "oauth2") {
    st.bearer = c.str("token");
    if (st.bearer.empty()) return bad("auth_mode oauth2 needs token");
    if (st.bearer.find_first_of("\r\n ") != std::string::npos)
      return bad("token must be a single bearer token");
  } else {
    return bad("auth_mode must be mtls or oauth2");
  }
  st.ca_name = c.str("ca_name");
  if (st.ca_name.empty()) return bad("ca_name is required");
  st.cert_profile = c.str("cert_profile");
  st.ee_profile = c.str("ee_profile");
  st.username_prefix = c.has("username_prefix") ? c.str("username_prefix") : "certctl-";
  if (st.username_prefix.size() > 64 || st.username_prefix.find('@') != std::string::npos)
    return bad("username_prefix must be at most 64 characters without '@'");
  const std::int64_t timeout = c.has("timeout_seconds") ? c.int64("timeout_seconds") : 30;
  if (timeout < 1 || timeout > 300) return bad("timeout_seconds must be 1..300");
  st.max_wait = c.has("poll_max_wait_seconds") ? c.int64("poll_max_wait_seconds") : 86400;
  if (st.max_wait < 60 || st.max_wait > 604800)
    return bad("poll_max_wait_seconds must be 60..604800");
  o.allow = context.outbound_allow;
  o.ca_bundle_path = c.str("server_ca_path");
  o.timeout = std::chrono::seconds(timeout);
  return std::shared_ptr<issuer>(std::make_shared<ejbca_issuer>(
      s.id, ext::https_client(*url, o, who + " (EJBCA)"), std::move(st)));
}

}  // namespace certctl::connectors::ejbca

namespace certctl::connectors {

certctl::result<done, std::string> register_ejbca_connector(connector_registry& registry,
                                                            const builtin_context& context) {
  issuer_registration r;
  r.type = "EJBCA";
  r.description =
      "Keyfactor EJBCA REST API v1 (pkcs10enroll, revoke by issuer DN and serial) "
      "with mutual TLS or an OAuth2 bearer token";
  r.schema = ejbca::ejbca_schema();
  r.make = [context](const connector_settings& s) { return ejbca::make_ejbca_issuer(s, context); };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
