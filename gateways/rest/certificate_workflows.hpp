#pragma once
/// Certificate requests as workflows (docs/cluster.md "Affinity"): POST /api/v1/certificates
/// and POST /api/v1/certificates/{id}/renew send one workflow command to the entity runtime,
/// which runs it on the node that owns the certificate (locally on a single node). There the
/// certificate command, the job it creates (whose id carries the certificate's stream, so it
/// has the same owner) and the issuance that follows are all local: in a cluster a request is
/// forwarded at most once.

#include <string>

#include "domain/aggregate.hpp"
#include "gateways/http/router.hpp"
#include "gateways/rest/write_routes.hpp"

namespace certctl::gateways::rest {

inline constexpr const char* create_workflow = "certificate.create";
inline constexpr const char* renew_workflow = "certificate.renew";

/// Registers both workflows on ctx.runtime; `ctx` must outlive the runtime's use.
void add_certificate_workflows(write_context& ctx);

/// The workflow command for a request: the certificate's id and body, and the request's
/// principal, address, request id and Idempotency-Key.
domain::command certificate_workflow_command(const gateways::http::request_context& c,
                                             const char* workflow, const std::string& id,
                                             const events::json_object& body);

/// A job id for the certificate's workflow: random, placed with the certificate.
std::string certificate_job_id(const std::string& certificate_id);

}  // namespace certctl::gateways::rest
