#include "connectors/issuers/googlecas/google_cas.hpp"

#include <algorithm>
#include <cctype>
#include <thread>

#include "connectors/common/cloud_auth.hpp"
#include "connectors/issuers/external_ca.hpp"
#include "events/json.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/random.hpp"
#include "infra/crypto/secure_file.hpp"

namespace certctl::connectors::googlecas {
namespace {

namespace ext = external_ca;
namespace ca = cloud_auth;

constexpr const char* scope = "https://www.googleapis.com/auth/cloud-platform";
/// The longest Retry-After honoured inside one call; longer ones go back to the caller.
constexpr std::int64_t max_inline_wait_seconds = 5;

issuer_error fail(issuer_errc code, std::string message) {
  return issuer_error{code, std::move(message)};
}

std::string url_encode(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

/// A path segment the API accepts for ids (project, location, pool): no '/', no blanks.
bool plain_segment(const std::string& s) {
  return !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
  });
}

struct settings {
  std::string id, who;
  std::string pool_path;   ///< "projects/{p}/locations/{l}/caPools/{pool}"
  std::string issuing_ca;  ///< optional CA id within the pool
  std::int64_t default_lifetime_seconds = 8760LL * 3600;
  ca::endpoint api;
  ca::transport_options transport;
};

struct api_reply {
  int status = 0;
  std::string body;
  events::json_object json;
  std::int64_t retry_after = -1;  ///< seconds, -1 when absent
};

class google_cas_issuer final : public issuer {
 public:
  google_cas_issuer(settings s, std::shared_ptr<ca::google_token_source> tokens)
      : s_(std::move(s)), tokens_(std::move(tokens)) {}

  std::string_view type() const override { return type_name; }
  const std::string& id() const override { return s_.id; }

  issuer_capabilities capabilities() const override {
    issuer_capabilities c;
    c.revoke = true;
    c.static_ca_chain = false;  // the pool's CAs rotate; the chain is fetched, not pinned
    return c;
  }

  std::string ca_chain_pem() const override {
    auto chain = fetch_ca_certs();
    return chain ? *chain : std::string();
  }

  certctl::result<issued_certificate, issuer_error> issue(const issuance_request& r) override {
    auto csr = ext::check_csr(r);
    if (!csr) return csr.error();
    const std::int64_t lifetime = ext::requested_lifetime_seconds(r, s_.default_lifetime_seconds);
    events::json_object body;
    body.set("pemCsr", r.csr_pem).set("lifetime", std::to_string(lifetime) + "s");
    // certificateId names the resource; requestId makes a retried create idempotent at CAS.
    std::string query =
        "?certificateId=certctl-" + crypto::random_hex(12) + "&requestId=" + crypto::uuid_v4();
    if (!s_.issuing_ca.empty())
      query += "&issuingCertificateAuthorityId=" + url_encode(s_.issuing_ca);
    auto reply = request("POST", "/v1/" + s_.pool_path + "/certificates" + query, body.dump());
    if (!reply) return reply.error();
    if (reply->status != 200) return mapped(*reply, "certificates.create");
    std::string chain;
    for (const auto& pem : reply->json.str_array("pemCertificateChain")) {
      chain += pem;
      if (!chain.empty() && chain.back() != '\n') chain += '\n';
    }
    return ext::accept_certificate(*csr, r, reply->json.str("pemCertificate"), chain, "Google CAS");
  }

  certctl::result<done, issuer_error> revoke(const revocation_request& r) override {
    auto serial = ext::normalise_serial(r.serial_hex);
    if (!serial) return serial.error();
    auto reason = ext::check_reason(r.reason);
    if (!reason) return reason.error();
    const std::string cas = cas_reason(reason->first);
    if (cas.empty())
      return fail(issuer_errc::invalid_request,
                  s_.who + ": Google CAS has no revocation reason " + reason->first);
    std::string lower = *serial;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const std::string filter =
        "certificate_description.subject_description.hex_serial_number=\"" + lower + "\"";
    auto found = request("GET", "/v1/" + s_.pool_path +
                                    "/certificates?filter=" + url_encode(filter) + "&pageSize=2");
    if (!found) return found.error();
    if (found->status != 200) return mapped(*found, "certificates.list");
    auto certs = found->json.object_array("certificates");
    if (certs.empty())
      return fail(issuer_errc::invalid_request,
                  s_.who + ": no certificate with serial " + *serial + " in " + s_.pool_path);
    const std::string name = certs.front().str("name");
    if (name.rfind(s_.pool_path + "/certificates/", 0) != 0)
      return fail(issuer_errc::unavailable, s_.who + ": certificates.list named another pool");
    if (certs.front().has("revocationDetails")) return done{};  // already revoked: idempotent
    events::json_object body;
    body.set("reason", cas).set("requestId", crypto::uuid_v4());
    auto reply = request("POST", "/v1/" + name + ":revoke", body.dump());
    if (!reply) return reply.error();
    if (reply->status != 200) return mapped(*reply, "certificates.revoke");
    return done{};
  }

  certctl::result<issuer_test_report, issuer_error> self_test() override {
    auto chain = fetch_ca_certs();
    if (!chain) return chain.error();
    auto certs = crypto::split_pem_chain(*chain);
    if (!certs || certs->empty())
      return fail(issuer_errc::unavailable, s_.who + ": the pool has no CA certificates");
    auto first = crypto::parse_certificate(certs->front());
    if (!first) return fail(issuer_errc::unavailable, s_.who + ": unreadable CA certificate");
    issuer_test_report report;
    report.message = "Google CAS pool " + s_.pool_path + " reachable as " +
                     tokens_->account().client_email + "; CA " + first->subject_dn;
    report.ca_not_after_us = first->not_after * 1000000;
    return report;
  }

 private:
  certctl::result<std::string, issuer_error> fetch_ca_certs() const {
    events::json_object body;
    body.set("requestId", crypto::uuid_v4());
    auto reply = request("POST", "/v1/" + s_.pool_path + ":fetchCaCerts", body.dump());
    if (!reply) return reply.error();
    if (reply->status != 200) return mapped(*reply, "caPools.fetchCaCerts");
    std::string out;
    for (const auto& chain : reply->json.object_array("caCerts"))
      for (const auto& pem : chain.str_array("certificates")) {
        out += pem;
        if (!out.empty() && out.back() != '\n') out += '\n';
      }
    return out;
  }

  /// One API call with the bearer token. A 401 drops the token and tries once more with a new
  /// one (it may have been revoked early); a 429 with a short Retry-After waits once.
  certctl::result<api_reply, issuer_error> request(const std::string& method,
                                                   const std::string& path,
                                                   const std::string& body = {}) const {
    bool retried_auth = false, retried_quota = false;
    for (;;) {
      auto token = tokens_->access_token();
      if (!token) return auth_failure(token.error());
      std::vector<std::pair<std::string, std::string>> headers = {
          {"Authorization", "Bearer " + *token}};
      if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
      auto r = ca::call(s_.api, s_.transport, s_.who, method, path, std::move(headers), body);
      if (!r) return fail(issuer_errc::unavailable, r.error().message);
      api_reply out;
      out.status = r->status;
      out.body = std::move(r->body);
      if (auto doc = events::json_object::parse(out.body)) out.json = std::move(*doc);
      for (const auto& [k, v] : r->headers)
        if (k == "retry-after" && !v.empty() &&
            std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); }) &&
            v.size() < 7)
          out.retry_after = std::stoll(v);
      if (out.status == 401 && !retried_auth) {
        tokens_->forget();
        retried_auth = true;
        continue;
      }
      if (out.status == 429 && !retried_quota && out.retry_after >= 0 &&
          out.retry_after <= max_inline_wait_seconds) {
        retried_quota = true;
        std::this_thread::sleep_for(std::chrono::seconds(out.retry_after));
        continue;
      }
      return out;
    }
  }

  issuer_error auth_failure(const ca::auth_error& e) const {
    if (e.code == ca::auth_errc::unavailable) return fail(issuer_errc::unavailable, e.message);
    return fail(issuer_errc::invalid_request, e.message + " (check the service account)");
  }

  /// google.rpc.Status in our terms.
  issuer_error mapped(const api_reply& r, const std::string& op) const {
    std::string status, message;
    if (auto err = events::json_object::parse(r.json.raw("error"))) {
      status = err->str("status");
      message = err->str("message");
    }
    if (message.empty()) message = r.body;
    const std::string text = s_.who + ": " + op + " answered " + std::to_string(r.status) +
                             (status.empty() ? "" : " " + status) + ": " + ext::excerpt(message);
    if (status == "UNAUTHENTICATED" || r.status == 401)
      return fail(issuer_errc::invalid_request, text + " (check the service account)");
    if (status == "PERMISSION_DENIED" || r.status == 403)
      return fail(issuer_errc::invalid_request,
                  text + " (the service account needs roles/privateca.certificateRequester)");
    if (status == "NOT_FOUND" || r.status == 404)
      return fail(issuer_errc::invalid_request, text + " (check project, location and ca_pool)");
    if (status == "RESOURCE_EXHAUSTED" || r.status == 429)
      return fail(
          issuer_errc::unavailable,
          text +
              (r.retry_after >= 0 ? " (retry after " + std::to_string(r.retry_after) + " s)" : ""));
    // No enabled CA in the pool, a CA not yet active: the pool must change, then it works.
    if (status == "FAILED_PRECONDITION") return fail(issuer_errc::unavailable, text);
    if (status == "INVALID_ARGUMENT" || status == "OUT_OF_RANGE")
      return fail(issuer_errc::policy_violation, text);
    if (status == "ALREADY_EXISTS") return fail(issuer_errc::unavailable, text);
    return fail(issuer_errc::unavailable, text);
  }

  settings s_;
  std::shared_ptr<ca::google_token_source> tokens_;
};

/// "8760h", "90m", "3600s", "30d" or plain seconds.
std::optional<std::int64_t> parse_duration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::string digits = text;
  std::int64_t unit = 1;
  switch (text.back()) {
    case 's':
      digits.pop_back();
      break;
    case 'm':
      unit = 60;
      digits.pop_back();
      break;
    case 'h':
      unit = 3600;
      digits.pop_back();
      break;
    case 'd':
      unit = 86400;
      digits.pop_back();
      break;
    default:
      break;
  }
  if (digits.empty() || digits.size() > 9 ||
      !std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); }))
    return std::nullopt;
  return std::stoll(digits) * unit;
}

}  // namespace

std::string cas_reason(const std::string& r) {
  if (r.empty() || r == "unspecified") return "REVOCATION_REASON_UNSPECIFIED";
  if (r == "keyCompromise") return "KEY_COMPROMISE";
  if (r == "cACompromise") return "CERTIFICATE_AUTHORITY_COMPROMISE";
  if (r == "affiliationChanged") return "AFFILIATION_CHANGED";
  if (r == "superseded") return "SUPERSEDED";
  if (r == "cessationOfOperation") return "CESSATION_OF_OPERATION";
  if (r == "certificateHold") return "CERTIFICATE_HOLD";
  if (r == "privilegeWithdrawn") return "PRIVILEGE_WITHDRAWN";
  if (r == "aACompromise") return "ATTRIBUTE_AUTHORITY_COMPROMISE";
  return {};  // removeFromCRL: CAS un-holds by its own API, not by revoking
}

config_schema google_cas_schema() {
  return config_schema{{
      {"project", field_type::string, true, false, "GCP project id"},
      {"location", field_type::string, true, false, "region of the CA pool, e.g. us-central1"},
      {"ca_pool", field_type::string, true, false, "CA pool id"},
      {"credentials", field_type::string, false, false,
       "path of the service account's JSON key file (read at start)"},
      {"credentials_json", field_type::string, false, true,
       "the service account's JSON key itself, instead of credentials"},
      {"issuing_certificate_authority", field_type::string, false, false,
       "a CA id within the pool to issue from (default: CAS picks one)"},
      {"ttl", field_type::string, false, false,
       "lifetime when the request names none: 8760h (default), 90d, 3600s"},
      {"api_url", field_type::string, false, false,
       "API endpoint (default https://privateca.googleapis.com)"},
      {"token_url", field_type::string, false, false,
       "OAuth2 token endpoint (default: the key file's token_uri)"},
      {"ca_bundle_path", field_type::string, false, false,
       "PEM trust anchors of both endpoints (default: the system store)"},
      {"timeout_seconds", field_type::integer, false, false, "per request, 1..300 (default 30)"},
  }};
}

certctl::result<std::shared_ptr<issuer>, issuer_error> make_google_cas_issuer(
    const connector_settings& in, const builtin_context& context) {
  const auto& c = in.config;
  settings s;
  s.id = in.id;
  s.who = "issuer " + in.id + " (Google CAS)";
  auto bad = [&](const std::string& why) {
    return fail(issuer_errc::invalid_request, s.who + ": " + why);
  };
  const std::string project = c.str("project"), location = c.str("location"),
                    pool = c.str("ca_pool");
  if (!plain_segment(project)) return bad("project must be a GCP project id");
  if (!plain_segment(location)) return bad("location must be a GCP region");
  if (!plain_segment(pool)) return bad("ca_pool must be a CA pool id");
  s.pool_path = "projects/" + project + "/locations/" + location + "/caPools/" + pool;
  s.issuing_ca = c.str("issuing_certificate_authority");
  if (!s.issuing_ca.empty() && !plain_segment(s.issuing_ca))
    return bad("issuing_certificate_authority must be a CA id");
  if (c.has("ttl")) {
    auto ttl = parse_duration(c.str("ttl"));
    if (!ttl || *ttl < 3600 || *ttl > 3650LL * 86400)
      return bad("ttl must be a duration between 1h and 3650d, e.g. 8760h");
    s.default_lifetime_seconds = *ttl;
  }
  std::string key_json = c.str("credentials_json");
  if (key_json.empty() == c.str("credentials").empty())
    return bad("give exactly one of credentials (a key file path) and credentials_json");
  if (key_json.empty()) {
    auto text = crypto::read_file(c.str("credentials"), 64 * 1024);
    if (!text) return bad("credentials: " + text.error().message);
    key_json = *text;
  }
  auto account = ca::parse_google_service_account(key_json);
  if (!account) return bad(account.error().message);
  auto api = ca::parse_endpoint(c.str("api_url", "https://privateca.googleapis.com"), "api_url");
  if (!api) return bad(api.error().message);
  s.api = *api;
  const std::string token_url = c.str("token_url");
  if (auto t = ca::parse_endpoint(token_url.empty() ? account->token_uri : token_url, "token_url");
      !t)
    return bad(t.error().message);
  const std::int64_t timeout = c.has("timeout_seconds") ? c.int64("timeout_seconds") : 30;
  if (timeout < 1 || timeout > 300) return bad("timeout_seconds must be 1..300");
  s.transport.allow = context.outbound_allow;
  s.transport.ca_bundle_path = c.str("ca_bundle_path");
  s.transport.timeout = std::chrono::seconds(timeout);
  auto tokens = std::make_shared<ca::google_token_source>(std::move(*account), scope, token_url,
                                                          s.transport, s.who);
  return std::shared_ptr<issuer>(
      std::make_shared<google_cas_issuer>(std::move(s), std::move(tokens)));
}

}  // namespace certctl::connectors::googlecas

namespace certctl::connectors {

certctl::result<done, std::string> register_google_cas_connector(connector_registry& registry,
                                                                 const builtin_context& context) {
  issuer_registration r;
  r.type = googlecas::type_name;
  r.description =
      "Google Cloud Certificate Authority Service (REST v1, service-account OAuth2), synchronous";
  r.schema = googlecas::google_cas_schema();
  r.make = [context](const connector_settings& s) {
    return googlecas::make_google_cas_issuer(s, context);
  };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
