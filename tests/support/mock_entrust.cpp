#include "tests/support/mock_entrust.hpp"

#include "events/json.hpp"
#include "infra/crypto/csr.hpp"

namespace certctl::testing {
namespace {

std::string entrust_error(int status, const std::string& message) {
  events::json_object e;
  e.set("code", status == 429   ? "TOO_MANY_REQUESTS"
                : status == 401 ? "UNAUTHORIZED"
                : status == 403 ? "FORBIDDEN"
                : status == 404 ? "NOT_FOUND"
                                : "INVALID_REQUEST")
      .set("message", message);
  return "{\"errors\":[" + e.dump() + "]}";
}

void reply(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json");
}

/// Issues the enrollment's certificate (once) and renders the ISSUED answer.
std::string issued(const mock_ca_material& ca, mock_entrust_state::enrollment& e,
                   const std::string& tracking) {
  if (e.cert.empty()) {
    auto [pem, serial] = mock_issue(ca, e.csr, 30LL * 86400);
    e.cert = pem;
    e.serial = serial;
  }
  e.status = "ISSUED";
  events::json_object enrollment, out;
  enrollment.set("body", e.cert).set("chain", std::vector<std::string>{ca.root_pem});
  out.set("trackingId", tracking).set("status", "ISSUED").set_raw("enrollment", enrollment.dump());
  return out.dump();
}

}  // namespace

void mock_entrust_state::approve_all() {
  std::lock_guard<std::mutex> lock(mutex);
  for (auto& [id, e] : enrollments)
    if (e.status == "PENDING_APPROVAL") e.status = "APPROVED";
}

void mock_entrust_state::reject_all() {
  std::lock_guard<std::mutex> lock(mutex);
  for (auto& [id, e] : enrollments)
    if (e.status == "PENDING_APPROVAL" || e.status == "PENDING") e.status = "REJECTED";
}

mock_entrust::mock_entrust(const mock_ca_material& ca, const std::string& client_ca_path,
                           const std::string& authorised_cn, int port)
    : state_(std::make_shared<mock_entrust_state>()),
      server_(std::make_unique<mtls_server>(ca, client_ca_path, port)) {
  state_->authorised_cn = authorised_cn;
  auto st = state_;
  auto& srv = server_->http();
  // Authorisation by the client certificate's CN; the TLS layer already required one from
  // the client CA.
  auto admitted = [st](const httplib::Request& req, httplib::Response& res) {
    if (mock_interrupts(st->behaviour, st->mutex, res, entrust_error)) return false;
    std::lock_guard<std::mutex> lock(st->mutex);
    const std::string cn = client_common_name(req);
    st->client_cns.push_back(cn);
    if (cn != st->authorised_cn) {
      reply(res, 403, entrust_error(403, "client certificate is not authorised for this API"));
      return false;
    }
    return true;
  };
  srv.Get("/cagw/v1/certificate-authorities",
          [st, admitted](const httplib::Request& req, httplib::Response& res) {
            if (!admitted(req, res)) return;
            std::lock_guard<std::mutex> lock(st->mutex);
            events::json_object ca;
            ca.set("id", st->ca_id).set("name", "Entrust Test Issuing CA");
            reply(res, 200, "{\"certificateAuthorities\":[" + ca.dump() + "]}");
          });
  srv.Post(
      R"(/cagw/v1/certificate-authorities/([^/]+)/enrollments)",
      [st, ca, admitted](const httplib::Request& req, httplib::Response& res) {
        if (!admitted(req, res)) return;
        std::lock_guard<std::mutex> lock(st->mutex);
        st->last_body = req.body;
        if (req.matches[1] != st->ca_id)
          return reply(res, 404, entrust_error(404, "certificate authority not found"));
        auto body = events::json_object::parse(req.body);
        if (!body || !crypto::parse_csr(body->str("csr")).ok())
          return reply(res, 400, entrust_error(400, "csr is missing or malformed"));
        if (!st->profile_id.empty() && body->str("profileId") != st->profile_id)
          return reply(res, 400, entrust_error(400, "unknown profileId"));
        if (!body->is_string_array("subjectAltNames"))
          return reply(res, 400, entrust_error(400, "subjectAltNames must be a list"));
        auto details = events::json_object::parse(body->raw("optionalCertificateRequestDetails"));
        const std::string period = details ? details->str("validityPeriod") : "";
        if (period.size() < 3 || period.front() != 'P' || period.back() != 'D')
          return reply(res, 400, entrust_error(400, "validityPeriod must be P<days>D"));
        if (st->behaviour.reject)
          return reply(res, 400,
                       entrust_error(400,
                                     "enrollment rejected: domain not verified for "
                                     "this account"));
        ++st->enroll_calls;
        const std::string tracking = "TRK-" + std::to_string(st->enrollments.size() + 1000);
        auto& e = st->enrollments[tracking];
        e.csr = body->str("csr");
        e.polls_left = st->behaviour.pending_polls;
        if (st->behaviour.approval_required || e.polls_left > 0) {
          e.status = st->behaviour.approval_required ? "PENDING_APPROVAL" : "PENDING";
          events::json_object out;
          out.set("trackingId", tracking)
              .set("status", e.status)
              .set("message", e.status == "PENDING_APPROVAL" ? "awaiting approval by an RA officer"
                                                             : "queued for issuance");
          return reply(res, 201, out.dump());
        }
        reply(res, 200, issued(ca, e, tracking));
      });
  srv.Get(R"(/cagw/v1/certificate-authorities/([^/]+)/enrollments/([^/]+))",
          [st, ca, admitted](const httplib::Request& req, httplib::Response& res) {
            if (!admitted(req, res)) return;
            std::lock_guard<std::mutex> lock(st->mutex);
            ++st->status_calls;
            auto it = st->enrollments.find(req.matches[2]);
            if (req.matches[1] != st->ca_id || it == st->enrollments.end())
              return reply(res, 404, entrust_error(404, "enrollment not found"));
            auto& e = it->second;
            if (e.status == "ISSUED" || e.status == "APPROVED" ||
                (e.status == "PENDING" && e.polls_left-- <= 0))
              return reply(res, 200, issued(ca, e, it->first));
            events::json_object out;
            out.set("trackingId", it->first).set("status", e.status);
            if (e.status == "PENDING_APPROVAL")
              out.set("message", "awaiting approval by an RA officer");
            if (e.status == "REJECTED") out.set("message", "rejected by the approver");
            reply(res, 200, out.dump());
          });
  srv.Put(R"(/cagw/v1/certificate-authorities/([^/]+)/certificates/([0-9A-Fa-f]+)/revoke)",
          [st, admitted](const httplib::Request& req, httplib::Response& res) {
            if (!admitted(req, res)) return;
            std::lock_guard<std::mutex> lock(st->mutex);
            bool known = false;
            for (const auto& [id, e] : st->enrollments) known = known || e.serial == req.matches[2];
            if (req.matches[1] != st->ca_id || !known)
              return reply(res, 404, entrust_error(404, "certificate not found"));
            auto body = events::json_object::parse(req.body);
            if (!body || body->str("reason").empty())
              return reply(res, 400, entrust_error(400, "reason is required"));
            st->revoked.push_back(req.matches[2]);
            st->revoke_reasons.push_back(body->str("reason"));
            res.status = 204;
          });
  server_->start();
}

mock_entrust::~mock_entrust() = default;

std::string mock_entrust::url() const {
  return server_->url() + "/cagw";
}

}  // namespace certctl::testing
