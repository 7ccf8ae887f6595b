#pragma once
/// Deployment verification (the reference's Verification operations): after a job's work is
/// done, the agent (or an operator) probes the live endpoint and records what it found;
/// anyone who may read jobs reads the latest result.
///
///   POST /api/v1/jobs/{id}/verify         VerifyDeploymentRequest -> {job_id, verified,
///   verified_at} GET  /api/v1/jobs/{id}/verification   VerificationResult (404 while none is
///   recorded)

#include "actors/runtime/entity_runtime.hpp"
#include "gateways/http/router.hpp"

namespace certctl::gateways::rest {

struct verification_context {
  actors::entity_runtime& runtime;
};

void add_verification_routes(gateways::http::router& r, verification_context& ctx);

}  // namespace certctl::gateways::rest
