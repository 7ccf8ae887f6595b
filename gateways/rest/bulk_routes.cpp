#include "gateways/rest/bulk_routes.hpp"

#include "gateways/rest/certificate_workflows.hpp"

#include "gateways/rest/command_support.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <set>

#include "domain/certificate.hpp"
#include "events/json.hpp"
#include "gateways/http/position.hpp"
#include "infra/crypto/random.hpp"
#include "projections/stats_queries.hpp"

namespace certctl::gateways::rest {
using http::role;

namespace {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

/// Statuses bulk renewal passes over silently (the spec's list, plus Pending: its first
/// issuance is still running, which the entity refuses like RenewalInProgress).
const std::set<std::string> renewal_skipped = {"RenewalInProgress", "Pending", "Revoked",
                                               "Archived", "Expired"};

constexpr auto max_position_wait = std::chrono::milliseconds(5000);

/// The entity's current view, in any state. Read from the entity rather than the read model,
/// which may not have caught up yet.
actors::command_result current(write_context& ctx, const http::request_context&,
                               const std::string& kind, const std::string& id) {
  return ctx.runtime.read(kind, id);
}

struct failure {
  std::string certificate_id;
  std::string error;
};

/// Counters and lists shared by both results.
struct outcome {
  std::int64_t matched = 0, done = 0, skipped = 0;
  std::vector<std::pair<std::string, std::string>> jobs;  ///< renew: certificate id, job id
  std::vector<failure> errors;
  /// revoke: every certificate's fate in request order (certificate id, status, error).
  std::vector<std::array<std::string, 3>> results;
  std::int64_t position = 0;

  void committed(std::int64_t p) { position = std::max(position, p); }
};

void put(json_writer& w, const char* key, const std::string& v) {
  w.Key(key);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

void put(json_writer& w, const char* key, std::int64_t v) {
  w.Key(key);
  w.Int64(v);
}

/// BulkRenewResult (`done_key` total_enqueued, with enqueued_jobs) or BulkReassignResult
/// (total_reassigned).
http::response render(const outcome& o, const char* done_key, bool with_jobs) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  w.StartObject();
  put(w, "total_matched", o.matched);
  put(w, done_key, o.done);
  put(w, "total_skipped", o.skipped);
  put(w, "total_failed", static_cast<std::int64_t>(o.errors.size()));
  if (with_jobs) {
    w.Key("enqueued_jobs");
    w.StartArray();
    for (const auto& [cert, job] : o.jobs) {
      w.StartObject();
      put(w, "certificate_id", cert);
      put(w, "job_id", job);
      w.EndObject();
    }
    w.EndArray();
  }
  if (!o.results.empty()) {
    w.Key("results");
    w.StartArray();
    for (const auto& [cert, status, error] : o.results) {
      w.StartObject();
      put(w, "certificate_id", cert);
      put(w, "status", status);
      if (!error.empty()) put(w, "error", error);
      w.EndObject();
    }
    w.EndArray();
  }
  w.Key("errors");
  w.StartArray();
  for (const auto& e : o.errors) {
    w.StartObject();
    put(w, "certificate_id", e.certificate_id);
    put(w, "error", e.error);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  auto resp = http::json_response(std::string(buf.GetString(), buf.GetSize()));
  if (o.position > 0) http::set_position(resp, o.position);
  return resp;
}

/// An optional string criterion: absent, null and "" mean unset; anything else must be a string.
bool criterion(const events::json_object& body, const char* key, std::optional<std::string>& out,
               http::response& err) {
  if (!body.has(key) || body.is_null(key)) return true;
  if (!body.is_string(key)) {
    err = http::error_response(400, std::string("field '") + key + "' must be a string");
    return false;
  }
  if (!body.str(key).empty()) out = body.str(key);
  return true;
}

/// certificate_ids as a list (absent: nullopt), or a 400 for a non-list or too long a list.
bool id_list(const events::json_object& body, std::optional<std::vector<std::string>>& out,
             http::response& err) {
  if (!body.has("certificate_ids") || body.is_null("certificate_ids")) return true;
  if (!body.is_string_array("certificate_ids")) {
    err = http::error_response(400, "field 'certificate_ids' must be an array of strings");
    return false;
  }
  out = body.str_array("certificate_ids");
  if (static_cast<std::int64_t>(out->size()) > max_bulk_certificates) {
    err = http::error_response(400, "at most " + std::to_string(max_bulk_certificates) +
                                        " certificate_ids per request, got " +
                                        std::to_string(out->size()));
    return false;
  }
  return true;
}

/// The ids in request order, each once.
std::vector<std::string> unique(const std::vector<std::string>& ids) {
  std::set<std::string> seen;
  std::vector<std::string> out;
  for (const auto& id : ids)
    if (seen.insert(id).second) out.push_back(id);
  return out;
}

/// Waits for X-Certctl-Wait-For-Position like the router does for reads; nullopt when no
/// wait was needed or it succeeded, else the error response.
std::optional<http::response> wait_if_asked(bulk_context& ctx, const http::request_context& c) {
  auto wanted = http::requested_position(c.headers());
  if (!wanted) return http::to_response(wanted.error());
  if (*wanted && !ctx.projector.wait_for_position(**wanted, max_position_wait))
    return http::error_response(503, "timed out waiting for log position " +
                                         std::to_string(**wanted) + " to be applied; retry");
  return std::nullopt;
}

/// The certificates a BulkRenewRequest or BulkRevokeRequest names: its ids alone when it has no
/// criteria (taken as given, so certificates the read model has not caught up with still count),
/// else the read model's matches. Fills `err` on a bad request.
std::optional<std::vector<std::string>> selected_targets(bulk_context& ctx,
                                                         const http::request_context& c,
                                                         const events::json_object& body,
                                                         http::response& err) {
  const events::json_object* const b = &body;
  projections::certificate_selector s;
  if (!criterion(*b, "profile_id", s.profile_id, err) ||
      !criterion(*b, "owner_id", s.owner_id, err) || !criterion(*b, "agent_id", s.agent_id, err) ||
      !criterion(*b, "issuer_id", s.issuer_id, err) || !criterion(*b, "team_id", s.team_id, err) ||
      !id_list(*b, s.ids, err))
    return std::nullopt;
  if (s.ids && s.ids->empty()) s.ids.reset();
  if (s.empty()) {
    err = http::error_response(400,
                               "at least one of certificate_ids, profile_id, owner_id, agent_id, "
                               "issuer_id or team_id is required");
    return std::nullopt;
  }
  const bool ids_only = !s.profile_id && !s.owner_id && !s.agent_id && !s.issuer_id && !s.team_id;
  if (ids_only) return unique(*s.ids);
  if (auto waited = wait_if_asked(ctx, c)) {
    err = *waited;
    return std::nullopt;
  }
  auto ids = projections::select_certificate_ids(ctx.db, s, max_bulk_certificates);
  if (!ids) {
    err = error_response(ids.error(), "selecting certificates");
    return std::nullopt;
  }
  if (static_cast<std::int64_t>(ids->size()) > max_bulk_certificates) {
    err = http::error_response(400, "the criteria match more than " +
                                        std::to_string(max_bulk_certificates) +
                                        " certificates; narrow them or list certificate_ids");
    return std::nullopt;
  }
  return std::move(*ids);
}

std::string error_text(const actors::command_result& r) {
  return r ? std::string() : r.error().message;
}

void renew_one(bulk_context& ctx, const http::request_context& c, const std::string& id,
               outcome& o) {
  write_context& w = ctx.writes;
  auto probe = current(w, c, "certificate", id);
  if (!probe) {
    // Archived certificates refuse updates; the spec counts them as skipped, not failed.
    if (probe.error().code == domain::domain_errc::conflict)
      ++o.skipped;
    else
      o.errors.push_back({id, error_text(probe)});
    return;
  }
  if (renewal_skipped.count(probe->view.str("status"))) {
    ++o.skipped;
    return;
  }
  actors::issuance_start st;
  st.certificate_id = id;
  st.job_id = certificate_job_id(id);
  st.principal = principal_of(c);
  st.source_address = c.remote_addr();
  st.correlation_id = c.request_id;
  if (auto key = c.header("Idempotency-Key")) {
    st.renew_command_id = "certificate.renew:" + *key + ":" + id;
    st.job_command_id = "job.create:" + *key + ":" + id;
  }
  auto started = actors::start_renewal(w.runtime, w.handoff, st);
  if (started.certificate && *started.certificate) o.committed((*started.certificate)->position);
  if (!started.ok()) {
    std::string why = "renewal was not started";
    if (started.certificate && !*started.certificate)
      why = error_text(*started.certificate);
    else if (started.job && !*started.job)
      why = error_text(*started.job);
    o.errors.push_back({id, why});
    return;
  }
  const auto& job = *started.job;
  o.committed(started.last_position());
  ++o.done;
  o.jobs.emplace_back(id, job->view.str("id", st.job_id));
}

void reassign_one(write_context& w, const http::request_context& c, const std::string& id,
                  const std::string& owner_id, const std::string& team_id, outcome& o) {
  auto probe = current(w, c, "certificate", id);
  if (!probe) {
    o.errors.push_back({id, error_text(probe)});
    return;
  }
  const auto& view = probe->view;
  if (view.str("owner_id") == owner_id && (team_id.empty() || view.str("team_id") == team_id)) {
    ++o.skipped;
    return;
  }
  events::json_object change;
  change.set("owner_id", owner_id);
  if (!team_id.empty()) change.set("team_id", team_id);
  auto updated =
      w.runtime.execute("certificate", command_for(c, "certificate.update", id, change, id));
  if (!updated) {
    o.errors.push_back({id, error_text(updated)});
    return;
  }
  o.committed(updated->position);
  ++o.done;
}

/// Statuses bulk revocation passes over (the spec: already revoked or archived).
bool revocation_skipped(const std::string& status) {
  return status == "Revoked" || status == "Archived";
}

void revoke_one(write_context& w, const http::request_context& c, const std::string& id,
                const std::string& reason, outcome& o) {
  auto failed = [&](std::string why) {
    o.results.push_back({id, "failed", why});
    o.errors.push_back({id, std::move(why)});
  };
  auto skipped = [&] {
    ++o.skipped;
    o.results.push_back({id, "skipped", ""});
  };
  auto probe = current(w, c, "certificate", id);
  if (!probe) {
    // Archived certificates refuse even the probe; the spec counts them as skipped.
    if (probe.error().code == domain::domain_errc::conflict) return skipped();
    return failed(error_text(probe));
  }
  if (revocation_skipped(probe->view.str("status"))) return skipped();
  events::json_object body;
  body.set("reason", reason);
  auto revoked =
      w.runtime.execute("certificate", command_for(c, "certificate.revoke", id, body, id));
  if (!revoked) return failed(error_text(revoked));
  o.committed(revoked->position);
  if (w.after_revoke) w.after_revoke(id, c.request_id);
  ++o.done;
  o.results.push_back({id, "revoked", ""});
}

/// Bulk operations select by filters that a key scope does not bound; scoped keys act on
/// certificates one at a time instead.
std::optional<http::response> refuse_scoped(const http::request_context& c) {
  if (!c.who.scope) return std::nullopt;
  return http::error_response(
      403, "key " + c.who.name + " is scoped: bulk operations need an unscoped key");
}

}  // namespace

void add_bulk_routes(http::router& r, bulk_context& ctx) {
  // Not admin-gated (spec): renewal replaces a certificate, it does not destroy anything.
  r.add("POST", "/api/v1/certificates/bulk-renew", role::operator_,
        [&ctx](http::request_context& c) {
          if (auto denied = refuse_scoped(c)) return *denied;
          http::response err;
          auto body = body_of(c, err);
          if (!body) return err;
          auto targets = selected_targets(ctx, c, *body, err);
          if (!targets) return err;
          outcome o;
          o.matched = static_cast<std::int64_t>(targets->size());
          for (const auto& id : *targets) renew_one(ctx, c, id, o);
          return render(o, "total_enqueued", true);
        });
  r.add("POST", "/api/v1/certificates/bulk-reassign", role::operator_,
        [&ctx](http::request_context& c) {
          if (auto denied = refuse_scoped(c)) return *denied;
          http::response err;
          auto body = body_of(c, err);
          if (!body) return err;
          std::optional<std::vector<std::string>> ids;
          if (!id_list(*body, ids, err)) return err;
          if (!ids || ids->empty())
            return http::error_response(400, "field 'certificate_ids' is required and non-empty");
          if (!body->is_string("owner_id") || body->str("owner_id").empty())
            return http::error_response(400, "field 'owner_id' is required");
          std::optional<std::string> team;
          if (!criterion(*body, "team_id", team, err)) return err;
          const std::string owner_id = body->str("owner_id");
          // The owner is checked before any certificate changes (spec): a typo must not
          // reassign a fleet to nobody.
          auto owner = current(ctx.writes, c, "owner", owner_id);
          if (!owner) {
            if (owner.error().code == domain::domain_errc::not_found)
              return http::error_response(400, "owner " + owner_id + " does not exist");
            return error_response(owner.error());
          }
          outcome o;
          const auto targets = unique(*ids);
          o.matched = static_cast<std::int64_t>(targets.size());
          for (const auto& id : targets)
            reassign_one(ctx.writes, c, id, owner_id, team.value_or(""), o);
          return render(o, "total_reassigned", false);
        });
  // Admin only: unlike renewal, revocation cannot be undone, and a filter may match a fleet.
  r.add("POST", "/api/v1/certificates/bulk-revoke", role::admin, [&ctx](http::request_context& c) {
    if (auto denied = refuse_scoped(c)) return *denied;
    http::response err;
    auto body = body_of(c, err);
    if (!body) return err;
    if (!body->is_string("reason") || body->str("reason").empty())
      return http::error_response(400,
                                  "field 'reason' is required (an RFC 5280 reason "
                                  "name, e.g. keyCompromise)");
    const std::string reason = body->str("reason");
    if (domain::revocation_reason_code(reason) < 0)
      return http::error_response(400, "unknown revocation reason '" + reason + "'");
    // Validated before anything changes: a bad filter must not revoke half a fleet.
    auto targets = selected_targets(ctx, c, *body, err);
    if (!targets) return err;
    outcome o;
    o.matched = static_cast<std::int64_t>(targets->size());
    for (const auto& id : *targets) revoke_one(ctx.writes, c, id, reason, o);
    return render(o, "total_revoked", false);
  });
}

}  // namespace certctl::gateways::rest
