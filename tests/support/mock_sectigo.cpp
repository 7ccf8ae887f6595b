#include "tests/support/mock_sectigo.hpp"

#include <httplib.h>

#include <stdexcept>
#include <thread>

#include "events/json.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"

namespace certctl::testing {
namespace {

using state_ptr = std::shared_ptr<mock_sectigo_state>;

void error(httplib::Response& res, int status, int code, const std::string& description) {
  res.status = status;
  res.set_content(
      R"({"code":)" + std::to_string(code) + R"(,"description":")" + description + R"("})",
      "application/json;charset=UTF-8");
}

/// The hang, the rate limit, the login triple. False: answered.
bool admit(mock_sectigo_state& s, const httplib::Request& req, httplib::Response& res,
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
    return error(res, 429, -1, "Too many requests"), false;
  }
  if (req.get_header_value("customerUri") != s.customer_uri ||
      req.get_header_value("login") != s.login || req.get_header_value("password") != s.password) {
    ++s.unauthorised;
    s.last_error = "customerUri/login/password missing or wrong";
    return error(res, 401, -16, "Unknown user"), false;
  }
  return true;
}

}  // namespace

struct mock_sectigo::server {
  /// Binds the first free port of [port, port + 9]: the range lies among the ephemeral
  /// ports, so a client connection elsewhere may hold one of them for a while.
  server(const mock_ca_material& ca, int& port)
      : http(ca.serving_cert_path.c_str(), ca.serving_key_path.c_str()) {
    for (int p = port; p < port + 10; ++p)
      if (http.bind_to_port("127.0.0.1", p)) {
        port = p;
        return;
      }
    throw std::runtime_error("mock Sectigo: cannot bind 127.0.0.1:" + std::to_string(port) + "+9");
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

mock_sectigo::mock_sectigo(const mock_ca_material& ca, int port)
    : state_(std::make_shared<mock_sectigo_state>()), port_(port) {
  server_ = std::make_unique<server>(ca, port_);
  auto& http = server_->http;
  state_ptr st = state_;
  const std::string base = "/api/ssl/v1";

  http.Get(base + "/types", [st](const httplib::Request& req, httplib::Response& res) {
    std::unique_lock<std::mutex> lock(st->mutex);
    if (!admit(*st, req, res, lock)) return;
    res.set_content(R"([{"id":)" + std::to_string(st->cert_type) +
                        R"(,"name":"InstantSSL Pro","terms":[90,365,730]},)"
                        R"({"id":98,"name":"EV Multi Domain","terms":[365]}])",
                    "application/json;charset=UTF-8");
  });

  http.Post(base + "/enroll", [st](const httplib::Request& req, httplib::Response& res) {
    std::unique_lock<std::mutex> lock(st->mutex);
    if (!admit(*st, req, res, lock)) return;
    st->last_enroll_body = req.body;
    auto body = events::json_object::parse(req.body);
    if (!body) return error(res, 400, -1, "Malformed JSON");
    if (body->int64("orgId") != st->org_id) return error(res, 400, -5, "Invalid orgId");
    if (body->int64("certType") != st->cert_type)
      return error(res, 400, -7, "Invalid certificate type");
    const auto term = body->int64("term");
    if (term != 90 && term != 365 && term != 730)
      return error(res, 400, -8, "Invalid term for the certificate type");
    if (!crypto::parse_csr(body->str("csr"))) return error(res, 400, -10, "CSR is not valid");
    if (st->refuse_enroll) return error(res, 400, -9, "Domain is not allowed for the organization");
    const std::int64_t id = 5001 + static_cast<std::int64_t>(st->requests.size());
    mock_sectigo_request r;
    r.csr_pem = body->str("csr");
    r.sans = body->str("subjAltNames");
    r.cert_type = body->int64("certType");
    r.term = term;
    r.org_id = body->int64("orgId");
    r.status = st->approval_polls > 0 ? "Requested" : "Applied";
    st->requests[id] = std::move(r);
    res.set_content(
        R"({"renewId":"rn-)" + std::to_string(id) + R"(","sslId":)" + std::to_string(id) + "}",
        "application/json;charset=UTF-8");
  });

  http.Get(base + R"(/(\d+))", [st](const httplib::Request& req, httplib::Response& res) {
    std::unique_lock<std::mutex> lock(st->mutex);
    if (!admit(*st, req, res, lock)) return;
    ++st->status_polls;
    auto it = st->requests.find(std::stoll(req.matches[1]));
    if (it == st->requests.end() || st->forget) return error(res, 404, -1, "Certificate not found");
    auto& r = it->second;
    ++r.polls;
    if (r.status == "Requested" || r.status == "Applied") {
      if (st->decline) {
        r.status = "Declined";
      } else if (st->approval_polls > 0) {
        --st->approval_polls;
        r.status = "Requested";
      } else if (st->pending_polls > 0) {
        --st->pending_polls;
        r.status = "Applied";
      } else {
        r.status = "Issued";
      }
    }
    events::json_object v;
    v.set("sslId", it->first).set("status", r.status).set("term", r.term);
    if (!r.serial_hex.empty()) v.set("serialNumber", r.serial_hex);
    res.set_content(v.dump(), "application/json;charset=UTF-8");
  });

  http.Get(base + R"(/collect/(\d+)/([A-Za-z0-9]+))",
           [st, ca](const httplib::Request& req, httplib::Response& res) {
             std::unique_lock<std::mutex> lock(st->mutex);
             if (!admit(*st, req, res, lock)) return;
             ++st->collects;
             auto it = st->requests.find(std::stoll(req.matches[1]));
             if (it == st->requests.end()) return error(res, 404, -1, "Certificate not found");
             auto& r = it->second;
             if (r.status != "Issued" || st->not_ready_collects > 0) {
               if (r.status == "Issued") --st->not_ready_collects;
               return error(res, 400, -183, "Certificate is not available for collection yet");
             }
             if (r.cert_pem.empty()) {
               std::vector<std::string> dns;
               size_t start = 0;
               while (start < r.sans.size()) {
                 const size_t comma = std::min(r.sans.find(',', start), r.sans.size());
                 dns.push_back(r.sans.substr(start, comma - start));
                 start = comma + 1;
               }
               r.cert_pem = mock_sign(ca, r.csr_pem, r.term * 86400, dns);
               r.serial_hex = crypto::parse_certificate(r.cert_pem).value().serial_hex;
             }
             const std::string format = req.matches[2];
             if (format == "x509CO") return res.set_content(r.cert_pem, "application/x-pem-file");
             if (format == "x509")
               return res.set_content(r.cert_pem + ca.root_pem, "application/x-pem-file");
             error(res, 400, -3, "Unknown format " + format);
           });

  http.Post(base + R"(/revoke/serial/([0-9A-Fa-f]+))",
            [st](const httplib::Request& req, httplib::Response& res) {
              std::unique_lock<std::mutex> lock(st->mutex);
              if (!admit(*st, req, res, lock)) return;
              auto body = events::json_object::parse(req.body).value_or(events::json_object{});
              if (body.str("reason").empty()) return error(res, 400, -1, "reason is required");
              const std::string serial = req.matches[1];
              for (auto& [id, r] : st->requests) {
                if (r.serial_hex != serial) continue;
                r.status = "Revoked";
                st->revoked_serials.push_back(serial);
                st->revoke_codes.push_back(body.int64("reasonCode", -1));
                res.status = 204;
                return;
              }
              error(res, 404, -1, "Certificate not found");
            });

  http.Post(base + R"(/decline/(\d+))", [st](const httplib::Request& req, httplib::Response& res) {
    std::unique_lock<std::mutex> lock(st->mutex);
    if (!admit(*st, req, res, lock)) return;
    auto it = st->requests.find(std::stoll(req.matches[1]));
    if (it == st->requests.end()) return error(res, 404, -1, "Certificate not found");
    if (it->second.status == "Issued" || it->second.status == "Revoked")
      return error(res, 400, -40, "Only a request not yet issued can be declined");
    it->second.status = "Declined";
    st->declined.push_back(it->first);
    res.status = 204;
  });

  server_->start();
}

mock_sectigo::~mock_sectigo() = default;

std::string mock_sectigo::url() const {
  return "https://127.0.0.1:" + std::to_string(port_) + "/api";
}

}  // namespace certctl::testing
