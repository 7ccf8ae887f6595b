#include "gateways/est/est_routes.hpp"

#include <set>

#include "actors/workflows/issuer_resolver.hpp"
#include "domain/certificate.hpp"
#include "events/time.hpp"
#include "gateways/http/json.hpp"
#include "gateways/rest/command_support.hpp"
#include "projections/certificate_queries.hpp"
#include "projections/entity_queries.hpp"
#include "projections/stats_queries.hpp"

namespace certctl::gateways::est {
namespace {

constexpr std::int64_t max_bulk = 1000;

std::string now_rfc3339() {
  return events::format_rfc3339(std::chrono::duration_cast<std::chrono::microseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count());
}

/// POST /api/v1/est/certificates/bulk-revoke: BulkRevokeRequest pinned to source EST.
http::response bulk_revoke(const est_context& ctx, http::request_context& c) {
  http::response err;
  auto body = rest::body_of(c, err);
  if (!body) return err;
  if (!body->is_string("reason") || body->str("reason").empty())
    return http::error_response(
        400, "field 'reason' is required (an RFC 5280 reason name, e.g. keyCompromise)");
  const std::string reason = body->str("reason");
  if (domain::revocation_reason_code(reason) < 0)
    return http::error_response(400, "unknown revocation reason '" + reason + "'");
  projections::certificate_selector s;
  for (auto [key, slot] :
       {std::pair<const char*, std::optional<std::string>*>{"profile_id", &s.profile_id},
        {"owner_id", &s.owner_id},
        {"agent_id", &s.agent_id},
        {"issuer_id", &s.issuer_id},
        {"team_id", &s.team_id}}) {
    if (!body->has(key) || body->is_null(key)) continue;
    if (!body->is_string(key))
      return http::error_response(400, std::string("field '") + key + "' must be a string");
    if (!body->str(key).empty()) *slot = body->str(key);
  }
  if (body->has("certificate_ids") && !body->is_null("certificate_ids")) {
    if (!body->is_string_array("certificate_ids"))
      return http::error_response(400, "field 'certificate_ids' must be an array of strings");
    auto ids = body->str_array("certificate_ids");
    if (static_cast<std::int64_t>(ids.size()) > max_bulk)
      return http::error_response(400, "at most 1000 certificate_ids per request");
    if (!ids.empty()) s.ids = std::move(ids);
  }
  // Source alone would revoke every EST device at once: one narrower criterion is required.
  if (s.empty())
    return http::error_response(400,
                                "at least one of certificate_ids, profile_id, owner_id, agent_id, "
                                "issuer_id or team_id is required (source EST alone is too broad)");
  auto ids = projections::select_certificate_ids(ctx.db, s, max_bulk);
  if (!ids) return rest::error_response(ids.error(), "selecting certificates");
  if (static_cast<std::int64_t>(ids->size()) > max_bulk)
    return http::error_response(400, "the criteria match more than 1000 certificates");
  std::int64_t matched = 0, revoked = 0, skipped = 0, position = 0;
  std::vector<std::pair<std::string, std::string>> errors;
  std::set<std::string> seen;
  for (const auto& id : *ids) {
    if (!seen.insert(id).second) continue;
    auto doc = projections::get_certificate(ctx.db, id);
    if (!doc || !doc->has_value()) continue;
    auto cert = events::json_object::parse(**doc);
    if (!cert || cert->str_map("tags")["source"] != "EST") continue;  // not EST's to revoke
    ++matched;
    const std::string status = cert->str("status");
    if (status == "Revoked" || status == "Archived") {
      ++skipped;
      continue;
    }
    events::json_object rb;
    rb.set("reason", reason);
    auto done =
        ctx.runtime.execute("certificate", rest::command_for(c, "certificate.revoke", id, rb, id));
    if (!done) {
      errors.emplace_back(id, done.error().message);
      continue;
    }
    position = std::max(position, done->position);
    ++revoked;
  }
  http::json_writer w;
  w.begin_object()
      .field("total_matched", matched)
      .field("total_revoked", revoked)
      .field("total_skipped", skipped)
      .field("total_failed", static_cast<std::int64_t>(errors.size()));
  w.key("errors").begin_array();
  for (const auto& [id, why] : errors)
    w.begin_object().field("certificate_id", id).field("error", why).end_object();
  w.end_array().end_object();
  auto resp = http::json_response(w.str());
  if (position > 0) http::set_position(resp, position);
  return resp;
}

}  // namespace

certctl::result<std::unique_ptr<est_server>, std::string> add_est_routes(http::router& r,
                                                                         const est_context& ctx) {
  auto* runtime = &ctx.runtime;
  auto* store = &ctx.store;
  auto* db = &ctx.db;
  auto* issuance = &ctx.issuance;
  auto* fallback = &ctx.default_issuer;
  auto resolve = actors::make_issuer_resolver(ctx.runtime, ctx.connector_configs);

  std::unique_ptr<est_server> server;
  if (!ctx.config.est_profiles.empty()) {
    for (const auto& p : ctx.config.est_profiles) {
      // A warning, not a refusal: in a cluster the bootstrap issuer may still be on its way,
      // and an issuer can be created after start. Enrollments fail until it exists.
      auto issuer = ctx.runtime.read("issuer", p.issuer_id);
      if (!issuer && issuer.error().code == domain::domain_errc::not_found && ctx.log)
        ctx.log("warning: EST profile '" + (p.name.empty() ? std::string("(root)") : p.name) +
                "': issuer '" + p.issuer_id + "' does not exist (yet)");
    }
    est_options opt;
    opt.profiles = ctx.config.est_profiles;
    est_dependencies deps{ctx.runtime, {}, {}, {}, {}, {}, {}, ctx.on_auth_failure, ctx.log, {}};
    deps.issue = [issuance](actors::issuance_task t, std::function<void()> on_finished) {
      issuance->enqueue(std::move(t), std::move(on_finished));
    };
    // From the log itself, not a read model: the answer right after issuance must see it.
    deps.issued = [store](const std::string& cert_id,
                          const std::string& job_id) -> std::optional<std::string> {
      auto stream = store->read_stream("certificate-" + cert_id);
      if (!stream) return std::nullopt;
      for (auto it = stream->rbegin(); it != stream->rend(); ++it) {
        if (it->type != "certificate.issued") continue;
        auto p = events::json_object::parse(it->payload);
        if (p && p->str("job_id") == job_id) return p->str("pem_chain");
      }
      return std::nullopt;
    };
    deps.certificate_by_serial = [db](const std::string& serial) -> std::optional<std::string> {
      auto found = projections::find_version_by_serial(*db, serial);
      if (!found || !found->has_value()) return std::nullopt;
      return (*found)->certificate_id;
    };
    deps.certificate = [db](const std::string& id) -> std::optional<events::json_object> {
      auto doc = projections::get_certificate(*db, id);
      if (!doc || !doc->has_value()) return std::nullopt;
      return events::json_object::parse(**doc);
    };
    deps.profile = [db](const std::string& id) -> std::optional<events::json_object> {
      auto doc = projections::get_resource(*db, "profile", id);
      if (!doc || !doc->has_value()) return std::nullopt;
      return events::json_object::parse(**doc);
    };
    deps.ca_chain = [runtime, fallback, resolve](const std::string& issuer_id,
                                                 std::string& error) -> std::optional<std::string> {
      auto issuer = runtime->read("issuer", issuer_id);
      if (!issuer) {
        error = issuer.error().message;
        return std::nullopt;
      }
      actors::issuance_task probe;
      probe.certificate.set("issuer_id", issuer_id);
      connectors::issuer* chosen = resolve(probe, error);
      if (chosen == nullptr && !error.empty()) return std::nullopt;
      const std::string pem = (chosen ? chosen : fallback)->ca_chain_pem();
      if (pem.empty()) {
        error = "issuer " + issuer_id + " distributes no CA certificate";
        return std::nullopt;
      }
      return pem;
    };
    auto made = est_server::create(std::move(opt), std::move(deps));
    if (!made) return made.error();
    server = std::move(made).value();
    server->add_routes(r);
  }

  est_server* s = server.get();
  r.add("GET", "/api/v1/admin/est/profiles", http::role::admin, [s](http::request_context&) {
    if (s) return http::json_response(s->profiles_json());
    http::json_writer w;
    w.begin_object().key("profiles").begin_array().end_array();
    w.field("profile_count", std::int64_t{0}).field("generated_at", now_rfc3339()).end_object();
    return http::json_response(w.str());
  });
  r.add("POST", "/api/v1/admin/est/reload-trust", http::role::admin, [s](http::request_context& c) {
    http::response err;
    auto body = rest::body_of(c, err);
    if (!body) return err;
    if (body->has("path_id") && !body->is_null("path_id") && !body->is_string("path_id"))
      return http::error_response(400, "field 'path_id' must be a string");
    const std::string path_id = body->str("path_id");
    if (!s) return http::error_response(404, "no EST profile has path id '" + path_id + "'");
    auto out = s->reload_trust(path_id);
    switch (out.status) {
      case reload_status::reloaded:
        break;
      case reload_status::unknown_profile:
        return http::error_response(404, out.message);
      case reload_status::mtls_disabled:
        return http::error_response(409, out.message);
      case reload_status::failed:
        return http::error_response(
            500, "trust bundle reload failed (the previous bundle stays in use): " + out.message);
    }
    http::json_writer w;
    w.begin_object()
        .field("reloaded", true)
        .field("path_id", path_id)
        .field("reloaded_at", now_rfc3339())
        .end_object();
    return http::json_response(w.str());
  });
  r.add("POST", "/api/v1/est/certificates/bulk-revoke", http::role::admin,
        [ctx](http::request_context& c) { return bulk_revoke(ctx, c); });
  return server;
}

}  // namespace certctl::gateways::est
