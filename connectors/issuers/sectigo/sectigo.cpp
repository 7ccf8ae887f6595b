#include "connectors/issuers/sectigo/sectigo.hpp"

#include "connectors/issuers/async_ca/async_ca.hpp"
#include "connectors/issuers/external_ca.hpp"

namespace certctl::connectors::sectigo {
namespace {

namespace ext = external_ca;

/// Sectigo's collect answer while an approved certificate is not generated yet.
constexpr std::int64_t not_ready_code = -183;

issuer_error fail(issuer_errc code, std::string message) {
  return issuer_error{code, std::move(message)};
}

/// Sectigo's error body: "code N: description", else an excerpt of the body.
std::string sectigo_error(const ext::http_reply& r) {
  if (r.json.has("code") || r.json.has("description"))
    return ext::excerpt("code " + std::to_string(r.json.int64("code")) + ": " +
                        r.json.str("description"));
  return ext::excerpt(r.body);
}

struct settings {
  std::string customer_uri, login, password;
  std::int64_t org_id = 0;
  std::int64_t cert_type = 0;
  std::int64_t term = 365;
  std::string external_requester;
  std::int64_t poll_max_wait_seconds = 600;
};

class sectigo_issuer final : public issuer {
 public:
  sectigo_issuer(std::string id, ext::https_client client, settings s)
      : id_(std::move(id)),
        who_("issuer " + id_ + " (Sectigo)"),
        client_(std::move(client)),
        s_(std::move(s)) {}

  std::string_view type() const override { return "Sectigo"; }
  const std::string& id() const override { return id_; }
  std::string ca_chain_pem() const override { return {}; }

  issuer_capabilities capabilities() const override {
    issuer_capabilities c;
    c.revoke = true;
    c.async_orders = true;
    c.cancel_orders = true;
    c.static_ca_chain = false;
    c.order_timeout_seconds = s_.poll_max_wait_seconds;
    return c;
  }

  certctl::result<issued_certificate, issuer_error> issue(const issuance_request& r) override {
    auto csr = ext::check_csr(r);
    if (!csr) return csr.error();
    const auto& dns = r.sans.dns.empty() ? csr->dns_names : r.sans.dns;
    std::string sans;
    for (const auto& d : dns) sans += (sans.empty() ? "" : ",") + d;
    // SCM's terms are whole days from the certificate type's list; a profile cap below the
    // configured term asks for the shorter one (SCM refuses a term the type does not offer).
    const std::int64_t term =
        std::max<std::int64_t>(1, ext::requested_lifetime_seconds(r, s_.term * 86400) / 86400);
    events::json_object body;
    body.set("orgId", s_.org_id)
        .set("csr", r.csr_pem)
        .set("certType", s_.cert_type)
        .set("term", std::min(term, s_.term))
        .set("subjAltNames", sans)
        .set("comments", "requested by certctl");
    if (!s_.external_requester.empty()) body.set("externalRequester", s_.external_requester);
    auto reply = call("POST", "/ssl/v1/enroll", body.dump());
    if (!reply) return reply.error();
    if (reply->status != 200 && reply->status != 201) return mapped(*reply, "enroll");
    const std::int64_t ssl_id = reply->json.int64("sslId");
    if (ssl_id <= 0) return fail(issuer_errc::unavailable, who_ + ": enroll answered no sslId");
    issued_certificate pending;
    pending.order_id = std::to_string(ssl_id);
    return pending;
  }

  certctl::result<order_status, issuer_error> get_order_status(
      const std::string& order_id) override {
    if (!digits(order_id)) return fail(issuer_errc::invalid_request, who_ + ": malformed sslId");
    order_status out;
    out.order_id = order_id;
    out.updated_at_us = async_ca::now_us();
    auto reply = call("GET", "/ssl/v1/" + order_id);
    if (!reply) return reply.error();
    if (reply->status == 429) return rate_limited(out, *reply);
    if (reply->status == 404) {
      out.state = order_state::invalid;
      out.message = "Sectigo does not know sslId " + order_id;
      return out;
    }
    if (reply->status != 200) return mapped(*reply, "status");
    const std::string status = reply->json.str("status");
    if (status == "Issued") return collect(out);
    if (status == "Requested") {
      out.ca_state = "pending_approval";
      out.message = "Sectigo request " + order_id + " awaits approval by an SCM administrator";
    } else if (status == "Approved" || status == "Applied" || status == "Pending" ||
               status == "SAApproved" || status == "Init") {
      out.ca_state = "processing";
      out.message = "Sectigo request " + order_id + " is " + status + " (with the CA)";
    } else if (status == "Expired") {
      out.state = order_state::expired;
      out.message = "Sectigo request " + order_id + " expired";
    } else {  // Declined, Rejected, Revoked, Invalid, or a word we do not know
      out.state = order_state::invalid;
      out.message = "Sectigo request " + order_id + " is " + ext::excerpt(status, 40);
    }
    return out;
  }

  certctl::result<done, issuer_error> cancel_order(const std::string& order_id) override {
    if (!digits(order_id)) return fail(issuer_errc::invalid_request, who_ + ": malformed sslId");
    events::json_object body;
    body.set("message", "cancelled in certctl (job cancelled)");
    auto reply = call("POST", "/ssl/v1/decline/" + order_id, body.dump());
    if (!reply) return reply.error();
    if (reply->status != 204 && reply->status != 200) return mapped(*reply, "decline");
    return done{};
  }

  certctl::result<done, issuer_error> revoke(const revocation_request& r) override {
    auto serial = ext::normalise_serial(r.serial_hex);
    if (!serial) return serial.error();
    auto reason = ext::check_reason(r.reason);
    if (!reason) return reason.error();
    events::json_object body;
    body.set("reasonCode", static_cast<std::int64_t>(reason->second))
        .set("reason", reason->first.empty() ? "unspecified" : reason->first);
    auto reply = call("POST", "/ssl/v1/revoke/serial/" + *serial, body.dump());
    if (!reply) return reply.error();
    if (reply->status != 204 && reply->status != 200) return mapped(*reply, "revoke");
    return done{};
  }

  certctl::result<issuer_test_report, issuer_error> self_test() override {
    auto reply = call("GET", "/ssl/v1/types");
    if (!reply) return reply.error();
    if (reply->status != 200) return mapped(*reply, "types");
    // The answer is a JSON array; json_object reads objects, so wrap it.
    auto wrapped = events::json_object::parse(R"({"types":)" + reply->body + "}");
    if (!wrapped)
      return fail(issuer_errc::unavailable, who_ + ": types answer is not a JSON array");
    for (const auto& t : wrapped->object_array("types")) {
      if (t.int64("id") != s_.cert_type) continue;
      issuer_test_report report;
      report.message = "Sectigo login valid for " + s_.customer_uri + ", certificate type " +
                       std::to_string(s_.cert_type) + " (" + ext::excerpt(t.str("name"), 80) +
                       ") offered";
      return report;
    }
    return fail(issuer_errc::unavailable, who_ + ": certificate type " +
                                              std::to_string(s_.cert_type) +
                                              " is not offered to this account (GET ssl/v1/types)");
  }

 private:
  static bool digits(const std::string& s) {
    return !s.empty() && s.size() <= 18 && s.find_first_not_of("0123456789") == std::string::npos;
  }

  order_status rate_limited(order_status out, const ext::http_reply& reply) const {
    const auto wait = async_ca::retry_after_seconds(reply);
    out.ca_state = "rate_limited";
    out.retry_after_us = out.updated_at_us + wait * 1000000;
    out.message = "Sectigo rate limit: asked to wait " + std::to_string(wait) + " s";
    return out;
  }

  certctl::result<order_status, issuer_error> collect(order_status out) {
    auto pem = call("GET", "/ssl/v1/collect/" + out.order_id + "/x509");
    if (!pem) return pem.error();
    if (pem->status == 429) return rate_limited(out, *pem);
    if (pem->status == 400 && pem->json.int64("code") == not_ready_code) {
      out.ca_state = "processing";
      out.message = "Sectigo request " + out.order_id + " is issued but not ready to collect";
      return out;
    }
    if (pem->status != 200) return mapped(*pem, "collect");
    auto issued = async_ca::certificate_from_bundle(pem->body, who_);
    if (!issued) return issued.error();
    out.state = order_state::valid;
    out.certificate = std::move(issued).value();
    out.certificate.order_id = out.order_id;
    return out;
  }

  certctl::result<ext::http_reply, issuer_error> call(const std::string& method,
                                                      const std::string& path,
                                                      const std::string& body = {}) const {
    return client_.call(
        method, path, body,
        {{"customerUri", s_.customer_uri}, {"login", s_.login}, {"password", s_.password}});
  }

  issuer_error mapped(const ext::http_reply& r, const std::string& op) const {
    const std::string prefix =
        who_ + ": " + op + " answered " + std::to_string(r.status) + ": " + sectigo_error(r);
    switch (r.status) {
      case 400:
      case 404:
        return fail(issuer_errc::invalid_request, prefix);
      case 401:
      case 403:
        return fail(issuer_errc::unavailable, prefix + " (check customer_uri, login and password)");
      case 429:
        return fail(issuer_errc::unavailable, prefix + " (rate limited; retry after " +
                                                  std::to_string(async_ca::retry_after_seconds(r)) +
                                                  " s)");
      default:
        return fail(issuer_errc::unavailable, prefix);
    }
  }

  std::string id_;
  std::string who_;
  ext::https_client client_;
  settings s_;
};

/// Header values: printable ASCII only (no CR/LF smuggled into the request).
bool header_safe(const std::string& s) {
  if (s.empty() || s.size() > 256) return false;
  for (char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

}  // namespace

config_schema sectigo_schema() {
  return config_schema{{
      {"customer_uri", field_type::string, true, false,
       "SCM customer URI, sent as customerUri (CERTCTL_SECTIGO_CUSTOMER_URI)"},
      {"login", field_type::string, true, false, "API account login (CERTCTL_SECTIGO_LOGIN)"},
      {"password", field_type::string, true, true,
       "API account password (CERTCTL_SECTIGO_PASSWORD)"},
      {"org_id", field_type::integer, true, false, "organization id (CERTCTL_SECTIGO_ORG_ID)"},
      {"cert_type", field_type::integer, true, false,
       "certificate type id from GET ssl/v1/types (CERTCTL_SECTIGO_CERT_TYPE)"},
      {"term", field_type::integer, false, false,
       "validity in days, one the type offers (default 365; CERTCTL_SECTIGO_TERM)"},
      {"base_url", field_type::string, false, false,
       "API base URL (default https://cert-manager.com/api; CERTCTL_SECTIGO_BASE_URL)"},
      {"external_requester", field_type::string, false, false,
       "e-mail sent as externalRequester (default none)"},
      {"poll_max_wait_seconds", field_type::integer, false, false,
       "how long a request may stay pending before the job fails, 10..2592000 (default 600; "
       "CERTCTL_SECTIGO_POLL_MAX_WAIT_SECONDS)"},
      {"ca_bundle_path", field_type::string, false, false,
       "PEM file of the CAs that sign the API's TLS certificate (default: system store)"},
      {"timeout_seconds", field_type::integer, false, false, "per request, 1..300 (default 30)"},
  }};
}

certctl::result<std::shared_ptr<issuer>, issuer_error> make_sectigo_issuer(
    const connector_settings& cs, const builtin_context& context) {
  const auto& c = cs.config;
  const std::string who = "issuer " + cs.id;
  auto bad = [&](const std::string& why) {
    return fail(issuer_errc::invalid_request, who + ": " + why);
  };
  auto url = ext::parse_https_url(c.str("base_url", "https://cert-manager.com/api"), "base_url");
  if (!url) return url.error();
  settings s;
  s.customer_uri = c.str("customer_uri");
  s.login = c.str("login");
  s.password = c.str("password");
  if (!header_safe(s.customer_uri) || !header_safe(s.login) || !header_safe(s.password))
    return bad("customer_uri, login and password are required, printable, at most 256 characters");
  s.org_id = c.int64("org_id");
  s.cert_type = c.int64("cert_type");
  if (s.org_id <= 0 || s.cert_type <= 0) return bad("org_id and cert_type must be positive");
  s.term = c.int64("term", 365);
  if (s.term < 1 || s.term > 1095) return bad("term must be 1..1095 days");
  s.external_requester = c.str("external_requester");
  auto common = async_ca::read_common_settings(c, context.outbound_allow);
  if (!common) return bad(common.error());
  s.poll_max_wait_seconds = common->poll_max_wait_seconds;
  return std::shared_ptr<issuer>(std::make_shared<sectigo_issuer>(
      cs.id, ext::https_client(*url, common->http, who + " (Sectigo)"), std::move(s)));
}

}  // namespace certctl::connectors::sectigo

namespace certctl::connectors {

certctl::result<done, std::string> register_sectigo_connector(connector_registry& registry,
                                                              const builtin_context& context) {
  issuer_registration r;
  r.type = "Sectigo";
  r.description = "Sectigo Certificate Manager (SCM REST ssl/v1, login triple, asynchronous)";
  r.schema = sectigo::sectigo_schema();
  r.make = [context](const connector_settings& s) {
    return sectigo::make_sectigo_issuer(s, context);
  };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
