#pragma once
/// Server wiring of CRL and OCSP (gateways/pki, actors/workflows/revocation_cache): the local
/// CA as a revocation authority, the issuer entity as the keeper of CRL numbers, and the
/// operators' view of the CRL cache.
///
///   GET /api/v1/admin/crl/cache   admin   {"cache_rows":[...],"row_count":N,"generated_at":T}

#include <functional>
#include <memory>
#include <string>

#include "actors/runtime/entity_runtime.hpp"
#include "actors/workflows/revocation_cache.hpp"
#include "connectors/issuers/local/hierarchy.hpp"
#include "connectors/issuers/local/local_ca.hpp"
#include "events/result.hpp"
#include "gateways/http/router.hpp"
#include "infra/clock.hpp"
#include "infra/sql/database.hpp"

namespace certctl::gateways::pki {

/// Registers `ca` with the cache (CRL signing, its rotating OCSP responder) and records CRL
/// numbers as issuer.publish_crl commands to the issuer entity of the same id, or, for any
/// other id (an intermediate CA's), as intermediate.publish_crl to the intermediate entity.
/// `ca` and `runtime` must outlive the cache.
void add_local_ca_authority(actors::revocation_cache& cache, connectors::local_ca& ca,
                            actors::entity_runtime& runtime);

/// Answers for every intermediate CA of `hierarchy`, whatever its status (a retiring or
/// retired CA keeps serving status for what it issued): on the first request for its id, the
/// cache gets an authority that signs CRLs with the intermediate's key and OCSP responses with
/// a delegated responder the intermediate issues (id-kp-OCSPSigning, ocsp-nocheck), rotated
/// like the local CA's. `hierarchy` and `clock` must outlive the cache.
void add_intermediate_authorities(actors::revocation_cache& cache,
                                  connectors::ca_hierarchy& hierarchy, const infra::clock& clock);

struct pki_admin_context {
  actors::revocation_cache& cache;
  sql::database& db;
  const infra::clock& clock;
};

/// GET /api/v1/admin/crl/cache (admin). `ctx` must outlive the HTTP server.
void add_pki_admin_routes(gateways::http::router& r, pki_admin_context& ctx);

}  // namespace certctl::gateways::pki
