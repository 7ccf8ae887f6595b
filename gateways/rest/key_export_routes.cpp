#include "gateways/rest/key_export_routes.hpp"

#include "gateways/rest/command_support.hpp"
#include "gateways/rest/scope_check.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/key_store.hpp"
#include "infra/crypto/pkcs12.hpp"
#include "projections/certificate_queries.hpp"

namespace certctl::gateways::rest {
using http::role;

http::access_rule key_export_access() {
  return http::access_rule::only({role::admin});
}

bool may_export_private_key(const http::principal& who, const events::json_object& certificate) {
  // Scopes (owner/team) do not exist yet; when they do, a scoped key passes here when
  // certificate.str("owner_id") or .str("team_id") is in its scope.
  (void)certificate;
  return who.level == role::admin;
}

namespace {

http::response no_server_key(const std::string& id) {
  return http::error_response(
      409, "certificate " + id +
               ": the server holds no private key for its current version (agent keygen: the "
               "agent generated the key and keeps it); export the certificate without a key "
               "with GET /api/v1/certificates/" +
               id + "/export/pem");
}

http::response export_pkcs12(key_export_context& ctx, http::request_context& c) {
  const std::string& id = c.path_param("id");
  if (auto denied = certificate_outside_scope(ctx.runtime, c, id)) return *denied;
  http::response err;
  auto body = body_of(c, err);
  if (!body) return err;
  const std::string password = body->str("password");
  if (password.empty())
    return http::error_response(400, "field 'password' is required to protect the PKCS#12 bundle");
  auto cert = ctx.runtime.read("certificate", id);
  if (!cert) return render(cert, 200);
  if (!may_export_private_key(c.who, cert->view))
    return http::error_response(403, "exporting the private key of certificate " + id +
                                         " needs the key-export permission (admin)");
  auto v = projections::get_latest_certificate_version(ctx.db, id);
  if (!v) return error_response(v.error());
  if (!v->has_value())
    return http::error_response(404, "certificate " + id + " has no issued version");
  auto parts = crypto::split_pem_chain((*v)->pem_chain);
  if (!parts || parts->empty()) return http::error_response(500, "stored chain does not parse");
  // The version's own key; versions recorded before keys were kept per version have theirs
  // under the certificate id (checked against the certificate below either way).
  std::string key_id = crypto::certificate_key_id(id, (*v)->id);
  if (!ctx.keys.contains(key_id)) key_id = id;
  if (!ctx.keys.contains(key_id)) return no_server_key(id);
  auto key = ctx.keys.get(key_id);
  if (!key) return http::error_response(500, "key store: " + key.error().message);
  // A key left from an earlier server-keygen version does not belong to an agent-keyed leaf.
  if (!crypto::check_key_matches_certificate(*key, (*parts)[0])) return no_server_key(id);

  // The audit record comes first: no record, no key.
  events::json_object audit;
  audit.set("format", "pkcs12")
      .set("version_id", (*v)->id)
      .set("serial_number", (*v)->serial_number);
  auto recorded = ctx.runtime.execute("certificate",
                                      command_for(c, "certificate.record_key_export", id, audit));
  if (!recorded) return render(recorded, 200);

  crypto::pkcs12_input in;
  in.certificate_pem = (*parts)[0];
  for (size_t i = 1; i < parts->size(); ++i) in.chain_pem += (*parts)[i];
  in.password = password;
  in.friendly_name = id;
  in.private_key_pem = *key;
  auto p12 = crypto::export_pkcs12(in);
  if (!p12) return http::error_response(500, "PKCS#12 export failed: " + p12.error().message);
  http::response resp;
  resp.content_type = "application/x-pkcs12";
  resp.body.assign(p12->begin(), p12->end());
  resp.with_header("Content-Disposition", "attachment; filename=\"" + id + ".p12\"");
  return resp;
}

}  // namespace

void add_key_export_routes(http::router& r, key_export_context& ctx) {
  r.add("POST", "/api/v1/certificates/{id}/export/pkcs12", key_export_access(),
        [&ctx](http::request_context& c) { return export_pkcs12(ctx, c); });
}

}  // namespace certctl::gateways::rest
