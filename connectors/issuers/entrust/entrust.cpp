#include "connectors/issuers/entrust/entrust.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "connectors/issuers/external_ca.hpp"

namespace certctl::connectors::entrust {
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

/// Ids that go into a URL path as one segment.
bool path_safe(const std::string& s) {
  return !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
  });
}

/// CA Gateway's error body: {"errors": [{"code", "message"}]} (or a bare "message").
std::string words_of(const ext::http_reply& r) {
  std::string out;
  for (const auto& e : r.json.object_array("errors"))
    out += (out.empty() ? "" : "; ") + e.str("message");
  return out.empty() ? r.json.str("message") : out;
}

class entrust_issuer final : public issuer {
 public:
  entrust_issuer(std::string id, ext::https_client client, std::string ca_id,
                 std::string profile_id, std::int64_t max_wait, int validity_days)
      : id_(std::move(id)),
        who_("issuer " + id_ + " (Entrust)"),
        client_(std::move(client)),
        ca_id_(std::move(ca_id)),
        profile_id_(std::move(profile_id)),
        max_wait_(max_wait),
        validity_days_(validity_days) {}

  std::string_view type() const override { return "Entrust"; }
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
    std::vector<std::string> dns = r.sans.dns.empty() ? csr->dns_names : r.sans.dns;
    events::json_object details;
    details.set("validityPeriod", "P" +
                                      std::to_string(ext::requested_lifetime_seconds(
                                                         r, std::int64_t{validity_days_} * 86400) /
                                                     86400) +
                                      "D");
    events::json_object body;
    body.set("csr", r.csr_pem).set("subjectAltNames", dns);
    if (!profile_id_.empty()) body.set("profileId", profile_id_);
    body.set_raw("requiredFormat", R"({"format":"PEM"})")
        .set_raw("optionalCertificateRequestDetails", details.dump());
    auto reply = client_.call("POST", ca_path() + "/enrollments", body.dump());
    if (!reply) return reply.error();
    if (reply->status != 200 && reply->status != 201 && reply->status != 202)
      return ext::http_error(*reply, who_, "enrollment", words_of(*reply));
    const std::string tracking = reply->json.str("trackingId");
    const std::string status = reply->json.str("status");
    if (reply->status == 200 && status != "ISSUED" && !status.empty() && !pending(status))
      return fail(issuer_errc::policy_violation, who_ + ": enrollment " + status + ": " +
                                                     ext::excerpt(reply->json.str("message")));
    if (reply->status != 200 || pending(status)) {
      if (!path_safe(tracking))
        return fail(issuer_errc::unavailable, who_ +
                                                  ": pending enrollment without a usable "
                                                  "trackingId");
      issued_certificate out;
      out.order_id = tracking + "@" + std::to_string(now_seconds());
      return out;
    }
    auto enrollment = ext::object_of(reply->json, "enrollment");
    std::string chain;
    for (const auto& c : enrollment.str_array("chain")) chain += c;
    auto cert = ext::accept_certificate(*csr, r, enrollment.str("body"), chain, "Entrust");
    if (cert && path_safe(tracking))
      cert->order_id = tracking + "@" + std::to_string(now_seconds());
    return cert;
  }

  certctl::result<order_status, issuer_error> get_order_status(const std::string& order) override {
    const size_t at = order.rfind('@');
    const std::string tracking = order.substr(0, at);
    if (at == std::string::npos || !path_safe(tracking))
      return fail(issuer_errc::invalid_request,
                  who_ + ": order id '" + ext::excerpt(order, 80) + "' is not <trackingId>@<time>");
    const std::int64_t placed = std::atoll(order.c_str() + at + 1);
    order_status out;
    out.order_id = order;
    out.updated_at_us = now_seconds() * 1000000;
    auto reply = client_.call("GET", ca_path() + "/enrollments/" + tracking);
    if (!reply) return reply.error();
    if (reply->status == 404) {
      out.state = order_state::invalid;
      out.message = "Entrust knows no enrollment " + tracking;
      return out;
    }
    if (reply->status != 200)
      return ext::http_error(*reply, who_, "enrollment status", words_of(*reply));
    const std::string status = reply->json.str("status");
    const std::string said = ext::excerpt(reply->json.str("message"), 200);
    if (status == "ISSUED") {
      auto enrollment = ext::object_of(reply->json, "enrollment");
      std::string chain;
      for (const auto& c : enrollment.str_array("chain")) chain += c;
      auto cert = ext::certificate_of_order(enrollment.str("body"), chain, who_);
      if (!cert) return cert.error();
      out.state = order_state::valid;
      out.certificate = std::move(cert).value();
      out.certificate.order_id = order;
      return out;
    }
    if (pending(status)) {
      if (now_seconds() - placed > max_wait_) {
        out.state = order_state::expired;
        out.message = "still " + status + " after poll_max_wait_seconds (" +
                      std::to_string(max_wait_) + " s)";
        return out;
      }
      out.state = order_state::pending;
      out.message = status == "PENDING_APPROVAL"
                        ? "pending approval at Entrust" + (said.empty() ? "" : ": " + said)
                        : "pending at Entrust" + (said.empty() ? "" : ": " + said);
      return out;
    }
    out.state = status == "EXPIRED" ? order_state::expired : order_state::invalid;
    out.message =
        "Entrust enrollment " + ext::excerpt(status, 40) + (said.empty() ? "" : ": " + said);
    return out;
  }

  certctl::result<done, issuer_error> revoke(const revocation_request& r) override {
    auto serial = ext::normalise_serial(r.serial_hex);
    if (!serial) return serial.error();
    auto reason = ext::check_reason(r.reason);
    if (!reason) return reason.error();
    events::json_object body;
    body.set("reason", reason->first).set("comment", "revoked through certctl");
    auto reply =
        client_.call("PUT", ca_path() + "/certificates/" + *serial + "/revoke", body.dump());
    if (!reply) return reply.error();
    if (reply->status != 200 && reply->status != 204)
      return ext::http_error(*reply, who_, "revoke", words_of(*reply));
    return done{};
  }

  certctl::result<issuer_test_report, issuer_error> self_test() override {
    auto reply = client_.call("GET", "/v1/certificate-authorities");
    if (!reply) return reply.error();
    if (reply->status != 200)
      return ext::http_error(*reply, who_, "certificate-authorities", words_of(*reply));
    for (const auto& ca : reply->json.object_array("certificateAuthorities"))
      if (ca.str("id") == ca_id_) {
        issuer_test_report report;
        report.message = "Entrust CA Gateway reachable with the client certificate; CA " + ca_id_ +
                         " (" + ext::excerpt(ca.str("name"), 80) + ") available";
        return report;
      }
    return fail(issuer_errc::invalid_request,
                who_ + ": CA " + ca_id_ + " is not among the gateway's certificate authorities");
  }

 private:
  static bool pending(const std::string& status) {
    return status == "PENDING" || status == "PENDING_APPROVAL";
  }
  std::string ca_path() const { return "/v1/certificate-authorities/" + ca_id_; }

  std::string id_, who_;
  ext::https_client client_;
  std::string ca_id_, profile_id_;
  std::int64_t max_wait_;
  int validity_days_;
};

}  // namespace

config_schema entrust_schema() {
  return config_schema{{
      {"api_url", field_type::string, true, false,
       "Entrust CA Gateway base URL, https://host[:port][/path] (CERTCTL_ENTRUST_API_URL)"},
      {"client_cert_path", field_type::string, true, false,
       "mTLS client certificate PEM (CERTCTL_ENTRUST_CLIENT_CERT_PATH)"},
      {"client_key_path", field_type::string, true, false,
       "mTLS client key PEM, mode 0600 (CERTCTL_ENTRUST_CLIENT_KEY_PATH)"},
      {"ca_id", field_type::string, true, false,
       "certificate authority id from GET /v1/certificate-authorities (CERTCTL_ENTRUST_CA_ID)"},
      {"profile_id", field_type::string, false, false,
       "enrollment profile id (CERTCTL_ENTRUST_PROFILE_ID)"},
      {"server_ca_path", field_type::string, false, false,
       "PEM bundle trusted for the gateway's TLS certificate (default: system store)"},
      {"poll_max_wait_seconds", field_type::integer, false, false,
       "a pending order older than this is expired, 60..604800 (default 600; "
       "CERTCTL_ENTRUST_POLL_MAX_WAIT_SECONDS)"},
      {"validity_days", field_type::integer, false, false,
       "lifetime asked for when the request names none (default 90)"},
      {"timeout_seconds", field_type::integer, false, false, "per request, 1..300 (default 30)"},
  }};
}

certctl::result<std::shared_ptr<issuer>, issuer_error> make_entrust_issuer(
    const connector_settings& s, const builtin_context& context) {
  const auto& c = s.config;
  const std::string who = "issuer " + s.id;
  auto bad = [&](const std::string& why) {
    return fail(issuer_errc::invalid_request, who + ": " + why);
  };
  auto url = ext::parse_https_url(c.str("api_url"), "api_url");
  if (!url) return url.error();
  const std::string ca_id = c.str("ca_id");
  if (!path_safe(ca_id)) return bad("ca_id must be 1..128 of [A-Za-z0-9._-]");
  const std::string profile = c.str("profile_id");
  if (!profile.empty() && profile.size() > 128) return bad("profile_id is too long");
  if (auto ok =
          ext::check_client_identity(who, c.str("client_cert_path"), c.str("client_key_path"));
      !ok)
    return ok.error();
  const std::int64_t timeout = c.has("timeout_seconds") ? c.int64("timeout_seconds") : 30;
  if (timeout < 1 || timeout > 300) return bad("timeout_seconds must be 1..300");
  const std::int64_t wait = c.has("poll_max_wait_seconds") ? c.int64("poll_max_wait_seconds") : 600;
  if (wait < 60 || wait > 604800) return bad("poll_max_wait_seconds must be 60..604800");
  const std::int64_t days = c.has("validity_days") ? c.int64("validity_days") : 90;
  if (days < 1 || days > 3650) return bad("validity_days must be 1..3650");
  ext::http_options o;
  o.allow = context.outbound_allow;
  o.ca_bundle_path = c.str("server_ca_path");
  o.timeout = std::chrono::seconds(timeout);
  o.client_cert_path = c.str("client_cert_path");
  o.client_key_path = c.str("client_key_path");
  return std::shared_ptr<issuer>(
      std::make_shared<entrust_issuer>(s.id, ext::https_client(*url, o, who + " (Entrust)"), ca_id,
                                       profile, wait, static_cast<int>(days)));
}

}  // namespace certctl::connectors::entrust

namespace certctl::connectors {

certctl::result<done, std::string> register_entrust_connector(connector_registry& registry,
                                                              const builtin_context& context) {
  issuer_registration r;
  r.type = "Entrust";
  r.description =
      "Entrust CA Gateway REST API with a TLS client certificate; approval-pending "
      "enrollments followed as orders";
  r.schema = entrust::entrust_schema();
  r.make = [context](const connector_settings& s) {
    return entrust::make_entrust_issuer(s, context);
  };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
