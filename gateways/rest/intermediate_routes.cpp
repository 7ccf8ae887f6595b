#include "gateways/rest/intermediate_routes.hpp"

#include <algorithm>

#include "domain/intermediate.hpp"
#include "events/time.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/random.hpp"
#include "projections/intermediate_projection.hpp"
#include "gateways/rest/command_support.hpp"

namespace certctl::gateways::rest {
using http::role;

namespace {

std::string rfc3339_s(std::int64_t seconds) {
  return events::format_rfc3339(seconds * 1'000'000);
}

/// The issuer's own CA as the hierarchy's root row (parent_ca_id null, as the spec's tree
/// rendering expects). It is not an entity: its life is the local CA's.
events::json_object root_row(connectors::ca_hierarchy& h) {
  events::json_object row;
  row.set("id", h.root_id()).set("issuer_id", h.root_id()).set_null("parent_ca_id");
  row.set("status", "active").set("is_root", true);
  auto material = h.signing_material_of(h.root_id());
  if (!material) return row;
  row.set("certificate_pem", material->cert_pem);
  if (auto info = crypto::parse_certificate(material->cert_pem)) {
    row.set("name", info->common_name)
        .set("serial_number", info->serial_hex)
        .set("not_before", rfc3339_s(info->not_before))
        .set("not_after", rfc3339_s(info->not_after))
        .set("fingerprint_sha256", info->fingerprint_sha256_hex);
    if (info->path_len >= 0)
      row.set("path_len_constraint", info->path_len);
    else
      row.set_null("path_len_constraint");
  }
  return row;
}

std::optional<http::response> check_issuer(intermediate_context& ctx,
                                           const http::request_context& c,
                                           const std::string& issuer_id) {
  auto issuer = ctx.runtime.read("issuer", issuer_id);
  if (!issuer) return error_response(issuer.error());
  if (issuer_id != ctx.hierarchy.root_id())
    return http::error_response(400, "issuer " + issuer_id +
                                         " has no CA hierarchy here: only the local CA " +
                                         ctx.hierarchy.root_id() + " signs intermediates");
  return std::nullopt;
}

/// The child CA's key algorithm from the request's name (validated by the domain parser).
crypto::key_type key_type_of(const std::string& algorithm) {
  return crypto::parse_key_type(algorithm).value_or(crypto::key_type::ecdsa_p256);
}

http::response create(intermediate_context& ctx, http::request_context& c) {
  const std::string issuer_id = c.path_param("id");
  http::response err;
  auto body = body_of(c, err);
  if (!body) return err;
  auto req = domain::parse_intermediate_request(*body);
  if (!req) return error_response(req.error());
  if (auto err = check_issuer(ctx, c, issuer_id)) return *err;

  const std::string parent_id = req->parent_ca_id;
  const bool under_root = parent_id == ctx.hierarchy.root_id();
  const std::string id = "ica-" + crypto::random_hex(8);
  std::int64_t position = 0;
  if (!under_root) {
    auto parent = ctx.runtime.read("intermediate", parent_id);
    if (!parent) {
      if (parent.error().code == domain::domain_errc::not_found)
        return http::error_response(http_status(parent.error().code),
                                    "parent CA " + parent_id + " not found");
      return error_response(parent.error());
    }
    if (parent->view.str("issuer_id") != issuer_id)
      return http::error_response(
          404, "parent CA " + parent_id + " is not in issuer " + issuer_id + "'s hierarchy");
    events::json_object slot;
    slot.set("child_id", id);
    auto added = ctx.runtime.execute("intermediate",
                                     command_for(c, "intermediate.child_add", parent_id, slot));
    if (!added) return error_response(added.error());
    position = added->position;
  }
  auto release = [&] {
    if (under_root) return;
    events::json_object slot;
    slot.set("child_id", id).set("reason", "abandoned");
    ctx.runtime.execute("intermediate",
                        command_for(c, "intermediate.child_remove", parent_id, slot));
  };

  connectors::child_ca_request sr;
  sr.id = id;
  sr.parent_id = parent_id;
  sr.subject = {req->common_name, req->organization, req->organizational_unit};
  sr.algorithm = key_type_of(req->algorithm);
  sr.ttl_us = req->ttl_days * 86400LL * 1'000'000;
  sr.constraints = {req->path_len, req->permitted_dns, req->excluded_dns};
  auto signed_ca = ctx.hierarchy.sign_child(sr);
  if (!signed_ca) {
    release();
    return error_response(signed_ca.error());
  }
  const auto& ca = *signed_ca;
  events::json_object subject;
  subject.set("common_name", req->common_name);
  if (!req->organization.empty()) subject.set("organization", req->organization);
  if (!req->organizational_unit.empty())
    subject.set("organizational_unit", req->organizational_unit);
  events::json_object cmd;
  cmd.set("issuer_id", issuer_id)
      .set("parent_ca_id", parent_id)
      .set("name", req->name)
      .set("certificate_pem", ca.cert_pem)
      .set("serial_number", ca.serial_hex)
      .set("not_before", events::format_rfc3339(ca.not_before_us))
      .set("not_after", events::format_rfc3339(ca.not_after_us))
      .set("fingerprint_sha256", ca.fingerprint_sha256_hex)
      .set("key_id", ca.key_id)
      .set_raw("subject", subject.dump())
      .set("algorithm", req->algorithm)
      .set("permitted_dns", ca.constraints.permitted_dns)
      .set("excluded_dns", ca.constraints.excluded_dns)
      .set("ocsp_responder_url", req->ocsp_responder_url)
      .set_raw("metadata", req->metadata_json)
      .set("depth", ca.depth);
  if (ca.constraints.path_len >= 0)
    cmd.set("path_len_constraint", ca.constraints.path_len);
  else
    cmd.set_null("path_len_constraint");
  auto created =
      ctx.runtime.execute("intermediate", command_for(c, "intermediate.create", id, cmd));
  if (!created) {
    ctx.hierarchy.discard_child_key(ca.key_id);
    release();
    return error_response(created.error());
  }
  auto resp = http::json_response(created->view.dump(), 201);
  http::set_position(resp, std::max(position, created->position));
  return resp;
}

http::response retire(intermediate_context& ctx, http::request_context& c) {
  const std::string id = c.path_param("id");
  if (id == ctx.hierarchy.root_id())
    return http::error_response(409, "the root CA " + id +
                                         " is the local CA itself; it is not "
                                         "retired through the intermediates API");
  http::response err;
  auto body = body_of(c, err);
  if (!body) return err;
  auto res = ctx.runtime.execute("intermediate", command_for(c, "intermediate.retire", id, *body));
  if (!res) return error_response(res.error());
  std::int64_t position = res->position;
  const std::string parent = res->view.str("parent_ca_id");
  if (res->view.str("status") == "retired" && parent != ctx.hierarchy.root_id()) {
    events::json_object slot;
    slot.set("child_id", id).set("reason", "retired");
    auto removed = ctx.runtime.execute("intermediate",
                                       command_for(c, "intermediate.child_remove", parent, slot));
    if (!removed) return error_response(removed.error());
    position = std::max(position, removed->position);
  }
  auto resp = http::json_response(res->view.dump(), 200);
  if (position > 0) http::set_position(resp, position);
  return resp;
}

}  // namespace

void add_intermediate_routes(http::router& r, intermediate_context& ctx) {
  r.add("POST", "/api/v1/issuers/{id}/intermediates", role::admin,
        [&ctx](http::request_context& c) { return create(ctx, c); });
  r.add("GET", "/api/v1/issuers/{id}/intermediates", role::admin, [&ctx](http::request_context& c) {
    const std::string issuer_id = c.path_param("id");
    if (auto err = check_issuer(ctx, c, issuer_id)) return *err;
    auto rows = projections::list_intermediates(ctx.db, issuer_id);
    if (!rows) return error_response(rows.error());
    std::string data = root_row(ctx.hierarchy).dump();
    for (const auto& row : *rows) data += "," + row;
    return http::json_response("{\"data\":[" + data + "]}");
  });
  r.add("GET", "/api/v1/intermediates/{id}", role::admin, [&ctx](http::request_context& c) {
    const std::string id = c.path_param("id");
    if (id == ctx.hierarchy.root_id()) return http::json_response(root_row(ctx.hierarchy).dump());
    auto row = projections::get_intermediate(ctx.db, id);
    if (!row) return error_response(row.error());
    if (!*row) return http::error_response(404, "intermediate CA " + id + " not found");
    return http::json_response(**row);
  });
  r.add("POST", "/api/v1/intermediates/{id}/retire", role::admin,
        [&ctx](http::request_context& c) { return retire(ctx, c); });
}

}  // namespace certctl::gateways::rest
