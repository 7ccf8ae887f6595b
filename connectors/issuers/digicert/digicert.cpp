#include "connectors/issuers/digicert/digicert.hpp"

#include "connectors/issuers/async_ca/async_ca.hpp"
#include "connectors/issuers/external_ca.hpp"

namespace certctl::connectors::digicert {
namespace {

namespace ext = external_ca;

issuer_error fail(issuer_errc code, std::string message) {
  return issuer_error{code, std::move(message)};
}

/// DigiCert's error body: "code: message; ..." from {"errors":[{code, message}]}, else an
/// excerpt of the body.
std::string digicert_errors(const ext::http_reply& r) {
  std::string out;
  for (const auto& e : r.json.object_array("errors")) {
    if (!out.empty()) out += "; ";
    out += e.str("code") + ": " + e.str("message");
  }
  return out.empty() ? ext::excerpt(r.body) : ext::excerpt(out);
}

/// RFC 5280 reason name -> DigiCert's revocation_reason; "" for one DigiCert does not take.
std::string revocation_reason(const std::string& rfc) {
  if (rfc.empty() || rfc == "unspecified") return "unspecified";
  if (rfc == "keyCompromise") return "key_compromise";
  if (rfc == "affiliationChanged") return "affiliation_changed";
  if (rfc == "superseded") return "superseded";
  if (rfc == "cessationOfOperation") return "cessation_of_operation";
  return "";
}

struct settings {
  std::string api_key;
  std::string product_type = "ssl_basic";
  std::int64_t org_id = 0;  ///< 0: none sent (DV products)
  std::int64_t validity_days = 397;
  bool skip_approval = false;
  std::string dcv_method;
  std::int64_t poll_max_wait_seconds = 600;
};

class digicert_issuer final : public issuer {
 public:
  digicert_issuer(std::string id, ext::https_client client, settings s)
      : id_(std::move(id)),
        who_("issuer " + id_ + " (DigiCert)"),
        client_(std::move(client)),
        s_(std::move(s)) {}

  std::string_view type() const override { return "DigiCert"; }
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
    return order(r, "");
  }

  certctl::result<issued_certificate, issuer_error> renew(const renewal_request& r) override {
    // DigiCert's renewal links the new order to the previous one (renewal pricing, the same
    // validation); without a previous order id it is an ordinary new order.
    return order(r, ext::excerpt(r.previous_order_id, 64));
  }

  certctl::result<order_status, issuer_error> get_order_status(
      const std::string& order_id) override {
    if (!async_ca::safe_id(order_id))
      return fail(issuer_errc::invalid_request, who_ + ": malformed order id");
    order_status out;
    out.order_id = order_id;
    out.updated_at_us = async_ca::now_us();
    auto reply = call("GET", "/order/certificate/" + order_id);
    if (!reply) return reply.error();
    if (reply->status == 429) {
      const auto wait = async_ca::retry_after_seconds(*reply);
      out.ca_state = "rate_limited";
      out.retry_after_us = out.updated_at_us + wait * 1000000;
      out.message = "DigiCert rate limit: asked to wait " + std::to_string(wait) + " s";
      return out;
    }
    if (reply->status == 404) {
      out.state = order_state::invalid;
      out.message = "DigiCert does not know order " + order_id;
      return out;
    }
    if (reply->status != 200) return mapped(*reply, "order status");
    const std::string status = reply->json.str("status");
    auto cert =
        events::json_object::parse(reply->json.raw("certificate")).value_or(events::json_object{});
    if (status == "issued") return download(order_id, cert.int64("id"));
    if (status == "needs_approval") {
      out.ca_state = "pending_approval";
      out.message = "DigiCert order " + order_id + " awaits approval by an account administrator";
    } else if (status == "pending" || status == "processing" || status == "waiting_pickup" ||
               status == "reissue_pending") {
      out.ca_state = "processing";
      out.message = "DigiCert order " + order_id + " is " + status + " (validation under way)";
    } else if (status == "expired") {
      out.state = order_state::expired;
      out.message = "DigiCert order " + order_id + " expired";
    } else {  // rejected, denied, canceled, revoked, or a word we do not know
      out.state = order_state::invalid;
      out.message = "DigiCert order " + order_id + " is " + ext::excerpt(status, 40);
    }
    return out;
  }

  certctl::result<done, issuer_error> cancel_order(const std::string& order_id) override {
    if (!async_ca::safe_id(order_id))
      return fail(issuer_errc::invalid_request, who_ + ": malformed order id");
    events::json_object body;
    body.set("status", "canceled").set("note", "cancelled in certctl (job cancelled)");
    auto reply = call("PUT", "/order/certificate/" + order_id + "/status", body.dump());
    if (!reply) return reply.error();
    if (reply->status != 204 && reply->status != 200) return mapped(*reply, "cancel order");
    return done{};
  }

  certctl::result<done, issuer_error> revoke(const revocation_request& r) override {
    auto serial = ext::normalise_serial(r.serial_hex);
    if (!serial) return serial.error();
    if (auto checked = ext::check_reason(r.reason); !checked) return checked.error();
    const std::string reason = revocation_reason(r.reason);
    if (reason.empty())
      return fail(issuer_errc::invalid_request,
                  who_ + ": DigiCert takes no revocation reason " + r.reason +
                      " (unspecified, keyCompromise, affiliationChanged, superseded, "
                      "cessationOfOperation)");
    // Revocation is per certificate id: find it by serial among the account's orders.
    auto found = call("GET", "/order/certificate?filters%5Bserial_number%5D=" + *serial);
    if (!found) return found.error();
    if (found->status != 200) return mapped(*found, "find certificate");
    std::int64_t cert_id = 0;
    for (const auto& o : found->json.object_array("orders")) {
      auto c = events::json_object::parse(o.raw("certificate")).value_or(events::json_object{});
      auto theirs = ext::normalise_serial(c.str("serial_number"));
      if (theirs && *theirs == *serial) cert_id = c.int64("id");
    }
    if (cert_id <= 0)
      return fail(issuer_errc::invalid_request,
                  who_ + ": no DigiCert certificate with serial " + *serial);
    events::json_object body;
    body.set("revocation_reason", reason).set("comments", "revoked in certctl");
    auto reply = call("PUT", "/certificate/" + std::to_string(cert_id) + "/revoke", body.dump());
    if (!reply) return reply.error();
    if (reply->status != 201 && reply->status != 204 && reply->status != 200)
      return mapped(*reply, "revoke");
    return done{};
  }

  certctl::result<issuer_test_report, issuer_error> self_test() override {
    auto me = call("GET", "/user/me");
    if (!me) return me.error();
    if (me->status != 200) return mapped(*me, "user/me");
    issuer_test_report report;
    report.message = "DigiCert API key valid (user " + ext::excerpt(me->json.str("username"), 80) +
                     "), product " + s_.product_type;
    return report;
  }

 private:
  certctl::result<issued_certificate, issuer_error> order(const issuance_request& r,
                                                          const std::string& renewal_of) {
    auto csr = ext::check_csr(r);
    if (!csr) return csr.error();
    const std::string cn = !r.common_name.empty()      ? r.common_name
                           : !csr->common_name.empty() ? csr->common_name
                           : !r.sans.dns.empty()       ? r.sans.dns.front()
                           : csr->dns_names.empty()    ? ""
                                                       : csr->dns_names.front();
    const auto& dns = r.sans.dns.empty() ? csr->dns_names : r.sans.dns;
    events::json_object cert;
    cert.set("common_name", cn)
        .set("dns_names", dns)
        .set("csr", r.csr_pem)
        .set("signature_hash", "sha256")
        .set_raw("server_platform", R"({"id":-1})");
    events::json_object validity;
    const std::int64_t seconds = ext::requested_lifetime_seconds(r, s_.validity_days * 86400);
    validity.set("days", std::max<std::int64_t>(1, seconds / 86400));
    events::json_object body;
    body.set_raw("certificate", cert.dump())
        .set_raw("order_validity", validity.dump())
        .set("payment_method", "balance")
        .set("skip_approval", s_.skip_approval);
    if (s_.org_id > 0) body.set_raw("organization", R"({"id":)" + std::to_string(s_.org_id) + "}");
    if (!s_.dcv_method.empty()) body.set("dcv_method", s_.dcv_method);
    if (!renewal_of.empty() && renewal_of.size() <= 18 &&
        renewal_of.find_first_not_of("0123456789") == std::string::npos)
      body.set("renewal_of_order_id", static_cast<std::int64_t>(std::stoll(renewal_of)));
    auto reply = call("POST", "/order/certificate/" + s_.product_type, body.dump());
    if (!reply) return reply.error();
    if (reply->status != 201 && reply->status != 200) return mapped(*reply, "order");
    const std::int64_t order_id = reply->json.int64("id");
    if (order_id <= 0)
      return fail(issuer_errc::unavailable, who_ + ": DigiCert answered without an order id");
    // Issued at once (DV with domains already validated): the chain is in the answer.
    std::string bundle;
    for (const auto& c : reply->json.object_array("certificate_chain")) bundle += c.str("pem");
    if (!bundle.empty()) {
      auto issued = ext::accept_certificate(*csr, r, bundle, "", "DigiCert");
      if (issued) issued->order_id = std::to_string(order_id);
      return issued;
    }
    issued_certificate pending;
    pending.order_id = std::to_string(order_id);
    return pending;
  }

  certctl::result<order_status, issuer_error> download(const std::string& order_id,
                                                       std::int64_t cert_id) {
    if (cert_id <= 0)
      return fail(issuer_errc::unavailable,
                  who_ + ": order " + order_id + " is issued but names no certificate");
    auto pem =
        call("GET", "/certificate/" + std::to_string(cert_id) + "/download/format/pem_noroot");
    if (!pem) return pem.error();
    if (pem->status != 200) return mapped(*pem, "download");
    auto issued = async_ca::certificate_from_bundle(pem->body, who_);
    if (!issued) return issued.error();
    order_status out;
    out.order_id = order_id;
    out.state = order_state::valid;
    out.updated_at_us = async_ca::now_us();
    out.certificate = std::move(issued).value();
    out.certificate.order_id = order_id;
    return out;
  }

  certctl::result<ext::http_reply, issuer_error> call(const std::string& method,
                                                      const std::string& path,
                                                      const std::string& body = {}) const {
    return client_.call(method, path, body, {{"X-DC-DEVKEY", s_.api_key}});
  }

  issuer_error mapped(const ext::http_reply& r, const std::string& op) const {
    const std::string prefix =
        who_ + ": " + op + " answered " + std::to_string(r.status) + ": " + digicert_errors(r);
    switch (r.status) {
      case 400:
        return fail(issuer_errc::invalid_request, prefix);
      case 401:
      case 403:
        return fail(issuer_errc::unavailable, prefix + " (check the api_key and its permissions)");
      case 404:
        return fail(issuer_errc::invalid_request, prefix);
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

bool safe_product(const std::string& s) {
  return async_ca::safe_id(s) && s.find('.') == std::string::npos;
}

}  // namespace

config_schema digicert_schema() {
  return config_schema{{
      {"api_key", field_type::string, true, true,
       "CertCentral API key, sent as X-DC-DEVKEY (CERTCTL_DIGICERT_API_KEY)"},
      {"org_id", field_type::integer, false, false,
       "organization id for OV/EV products (CERTCTL_DIGICERT_ORG_ID)"},
      {"product_type", field_type::string, false, false,
       "product name id, e.g. ssl_basic (default), ssl_plus, ssl_ev_basic "
       "(CERTCTL_DIGICERT_PRODUCT_TYPE)"},
      {"base_url", field_type::string, false, false,
       "API base URL (default https://www.digicert.com/services/v2; CERTCTL_DIGICERT_BASE_URL)"},
      {"validity_days", field_type::integer, false, false,
       "order validity in days, 1..397 (default 397); a shorter profile cap wins"},
      {"skip_approval", field_type::boolean, false, false,
       "ask DigiCert to skip the account's approval step (default false)"},
      {"dcv_method", field_type::string, false, false,
       "domain control validation method, e.g. dns-txt-token (default: the account's)"},
      {"poll_max_wait_seconds", field_type::integer, false, false,
       "how long an order may stay pending before the job fails, 10..2592000 (default 600; "
       "CERTCTL_DIGICERT_POLL_MAX_WAIT_SECONDS)"},
      {"ca_bundle_path", field_type::string, false, false,
       "PEM file of the CAs that sign the API's TLS certificate (default: system store)"},
      {"timeout_seconds", field_type::integer, false, false, "per request, 1..300 (default 30)"},
  }};
}

certctl::result<std::shared_ptr<issuer>, issuer_error> make_digicert_issuer(
    const connector_settings& cs, const builtin_context& context) {
  const auto& c = cs.config;
  const std::string who = "issuer " + cs.id;
  auto bad = [&](const std::string& why) {
    return fail(issuer_errc::invalid_request, who + ": " + why);
  };
  auto url =
      ext::parse_https_url(c.str("base_url", "https://www.digicert.com/services/v2"), "base_url");
  if (!url) return url.error();
  settings s;
  s.api_key = c.str("api_key");
  if (s.api_key.empty()) return bad("api_key is required");
  s.product_type = c.str("product_type", "ssl_basic");
  if (!safe_product(s.product_type))
    return bad("product_type must be a product name id (letters, digits, - _)");
  s.org_id = c.int64("org_id", 0);
  if (c.has("org_id") && s.org_id <= 0) return bad("org_id must be a positive integer");
  s.validity_days = c.int64("validity_days", 397);
  if (s.validity_days < 1 || s.validity_days > 397) return bad("validity_days must be 1..397");
  s.skip_approval = c.boolean("skip_approval");
  s.dcv_method = c.str("dcv_method");
  if (!s.dcv_method.empty() && !async_ca::safe_id(s.dcv_method))
    return bad("dcv_method is malformed");
  auto common = async_ca::read_common_settings(c, context.outbound_allow);
  if (!common) return bad(common.error());
  s.poll_max_wait_seconds = common->poll_max_wait_seconds;
  return std::shared_ptr<issuer>(std::make_shared<digicert_issuer>(
      cs.id, ext::https_client(*url, common->http, who + " (DigiCert)"), std::move(s)));
}

}  // namespace certctl::connectors::digicert

namespace certctl::connectors {

certctl::result<done, std::string> register_digicert_connector(connector_registry& registry,
                                                               const builtin_context& context) {
  issuer_registration r;
  r.type = "DigiCert";
  r.description = "DigiCert CertCentral (Services API v2 orders, X-DC-DEVKEY, asynchronous)";
  r.schema = digicert::digicert_schema();
  r.make = [context](const connector_settings& s) {
    return digicert::make_digicert_issuer(s, context);
  };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
