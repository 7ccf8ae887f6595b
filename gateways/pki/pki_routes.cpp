#include "gateways/pki/pki_routes.hpp"

#include "connectors/issuers/local/ocsp_rotator.hpp"
#include "events/time.hpp"
#include "gateways/http/json.hpp"
#include "projections/revocation_projection.hpp"

namespace certctl::gateways::pki {

namespace {

/// Recent issuer.crl_published events shown per issuer in the admin view.
constexpr size_t recent_generations = 5;

/// An intermediate CA's revocation signing: its key, parsed once, and its delegated OCSP
/// responder, rotated by the same connectors::ocsp_rotator as the local CA's.
class intermediate_revocation {
 public:
  intermediate_revocation(std::string cert_pem, crypto::revocation_signer signer,
                          const infra::clock& clock)
      : signer_(std::move(signer)), responder_(std::move(cert_pem), signer_, clock) {}

  crypto::crypto_result<crypto::bytes> sign_crl(const crypto::crl_content& c) const {
    return signer_.sign_crl(c);
  }

  result<std::shared_ptr<const crypto::ocsp_signer>, std::string> responder() {
    auto r = responder_.current();
    if (!r) return r.error().message;
    return std::move(r).value();
  }

 private:
  crypto::revocation_signer signer_;  // before responder_, which refers to it
  connectors::ocsp_rotator responder_;
};

}  // namespace

void add_local_ca_authority(actors::revocation_cache& cache, connectors::local_ca& ca,
                            actors::entity_runtime& runtime) {
  actors::revocation_authority a;
  a.issuer_id = ca.id();
  a.sign_crl = [&ca](const crypto::crl_content& c) { return ca.sign_crl(c); };
  a.responder = [&ca]() -> result<std::shared_ptr<const crypto::ocsp_signer>, std::string> {
    auto r = ca.ocsp_responder();
    if (!r) return r.error().message;
    return std::move(r).value();
  };
  cache.add_authority(std::move(a));
  // One recorder serves every authority: the issuer entity of the CRL's issuer id keeps the
  // numbers (an intermediate's own entity for its CRLs), so a number is never served before
  // it is in the log.
  cache.set_crl_recorder([&runtime, root = ca.id()](const std::string& issuer_id,
                                                    const actors::crl_publication& crl) {
    const std::string kind = issuer_id == root ? "issuer" : "intermediate";
    domain::command cmd;
    cmd.name = kind + ".publish_crl";
    cmd.entity_id = issuer_id;
    cmd.principal = "system:crl";
    cmd.body.set("crl_number", crl.crl_number)
        .set("this_update", events::format_rfc3339(crl.this_update_us))
        .set("next_update", events::format_rfc3339(crl.next_update_us))
        .set("revoked_count", crl.revoked_count);
    auto r = runtime.execute(kind, cmd);
    actors::crl_record_result out;
    out.ok = r.ok();
    if (!r) {
      out.conflict = r.error().code == domain::domain_errc::conflict;
      out.message = r.error().message;
    }
    return out;
  });
}

void add_intermediate_authorities(actors::revocation_cache& cache,
                                  connectors::ca_hierarchy& hierarchy, const infra::clock& clock) {
  cache.set_authority_resolver(
      [&hierarchy,
       &clock](const std::string& id) -> std::optional<actors::revocation_authority> {
        if (id == hierarchy.root_id()) return std::nullopt;  // added as the local CA
        auto material = hierarchy.signing_material_of(id);   // any status
        if (!material) return std::nullopt;
        auto signer = crypto::revocation_signer::create(material->cert_pem, material->key_pem);
        if (!signer) return std::nullopt;
        auto ca = std::make_shared<intermediate_revocation>(material->cert_pem,
                                                            std::move(signer).value(), clock);
        actors::revocation_authority a;
        a.issuer_id = id;
        a.sign_crl = [ca](const crypto::crl_content& c) { return ca->sign_crl(c); };
        a.responder = [ca] { return ca->responder(); };
        return a;
      });
}

void add_pki_admin_routes(http::router& r, pki_admin_context& ctx) {
  r.add("GET", "/api/v1/admin/crl/cache", http::role::admin, [&ctx](http::request_context&) {
    const std::int64_t now = ctx.clock.now();
    const auto rows = ctx.cache.crl_cache_rows();
    http::json_writer w;
    w.begin_object().key("cache_rows").begin_array();
    for (const auto& row : rows) {
      w.begin_object()
          .field("issuer_id", row.issuer_id)
          .field("cache_present", row.crl != nullptr)
          .field("is_stale", row.crl == nullptr || row.dirty || now >= row.crl->next_update_us)
          .field("pending_regeneration", row.dirty)
          .field("tracked_certificates", static_cast<std::int64_t>(row.tracked_certificates))
          .field("presigned_ocsp_responses", static_cast<std::int64_t>(row.presigned_responses));
      if (row.crl) {
        w.field("crl_number", row.crl->crl_number)
            .field("this_update", events::format_rfc3339(row.crl->this_update_us))
            .field("next_update", events::format_rfc3339(row.crl->next_update_us))
            .field("revoked_count", row.crl->revoked_count)
            .field("crl_size_bytes", static_cast<std::int64_t>(row.crl->der.size()))
            .field("etag", row.crl->etag)
            .field("generated_at", events::format_rfc3339(row.crl->generated_at_us));
      }
      if (!row.last_error.empty()) w.field("last_error", row.last_error);
      w.key("recent_generations").begin_array();
      auto recent = projections::crl_publications(ctx.db, row.issuer_id, recent_generations);
      if (!recent) return http::error_response(500, "CRL history: " + recent.error().message);
      for (const auto& p : *recent)
        w.begin_object()
            .field("crl_number", p.crl_number)
            .field("this_update", events::format_rfc3339(p.this_update_us))
            .field("next_update", events::format_rfc3339(p.next_update_us))
            .field("revoked_count", p.revoked_count)
            .field("published_at", events::format_rfc3339(p.published_at_us))
            .end_object();
      w.end_array().end_object();
    }
    w.end_array()
        .field("row_count", static_cast<std::int64_t>(rows.size()))
        .field("generated_at", events::format_rfc3339(now))
        .end_object();
    return http::json_response(w.str());
  });
}

}  // namespace certctl::gateways::pki
