#include "tests/support/mock_digicert.hpp"

#include <httplib.h>

#include <stdexcept>
#include <thread>

#include "events/json.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"

namespace certctl::testing {
namespace {

using state_ptr = std::shared_ptr<mock_digicert_state>;

void errors(httplib::Response& res, int status, const std::string& code, const std::string& msg) {
  res.status = status;
  res.set_content(R"({"errors":[{"code":")" + code + R"(","message":")" + msg + R"("}]})",
                  "application/json");
}

void json(httplib::Response& res, int status, const events::json_object& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

/// What every endpoint does first: the hang, the rate limit, the API key. False: answered.
bool admit(mock_digicert_state& s, const httplib::Request& req, httplib::Response& res,
           std::unique_lock<std::mutex>& lock) {
  if (s.delay.count() > 0) {
    const auto d = s.delay;
    lock.unlock();
    std::this_thread::sleep_for(d);
    lock.lock();
  }
  if (s.rate_limit > 0) {
    --s.rate_limit;
    res.set_header("Retry-After", std::to_string(s.retry_after_seconds));
    errors(res, 429, "rate_limit_exceeded", "Too many requests");
    return false;
  }
  if (req.get_header_value("X-DC-DEVKEY") != s.api_key) {
    ++s.unauthorised;
    s.last_error = "X-DC-DEVKEY missing or wrong";
    errors(res, 401, "access_denied", "Invalid API key");
    return false;
  }
  return true;
}

events::json_object order_view(std::int64_t id, const mock_digicert_order& o) {
  events::json_object cert;
  cert.set("id", o.certificate_id).set("common_name", o.common_name).set("dns_names", o.dns_names);
  if (!o.serial_hex.empty()) cert.set("serial_number", o.serial_hex);
  events::json_object v;
  v.set("id", id).set("status", o.status).set_raw("certificate", cert.dump());
  events::json_object product;
  product.set("name_id", o.product);
  v.set_raw("product", product.dump());
  return v;
}

}  // namespace

struct mock_digicert::server {
  /// Binds the first free port of [port, port + 9]: the range lies among the ephemeral
  /// ports, so a client connection elsewhere may hold one of them for a while.
  server(const mock_ca_material& ca, int& port)
      : http(ca.serving_cert_path.c_str(), ca.serving_key_path.c_str()) {
    for (int p = port; p < port + 10; ++p)
      if (http.bind_to_port("127.0.0.1", p)) {
        port = p;
        return;
      }
    throw std::runtime_error("mock DigiCert: cannot bind 127.0.0.1:" + std::to_string(port) + "+9");
  }
  void start() {
    thread = std::thread([this] { http.listen_after_bind(); });
    for (int i = 0; i < 5000 && !http.is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~server() {
    http.stop();
    if (thread.joinable()) thread.join();
  }
  httplib::SSLServer http;
  std::thread thread;
};

mock_digicert::mock_digicert(const mock_ca_material& ca, int port)
    : state_(std::make_shared<mock_digicert_state>()), port_(port) {
  server_ = std::make_unique<server>(ca, port_);
  auto& http = server_->http;
  state_ptr st = state_;
  const std::string base = "/services/v2";
  auto sign = [ca](mock_digicert_order& o) {
    if (!o.cert_pem.empty()) return;
    o.cert_pem = mock_sign(ca, o.csr_pem, 90 * 86400, o.dns_names, {}, o.common_name);
    o.serial_hex = crypto::parse_certificate(o.cert_pem).value().serial_hex;
    o.status = "issued";
  };

  http.Get(base + "/user/me", [st](const httplib::Request& req, httplib::Response& res) {
    std::unique_lock<std::mutex> lock(st->mutex);
    if (!admit(*st, req, res, lock)) return;
    json(res, 200,
         *events::json_object::parse(
             R"({"id":1,"username":"certctl-api","account_id":5000,"container":{"id":1}})"));
  });

  http.Post(base + R"(/order/certificate/([a-z0-9_]+))", [st, sign](const httplib::Request& req,
                                                                    httplib::Response& res) {
    std::unique_lock<std::mutex> lock(st->mutex);
    if (!admit(*st, req, res, lock)) return;
    const std::string product = req.matches[1];
    if (product != "ssl_basic" && product != "ssl_plus" && product != "ssl_ev_basic" &&
        product != "ssl_dv_geotrust")
      return errors(res, 404, "invalid_product", "Product not found");
    st->last_order_body = req.body;
    auto body = events::json_object::parse(req.body);
    if (!body || !body->is_object("certificate"))
      return errors(res, 400, "invalid_request", "certificate is required");
    auto cert = *events::json_object::parse(body->raw("certificate"));
    auto csr = crypto::parse_csr(cert.str("csr"));
    if (!csr) return errors(res, 400, "invalid_csr", "CSR could not be parsed");
    if (cert.str("common_name").empty())
      return errors(res, 400, "missing_common_name", "common_name is required");
    if (cert.str("signature_hash") != "sha256")
      return errors(res, 400, "invalid_signature_hash", "signature_hash must be sha256");
    auto validity =
        events::json_object::parse(body->raw("order_validity")).value_or(events::json_object{});
    const auto days = validity.int64("days");
    if (days < 1 || days > 397)
      return errors(res, 400, "invalid_validity", "order_validity.days must be 1-397");
    if (body->str("payment_method").empty())
      return errors(res, 400, "missing_payment_method", "payment_method is required");
    if (product != "ssl_dv_geotrust" && !body->is_object("organization"))
      return errors(res, 400, "missing_organization", "organization.id is required");
    if (st->refuse_orders)
      return errors(res, 400, "invalid_dns_name",
                    "The domain name is not allowed for this account");
    const std::int64_t id = 100001 + static_cast<std::int64_t>(st->orders.size());
    mock_digicert_order o;
    o.product = product;
    o.common_name = cert.str("common_name");
    o.dns_names = cert.str_array("dns_names");
    o.csr_pem = cert.str("csr");
    o.certificate_id = id + 500000;
    o.renewal_of = body->int64("renewal_of_order_id");
    o.status =
        st->approval_polls > 0 && !body->boolean("skip_approval") ? "needs_approval" : "pending";
    events::json_object out;
    out.set("id", id).set("certificate_id", o.certificate_id);
    events::json_object request;
    request.set("id", id + 900000)
        .set("status", o.status == "needs_approval" ? "pending" : "approved");
    out.set_raw("requests", "[" + request.dump() + "]");
    if (st->issue_immediately) {
      sign(o);
      events::json_object leaf;
      leaf.set("subject_common_name", o.common_name).set("pem", o.cert_pem);
      out.set_raw("certificate_chain", "[" + leaf.dump() + "]");
    }
    st->orders[id] = std::move(o);
    json(res, 201, out);
  });

  http.Get(base + R"(/order/certificate/(\d+))",
           [st, sign](const httplib::Request& req, httplib::Response& res) {
             std::unique_lock<std::mutex> lock(st->mutex);
             if (!admit(*st, req, res, lock)) return;
             ++st->status_polls;
             auto it = st->orders.find(std::stoll(req.matches[1]));
             if (it == st->orders.end() || st->forget_orders)
               return errors(res, 404, "not_found", "Order not found");
             auto& o = it->second;
             ++o.polls;
             if (o.status == "needs_approval" || o.status == "pending") {
               if (st->reject) {
                 o.status = "rejected";
               } else if (st->approval_polls > 0) {
                 --st->approval_polls;
                 o.status = "needs_approval";
               } else if (st->pending_polls > 0) {
                 --st->pending_polls;
                 o.status = "pending";
               } else {
                 sign(o);
               }
             }
             json(res, 200, order_view(it->first, o));
           });

  http.Get(base + "/order/certificate", [st](const httplib::Request& req, httplib::Response& res) {
    std::unique_lock<std::mutex> lock(st->mutex);
    if (!admit(*st, req, res, lock)) return;
    const std::string serial = req.get_param_value("filters[serial_number]");
    std::string list;
    int n = 0;
    for (const auto& [id, o] : st->orders) {
      if (!serial.empty() && o.serial_hex != serial) continue;
      list += (list.empty() ? "" : ",") + order_view(id, o).dump();
      ++n;
    }
    res.status = 200;
    res.set_content(R"({"orders":[)" + list + R"(],"page":{"total":)" + std::to_string(n) +
                        R"(,"limit":1000,"offset":0}})",
                    "application/json");
  });

  http.Get(base + R"(/certificate/(\d+)/download/format/([a-z_]+))",
           [st, ca](const httplib::Request& req, httplib::Response& res) {
             std::unique_lock<std::mutex> lock(st->mutex);
             if (!admit(*st, req, res, lock)) return;
             const std::int64_t cid = std::stoll(req.matches[1]);
             const std::string format = req.matches[2];
             for (const auto& [id, o] : st->orders) {
               if (o.certificate_id != cid) continue;
               if (o.cert_pem.empty())
                 return errors(res, 404, "cert_unavailable_processing",
                               "Certificate is not issued yet");
               if (format == "pem_noroot")
                 return res.set_content(o.cert_pem, "application/x-pem-file");
               if (format == "pem_all")
                 return res.set_content(o.cert_pem + ca.root_pem, "application/x-pem-file");
               return errors(res, 400, "invalid_format", "Unknown format " + format);
             }
             errors(res, 404, "not_found", "Certificate not found");
           });

  http.Put(base + R"(/certificate/(\d+)/revoke)", [st](const httplib::Request& req,
                                                       httplib::Response& res) {
    std::unique_lock<std::mutex> lock(st->mutex);
    if (!admit(*st, req, res, lock)) return;
    const std::int64_t cid = std::stoll(req.matches[1]);
    auto body = events::json_object::parse(req.body).value_or(events::json_object{});
    const std::string reason = body.str("revocation_reason");
    if (reason != "unspecified" && reason != "key_compromise" && reason != "affiliation_changed" &&
        reason != "superseded" && reason != "cessation_of_operation")
      return errors(res, 400, "invalid_revocation_reason", "Unknown revocation_reason");
    for (auto& [id, o] : st->orders) {
      if (o.certificate_id != cid || o.cert_pem.empty()) continue;
      o.status = "revoked";
      st->revoked_serials.push_back(o.serial_hex);
      st->revoke_reasons.push_back(reason);
      res.status = 201;
      res.set_content(R"({"id":)" + std::to_string(cid + 7) +
                          R"(,"date":"2026-01-01T00:00:00+00:00","type":"revoke",)"
                          R"("status":"approved"})",
                      "application/json");
      return;
    }
    errors(res, 404, "not_found", "Certificate not found");
  });

  http.Put(base + R"(/order/certificate/(\d+)/status)", [st](const httplib::Request& req,
                                                             httplib::Response& res) {
    std::unique_lock<std::mutex> lock(st->mutex);
    if (!admit(*st, req, res, lock)) return;
    auto it = st->orders.find(std::stoll(req.matches[1]));
    if (it == st->orders.end()) return errors(res, 404, "not_found", "Order not found");
    auto body = events::json_object::parse(req.body).value_or(events::json_object{});
    if (body.str("status") != "canceled")
      return errors(res, 400, "invalid_status", "status must be canceled");
    if (it->second.status == "issued" || it->second.status == "revoked")
      return errors(res, 400, "invalid_order_status", "An issued order cannot be canceled");
    it->second.status = "canceled";
    st->cancelled.push_back(it->first);
    res.status = 204;
  });

  server_->start();
}

mock_digicert::~mock_digicert() = default;

std::string mock_digicert::url() const {
  return "https://127.0.0.1:" + std::to_string(port_) + "/services/v2";
}

}  // namespace certctl::testing
