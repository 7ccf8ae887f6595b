#include "tests/support/mock_ejbca.hpp"

#include <set>

#include "events/json.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/jwk.hpp"

namespace certctl::testing {
namespace {

const std::string base = "/ejbca/ejbca-rest-api";

std::string ejbca_error(int status, const std::string& message) {
  events::json_object e;
  e.set("error_code", status).set("error_message", message);
  return e.dump();
}

void reply(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json");
}

/// EJBCA's "DER" response format: base64 of the DER certificate.
std::string b64_der(const std::string& pem) {
  auto der = crypto::certificate_pem_to_der(pem);
  if (!der) return {};
  return crypto::base64_encode(
      std::string_view(reinterpret_cast<const char*>(der->data()), der->size()));
}

}  // namespace

void mock_ejbca_state::approve_all(const mock_ca_material& ca) {
  std::lock_guard<std::mutex> lock(mutex);
  for (const auto& w : awaiting_approval) {
    auto [pem, serial] = mock_issue(ca, w.csr, 30LL * 86400);
    certificates.push_back({w.username, pem, serial, ""});
  }
  awaiting_approval.clear();
}

void mock_ejbca_state::reject_all() {
  std::lock_guard<std::mutex> lock(mutex);
  awaiting_approval.clear();
}

mock_ejbca::mock_ejbca(const mock_ca_material& ca, const std::string& client_ca_path, int port)
    : state_(std::make_shared<mock_ejbca_state>()),
      server_(std::make_unique<mtls_server>(ca, client_ca_path, port)) {
  auto st = state_;
  auto& srv = server_->http();
  const bool mtls = !client_ca_path.empty();
  auto admitted = [st, mtls](const httplib::Request& req, httplib::Response& res) {
    if (mock_interrupts(st->behaviour, st->mutex, res, ejbca_error)) return false;
    std::lock_guard<std::mutex> lock(st->mutex);
    const bool ok = mtls ? !client_common_name(req).empty()
                         : req.get_header_value("Authorization") == "Bearer " + st->bearer;
    if (!ok) reply(res, 403, ejbca_error(403, "Not authorized to resource /administrator."));
    return ok;
  };
  srv.Get(base + "/v1/ca", [st, admitted](const httplib::Request& req, httplib::Response& res) {
    if (!admitted(req, res)) return;
    std::lock_guard<std::mutex> lock(st->mutex);
    events::json_object c;
    c.set("id", 1652389506)
        .set("name", st->ca_name)
        .set("subject_dn", st->subject_dn)
        .set("issuer_dn", st->subject_dn)
        .set("expiration_date", "2036-01-01T00:00:00Z");
    reply(res, 200, "{\"certificate_authorities\":[" + c.dump() + "]}");
  });
  srv.Post(base + "/v1/certificate/pkcs10enroll", [st, ca, admitted](const httplib::Request& req,
                                                                     httplib::Response& res) {
    if (!admitted(req, res)) return;
    std::lock_guard<std::mutex> lock(st->mutex);
    st->last_body = req.body;
    auto body = events::json_object::parse(req.body);
    if (!body || !crypto::parse_csr(body->str("certificate_request")).ok())
      return reply(res, 400, ejbca_error(400, "Invalid certificate request."));
    if (body->str("certificate_authority_name") != st->ca_name)
      return reply(res, 404,
                   ejbca_error(404, "CA with name " + body->str("certificate_authority_name") +
                                        " doesn't exist."));
    if (body->str("certificate_profile_name") != st->cert_profile ||
        body->str("end_entity_profile_name") != st->ee_profile)
      return reply(res, 400, ejbca_error(400, "Profile not found or not authorized."));
    if (body->str("username").empty() || body->str("password").empty())
      return reply(res, 400, ejbca_error(400, "Username and password are required."));
    if (st->behaviour.reject)
      return reply(res, 400,
                   ejbca_error(400,
                               "Subject DN field 'CN' does not match the end "
                               "entity profile."));
    ++st->enroll_calls;
    if (st->behaviour.approval_required) {
      st->awaiting_approval.push_back({body->str("username"), body->str("certificate_request")});
      return reply(res, 202,
                   ejbca_error(202, "Request is waiting for approval, approval ID: " +
                                        std::to_string(st->awaiting_approval.size())));
    }
    auto [pem, serial] = mock_issue(ca, body->str("certificate_request"), 30LL * 86400);
    st->certificates.push_back({body->str("username"), pem, serial, ""});
    events::json_object out;
    out.set("certificate", b64_der(pem))
        .set("serial_number", serial)
        .set("response_format", "DER")
        .set("certificate_chain", std::vector<std::string>{b64_der(ca.root_pem)});
    reply(res, 201, out.dump());
  });
  srv.Post(base + "/v1/certificate/search",
           [st, ca, admitted](const httplib::Request& req, httplib::Response& res) {
             if (!admitted(req, res)) return;
             std::lock_guard<std::mutex> lock(st->mutex);
             ++st->search_calls;
             auto body = events::json_object::parse(req.body);
             if (!body) return reply(res, 400, ejbca_error(400, "Malformed request."));
             std::string username, ca_name;
             for (const auto& c : body->object_array("criteria")) {
               if (c.str("property") == "QUERY") username = c.str("value");
               if (c.str("property") == "CA") ca_name = c.str("value");
             }
             if (username.empty())
               return reply(res, 400, ejbca_error(400, "Invalid search criteria."));
             std::string list;
             if (ca_name.empty() || ca_name == st->ca_name)
               for (const auto& c : st->certificates) {
                 if (c.username != username) continue;
                 events::json_object one;
                 one.set("certificate", b64_der(c.pem))
                     .set("serial_number", c.serial)
                     .set("response_format", "DER")
                     .set("certificate_chain", std::vector<std::string>{b64_der(ca.root_pem)});
                 list += (list.empty() ? "" : ",") + one.dump();
               }
             reply(res, 200, "{\"certificates\":[" + list + "],\"more_results\":false}");
           });
  srv.Put(base + R"(/v1/certificate/(.+)/([0-9A-Fa-f]+)/revoke)",
          [st, admitted](const httplib::Request& req, httplib::Response& res) {
            if (!admitted(req, res)) return;
            std::lock_guard<std::mutex> lock(st->mutex);
            static const std::set<std::string> reasons = {
                "UNSPECIFIED",         "KEY_COMPROMISE",  "CA_COMPROMISE",
                "AFFILIATION_CHANGED", "SUPERSEDED",      "CESSATION_OF_OPERATION",
                "CERTIFICATE_HOLD",    "REMOVE_FROM_CRL", "PRIVILEGES_WITHDRAWN",
                "AA_COMPROMISE"};
            const std::string dn = req.matches[1];
            const std::string reason = req.get_param_value("reason");
            if (!reasons.count(reason))
              return reply(res, 400, ejbca_error(400, "Invalid revocation reason."));
            if (dn != st->subject_dn)
              return reply(res, 404, ejbca_error(404, "CA with DN: " + dn + " does not exist."));
            for (auto& c : st->certificates) {
              if (c.serial != req.matches[2]) continue;
              if (!c.revoked_reason.empty())
                return reply(res, 409, ejbca_error(409, "Certificate is already revoked."));
              c.revoked_reason = reason;
              st->revoked.push_back(c.serial);
              st->revoke_reasons.push_back(reason);
              st->revoke_dns.push_back(dn);
              events::json_object out;
              out.set("issuer_dn", dn)
                  .set("serial_number", c.serial)
                  .set("revocation_reason", reason)
                  .set("message", "Successfully revoked")
                  .set("revoked", true);
              return reply(res, 200, out.dump());
            }
            reply(res, 404, ejbca_error(404, "Certificate not found."));
          });
  server_->start();
}

mock_ejbca::~mock_ejbca() = default;

std::string mock_ejbca::url() const {
  return server_->url() + base;
}

}  // namespace certctl::testing
