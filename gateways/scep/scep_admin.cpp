// Admin routes of the SCEP server: profile overview, Intune stats, Intune trust reload.
#include "events/time.hpp"
#include "gateways/http/json.hpp"
#include "gateways/scep/scep_impl.hpp"
#include "infra/crypto/certificate.hpp"

namespace certctl::gateways::scep {
namespace {

std::string rfc3339(std::int64_t unix_s) {
  return events::format_rfc3339(unix_s * 1000000);
}

std::string list_body(const std::vector<std::string>& items, std::int64_t now) {
  std::string arr = "[";
  for (const auto& i : items) arr += (arr.size() > 1 ? "," : "") + i;
  arr += "]";
  events::json_object o;
  o.set_raw("profiles", arr)
      .set("profile_count", static_cast<std::int64_t>(items.size()))
      .set("generated_at", rfc3339(now));
  return o.dump();
}

}  // namespace

void scep_server::add_admin_routes(http::router& r) {
  impl* self = impl_.get();
  r.add("GET", "/api/v1/admin/scep/profiles", http::role::admin, [self](http::request_context&) {
    const auto now = self->now();
    std::vector<std::string> items;
    for (auto& [id, ps] : self->profiles) {
      const auto& cfg = ps->p.config;
      events::json_object o;
      o.set("path_id", id)
          .set("name", cfg.name)
          .set("issuer_id", cfg.issuer_id)
          .set("profile_id", cfg.profile_id)
          .set("challenge_password_set", !cfg.challenge_password.empty())
          .set("ra_cert_generated", ps->p.ra_generated)
          .set("mtls_enabled", cfg.mtls_enabled)
          .set("mtls_trust_bundle_path", cfg.mtls_trust_bundle_path)
          .set("intune_enabled", cfg.intune_enabled)
          .set("next_ca_configured", !ps->p.next_ca_chain_pem.empty());
      if (auto ra = crypto::parse_certificate(ps->p.ra_cert_pem)) {
        o.set("ra_cert_subject", ra->subject_dn)
            .set("ra_cert_not_before", rfc3339(ra->not_before))
            .set("ra_cert_not_after", rfc3339(ra->not_after))
            .set("ra_cert_days_to_expiry",
                 static_cast<std::int64_t>((ra->not_after - now) / 86400));
      }
      scep_counters n;
      {
        std::lock_guard<std::mutex> lock(self->mu);
        n = ps->counters;
      }
      events::json_object counts;
      counts.set("success", static_cast<std::int64_t>(n.success))
          .set("pending", static_cast<std::int64_t>(n.pending))
          .set("failure", static_cast<std::int64_t>(n.failure))
          .set("bad_challenge", static_cast<std::int64_t>(n.bad_challenge))
          .set("renewal_requests", static_cast<std::int64_t>(n.renewals));
      o.set_raw("counters", counts.dump());
      // Omitted (not null) when Intune is off, as the reference's GUI expects.
      if (ps->p.intune) o.set_raw("intune", ps->p.intune->stats_json(now));
      items.push_back(o.dump());
    }
    return http::json_response(list_body(items, now));
  });
  r.add("GET", "/api/v1/admin/scep/intune/stats", http::role::admin,
        [self](http::request_context&) {
          const auto now = self->now();
          std::vector<std::string> items;
          for (auto& [id, ps] : self->profiles) {
            if (!ps->p.intune) {
              events::json_object o;
              o.set("path_id", id).set("enabled", false);
              items.push_back(o.dump());
              continue;
            }
            auto stats = events::json_object::parse(ps->p.intune->stats_json(now));
            events::json_object o = stats.value_or(events::json_object{});
            o.set("path_id", id);
            items.push_back(o.dump());
          }
          return http::json_response(list_body(items, now));
        });
  r.add("POST", "/api/v1/admin/scep/intune/reload-trust", http::role::admin,
        [self](http::request_context& c) {
          std::string path_id;
          if (c.body().find_first_not_of(" \t\r\n") != std::string::npos) {
            auto body = http::parse_json_object(c.body(), 4096);
            if (!body) return http::to_response(body.error());
            if (body->has("path_id") && !body->is_string("path_id"))
              return http::error_response(400, "path_id must be a string");
            path_id = body->str("path_id");
          }
          auto it = self->profiles.find(path_id);
          if (it == self->profiles.end())
            return http::error_response(404, "no SCEP profile with path_id '" + path_id + "'");
          if (!it->second->p.intune)
            return http::error_response(409,
                                        "Intune is not enabled on SCEP profile '" + path_id + "'");
          auto n = it->second->p.intune->reload(self->now());
          if (!n)
            return http::error_response(
                500, "trust anchor reload failed (the old pool is kept): " + n.error());
          events::json_object o;
          o.set("reloaded", true)
              .set("path_id", path_id)
              .set("trust_anchor_count", static_cast<std::int64_t>(*n))
              .set("reloaded_at", rfc3339(self->now()));
          return http::json_response(o.dump());
        });
}

}  // namespace certctl::gateways::scep
