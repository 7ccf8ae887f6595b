#include "tests/support/mock_globalsign.hpp"

#include "events/json.hpp"
#include "infra/crypto/csr.hpp"

namespace certctl::testing {
namespace {

std::string atlas_error(int, const std::string& message) {
  return events::json_object().set("description", message).dump();
}

void reply(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json");
}

}  // namespace

mock_globalsign::mock_globalsign(const mock_ca_material& ca, const std::string& client_ca_path,
                                 int port)
    : state_(std::make_shared<mock_globalsign_state>()),
      server_(std::make_unique<mtls_server>(ca, client_ca_path, port)) {
  auto st = state_;
  auto& srv = server_->http();
  auto authorised = [st](const httplib::Request& req, httplib::Response& res) {
    if (mock_interrupts(st->behaviour, st->mutex, res, atlas_error)) return false;
    std::lock_guard<std::mutex> lock(st->mutex);
    st->client_cns.push_back(client_common_name(req));
    const std::string auth = req.get_header_value("Authorization");
    if (auth.rfind("Bearer ", 0) != 0 || !st->tokens.count(auth.substr(7))) {
      reply(res, 401, atlas_error(401, "Unauthorized: access token missing or expired"));
      return false;
    }
    return true;
  };
  srv.Post("/v2/login", [st](const httplib::Request& req, httplib::Response& res) {
    if (mock_interrupts(st->behaviour, st->mutex, res, atlas_error)) return;
    std::lock_guard<std::mutex> lock(st->mutex);
    auto body = events::json_object::parse(req.body);
    if (!body || body->str("api_key") != st->api_key || body->str("api_secret") != st->api_secret)
      return reply(res, 401, atlas_error(401, "Invalid API key or secret"));
    ++st->logins;
    const std::string token = "atlas-token-" + std::to_string(st->logins);
    st->tokens.insert(token);
    reply(res, 200, events::json_object().set("access_token", token).dump());
  });
  srv.Post("/v2/certificates", [st, ca, authorised](const httplib::Request& req,
                                                    httplib::Response& res) {
    if (!authorised(req, res)) return;
    std::lock_guard<std::mutex> lock(st->mutex);
    st->last_body = req.body;
    auto body = events::json_object::parse(req.body);
    if (!body) return reply(res, 400, atlas_error(400, "malformed JSON"));
    auto validity = events::json_object::parse(body->raw("validity"));
    auto subject = events::json_object::parse(body->raw("subject_dn"));
    if (!validity || validity->int64("not_after") <= validity->int64("not_before"))
      return reply(res, 422, atlas_error(422, "validity.not_after must follow not_before"));
    if (!subject || subject->str("common_name").empty())
      return reply(res, 422, atlas_error(422, "subject_dn.common_name is required"));
    if (!crypto::parse_csr(body->str("csr")).ok())
      return reply(res, 422, atlas_error(422, "csr is not a valid PKCS#10 request"));
    if (st->behaviour.reject)
      return reply(res, 422,
                   atlas_error(422,
                               "the requested domain is not in the validation "
                               "policy of this account"));
    ++st->request_calls;
    const std::int64_t lifetime = validity->int64("not_after") - validity->int64("not_before");
    auto [pem, serial] = mock_issue(ca, body->str("csr"), lifetime);
    auto& c = st->certificates[serial];
    c.pem = pem;
    c.polls_left = st->behaviour.pending_polls;
    res.status = 201;
    res.set_header("Location", "/v2/certificates/" + serial);
  });
  srv.Get(R"(/v2/certificates/([0-9A-Fa-f]+))",
          [st, authorised](const httplib::Request& req, httplib::Response& res) {
            if (!authorised(req, res)) return;
            std::lock_guard<std::mutex> lock(st->mutex);
            auto it = st->certificates.find(req.matches[1]);
            if (it == st->certificates.end() || it->second.polls_left-- > 0)
              return reply(res, 404, atlas_error(404, "certificate not found"));
            events::json_object out;
            out.set("status", it->second.status)
                .set("certificate", it->second.pem)
                .set("updated_at", static_cast<std::int64_t>(std::time(nullptr)));
            reply(res, 200, out.dump());
          });
  srv.Delete(R"(/v2/certificates/([0-9A-Fa-f]+))",
             [st, authorised](const httplib::Request& req, httplib::Response& res) {
               if (!authorised(req, res)) return;
               std::lock_guard<std::mutex> lock(st->mutex);
               auto it = st->certificates.find(req.matches[1]);
               if (it == st->certificates.end())
                 return reply(res, 404, atlas_error(404, "certificate not found"));
               it->second.status = "REVOKED";
               st->revoked.push_back(req.matches[1]);
               res.status = 204;
             });
  srv.Get("/v2/trustchain",
          [st, ca, authorised](const httplib::Request& req, httplib::Response& res) {
            if (!authorised(req, res)) return;
            events::json_object wrap;
            wrap.set("c", std::vector<std::string>{ca.root_pem});
            reply(res, 200, wrap.raw("c"));
          });
  server_->start();
}

mock_globalsign::~mock_globalsign() = default;

std::string mock_globalsign::url() const {
  return server_->url() + "/v2";
}

}  // namespace certctl::testing
